from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AuditChainLink")


@_attrs_define
class AuditChainLink:
    """Where an audit event sits in its chain. `digest` is the SHA-256 of the event's
    canonical form; `hash` is SHA-256 over `vault-audit-link-v1`, `previousHash`, the
    sequence (8 bytes, big-endian) and `digest`, and is the next event's `previousHash`.

        Attributes:
            digest (str): Lower-case hex, 64 digits.
            hash_ (str): Lower-case hex, 64 digits.
            previous_hash (str): Lower-case hex, 64 digits (all zeros before the first event).
            sequence (int): 1 for the chain's first event, then one more for each, with no gap.
    """

    digest: str
    hash_: str
    previous_hash: str
    sequence: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        digest = self.digest

        hash_ = self.hash_

        previous_hash = self.previous_hash

        sequence = self.sequence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "digest": digest,
                "hash": hash_,
                "previousHash": previous_hash,
                "sequence": sequence,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        digest = d.pop("digest")

        hash_ = d.pop("hash")

        previous_hash = d.pop("previousHash")

        sequence = d.pop("sequence")

        audit_chain_link = cls(
            digest=digest,
            hash_=hash_,
            previous_hash=previous_hash,
            sequence=sequence,
        )

        audit_chain_link.additional_properties = d
        return audit_chain_link

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
