from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.signed_jwt_algorithm import SignedJWTAlgorithm
from ..models.signed_jwt_type import SignedJWTType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.placement import Placement
    from ..models.signed_jwt_claims import SignedJWTClaims


T = TypeVar("T", bound="SignedJWT")


@_attrs_define
class SignedJWT:
    """A JWT the vault signs for each use (cached until near its expiry), sent as `Authorization: Bearer <token>` unless
    placed elsewhere.

        Attributes:
            name (str): 1 to 200 characters.
            algorithm (SignedJWTAlgorithm): The signing algorithm.
            type_ (SignedJWTType):
            allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
            ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
                request's upstream must present a certificate chaining to one of them (a private
                PKI) instead of the system's roots. Token endpoints keep the system's roots.
                Setting or changing it to trust a new root is a change of destinations: it needs
                the secret values re-entered or `credentials:route`.
            description (str | Unset): Up to 2000 characters.
            expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
            claims (SignedJWTClaims | Unset): The claims template: `iss`, `sub`, `aud` and any custom claims (`iat`, `exp`
                and `jti` are set at signing).
            key_id (str | Unset): Sent as the tokens' `kid` header, for an upstream that holds several keys.
            placement (Placement | Unset): Where a value goes on the outgoing request.
            private_key (str | Unset): RS*, PS*, ES*, EdDSA: the PEM private key (PKCS#8, PKCS#1 or SEC1).
            secret (str | Unset): HS256/384/512: the shared secret (at least the hash length).
            ttl_seconds (int | Unset): Lifetime of each token, in seconds (default 300).
    """

    name: str
    algorithm: SignedJWTAlgorithm
    type_: SignedJWTType
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    claims: SignedJWTClaims | Unset = UNSET
    key_id: str | Unset = UNSET
    placement: Placement | Unset = UNSET
    private_key: str | Unset = UNSET
    secret: str | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        algorithm = self.algorithm.value

        type_ = self.type_.value

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        claims: dict[str, Any] | Unset = UNSET
        if not isinstance(self.claims, Unset):
            claims = self.claims.to_dict()

        key_id = self.key_id

        placement: dict[str, Any] | Unset = UNSET
        if not isinstance(self.placement, Unset):
            placement = self.placement.to_dict()

        private_key = self.private_key

        secret = self.secret

        ttl_seconds = self.ttl_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "algorithm": algorithm,
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
        if claims is not UNSET:
            field_dict["claims"] = claims
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if placement is not UNSET:
            field_dict["placement"] = placement
        if private_key is not UNSET:
            field_dict["privateKey"] = private_key
        if secret is not UNSET:
            field_dict["secret"] = secret
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.placement import Placement  # noqa: PLC0415
        from ..models.signed_jwt_claims import SignedJWTClaims  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        algorithm = SignedJWTAlgorithm(d.pop("algorithm"))

        type_ = SignedJWTType(d.pop("type"))

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        _claims = d.pop("claims", UNSET)
        claims: SignedJWTClaims | Unset
        if isinstance(_claims, Unset):
            claims = UNSET
        else:
            claims = SignedJWTClaims.from_dict(_claims)

        key_id = d.pop("keyId", UNSET)

        _placement = d.pop("placement", UNSET)
        placement: Placement | Unset
        if isinstance(_placement, Unset):
            placement = UNSET
        else:
            placement = Placement.from_dict(_placement)

        private_key = d.pop("privateKey", UNSET)

        secret = d.pop("secret", UNSET)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        signed_jwt = cls(
            name=name,
            algorithm=algorithm,
            type_=type_,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
            claims=claims,
            key_id=key_id,
            placement=placement,
            private_key=private_key,
            secret=secret,
            ttl_seconds=ttl_seconds,
        )

        signed_jwt.additional_properties = d
        return signed_jwt

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
