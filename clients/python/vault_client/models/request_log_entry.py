from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RequestLogEntry")


@_attrs_define
class RequestLogEntry:
    """A request-log entry: one proxied request (never its headers, query or body).

    Attributes:
        at (datetime.datetime):
        credential_id (UUID):
        credential_name (str):
        host (str): `host:port`.
        id (UUID):
        latency_ms (float):
        method (str):
        path (str): The path, without the query.
        access_key_id (None | Unset | UUID):
        actor_subject (None | str | Unset): The identity provider's subject, when one of its tokens asked.
        error (None | str | Unset): The error code when no response came.
        status (int | None | Unset): The upstream's status; `null` when no response came.
        via (None | str | Unset): What allowed the use: `grant:<id>`, or `credentials:use-all`.
    """

    at: datetime.datetime
    credential_id: UUID
    credential_name: str
    host: str
    id: UUID
    latency_ms: float
    method: str
    path: str
    access_key_id: None | Unset | UUID = UNSET
    actor_subject: None | str | Unset = UNSET
    error: None | str | Unset = UNSET
    status: int | None | Unset = UNSET
    via: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        credential_id = str(self.credential_id)

        credential_name = self.credential_name

        host = self.host

        id = str(self.id)

        latency_ms = self.latency_ms

        method = self.method

        path = self.path

        access_key_id: None | str | Unset
        if isinstance(self.access_key_id, Unset):
            access_key_id = UNSET
        elif isinstance(self.access_key_id, UUID):
            access_key_id = str(self.access_key_id)
        else:
            access_key_id = self.access_key_id

        actor_subject: None | str | Unset
        if isinstance(self.actor_subject, Unset):
            actor_subject = UNSET
        else:
            actor_subject = self.actor_subject

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        status: int | None | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        else:
            status = self.status

        via: None | str | Unset
        if isinstance(self.via, Unset):
            via = UNSET
        else:
            via = self.via

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "credentialId": credential_id,
                "credentialName": credential_name,
                "host": host,
                "id": id,
                "latencyMs": latency_ms,
                "method": method,
                "path": path,
            }
        )
        if access_key_id is not UNSET:
            field_dict["accessKeyId"] = access_key_id
        if actor_subject is not UNSET:
            field_dict["actorSubject"] = actor_subject
        if error is not UNSET:
            field_dict["error"] = error
        if status is not UNSET:
            field_dict["status"] = status
        if via is not UNSET:
            field_dict["via"] = via

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        credential_id = UUID(d.pop("credentialId"))

        credential_name = d.pop("credentialName")

        host = d.pop("host")

        id = UUID(d.pop("id"))

        latency_ms = d.pop("latencyMs")

        method = d.pop("method")

        path = d.pop("path")

        def _parse_access_key_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                access_key_id_type_0 = UUID(data)

                return access_key_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        access_key_id = _parse_access_key_id(d.pop("accessKeyId", UNSET))

        def _parse_actor_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        actor_subject = _parse_actor_subject(d.pop("actorSubject", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_via(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        via = _parse_via(d.pop("via", UNSET))

        request_log_entry = cls(
            at=at,
            credential_id=credential_id,
            credential_name=credential_name,
            host=host,
            id=id,
            latency_ms=latency_ms,
            method=method,
            path=path,
            access_key_id=access_key_id,
            actor_subject=actor_subject,
            error=error,
            status=status,
            via=via,
        )

        request_log_entry.additional_properties = d
        return request_log_entry

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
