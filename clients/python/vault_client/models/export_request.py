from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ExportRequest")


@_attrs_define
class ExportRequest:
    """`POST /credentials/export`: whom to seal the bundle to (exactly one of `passphrase` and
    `recipients`), and whether to include the versions.

        Attributes:
            organization (UUID | Unset): The organization meant: refused unless it is the access key's own, a guard for
                someone switching between keys.
            passphrase (str | Unset): Seals the bundle to this passphrase (age's scrypt recipient): at least 12
                characters. It alone guards every secret in the bundle.
            recipients (list[str] | Unset): Seals the bundle to these age X25519 public keys (`age1...`), for automation:
                any
                of their secret keys opens it.
            versions (bool | Unset): Also export the kept versions of each credential's secret values (default false).
    """

    organization: UUID | Unset = UNSET
    passphrase: str | Unset = UNSET
    recipients: list[str] | Unset = UNSET
    versions: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        organization: str | Unset = UNSET
        if not isinstance(self.organization, Unset):
            organization = str(self.organization)

        passphrase = self.passphrase

        recipients: list[str] | Unset = UNSET
        if not isinstance(self.recipients, Unset):
            recipients = self.recipients

        versions = self.versions

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if organization is not UNSET:
            field_dict["organization"] = organization
        if passphrase is not UNSET:
            field_dict["passphrase"] = passphrase
        if recipients is not UNSET:
            field_dict["recipients"] = recipients
        if versions is not UNSET:
            field_dict["versions"] = versions

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _organization = d.pop("organization", UNSET)
        organization: UUID | Unset
        if isinstance(_organization, Unset):
            organization = UNSET
        else:
            organization = UUID(_organization)

        passphrase = d.pop("passphrase", UNSET)

        recipients = cast(list[str], d.pop("recipients", UNSET))

        versions = d.pop("versions", UNSET)

        export_request = cls(
            organization=organization,
            passphrase=passphrase,
            recipients=recipients,
            versions=versions,
        )

        export_request.additional_properties = d
        return export_request

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
