from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.import_outcome import ImportOutcome

T = TypeVar("T", bound="ImportedItem")


@_attrs_define
class ImportedItem:
    """One credential of the bundle.

    Attributes:
        id (UUID): Its id here.
        name (str):
        outcome (ImportOutcome): What became of one credential: `created`; `exists` (its id is already in this
            organization, from an earlier import, and was left as it is); or `idTaken` (its id
            belongs to another organization: import with `ids: new`).
        source_id (UUID): Its id in the bundle.
    """

    id: UUID
    name: str
    outcome: ImportOutcome
    source_id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        outcome = self.outcome.value

        source_id = str(self.source_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "outcome": outcome,
                "sourceId": source_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        outcome = ImportOutcome(d.pop("outcome"))

        source_id = UUID(d.pop("sourceId"))

        imported_item = cls(
            id=id,
            name=name,
            outcome=outcome,
            source_id=source_id,
        )

        imported_item.additional_properties = d
        return imported_item

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
