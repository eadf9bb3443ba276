from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.permission import Permission
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.budget import Budget


T = TypeVar("T", bound="Grant")


@_attrs_define
class Grant:
    """A grant.

    Attributes:
        created_at (datetime.datetime):
        credential_id (UUID):
        expired (bool): True once `expiresAt` has passed: the grant no longer lets anything through.
        id (UUID):
        methods (list[str]): Empty: every method.
        paths (list[str]): Empty: every path.
        permission (Permission): `use` lets the principal use the credential within the grant's rules; `manage` also
            lets it grant `use` to others, within them.
        principal (str):
        budget (Budget | None | Unset):
        expires_at (datetime.datetime | None | Unset):
        granted_by (None | Unset | UUID): The access key that granted it (none for an identity-provider subject);
            revoking
            that key ends the grant.
        parent_id (None | Unset | UUID): The `manage` grant this one was made under: revoking that one revokes this, and
            while it is expired this lets nothing through.
    """

    created_at: datetime.datetime
    credential_id: UUID
    expired: bool
    id: UUID
    methods: list[str]
    paths: list[str]
    permission: Permission
    principal: str
    budget: Budget | None | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    granted_by: None | Unset | UUID = UNSET
    parent_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.budget import Budget  # noqa: PLC0415

        created_at = self.created_at.isoformat()

        credential_id = str(self.credential_id)

        expired = self.expired

        id = str(self.id)

        methods = self.methods

        paths = self.paths

        permission = self.permission.value

        principal = self.principal

        budget: dict[str, Any] | None | Unset
        if isinstance(self.budget, Unset):
            budget = UNSET
        elif isinstance(self.budget, Budget):
            budget = self.budget.to_dict()
        else:
            budget = self.budget

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        granted_by: None | str | Unset
        if isinstance(self.granted_by, Unset):
            granted_by = UNSET
        elif isinstance(self.granted_by, UUID):
            granted_by = str(self.granted_by)
        else:
            granted_by = self.granted_by

        parent_id: None | str | Unset
        if isinstance(self.parent_id, Unset):
            parent_id = UNSET
        elif isinstance(self.parent_id, UUID):
            parent_id = str(self.parent_id)
        else:
            parent_id = self.parent_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "credentialId": credential_id,
                "expired": expired,
                "id": id,
                "methods": methods,
                "paths": paths,
                "permission": permission,
                "principal": principal,
            }
        )
        if budget is not UNSET:
            field_dict["budget"] = budget
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if granted_by is not UNSET:
            field_dict["grantedBy"] = granted_by
        if parent_id is not UNSET:
            field_dict["parentId"] = parent_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget import Budget  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        credential_id = UUID(d.pop("credentialId"))

        expired = d.pop("expired")

        id = UUID(d.pop("id"))

        methods = cast(list[str], d.pop("methods"))

        paths = cast(list[str], d.pop("paths"))

        permission = Permission(d.pop("permission"))

        principal = d.pop("principal")

        def _parse_budget(data: object) -> Budget | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                budget_type_0 = Budget.from_dict(data)

                return budget_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Budget | None | Unset, data)

        budget = _parse_budget(d.pop("budget", UNSET))

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expiresAt", UNSET))

        def _parse_granted_by(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                granted_by_type_0 = UUID(data)

                return granted_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        granted_by = _parse_granted_by(d.pop("grantedBy", UNSET))

        def _parse_parent_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                parent_id_type_0 = UUID(data)

                return parent_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        parent_id = _parse_parent_id(d.pop("parentId", UNSET))

        grant = cls(
            created_at=created_at,
            credential_id=credential_id,
            expired=expired,
            id=id,
            methods=methods,
            paths=paths,
            permission=permission,
            principal=principal,
            budget=budget,
            expires_at=expires_at,
            granted_by=granted_by,
            parent_id=parent_id,
        )

        grant.additional_properties = d
        return grant

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
