from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_event_type import WebhookEventType

if TYPE_CHECKING:
    from ..models.webhook_payload_data import WebhookPayloadData


T = TypeVar("T", bound="WebhookPayload")


@_attrs_define
class WebhookPayload:
    """The JSON body POSTed, in the Standard Webhooks shape. It names things (ids, names,
    dates), never a secret value.

        Attributes:
            data (WebhookPayloadData): What the event is about; its fields depend on the type.
            timestamp (datetime.datetime):
            type_ (WebhookEventType): What happened: a credential's or access key's `expiresAt` is near (`*.expiring`) or
                past (`credential.expired`); an upstream keeps refusing a credential (`credential.use_failed`); an OAuth2
                connection needs a user to connect it again, or was (`oauth.*`); a new encryption key became current
                (`key.rotated`).
    """

    data: WebhookPayloadData
    timestamp: datetime.datetime
    type_: WebhookEventType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        timestamp = self.timestamp.isoformat()

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "timestamp": timestamp,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.webhook_payload_data import WebhookPayloadData  # noqa: PLC0415

        d = dict(src_dict)
        data = WebhookPayloadData.from_dict(d.pop("data"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        type_ = WebhookEventType(d.pop("type"))

        webhook_payload = cls(
            data=data,
            timestamp=timestamp,
            type_=type_,
        )

        webhook_payload.additional_properties = d
        return webhook_payload

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
