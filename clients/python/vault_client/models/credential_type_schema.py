from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.credential_type_schema_derived_item import CredentialTypeSchemaDerivedItem
    from ..models.credential_type_schema_fields_item import CredentialTypeSchemaFieldsItem


T = TypeVar("T", bound="CredentialTypeSchema")


@_attrs_define
class CredentialTypeSchema:
    """One credential type: `type`, `title`, `description`, and its `fields` (and `derived`
    ones, shown but never written), each with `name`, `label`, `shape` (`kind` and its
    parameters), `required` (`when`: `always`, `never`, or `if` a `field` is `oneOf` some
    values), `nullable` and `description`.

        Attributes:
            derived (list[CredentialTypeSchemaDerivedItem]):
            description (str):
            fields (list[CredentialTypeSchemaFieldsItem]):
            title (str):
            type_ (str):
    """

    derived: list[CredentialTypeSchemaDerivedItem]
    description: str
    fields: list[CredentialTypeSchemaFieldsItem]
    title: str
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        derived = []
        for derived_item_data in self.derived:
            derived_item = derived_item_data.to_dict()
            derived.append(derived_item)

        description = self.description

        fields = []
        for fields_item_data in self.fields:
            fields_item = fields_item_data.to_dict()
            fields.append(fields_item)

        title = self.title

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "derived": derived,
                "description": description,
                "fields": fields,
                "title": title,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credential_type_schema_derived_item import CredentialTypeSchemaDerivedItem  # noqa: PLC0415
        from ..models.credential_type_schema_fields_item import CredentialTypeSchemaFieldsItem  # noqa: PLC0415

        d = dict(src_dict)
        derived = []
        _derived = d.pop("derived")
        for derived_item_data in _derived:
            derived_item = CredentialTypeSchemaDerivedItem.from_dict(derived_item_data)

            derived.append(derived_item)

        description = d.pop("description")

        fields = []
        _fields = d.pop("fields")
        for fields_item_data in _fields:
            fields_item = CredentialTypeSchemaFieldsItem.from_dict(fields_item_data)

            fields.append(fields_item)

        title = d.pop("title")

        type_ = d.pop("type")

        credential_type_schema = cls(
            derived=derived,
            description=description,
            fields=fields,
            title=title,
            type_=type_,
        )

        credential_type_schema.additional_properties = d
        return credential_type_schema

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
