from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="KeyManagerReadiness")


@_attrs_define
class KeyManagerReadiness:
    """The key manager's part of `GET /readyz`.

    Attributes:
        kind (str): `static`, `transit`, `awskms` or `pkcs11`.
        reachable (bool | None | Unset): Whether it answered and its key was usable at the last check (`null` before the
            first).
    """

    kind: str
    reachable: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        reachable: bool | None | Unset
        if isinstance(self.reachable, Unset):
            reachable = UNSET
        else:
            reachable = self.reachable

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
            }
        )
        if reachable is not UNSET:
            field_dict["reachable"] = reachable

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = d.pop("kind")

        def _parse_reachable(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        reachable = _parse_reachable(d.pop("reachable", UNSET))

        key_manager_readiness = cls(
            kind=kind,
            reachable=reachable,
        )

        key_manager_readiness.additional_properties = d
        return key_manager_readiness

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
