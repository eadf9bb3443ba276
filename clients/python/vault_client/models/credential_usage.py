from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.request_log_entry import RequestLogEntry
    from ..models.usage_bucket import UsageBucket


T = TypeVar("T", bound="CredentialUsage")


@_attrs_define
class CredentialUsage:
    """A credential's uses per hour and status class, and its last use.

    Attributes:
        buckets (list[UsageBucket]): The hours with uses, oldest first (hours without are absent).
        credential_id (UUID):
        since (datetime.datetime): The first hour counted.
        until (datetime.datetime): When it was counted.
        last_use (None | RequestLogEntry | Unset):
    """

    buckets: list[UsageBucket]
    credential_id: UUID
    since: datetime.datetime
    until: datetime.datetime
    last_use: None | RequestLogEntry | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.request_log_entry import RequestLogEntry  # noqa: PLC0415

        buckets = []
        for buckets_item_data in self.buckets:
            buckets_item = buckets_item_data.to_dict()
            buckets.append(buckets_item)

        credential_id = str(self.credential_id)

        since = self.since.isoformat()

        until = self.until.isoformat()

        last_use: dict[str, Any] | None | Unset
        if isinstance(self.last_use, Unset):
            last_use = UNSET
        elif isinstance(self.last_use, RequestLogEntry):
            last_use = self.last_use.to_dict()
        else:
            last_use = self.last_use

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "buckets": buckets,
                "credentialId": credential_id,
                "since": since,
                "until": until,
            }
        )
        if last_use is not UNSET:
            field_dict["lastUse"] = last_use

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.request_log_entry import RequestLogEntry  # noqa: PLC0415
        from ..models.usage_bucket import UsageBucket  # noqa: PLC0415

        d = dict(src_dict)
        buckets = []
        _buckets = d.pop("buckets")
        for buckets_item_data in _buckets:
            buckets_item = UsageBucket.from_dict(buckets_item_data)

            buckets.append(buckets_item)

        credential_id = UUID(d.pop("credentialId"))

        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        def _parse_last_use(data: object) -> None | RequestLogEntry | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_use_type_0 = RequestLogEntry.from_dict(data)

                return last_use_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RequestLogEntry | Unset, data)

        last_use = _parse_last_use(d.pop("lastUse", UNSET))

        credential_usage = cls(
            buckets=buckets,
            credential_id=credential_id,
            since=since,
            until=until,
            last_use=last_use,
        )

        credential_usage.additional_properties = d
        return credential_usage

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
