from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.aws_signature_v4_type import AWSSignatureV4Type
from ..types import UNSET, Unset

T = TypeVar("T", bound="AWSSignatureV4")


@_attrs_define
class AWSSignatureV4:
    """An AWS access key: the vault signs each request with SigV4 (`Authorization`, `X-Amz-Date`, and `X-Amz-Security-
    Token` for temporary credentials).

        Attributes:
            name (str): 1 to 200 characters.
            access_key_id (str): The access key ID (`AKIA…`, or `ASIA…` for temporary credentials).
            region (str): The region the requests are signed for, such as `eu-west-1`.
            secret_access_key (str): The secret access key.
            service (str): The service's signing name, such as `s3`, `sts` or `execute-api`. For `s3` the payload's hash is
                also sent as `X-Amz-Content-SHA256`.
            type_ (AWSSignatureV4Type):
            allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
            ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
                request's upstream must present a certificate chaining to one of them (a private
                PKI) instead of the system's roots. Token endpoints keep the system's roots.
                Setting or changing it to trust a new root is a change of destinations: it needs
                the secret values re-entered or `credentials:route`.
            description (str | Unset): Up to 2000 characters.
            expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
            session_token (str | Unset): The session token of temporary credentials (STS), sent as `X-Amz-Security-Token`.
                Kept secret; giving new secret values without it removes it.
    """

    name: str
    access_key_id: str
    region: str
    secret_access_key: str
    service: str
    type_: AWSSignatureV4Type
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    session_token: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        access_key_id = self.access_key_id

        region = self.region

        secret_access_key = self.secret_access_key

        service = self.service

        type_ = self.type_.value

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        session_token = self.session_token

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "accessKeyId": access_key_id,
                "region": region,
                "secretAccessKey": secret_access_key,
                "service": service,
                "type": type_,
            }
        )
        if allowed_hosts is not UNSET:
            field_dict["allowedHosts"] = allowed_hosts
        if ca_bundle is not UNSET:
            field_dict["caBundle"] = ca_bundle
        if description is not UNSET:
            field_dict["description"] = description
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if session_token is not UNSET:
            field_dict["sessionToken"] = session_token

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        access_key_id = d.pop("accessKeyId")

        region = d.pop("region")

        secret_access_key = d.pop("secretAccessKey")

        service = d.pop("service")

        type_ = AWSSignatureV4Type(d.pop("type"))

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        session_token = d.pop("sessionToken", UNSET)

        aws_signature_v4 = cls(
            name=name,
            access_key_id=access_key_id,
            region=region,
            secret_access_key=secret_access_key,
            service=service,
            type_=type_,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
            session_token=session_token,
        )

        aws_signature_v4.additional_properties = d
        return aws_signature_v4

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
