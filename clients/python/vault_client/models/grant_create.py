from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.permission import Permission
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.budget import Budget


T = TypeVar("T", bound="GrantCreate")


@_attrs_define
class GrantCreate:
    """`POST /credentials/{id}/grants`.

    Attributes:
        principal (str): `key:<access key id>` (an active key of the organization), `subject:<sub>` (an
            identity-provider subject) or `group:<name>` (a group or role in the provider's
            configured groups claim).
        budget (Budget | None | Unset):
        expires_at (datetime.datetime | Unset): In the future, and no later than the granter's own expiry. Absent: the
            granter's.
        methods (list[str] | None | Unset): Allowed HTTP methods, upper case; absent or empty: every method.
        paths (list[str] | None | Unset): Allowed paths on the credential's `allowedHosts`: exact (`/v1/charges`), or a
            prefix ending in `*` (`/v1/charges*`); at most 32. Absent or empty: every path.
            Requests whose path percent-encodes `/`, `\\` or `.` match no pattern.
        permission (None | Permission | Unset):
    """

    principal: str
    budget: Budget | None | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    methods: list[str] | None | Unset = UNSET
    paths: list[str] | None | Unset = UNSET
    permission: None | Permission | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.budget import Budget  # noqa: PLC0415

        principal = self.principal

        budget: dict[str, Any] | None | Unset
        if isinstance(self.budget, Unset):
            budget = UNSET
        elif isinstance(self.budget, Budget):
            budget = self.budget.to_dict()
        else:
            budget = self.budget

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        methods: list[str] | None | Unset
        if isinstance(self.methods, Unset):
            methods = UNSET
        elif isinstance(self.methods, list):
            methods = self.methods

        else:
            methods = self.methods

        paths: list[str] | None | Unset
        if isinstance(self.paths, Unset):
            paths = UNSET
        elif isinstance(self.paths, list):
            paths = self.paths

        else:
            paths = self.paths

        permission: None | str | Unset
        if isinstance(self.permission, Unset):
            permission = UNSET
        elif isinstance(self.permission, Permission):
            permission = self.permission.value
        else:
            permission = self.permission

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "principal": principal,
            }
        )
        if budget is not UNSET:
            field_dict["budget"] = budget
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if methods is not UNSET:
            field_dict["methods"] = methods
        if paths is not UNSET:
            field_dict["paths"] = paths
        if permission is not UNSET:
            field_dict["permission"] = permission

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget import Budget  # noqa: PLC0415

        d = dict(src_dict)
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

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        def _parse_methods(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                methods_type_0 = cast(list[str], data)

                return methods_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        methods = _parse_methods(d.pop("methods", UNSET))

        def _parse_paths(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                paths_type_0 = cast(list[str], data)

                return paths_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        paths = _parse_paths(d.pop("paths", UNSET))

        def _parse_permission(data: object) -> None | Permission | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                permission_type_0 = Permission(data)

                return permission_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Permission | Unset, data)

        permission = _parse_permission(d.pop("permission", UNSET))

        grant_create = cls(
            principal=principal,
            budget=budget,
            expires_at=expires_at,
            methods=methods,
            paths=paths,
            permission=permission,
        )

        grant_create.additional_properties = d
        return grant_create

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
