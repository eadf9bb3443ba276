from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.key_usage import KeyUsage


T = TypeVar("T", bound="KeyStatus")


@_attrs_define
class KeyStatus:
    """`GET /admin/keys`: the caller's organization's rows only.

    Attributes:
        current_key_id (str):
        keys (list[KeyUsage]):
        rows_under_old_keys (int): This organization's rows still under older keys. Whether older keys can be removed
            from the keyring is for the operator to tell, installation-wide
            (`vault-server keys status`).
    """

    current_key_id: str
    keys: list[KeyUsage]
    rows_under_old_keys: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        current_key_id = self.current_key_id

        keys = []
        for keys_item_data in self.keys:
            keys_item = keys_item_data.to_dict()
            keys.append(keys_item)

        rows_under_old_keys = self.rows_under_old_keys

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "currentKeyId": current_key_id,
                "keys": keys,
                "rowsUnderOldKeys": rows_under_old_keys,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.key_usage import KeyUsage  # noqa: PLC0415

        d = dict(src_dict)
        current_key_id = d.pop("currentKeyId")

        keys = []
        _keys = d.pop("keys")
        for keys_item_data in _keys:
            keys_item = KeyUsage.from_dict(keys_item_data)

            keys.append(keys_item)

        rows_under_old_keys = d.pop("rowsUnderOldKeys")

        key_status = cls(
            current_key_id=current_key_id,
            keys=keys,
            rows_under_old_keys=rows_under_old_keys,
        )

        key_status.additional_properties = d
        return key_status

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
