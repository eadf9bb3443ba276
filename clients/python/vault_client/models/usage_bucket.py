from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UsageBucket")


@_attrs_define
class UsageBucket:
    """The uses of one hour answered with one class of status.

    Attributes:
        count (int):
        hour (datetime.datetime): The hour's start.
        status_class (str): `1xx` to `5xx`, or `none` (the upstream never answered).
    """

    count: int
    hour: datetime.datetime
    status_class: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        count = self.count

        hour = self.hour.isoformat()

        status_class = self.status_class

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "count": count,
                "hour": hour,
                "statusClass": status_class,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        count = d.pop("count")

        hour = datetime.datetime.fromisoformat(d.pop("hour"))

        status_class = d.pop("statusClass")

        usage_bucket = cls(
            count=count,
            hour=hour,
            status_class=status_class,
        )

        usage_bucket.additional_properties = d
        return usage_bucket

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
