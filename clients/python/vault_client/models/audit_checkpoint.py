from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AuditCheckpoint")


@_attrs_define
class AuditCheckpoint:
    """A signed checkpoint of an audit chain: the chain reached `sequence` with `hash` at `at`.
    The Ed25519 signature covers `vault-audit-checkpoint-v1`, the chain's key (the
    organization id's 16 bytes, or 16 zero bytes for the installation), the sequence and
    the time in Unix microseconds (8 bytes big-endian each), the hash's 32 bytes and the
    kind's name.

        Attributes:
            at (datetime.datetime):
            hash_ (str): Lower-case hex, 64 digits.
            key_id (str):
            kind (str): `periodic`, or `retention` (the events up to it were deleted by retention; the
                chain verifies from here).
            sequence (int):
            signature (str): Standard base64.
            organization_id (None | Unset | UUID):
    """

    at: datetime.datetime
    hash_: str
    key_id: str
    kind: str
    sequence: int
    signature: str
    organization_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        hash_ = self.hash_

        key_id = self.key_id

        kind = self.kind

        sequence = self.sequence

        signature = self.signature

        organization_id: None | str | Unset
        if isinstance(self.organization_id, Unset):
            organization_id = UNSET
        elif isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "hash": hash_,
                "keyId": key_id,
                "kind": kind,
                "sequence": sequence,
                "signature": signature,
            }
        )
        if organization_id is not UNSET:
            field_dict["organizationId"] = organization_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        hash_ = d.pop("hash")

        key_id = d.pop("keyId")

        kind = d.pop("kind")

        sequence = d.pop("sequence")

        signature = d.pop("signature")

        def _parse_organization_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organization_id_type_0 = UUID(data)

                return organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        organization_id = _parse_organization_id(d.pop("organizationId", UNSET))

        audit_checkpoint = cls(
            at=at,
            hash_=hash_,
            key_id=key_id,
            kind=kind,
            sequence=sequence,
            signature=signature,
            organization_id=organization_id,
        )

        audit_checkpoint.additional_properties = d
        return audit_checkpoint

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
