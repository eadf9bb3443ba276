from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="KeyUsage")


@_attrs_define
class KeyUsage:
    """Rows sealed under one key.

    Attributes:
        connections (int): OAuth2 connections' tokens.
        credentials (int):
        current (bool):
        key_id (str):
        meta (int):
        versions (int):
        webhooks (int): Webhook subscriptions' signing secrets.
    """

    connections: int
    credentials: int
    current: bool
    key_id: str
    meta: int
    versions: int
    webhooks: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        connections = self.connections

        credentials = self.credentials

        current = self.current

        key_id = self.key_id

        meta = self.meta

        versions = self.versions

        webhooks = self.webhooks

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "connections": connections,
                "credentials": credentials,
                "current": current,
                "keyId": key_id,
                "meta": meta,
                "versions": versions,
                "webhooks": webhooks,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        connections = d.pop("connections")

        credentials = d.pop("credentials")

        current = d.pop("current")

        key_id = d.pop("keyId")

        meta = d.pop("meta")

        versions = d.pop("versions")

        webhooks = d.pop("webhooks")

        key_usage = cls(
            connections=connections,
            credentials=credentials,
            current=current,
            key_id=key_id,
            meta=meta,
            versions=versions,
            webhooks=webhooks,
        )

        key_usage.additional_properties = d
        return key_usage

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
