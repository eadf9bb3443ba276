from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

T = TypeVar("T", bound="WebhookCreate")


@_attrs_define
class WebhookCreate:
    """`POST /webhooks`.

    Attributes:
        events (list[WebhookEventType]): The event types to deliver: at least one.
        url (str): Where deliveries are POSTed: an absolute `https` URL with a host, no user
            information and no fragment. Where it resolves to is checked at each delivery, as
            for every destination of the vault.
        days_ahead (list[int] | Unset): How many days before an `expiresAt` the `*.expiring` reminders come (each sent
            once per deadline; a subscription made late hears only of the nearest threshold passed). Kept without repeats,
            in descending order.
        description (str | Unset): What it is for; up to 500 characters.
        enabled (bool | Unset): Default true. False pauses it: events meanwhile are not kept for it, and the
            deliveries it already has wait until it is enabled again.
    """

    events: list[WebhookEventType]
    url: str
    days_ahead: list[int] | Unset = UNSET
    description: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        url = self.url

        days_ahead: list[int] | Unset = UNSET
        if not isinstance(self.days_ahead, Unset):
            days_ahead = self.days_ahead

        description = self.description

        enabled = self.enabled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "events": events,
                "url": url,
            }
        )
        if days_ahead is not UNSET:
            field_dict["daysAhead"] = days_ahead
        if description is not UNSET:
            field_dict["description"] = description
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookEventType(events_item_data)

            events.append(events_item)

        url = d.pop("url")

        days_ahead = cast(list[int], d.pop("daysAhead", UNSET))

        description = d.pop("description", UNSET)

        enabled = d.pop("enabled", UNSET)

        webhook_create = cls(
            events=events,
            url=url,
            days_ahead=days_ahead,
            description=description,
            enabled=enabled,
        )

        webhook_create.additional_properties = d
        return webhook_create

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
