from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CommonCreate")


@_attrs_define
class CommonCreate:
    """The fields every type has.

    Attributes:
        name (str): 1 to 200 characters.
        allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
        ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
            request's upstream must present a certificate chaining to one of them (a private
            PKI) instead of the system's roots. Token endpoints keep the system's roots.
            Setting or changing it to trust a new root is a change of destinations: it needs
            the secret values re-entered or `credentials:route`.
        description (str | Unset): Up to 2000 characters.
        expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
    """

    name: str
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if allowed_hosts is not UNSET:
            field_dict["allowedHosts"] = allowed_hosts
        if ca_bundle is not UNSET:
            field_dict["caBundle"] = ca_bundle
        if description is not UNSET:
            field_dict["description"] = description
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        common_create = cls(
            name=name,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
        )

        common_create.additional_properties = d
        return common_create

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
