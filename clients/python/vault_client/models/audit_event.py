from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_chain_link import AuditChainLink


T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """An audit event.

    Attributes:
        action (str): `credential.create`, `credential.update`, `credential.delete`, `credential.use`,
            `access_key.create`, `access_key.revoke`, `authentication.failure`, `grant.create`,
            `grant.revoke`, `connection.connect`, `connection.lost`, `connection.revoke` (the
            last three name the credential), `webhook.create`, `webhook.update` (a new secret
            included), `webhook.delete`, `webhook.replay` (the last four name the
            subscription), `credential.export` (one per credential that left in an export
            bundle), `credential.import` (one per credential an import created).
        at (datetime.datetime): When it happened; for an event counting several failures, the last one's time.
        count (int): How many occurrences the event stands for: 1, or for repeated failed
            authentications of one key (or subject) with one reason, the failures after the
            one written at once, counted over a minute and written as one event.
        id (UUID):
        outcome (str): `success` or `failure`.
        actor_access_key_id (None | Unset | UUID): The access key that acted (`null`: the vault itself, or an unknown
            caller).
        actor_subject (None | str | Unset): The identity provider's subject that acted, when one of its tokens
            authenticated.
        chain (AuditChainLink | None | Unset):
        organization_id (None | Unset | UUID):
        reason (None | str | Unset): On failure, a stable code saying why. On a successful update that added a
            destination, what authorised it: `destinations-added:secret-reentered` or
            `destinations-added:credentials-route`.
        target_id (None | Unset | UUID):
        target_type (None | str | Unset): `credential`, `access_key`, `grant` or `webhook`.
        via (None | str | Unset): For a use that went ahead: what allowed it, `grant:<id>` or `credentials:use-all`.
    """

    action: str
    at: datetime.datetime
    count: int
    id: UUID
    outcome: str
    actor_access_key_id: None | Unset | UUID = UNSET
    actor_subject: None | str | Unset = UNSET
    chain: AuditChainLink | None | Unset = UNSET
    organization_id: None | Unset | UUID = UNSET
    reason: None | str | Unset = UNSET
    target_id: None | Unset | UUID = UNSET
    target_type: None | str | Unset = UNSET
    via: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_chain_link import AuditChainLink  # noqa: PLC0415

        action = self.action

        at = self.at.isoformat()

        count = self.count

        id = str(self.id)

        outcome = self.outcome

        actor_access_key_id: None | str | Unset
        if isinstance(self.actor_access_key_id, Unset):
            actor_access_key_id = UNSET
        elif isinstance(self.actor_access_key_id, UUID):
            actor_access_key_id = str(self.actor_access_key_id)
        else:
            actor_access_key_id = self.actor_access_key_id

        actor_subject: None | str | Unset
        if isinstance(self.actor_subject, Unset):
            actor_subject = UNSET
        else:
            actor_subject = self.actor_subject

        chain: dict[str, Any] | None | Unset
        if isinstance(self.chain, Unset):
            chain = UNSET
        elif isinstance(self.chain, AuditChainLink):
            chain = self.chain.to_dict()
        else:
            chain = self.chain

        organization_id: None | str | Unset
        if isinstance(self.organization_id, Unset):
            organization_id = UNSET
        elif isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        target_id: None | str | Unset
        if isinstance(self.target_id, Unset):
            target_id = UNSET
        elif isinstance(self.target_id, UUID):
            target_id = str(self.target_id)
        else:
            target_id = self.target_id

        target_type: None | str | Unset
        if isinstance(self.target_type, Unset):
            target_type = UNSET
        else:
            target_type = self.target_type

        via: None | str | Unset
        if isinstance(self.via, Unset):
            via = UNSET
        else:
            via = self.via

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "at": at,
                "count": count,
                "id": id,
                "outcome": outcome,
            }
        )
        if actor_access_key_id is not UNSET:
            field_dict["actorAccessKeyId"] = actor_access_key_id
        if actor_subject is not UNSET:
            field_dict["actorSubject"] = actor_subject
        if chain is not UNSET:
            field_dict["chain"] = chain
        if organization_id is not UNSET:
            field_dict["organizationId"] = organization_id
        if reason is not UNSET:
            field_dict["reason"] = reason
        if target_id is not UNSET:
            field_dict["targetId"] = target_id
        if target_type is not UNSET:
            field_dict["targetType"] = target_type
        if via is not UNSET:
            field_dict["via"] = via

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_chain_link import AuditChainLink  # noqa: PLC0415

        d = dict(src_dict)
        action = d.pop("action")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        count = d.pop("count")

        id = UUID(d.pop("id"))

        outcome = d.pop("outcome")

        def _parse_actor_access_key_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_access_key_id_type_0 = UUID(data)

                return actor_access_key_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        actor_access_key_id = _parse_actor_access_key_id(d.pop("actorAccessKeyId", UNSET))

        def _parse_actor_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        actor_subject = _parse_actor_subject(d.pop("actorSubject", UNSET))

        def _parse_chain(data: object) -> AuditChainLink | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                chain_type_0 = AuditChainLink.from_dict(data)

                return chain_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AuditChainLink | None | Unset, data)

        chain = _parse_chain(d.pop("chain", UNSET))

        def _parse_organization_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organization_id_type_0 = UUID(data)

                return organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        organization_id = _parse_organization_id(d.pop("organizationId", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        def _parse_target_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                target_id_type_0 = UUID(data)

                return target_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        target_id = _parse_target_id(d.pop("targetId", UNSET))

        def _parse_target_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target_type = _parse_target_type(d.pop("targetType", UNSET))

        def _parse_via(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        via = _parse_via(d.pop("via", UNSET))

        audit_event = cls(
            action=action,
            at=at,
            count=count,
            id=id,
            outcome=outcome,
            actor_access_key_id=actor_access_key_id,
            actor_subject=actor_subject,
            chain=chain,
            organization_id=organization_id,
            reason=reason,
            target_id=target_id,
            target_type=target_type,
            via=via,
        )

        audit_event.additional_properties = d
        return audit_event

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
