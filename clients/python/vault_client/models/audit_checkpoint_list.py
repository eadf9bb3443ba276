from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_checkpoint import AuditCheckpoint


T = TypeVar("T", bound="AuditCheckpointList")


@_attrs_define
class AuditCheckpointList:
    """A page of checkpoints, newest first, with the key that checks them.

    Attributes:
        algorithm (str): `Ed25519`.
        items (list[AuditCheckpoint]):
        key_id (None | str | Unset): `null` when this vault signs no checkpoints.
        next_cursor (None | str | Unset):
        public_key (None | str | Unset): The raw 32-byte Ed25519 public key, in standard base64.
    """

    algorithm: str
    items: list[AuditCheckpoint]
    key_id: None | str | Unset = UNSET
    next_cursor: None | str | Unset = UNSET
    public_key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        algorithm = self.algorithm

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        key_id: None | str | Unset
        if isinstance(self.key_id, Unset):
            key_id = UNSET
        else:
            key_id = self.key_id

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        public_key: None | str | Unset
        if isinstance(self.public_key, Unset):
            public_key = UNSET
        else:
            public_key = self.public_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "algorithm": algorithm,
                "items": items,
            }
        )
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if next_cursor is not UNSET:
            field_dict["nextCursor"] = next_cursor
        if public_key is not UNSET:
            field_dict["publicKey"] = public_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_checkpoint import AuditCheckpoint  # noqa: PLC0415

        d = dict(src_dict)
        algorithm = d.pop("algorithm")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = AuditCheckpoint.from_dict(items_item_data)

            items.append(items_item)

        def _parse_key_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key_id = _parse_key_id(d.pop("keyId", UNSET))

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("nextCursor", UNSET))

        def _parse_public_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        public_key = _parse_public_key(d.pop("publicKey", UNSET))

        audit_checkpoint_list = cls(
            algorithm=algorithm,
            items=items,
            key_id=key_id,
            next_cursor=next_cursor,
            public_key=public_key,
        )

        audit_checkpoint_list.additional_properties = d
        return audit_checkpoint_list

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
