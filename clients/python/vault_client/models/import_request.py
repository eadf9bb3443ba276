from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.import_ids import ImportIds
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImportRequest")


@_attrs_define
class ImportRequest:
    """`POST /credentials/import`: the bundle, and exactly one of `passphrase` and `identity`.

    Attributes:
        bundle (str): The bundle file, in base64.
        identity (str | Unset): An age X25519 secret key (`AGE-SECRET-KEY-1...`) of a public key it was sealed to.
        ids (ImportIds | Unset): Whether imported credentials keep their ids.
        passphrase (str | Unset): The passphrase it was sealed to.
    """

    bundle: str
    identity: str | Unset = UNSET
    ids: ImportIds | Unset = UNSET
    passphrase: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bundle = self.bundle

        identity = self.identity

        ids: str | Unset = UNSET
        if not isinstance(self.ids, Unset):
            ids = self.ids.value

        passphrase = self.passphrase

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bundle": bundle,
            }
        )
        if identity is not UNSET:
            field_dict["identity"] = identity
        if ids is not UNSET:
            field_dict["ids"] = ids
        if passphrase is not UNSET:
            field_dict["passphrase"] = passphrase

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bundle = d.pop("bundle")

        identity = d.pop("identity", UNSET)

        _ids = d.pop("ids", UNSET)
        ids: ImportIds | Unset
        if isinstance(_ids, Unset):
            ids = UNSET
        else:
            ids = ImportIds(_ids)

        passphrase = d.pop("passphrase", UNSET)

        import_request = cls(
            bundle=bundle,
            identity=identity,
            ids=ids,
            passphrase=passphrase,
        )

        import_request.additional_properties = d
        return import_request

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
