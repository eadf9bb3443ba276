from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_chain_break import AuditChainBreak
    from ..models.audit_chain_point import AuditChainPoint
    from ..models.audit_checkpoint import AuditCheckpoint


T = TypeVar("T", bound="AuditChainStatus")


@_attrs_define
class AuditChainStatus:
    """The state of the organization's audit chain.

    Attributes:
        status (str): `intact` (the events since the last checkpoint verify, and its signature does),
            `broken`, or `empty` (no event yet).
        verified_through (int): The last number verified (0 when broken or empty).
        break_ (AuditChainBreak | None | Unset):
        head (AuditChainPoint | None | Unset):
        last_checkpoint (AuditCheckpoint | None | Unset):
    """

    status: str
    verified_through: int
    break_: AuditChainBreak | None | Unset = UNSET
    head: AuditChainPoint | None | Unset = UNSET
    last_checkpoint: AuditCheckpoint | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.audit_chain_break import AuditChainBreak  # noqa: PLC0415
        from ..models.audit_chain_point import AuditChainPoint  # noqa: PLC0415
        from ..models.audit_checkpoint import AuditCheckpoint  # noqa: PLC0415

        status = self.status

        verified_through = self.verified_through

        break_: dict[str, Any] | None | Unset
        if isinstance(self.break_, Unset):
            break_ = UNSET
        elif isinstance(self.break_, AuditChainBreak):
            break_ = self.break_.to_dict()
        else:
            break_ = self.break_

        head: dict[str, Any] | None | Unset
        if isinstance(self.head, Unset):
            head = UNSET
        elif isinstance(self.head, AuditChainPoint):
            head = self.head.to_dict()
        else:
            head = self.head

        last_checkpoint: dict[str, Any] | None | Unset
        if isinstance(self.last_checkpoint, Unset):
            last_checkpoint = UNSET
        elif isinstance(self.last_checkpoint, AuditCheckpoint):
            last_checkpoint = self.last_checkpoint.to_dict()
        else:
            last_checkpoint = self.last_checkpoint

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "verifiedThrough": verified_through,
            }
        )
        if break_ is not UNSET:
            field_dict["break"] = break_
        if head is not UNSET:
            field_dict["head"] = head
        if last_checkpoint is not UNSET:
            field_dict["lastCheckpoint"] = last_checkpoint

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_chain_break import AuditChainBreak  # noqa: PLC0415
        from ..models.audit_chain_point import AuditChainPoint  # noqa: PLC0415
        from ..models.audit_checkpoint import AuditCheckpoint  # noqa: PLC0415

        d = dict(src_dict)
        status = d.pop("status")

        verified_through = d.pop("verifiedThrough")

        def _parse_break_(data: object) -> AuditChainBreak | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                break_type_0 = AuditChainBreak.from_dict(data)

                return break_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AuditChainBreak | None | Unset, data)

        break_ = _parse_break_(d.pop("break", UNSET))

        def _parse_head(data: object) -> AuditChainPoint | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                head_type_0 = AuditChainPoint.from_dict(data)

                return head_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AuditChainPoint | None | Unset, data)

        head = _parse_head(d.pop("head", UNSET))

        def _parse_last_checkpoint(data: object) -> AuditCheckpoint | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_checkpoint_type_0 = AuditCheckpoint.from_dict(data)

                return last_checkpoint_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AuditCheckpoint | None | Unset, data)

        last_checkpoint = _parse_last_checkpoint(d.pop("lastCheckpoint", UNSET))

        audit_chain_status = cls(
            status=status,
            verified_through=verified_through,
            break_=break_,
            head=head,
            last_checkpoint=last_checkpoint,
        )

        audit_chain_status.additional_properties = d
        return audit_chain_status

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
