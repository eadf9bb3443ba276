from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookWithSecret")


@_attrs_define
class WebhookWithSecret:
    """A subscription just made, or given a new secret, with that secret shown this once.

    Attributes:
        created_at (datetime.datetime):
        days_ahead (list[int]): How many days before an `expiresAt` the `*.expiring` reminders come (each sent once per
            deadline; a subscription made late hears only of the nearest threshold passed). Kept without repeats, in
            descending order.
        enabled (bool):
        events (list[WebhookEventType]): Sorted, without repeats.
        id (UUID):
        updated_at (datetime.datetime):
        url (str):
        secret (str): The signing secret, as Standard Webhooks libraries take it (`whsec_` and the
            base64 of 32 random bytes). Store it now: it is never shown again.
        description (None | str | Unset):
    """

    created_at: datetime.datetime
    days_ahead: list[int]
    enabled: bool
    events: list[WebhookEventType]
    id: UUID
    updated_at: datetime.datetime
    url: str
    secret: str
    description: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        days_ahead = self.days_ahead

        enabled = self.enabled

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        id = str(self.id)

        updated_at = self.updated_at.isoformat()

        url = self.url

        secret = self.secret

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "daysAhead": days_ahead,
                "enabled": enabled,
                "events": events,
                "id": id,
                "updatedAt": updated_at,
                "url": url,
                "secret": secret,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        days_ahead = cast(list[int], d.pop("daysAhead"))

        enabled = d.pop("enabled")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookEventType(events_item_data)

            events.append(events_item)

        id = UUID(d.pop("id"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        url = d.pop("url")

        secret = d.pop("secret")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        webhook_with_secret = cls(
            created_at=created_at,
            days_ahead=days_ahead,
            enabled=enabled,
            events=events,
            id=id,
            updated_at=updated_at,
            url=url,
            secret=secret,
            description=description,
        )

        webhook_with_secret.additional_properties = d
        return webhook_with_secret

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
