from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.version_secret_hints import VersionSecretHints


T = TypeVar("T", bound="Version")


@_attrs_define
class Version:
    """One version of a credential's secret values.

    Attributes:
        created_at (datetime.datetime):
        current (bool): The version the credential holds now.
        secret_hints (VersionSecretHints):
        version (int):
        created_by (None | Unset | UUID):
        restored_from (int | None | Unset): Set when this version was made by restoring that one.
    """

    created_at: datetime.datetime
    current: bool
    secret_hints: VersionSecretHints
    version: int
    created_by: None | Unset | UUID = UNSET
    restored_from: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        current = self.current

        secret_hints = self.secret_hints.to_dict()

        version = self.version

        created_by: None | str | Unset
        if isinstance(self.created_by, Unset):
            created_by = UNSET
        elif isinstance(self.created_by, UUID):
            created_by = str(self.created_by)
        else:
            created_by = self.created_by

        restored_from: int | None | Unset
        if isinstance(self.restored_from, Unset):
            restored_from = UNSET
        else:
            restored_from = self.restored_from

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "current": current,
                "secretHints": secret_hints,
                "version": version,
            }
        )
        if created_by is not UNSET:
            field_dict["createdBy"] = created_by
        if restored_from is not UNSET:
            field_dict["restoredFrom"] = restored_from

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.version_secret_hints import VersionSecretHints  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        current = d.pop("current")

        secret_hints = VersionSecretHints.from_dict(d.pop("secretHints"))

        version = d.pop("version")

        def _parse_created_by(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                created_by_type_0 = UUID(data)

                return created_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        created_by = _parse_created_by(d.pop("createdBy", UNSET))

        def _parse_restored_from(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        restored_from = _parse_restored_from(d.pop("restoredFrom", UNSET))

        version = cls(
            created_at=created_at,
            current=current,
            secret_hints=secret_hints,
            version=version,
            created_by=created_by,
            restored_from=restored_from,
        )

        version.additional_properties = d
        return version

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
