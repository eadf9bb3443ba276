from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.webhook_delivery_status import WebhookDeliveryStatus
from ..models.webhook_event_type import WebhookEventType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.webhook_payload import WebhookPayload


T = TypeVar("T", bound="WebhookDelivery")


@_attrs_define
class WebhookDelivery:
    """One event for one subscription, and how sending it went.

    Attributes:
        attempts (int): Attempts made so far.
        created_at (datetime.datetime):
        event_type (WebhookEventType): What happened: a credential's or access key's `expiresAt` is near (`*.expiring`)
            or past (`credential.expired`); an upstream keeps refusing a credential (`credential.use_failed`); an OAuth2
            connection needs a user to connect it again, or was (`oauth.*`); a new encryption key became current
            (`key.rotated`).
        id (UUID):
        message_id (str): The `webhook-id` header: the same on every attempt and every replay, so a receiver
            can drop repeats.
        payload (WebhookPayload): The JSON body POSTed, in the Standard Webhooks shape. It names things (ids, names,
            dates), never a secret value.
        status (WebhookDeliveryStatus): Where a delivery stands: `pending` (waiting for its next attempt), `succeeded`
            (the
            receiver answered 2xx) or `failed` (every attempt failed; it can be replayed).
        webhook_id (UUID):
        error (None | str | Unset): Why the last attempt failed (a status, a time-out, a refused address).
        last_attempt_at (datetime.datetime | None | Unset):
        next_attempt_at (datetime.datetime | None | Unset): When the next attempt is due (pending only).
        replay_of (None | Unset | UUID): The delivery this one replays.
        response_status (int | None | Unset): The HTTP status the receiver last answered, if it answered.
    """

    attempts: int
    created_at: datetime.datetime
    event_type: WebhookEventType
    id: UUID
    message_id: str
    payload: WebhookPayload
    status: WebhookDeliveryStatus
    webhook_id: UUID
    error: None | str | Unset = UNSET
    last_attempt_at: datetime.datetime | None | Unset = UNSET
    next_attempt_at: datetime.datetime | None | Unset = UNSET
    replay_of: None | Unset | UUID = UNSET
    response_status: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        created_at = self.created_at.isoformat()

        event_type = self.event_type.value

        id = str(self.id)

        message_id = self.message_id

        payload = self.payload.to_dict()

        status = self.status.value

        webhook_id = str(self.webhook_id)

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        last_attempt_at: None | str | Unset
        if isinstance(self.last_attempt_at, Unset):
            last_attempt_at = UNSET
        elif isinstance(self.last_attempt_at, datetime.datetime):
            last_attempt_at = self.last_attempt_at.isoformat()
        else:
            last_attempt_at = self.last_attempt_at

        next_attempt_at: None | str | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        elif isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        replay_of: None | str | Unset
        if isinstance(self.replay_of, Unset):
            replay_of = UNSET
        elif isinstance(self.replay_of, UUID):
            replay_of = str(self.replay_of)
        else:
            replay_of = self.replay_of

        response_status: int | None | Unset
        if isinstance(self.response_status, Unset):
            response_status = UNSET
        else:
            response_status = self.response_status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "createdAt": created_at,
                "eventType": event_type,
                "id": id,
                "messageId": message_id,
                "payload": payload,
                "status": status,
                "webhookId": webhook_id,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if last_attempt_at is not UNSET:
            field_dict["lastAttemptAt"] = last_attempt_at
        if next_attempt_at is not UNSET:
            field_dict["nextAttemptAt"] = next_attempt_at
        if replay_of is not UNSET:
            field_dict["replayOf"] = replay_of
        if response_status is not UNSET:
            field_dict["responseStatus"] = response_status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.webhook_payload import WebhookPayload  # noqa: PLC0415

        d = dict(src_dict)
        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        event_type = WebhookEventType(d.pop("eventType"))

        id = UUID(d.pop("id"))

        message_id = d.pop("messageId")

        payload = WebhookPayload.from_dict(d.pop("payload"))

        status = WebhookDeliveryStatus(d.pop("status"))

        webhook_id = UUID(d.pop("webhookId"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_last_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_attempt_at = _parse_last_attempt_at(d.pop("lastAttemptAt", UNSET))

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("nextAttemptAt", UNSET))

        def _parse_replay_of(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                replay_of_type_0 = UUID(data)

                return replay_of_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        replay_of = _parse_replay_of(d.pop("replayOf", UNSET))

        def _parse_response_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        response_status = _parse_response_status(d.pop("responseStatus", UNSET))

        webhook_delivery = cls(
            attempts=attempts,
            created_at=created_at,
            event_type=event_type,
            id=id,
            message_id=message_id,
            payload=payload,
            status=status,
            webhook_id=webhook_id,
            error=error,
            last_attempt_at=last_attempt_at,
            next_attempt_at=next_attempt_at,
            replay_of=replay_of,
            response_status=response_status,
        )

        webhook_delivery.additional_properties = d
        return webhook_delivery

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
