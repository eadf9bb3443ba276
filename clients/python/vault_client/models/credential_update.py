from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.credential_update_algorithm import CredentialUpdateAlgorithm
from ..models.credential_update_assertion_algorithm import CredentialUpdateAssertionAlgorithm
from ..models.credential_update_certificate_format import CredentialUpdateCertificateFormat
from ..models.credential_update_client_auth import CredentialUpdateClientAuth
from ..models.credential_update_grant import CredentialUpdateGrant
from ..models.credential_update_key_encoding import CredentialUpdateKeyEncoding
from ..models.credential_update_preset import CredentialUpdatePreset
from ..models.credential_update_signature_encoding import CredentialUpdateSignatureEncoding
from ..models.credential_update_timestamp_format import CredentialUpdateTimestampFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.credential_update_authorization_params import CredentialUpdateAuthorizationParams
    from ..models.credential_update_claims import CredentialUpdateClaims
    from ..models.credential_update_headers import CredentialUpdateHeaders
    from ..models.credential_update_signature_headers import CredentialUpdateSignatureHeaders
    from ..models.placement import Placement


T = TypeVar("T", bound="CredentialUpdate")


@_attrs_define
class CredentialUpdate:
    """`PATCH /credentials/{id}`: any subset of the create fields but `type`. New secret values are sealed as a new
    version.

        Attributes:
            access_key_id (str | Unset): The access key ID (`AKIA…`, or `ASIA…` for temporary credentials).
            algorithm (CredentialUpdateAlgorithm | Unset): The signing algorithm.
            allowed_hosts (list[str] | None | Unset):
            assertion_algorithm (CredentialUpdateAssertionAlgorithm | Unset): The algorithm assertions are signed with
                (default RS256).
            assertion_key_id (None | str | Unset): `private_key_jwt`: the assertions' `kid` header, the id under which the
                provider holds the public key.
            assertion_subject (None | str | Unset): `jwt_bearer` only: the assertion's `sub`, the user a service account
                acts for (Google's domain-wide delegation).
            audience (None | str | Unset): The `audience` parameter some providers want.
            authorization_params (CredentialUpdateAuthorizationParams | Unset): Extra parameters of the authorization
                request, name to string (`access_type`: `offline`, `prompt`: `consent`); authorization_code only.
            authorization_url (str | Unset): The authorization endpoint a user is sent to when connecting
                (authorization_code only).
            ca_bundle (None | str | Unset):
            certificate (str | Unset): The client certificate, PEM, then any intermediates.
            certificate_format (CredentialUpdateCertificateFormat | Unset): How the certificate and key are given: `pem`
                (the default), or `pkcs12`, an archive (`.p12`, `.pfx`) the vault opens and stores as PEM.
            claims (CredentialUpdateClaims | Unset): The claims template: `iss`, `sub`, `aud` and any custom claims (`iat`,
                `exp` and `jti` are set at signing).
            client_auth (CredentialUpdateClientAuth | Unset): `basic` (client_secret_basic, the default but for
                `jwt_bearer`), `body` (client_secret_post), `private_key_jwt` (a JWT signed with `privateKey` per token request,
                RFC 7523 §2.2; what `jwt_bearer` requires and defaults to, its grant's assertion being the proof), or `none` (a
                public client, authorization_code only).
            client_id (str | Unset): The client id.
            client_secret (str | Unset): The client secret, for `clientAuth` `basic` or `body`.
            description (None | str | Unset):
            expires_at (datetime.datetime | None | Unset):
            grant (CredentialUpdateGrant | Unset): `client_credentials` (the default); `authorization_code`: a user connects
                the credential once (`POST /credentials/{id}/connect`), and the vault refreshes the tokens it is given; or
                `jwt_bearer` (RFC 7523 §2.1, Google service accounts): the vault asks with a JWT it signs with `privateKey`
                (`iss` the client id, `aud` the token URL, `scope`, and `sub` when `assertionSubject` is set). Cannot be
                changed.
            headers (CredentialUpdateHeaders | Unset): Header name to secret value.
            key_encoding (CredentialUpdateKeyEncoding | Unset): How the key's text becomes its bytes (default utf8).
            key_id (None | str | Unset): Sent as the tokens' `kid` header, for an upstream that holds several keys.
            name (str | Unset):
            password (str | Unset): The password.
            pkcs12 (str | Unset): The certificate, its chain and its key as a PKCS#12 archive, base64 (line breaks allowed).
                Opened once, never stored as given.
            pkcs_12_password (str | Unset): The archive's password.
            placement (Placement | Unset): Where a value goes on the outgoing request.
            preset (CredentialUpdatePreset | Unset): Fills every field below for a known scheme; fields given as well
                override it. `custom` (the default) fills none: give `stringToSign` and `signatureHeaders` (the other fields
                have defaults).
            private_key (str | Unset): For `clientAuth` `private_key_jwt` (and so the `jwt_bearer` grant): the PEM private
                key (PKCS#8, PKCS#1 or SEC1) the assertions are signed with.
            region (str | Unset): The region the requests are signed for, such as `eu-west-1`.
            revocation_url (None | str | Unset): An RFC 7009 revocation endpoint, called (best effort) when a connected
                credential is deleted; https, like `tokenUrl`.
            scopes (list[str] | Unset): Scopes requested with the grant.
            secret (str | Unset): HS256/384/512: the shared secret (at least the hash length).
            secret_access_key (str | Unset): The secret access key.
            service (str | Unset): The service's signing name, such as `s3`, `sts` or `execute-api`. For `s3` the payload's
                hash is also sent as `X-Amz-Content-SHA256`.
            session_token (str | Unset): The session token of temporary credentials (STS), sent as `X-Amz-Security-Token`.
                Kept secret; giving new secret values without it removes it.
            signature_encoding (CredentialUpdateSignatureEncoding | Unset): How `{signature}` is written (default hex).
            signature_headers (CredentialUpdateSignatureHeaders | Unset): The headers set on each request: name to a
                template of the placeholders of `stringToSign` (but `{body}`), plus `{signature}`. One must hold `{signature}`.
            string_to_sign (str | Unset): What is signed: text with placeholders `{method}`, `{path}`, `{query}`,
                `{pathAndQuery}`, `{host}`, `{body}`, `{bodySha256}` (hex), `{bodySha256Base64}`, `{header:<name>}`,
                `{timestamp}`, `{nonce}` (new per request, or the one in a signature header the caller sent) and `{keyId}`;
                `\\n` is a line break. It must name a part of the request.
            timestamp_format (CredentialUpdateTimestampFormat | Unset): How `{timestamp}`, the signing time, is written
                (default unix: seconds).
            token_url (str | Unset): The token endpoint, https (an absolute URL). Naming it allows token requests to it; it
                need not be in `allowedHosts`, which governs proxied requests.
            ttl_seconds (int | Unset): Lifetime of each token, in seconds (default 300).
            username (str | Unset): The user name (no `:`).
            value (str | Unset): The key.
    """

    access_key_id: str | Unset = UNSET
    algorithm: CredentialUpdateAlgorithm | Unset = UNSET
    allowed_hosts: list[str] | None | Unset = UNSET
    assertion_algorithm: CredentialUpdateAssertionAlgorithm | Unset = UNSET
    assertion_key_id: None | str | Unset = UNSET
    assertion_subject: None | str | Unset = UNSET
    audience: None | str | Unset = UNSET
    authorization_params: CredentialUpdateAuthorizationParams | Unset = UNSET
    authorization_url: str | Unset = UNSET
    ca_bundle: None | str | Unset = UNSET
    certificate: str | Unset = UNSET
    certificate_format: CredentialUpdateCertificateFormat | Unset = UNSET
    claims: CredentialUpdateClaims | Unset = UNSET
    client_auth: CredentialUpdateClientAuth | Unset = UNSET
    client_id: str | Unset = UNSET
    client_secret: str | Unset = UNSET
    description: None | str | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    grant: CredentialUpdateGrant | Unset = UNSET
    headers: CredentialUpdateHeaders | Unset = UNSET
    key_encoding: CredentialUpdateKeyEncoding | Unset = UNSET
    key_id: None | str | Unset = UNSET
    name: str | Unset = UNSET
    password: str | Unset = UNSET
    pkcs12: str | Unset = UNSET
    pkcs_12_password: str | Unset = UNSET
    placement: Placement | Unset = UNSET
    preset: CredentialUpdatePreset | Unset = UNSET
    private_key: str | Unset = UNSET
    region: str | Unset = UNSET
    revocation_url: None | str | Unset = UNSET
    scopes: list[str] | Unset = UNSET
    secret: str | Unset = UNSET
    secret_access_key: str | Unset = UNSET
    service: str | Unset = UNSET
    session_token: str | Unset = UNSET
    signature_encoding: CredentialUpdateSignatureEncoding | Unset = UNSET
    signature_headers: CredentialUpdateSignatureHeaders | Unset = UNSET
    string_to_sign: str | Unset = UNSET
    timestamp_format: CredentialUpdateTimestampFormat | Unset = UNSET
    token_url: str | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    username: str | Unset = UNSET
    value: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        access_key_id = self.access_key_id

        algorithm: str | Unset = UNSET
        if not isinstance(self.algorithm, Unset):
            algorithm = self.algorithm.value

        allowed_hosts: list[str] | None | Unset
        if isinstance(self.allowed_hosts, Unset):
            allowed_hosts = UNSET
        elif isinstance(self.allowed_hosts, list):
            allowed_hosts = self.allowed_hosts

        else:
            allowed_hosts = self.allowed_hosts

        assertion_algorithm: str | Unset = UNSET
        if not isinstance(self.assertion_algorithm, Unset):
            assertion_algorithm = self.assertion_algorithm.value

        assertion_key_id: None | str | Unset
        if isinstance(self.assertion_key_id, Unset):
            assertion_key_id = UNSET
        else:
            assertion_key_id = self.assertion_key_id

        assertion_subject: None | str | Unset
        if isinstance(self.assertion_subject, Unset):
            assertion_subject = UNSET
        else:
            assertion_subject = self.assertion_subject

        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        authorization_params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.authorization_params, Unset):
            authorization_params = self.authorization_params.to_dict()

        authorization_url = self.authorization_url

        ca_bundle: None | str | Unset
        if isinstance(self.ca_bundle, Unset):
            ca_bundle = UNSET
        else:
            ca_bundle = self.ca_bundle

        certificate = self.certificate

        certificate_format: str | Unset = UNSET
        if not isinstance(self.certificate_format, Unset):
            certificate_format = self.certificate_format.value

        claims: dict[str, Any] | Unset = UNSET
        if not isinstance(self.claims, Unset):
            claims = self.claims.to_dict()

        client_auth: str | Unset = UNSET
        if not isinstance(self.client_auth, Unset):
            client_auth = self.client_auth.value

        client_id = self.client_id

        client_secret = self.client_secret

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        grant: str | Unset = UNSET
        if not isinstance(self.grant, Unset):
            grant = self.grant.value

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        key_encoding: str | Unset = UNSET
        if not isinstance(self.key_encoding, Unset):
            key_encoding = self.key_encoding.value

        key_id: None | str | Unset
        if isinstance(self.key_id, Unset):
            key_id = UNSET
        else:
            key_id = self.key_id

        name = self.name

        password = self.password

        pkcs12 = self.pkcs12

        pkcs_12_password = self.pkcs_12_password

        placement: dict[str, Any] | Unset = UNSET
        if not isinstance(self.placement, Unset):
            placement = self.placement.to_dict()

        preset: str | Unset = UNSET
        if not isinstance(self.preset, Unset):
            preset = self.preset.value

        private_key = self.private_key

        region = self.region

        revocation_url: None | str | Unset
        if isinstance(self.revocation_url, Unset):
            revocation_url = UNSET
        else:
            revocation_url = self.revocation_url

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

        secret = self.secret

        secret_access_key = self.secret_access_key

        service = self.service

        session_token = self.session_token

        signature_encoding: str | Unset = UNSET
        if not isinstance(self.signature_encoding, Unset):
            signature_encoding = self.signature_encoding.value

        signature_headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.signature_headers, Unset):
            signature_headers = self.signature_headers.to_dict()

        string_to_sign = self.string_to_sign

        timestamp_format: str | Unset = UNSET
        if not isinstance(self.timestamp_format, Unset):
            timestamp_format = self.timestamp_format.value

        token_url = self.token_url

        ttl_seconds = self.ttl_seconds

        username = self.username

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if access_key_id is not UNSET:
            field_dict["accessKeyId"] = access_key_id
        if algorithm is not UNSET:
            field_dict["algorithm"] = algorithm
        if allowed_hosts is not UNSET:
            field_dict["allowedHosts"] = allowed_hosts
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
        if ca_bundle is not UNSET:
            field_dict["caBundle"] = ca_bundle
        if certificate is not UNSET:
            field_dict["certificate"] = certificate
        if certificate_format is not UNSET:
            field_dict["certificateFormat"] = certificate_format
        if claims is not UNSET:
            field_dict["claims"] = claims
        if client_auth is not UNSET:
            field_dict["clientAuth"] = client_auth
        if client_id is not UNSET:
            field_dict["clientId"] = client_id
        if client_secret is not UNSET:
            field_dict["clientSecret"] = client_secret
        if description is not UNSET:
            field_dict["description"] = description
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if grant is not UNSET:
            field_dict["grant"] = grant
        if headers is not UNSET:
            field_dict["headers"] = headers
        if key_encoding is not UNSET:
            field_dict["keyEncoding"] = key_encoding
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if name is not UNSET:
            field_dict["name"] = name
        if password is not UNSET:
            field_dict["password"] = password
        if pkcs12 is not UNSET:
            field_dict["pkcs12"] = pkcs12
        if pkcs_12_password is not UNSET:
            field_dict["pkcs12Password"] = pkcs_12_password
        if placement is not UNSET:
            field_dict["placement"] = placement
        if preset is not UNSET:
            field_dict["preset"] = preset
        if private_key is not UNSET:
            field_dict["privateKey"] = private_key
        if region is not UNSET:
            field_dict["region"] = region
        if revocation_url is not UNSET:
            field_dict["revocationUrl"] = revocation_url
        if scopes is not UNSET:
            field_dict["scopes"] = scopes
        if secret is not UNSET:
            field_dict["secret"] = secret
        if secret_access_key is not UNSET:
            field_dict["secretAccessKey"] = secret_access_key
        if service is not UNSET:
            field_dict["service"] = service
        if session_token is not UNSET:
            field_dict["sessionToken"] = session_token
        if signature_encoding is not UNSET:
            field_dict["signatureEncoding"] = signature_encoding
        if signature_headers is not UNSET:
            field_dict["signatureHeaders"] = signature_headers
        if string_to_sign is not UNSET:
            field_dict["stringToSign"] = string_to_sign
        if timestamp_format is not UNSET:
            field_dict["timestampFormat"] = timestamp_format
        if token_url is not UNSET:
            field_dict["tokenUrl"] = token_url
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if username is not UNSET:
            field_dict["username"] = username
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credential_update_authorization_params import CredentialUpdateAuthorizationParams  # noqa: PLC0415
        from ..models.credential_update_claims import CredentialUpdateClaims  # noqa: PLC0415
        from ..models.credential_update_headers import CredentialUpdateHeaders  # noqa: PLC0415
        from ..models.credential_update_signature_headers import CredentialUpdateSignatureHeaders  # noqa: PLC0415
        from ..models.placement import Placement  # noqa: PLC0415

        d = dict(src_dict)
        access_key_id = d.pop("accessKeyId", UNSET)

        _algorithm = d.pop("algorithm", UNSET)
        algorithm: CredentialUpdateAlgorithm | Unset
        if isinstance(_algorithm, Unset):
            algorithm = UNSET
        else:
            algorithm = CredentialUpdateAlgorithm(_algorithm)

        def _parse_allowed_hosts(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                allowed_hosts_type_0 = cast(list[str], data)

                return allowed_hosts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        allowed_hosts = _parse_allowed_hosts(d.pop("allowedHosts", UNSET))

        _assertion_algorithm = d.pop("assertionAlgorithm", UNSET)
        assertion_algorithm: CredentialUpdateAssertionAlgorithm | Unset
        if isinstance(_assertion_algorithm, Unset):
            assertion_algorithm = UNSET
        else:
            assertion_algorithm = CredentialUpdateAssertionAlgorithm(_assertion_algorithm)

        def _parse_assertion_key_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        assertion_key_id = _parse_assertion_key_id(d.pop("assertionKeyId", UNSET))

        def _parse_assertion_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        assertion_subject = _parse_assertion_subject(d.pop("assertionSubject", UNSET))

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        _authorization_params = d.pop("authorizationParams", UNSET)
        authorization_params: CredentialUpdateAuthorizationParams | Unset
        if isinstance(_authorization_params, Unset):
            authorization_params = UNSET
        else:
            authorization_params = CredentialUpdateAuthorizationParams.from_dict(_authorization_params)

        authorization_url = d.pop("authorizationUrl", UNSET)

        def _parse_ca_bundle(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ca_bundle = _parse_ca_bundle(d.pop("caBundle", UNSET))

        certificate = d.pop("certificate", UNSET)

        _certificate_format = d.pop("certificateFormat", UNSET)
        certificate_format: CredentialUpdateCertificateFormat | Unset
        if isinstance(_certificate_format, Unset):
            certificate_format = UNSET
        else:
            certificate_format = CredentialUpdateCertificateFormat(_certificate_format)

        _claims = d.pop("claims", UNSET)
        claims: CredentialUpdateClaims | Unset
        if isinstance(_claims, Unset):
            claims = UNSET
        else:
            claims = CredentialUpdateClaims.from_dict(_claims)

        _client_auth = d.pop("clientAuth", UNSET)
        client_auth: CredentialUpdateClientAuth | Unset
        if isinstance(_client_auth, Unset):
            client_auth = UNSET
        else:
            client_auth = CredentialUpdateClientAuth(_client_auth)

        client_id = d.pop("clientId", UNSET)

        client_secret = d.pop("clientSecret", UNSET)

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

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

        _grant = d.pop("grant", UNSET)
        grant: CredentialUpdateGrant | Unset
        if isinstance(_grant, Unset):
            grant = UNSET
        else:
            grant = CredentialUpdateGrant(_grant)

        _headers = d.pop("headers", UNSET)
        headers: CredentialUpdateHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = CredentialUpdateHeaders.from_dict(_headers)

        _key_encoding = d.pop("keyEncoding", UNSET)
        key_encoding: CredentialUpdateKeyEncoding | Unset
        if isinstance(_key_encoding, Unset):
            key_encoding = UNSET
        else:
            key_encoding = CredentialUpdateKeyEncoding(_key_encoding)

        def _parse_key_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        key_id = _parse_key_id(d.pop("keyId", UNSET))

        name = d.pop("name", UNSET)

        password = d.pop("password", UNSET)

        pkcs12 = d.pop("pkcs12", UNSET)

        pkcs_12_password = d.pop("pkcs12Password", UNSET)

        _placement = d.pop("placement", UNSET)
        placement: Placement | Unset
        if isinstance(_placement, Unset):
            placement = UNSET
        else:
            placement = Placement.from_dict(_placement)

        _preset = d.pop("preset", UNSET)
        preset: CredentialUpdatePreset | Unset
        if isinstance(_preset, Unset):
            preset = UNSET
        else:
            preset = CredentialUpdatePreset(_preset)

        private_key = d.pop("privateKey", UNSET)

        region = d.pop("region", UNSET)

        def _parse_revocation_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        revocation_url = _parse_revocation_url(d.pop("revocationUrl", UNSET))

        scopes = cast(list[str], d.pop("scopes", UNSET))

        secret = d.pop("secret", UNSET)

        secret_access_key = d.pop("secretAccessKey", UNSET)

        service = d.pop("service", UNSET)

        session_token = d.pop("sessionToken", UNSET)

        _signature_encoding = d.pop("signatureEncoding", UNSET)
        signature_encoding: CredentialUpdateSignatureEncoding | Unset
        if isinstance(_signature_encoding, Unset):
            signature_encoding = UNSET
        else:
            signature_encoding = CredentialUpdateSignatureEncoding(_signature_encoding)

        _signature_headers = d.pop("signatureHeaders", UNSET)
        signature_headers: CredentialUpdateSignatureHeaders | Unset
        if isinstance(_signature_headers, Unset):
            signature_headers = UNSET
        else:
            signature_headers = CredentialUpdateSignatureHeaders.from_dict(_signature_headers)

        string_to_sign = d.pop("stringToSign", UNSET)

        _timestamp_format = d.pop("timestampFormat", UNSET)
        timestamp_format: CredentialUpdateTimestampFormat | Unset
        if isinstance(_timestamp_format, Unset):
            timestamp_format = UNSET
        else:
            timestamp_format = CredentialUpdateTimestampFormat(_timestamp_format)

        token_url = d.pop("tokenUrl", UNSET)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        username = d.pop("username", UNSET)

        value = d.pop("value", UNSET)

        credential_update = cls(
            access_key_id=access_key_id,
            algorithm=algorithm,
            allowed_hosts=allowed_hosts,
            assertion_algorithm=assertion_algorithm,
            assertion_key_id=assertion_key_id,
            assertion_subject=assertion_subject,
            audience=audience,
            authorization_params=authorization_params,
            authorization_url=authorization_url,
            ca_bundle=ca_bundle,
            certificate=certificate,
            certificate_format=certificate_format,
            claims=claims,
            client_auth=client_auth,
            client_id=client_id,
            client_secret=client_secret,
            description=description,
            expires_at=expires_at,
            grant=grant,
            headers=headers,
            key_encoding=key_encoding,
            key_id=key_id,
            name=name,
            password=password,
            pkcs12=pkcs12,
            pkcs_12_password=pkcs_12_password,
            placement=placement,
            preset=preset,
            private_key=private_key,
            region=region,
            revocation_url=revocation_url,
            scopes=scopes,
            secret=secret,
            secret_access_key=secret_access_key,
            service=service,
            session_token=session_token,
            signature_encoding=signature_encoding,
            signature_headers=signature_headers,
            string_to_sign=string_to_sign,
            timestamp_format=timestamp_format,
            token_url=token_url,
            ttl_seconds=ttl_seconds,
            username=username,
            value=value,
        )

        credential_update.additional_properties = d
        return credential_update

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
