from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.o_auth_2_assertion_algorithm import OAuth2AssertionAlgorithm
from ..models.o_auth_2_client_auth import OAuth2ClientAuth
from ..models.o_auth_2_grant import OAuth2Grant
from ..models.o_auth_2_type import OAuth2Type
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.o_auth_2_authorization_params import OAuth2AuthorizationParams


T = TypeVar("T", bound="OAuth2")


@_attrs_define
class OAuth2:
    """OAuth2: the vault gets the access token (client credentials, or authorization code after a user connects the
    credential), keeps it fresh, and sends `Authorization: Bearer <token>`.

        Attributes:
            name (str): 1 to 200 characters.
            client_id (str): The client id.
            token_url (str): The token endpoint, https (an absolute URL). Naming it allows token requests to it; it need not
                be in `allowedHosts`, which governs proxied requests.
            type_ (OAuth2Type):
            allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
            ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
                request's upstream must present a certificate chaining to one of them (a private
                PKI) instead of the system's roots. Token endpoints keep the system's roots.
                Setting or changing it to trust a new root is a change of destinations: it needs
                the secret values re-entered or `credentials:route`.
            description (str | Unset): Up to 2000 characters.
            expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
            assertion_algorithm (OAuth2AssertionAlgorithm | Unset): The algorithm assertions are signed with (default
                RS256).
            assertion_key_id (str | Unset): `private_key_jwt`: the assertions' `kid` header, the id under which the provider
                holds the public key.
            assertion_subject (str | Unset): `jwt_bearer` only: the assertion's `sub`, the user a service account acts for
                (Google's domain-wide delegation).
            audience (str | Unset): The `audience` parameter some providers want.
            authorization_params (OAuth2AuthorizationParams | Unset): Extra parameters of the authorization request, name to
                string (`access_type`: `offline`, `prompt`: `consent`); authorization_code only.
            authorization_url (str | Unset): The authorization endpoint a user is sent to when connecting
                (authorization_code only).
            client_auth (OAuth2ClientAuth | Unset): `basic` (client_secret_basic, the default but for `jwt_bearer`), `body`
                (client_secret_post), `private_key_jwt` (a JWT signed with `privateKey` per token request, RFC 7523 §2.2; what
                `jwt_bearer` requires and defaults to, its grant's assertion being the proof), or `none` (a public client,
                authorization_code only).
            client_secret (str | Unset): The client secret, for `clientAuth` `basic` or `body`.
            grant (OAuth2Grant | Unset): `client_credentials` (the default); `authorization_code`: a user connects the
                credential once (`POST /credentials/{id}/connect`), and the vault refreshes the tokens it is given; or
                `jwt_bearer` (RFC 7523 §2.1, Google service accounts): the vault asks with a JWT it signs with `privateKey`
                (`iss` the client id, `aud` the token URL, `scope`, and `sub` when `assertionSubject` is set). Cannot be
                changed.
            private_key (str | Unset): For `clientAuth` `private_key_jwt` (and so the `jwt_bearer` grant): the PEM private
                key (PKCS#8, PKCS#1 or SEC1) the assertions are signed with.
            revocation_url (str | Unset): An RFC 7009 revocation endpoint, called (best effort) when a connected credential
                is deleted; https, like `tokenUrl`.
            scopes (list[str] | Unset): Scopes requested with the grant.
    """

    name: str
    client_id: str
    token_url: str
    type_: OAuth2Type
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    assertion_algorithm: OAuth2AssertionAlgorithm | Unset = UNSET
    assertion_key_id: str | Unset = UNSET
    assertion_subject: str | Unset = UNSET
    audience: str | Unset = UNSET
    authorization_params: OAuth2AuthorizationParams | Unset = UNSET
    authorization_url: str | Unset = UNSET
    client_auth: OAuth2ClientAuth | Unset = UNSET
    client_secret: str | Unset = UNSET
    grant: OAuth2Grant | Unset = UNSET
    private_key: str | Unset = UNSET
    revocation_url: str | Unset = UNSET
    scopes: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        client_id = self.client_id

        token_url = self.token_url

        type_ = self.type_.value

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        assertion_algorithm: str | Unset = UNSET
        if not isinstance(self.assertion_algorithm, Unset):
            assertion_algorithm = self.assertion_algorithm.value

        assertion_key_id = self.assertion_key_id

        assertion_subject = self.assertion_subject

        audience = self.audience

        authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.authorization_params, Unset):
            authorization_params = self.authorization_params.to_dict()

        authorization_url = self.authorization_url

        client_auth: str | Unset = UNSET
        if not isinstance(self.client_auth, Unset):
            client_auth = self.client_auth.value

        client_secret = self.client_secret

        grant: str | Unset = UNSET
        if not isinstance(self.grant, Unset):
            grant = self.grant.value

        private_key = self.private_key

        revocation_url = self.revocation_url

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "clientId": client_id,
                "tokenUrl": token_url,
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
        if assertion_algorithm is not UNSET:
            field_dict["assertionAlgorithm"] = assertion_algorithm
        if assertion_key_id is not UNSET:
            field_dict["assertionKeyId"] = assertion_key_id
        if assertion_subject is not UNSET:
            field_dict["assertionSubject"] = assertion_subject
        if audience is not UNSET:
            field_dict["audience"] = audience
        if authorization_params is not UNSET:
            field_dict["authorizationParams"] = authorization_params
        if authorization_url is not UNSET:
            field_dict["authorizationUrl"] = authorization_url
        if client_auth is not UNSET:
            field_dict["clientAuth"] = client_auth
        if client_secret is not UNSET:
            field_dict["clientSecret"] = client_secret
        if grant is not UNSET:
            field_dict["grant"] = grant
        if private_key is not UNSET:
            field_dict["privateKey"] = private_key
        if revocation_url is not UNSET:
            field_dict["revocationUrl"] = revocation_url
        if scopes is not UNSET:
            field_dict["scopes"] = scopes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.o_auth_2_authorization_params import OAuth2AuthorizationParams  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        client_id = d.pop("clientId")

        token_url = d.pop("tokenUrl")

        type_ = OAuth2Type(d.pop("type"))

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        _assertion_algorithm = d.pop("assertionAlgorithm", UNSET)
        assertion_algorithm: OAuth2AssertionAlgorithm | Unset
        if isinstance(_assertion_algorithm, Unset):
            assertion_algorithm = UNSET
        else:
            assertion_algorithm = OAuth2AssertionAlgorithm(_assertion_algorithm)

        assertion_key_id = d.pop("assertionKeyId", UNSET)

        assertion_subject = d.pop("assertionSubject", UNSET)

        audience = d.pop("audience", UNSET)

        _authorization_params = d.pop("authorizationParams", UNSET)
        authorization_params: OAuth2AuthorizationParams | Unset
        if isinstance(_authorization_params, Unset):
            authorization_params = UNSET
        else:
            authorization_params = OAuth2AuthorizationParams.from_dict(_authorization_params)

        authorization_url = d.pop("authorizationUrl", UNSET)

        _client_auth = d.pop("clientAuth", UNSET)
        client_auth: OAuth2ClientAuth | Unset
        if isinstance(_client_auth, Unset):
            client_auth = UNSET
        else:
            client_auth = OAuth2ClientAuth(_client_auth)

        client_secret = d.pop("clientSecret", UNSET)

        _grant = d.pop("grant", UNSET)
        grant: OAuth2Grant | Unset
        if isinstance(_grant, Unset):
            grant = UNSET
        else:
            grant = OAuth2Grant(_grant)

        private_key = d.pop("privateKey", UNSET)

        revocation_url = d.pop("revocationUrl", UNSET)

        scopes = cast(list[str], d.pop("scopes", UNSET))

        o_auth_2 = cls(
            name=name,
            client_id=client_id,
            token_url=token_url,
            type_=type_,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
            assertion_algorithm=assertion_algorithm,
            assertion_key_id=assertion_key_id,
            assertion_subject=assertion_subject,
            audience=audience,
            authorization_params=authorization_params,
            authorization_url=authorization_url,
            client_auth=client_auth,
            client_secret=client_secret,
            grant=grant,
            private_key=private_key,
            revocation_url=revocation_url,
            scopes=scopes,
        )

        o_auth_2.additional_properties = d
        return o_auth_2

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
