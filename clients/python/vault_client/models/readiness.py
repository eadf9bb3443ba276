from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.key_manager_readiness import KeyManagerReadiness


T = TypeVar("T", bound="Readiness")


@_attrs_define
class Readiness:
    """`GET /readyz`.

    Attributes:
        database (str): `ok`, or why the database cannot serve.
        encryption_key (str): `ok`, or why the key cannot open this database.
        status (str): `ok` or `unavailable`.
        key_id (None | str | Unset): The current key's id when the key is loaded.
        key_manager (KeyManagerReadiness | None | Unset):
    """

    database: str
    encryption_key: str
    status: str
    key_id: None | str | Unset = UNSET
    key_manager: KeyManagerReadiness | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.key_manager_readiness import KeyManagerReadiness  # noqa: PLC0415

        database = self.database

        encryption_key = self.encryption_key

        status = self.status

        key_id: None | str | Unset
        if isinstance(self.key_id, Unset):
            key_id = UNSET
        else:
            key_id = self.key_id

        key_manager: dict[str, Any] | None | Unset
        if isinstance(self.key_manager, Unset):
            key_manager = UNSET
        elif isinstance(self.key_manager, KeyManagerReadiness):
            key_manager = self.key_manager.to_dict()
        else:
            key_manager = self.key_manager

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "database": database,
                "encryptionKey": encryption_key,
                "status": status,
            }
        )
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if key_manager is not UNSET:
            field_dict["keyManager"] = key_manager

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.key_manager_readiness import KeyManagerReadiness  # noqa: PLC0415

        d = dict(src_dict)
        database = d.pop("database")

        encryption_key = d.pop("encryptionKey")

        status = d.pop("status")

        def _parse_key_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key_id = _parse_key_id(d.pop("keyId", UNSET))

        def _parse_key_manager(data: object) -> KeyManagerReadiness | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                key_manager_type_0 = KeyManagerReadiness.from_dict(data)

                return key_manager_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(KeyManagerReadiness | None | Unset, data)

        key_manager = _parse_key_manager(d.pop("keyManager", UNSET))

        readiness = cls(
            database=database,
            encryption_key=encryption_key,
            status=status,
            key_id=key_id,
            key_manager=key_manager,
        )

        readiness.additional_properties = d
        return readiness

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
