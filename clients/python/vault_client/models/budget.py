from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Budget")


@_attrs_define
class Budget:
    """How many requests a grant allows per window; at least one cap. Windows are calendar
    minutes, hours and days (UTC); `total` counts over the grant's life. Past a cap, uses
    get 429 `budget-exhausted`, with `Retry-After` until the window ends (none for
    `total`, which never refills). Caps hold across replicas sharing a database.

        Attributes:
            per_day (int | None | Unset):
            per_hour (int | None | Unset):
            per_minute (int | None | Unset):
            total (int | None | Unset):
    """

    per_day: int | None | Unset = UNSET
    per_hour: int | None | Unset = UNSET
    per_minute: int | None | Unset = UNSET
    total: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        per_day: int | None | Unset
        if isinstance(self.per_day, Unset):
            per_day = UNSET
        else:
            per_day = self.per_day

        per_hour: int | None | Unset
        if isinstance(self.per_hour, Unset):
            per_hour = UNSET
        else:
            per_hour = self.per_hour

        per_minute: int | None | Unset
        if isinstance(self.per_minute, Unset):
            per_minute = UNSET
        else:
            per_minute = self.per_minute

        total: int | None | Unset
        if isinstance(self.total, Unset):
            total = UNSET
        else:
            total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if per_day is not UNSET:
            field_dict["perDay"] = per_day
        if per_hour is not UNSET:
            field_dict["perHour"] = per_hour
        if per_minute is not UNSET:
            field_dict["perMinute"] = per_minute
        if total is not UNSET:
            field_dict["total"] = total

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_per_day(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        per_day = _parse_per_day(d.pop("perDay", UNSET))

        def _parse_per_hour(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        per_hour = _parse_per_hour(d.pop("perHour", UNSET))

        def _parse_per_minute(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        per_minute = _parse_per_minute(d.pop("perMinute", UNSET))

        def _parse_total(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        total = _parse_total(d.pop("total", UNSET))

        budget = cls(
            per_day=per_day,
            per_hour=per_hour,
            per_minute=per_minute,
            total=total,
        )

        budget.additional_properties = d
        return budget

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
