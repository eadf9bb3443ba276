from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.credential_algorithm import CredentialAlgorithm
from ..models.credential_assertion_algorithm import CredentialAssertionAlgorithm
from ..models.credential_certificate_format import CredentialCertificateFormat
from ..models.credential_client_auth import CredentialClientAuth
from ..models.credential_grant import CredentialGrant
from ..models.credential_key_encoding import CredentialKeyEncoding
from ..models.credential_preset import CredentialPreset
from ..models.credential_signature_encoding import CredentialSignatureEncoding
from ..models.credential_timestamp_format import CredentialTimestampFormat
from ..models.credential_type import CredentialType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.connection import Connection
    from ..models.credential_authorization_params import CredentialAuthorizationParams
    from ..models.credential_claims import CredentialClaims
    from ..models.credential_secret_hints import CredentialSecretHints
    from ..models.credential_signature_headers import CredentialSignatureHeaders
    from ..models.placement import Placement


T = TypeVar("T", bound="Credential")


@_attrs_define
class Credential:
    """A credential as every endpoint shows it: public fields only, plus hints of the secret
    values (never the values).

        Attributes:
            allowed_hosts (list[str]): Where the credential may be sent: `host`, `host:port`, `https://host[:port]` or
                `http://host:port`. Empty: nowhere.
            created_at (datetime.datetime):
            expired (bool): True once `expiresAt` has passed: the credential is never applied.
            id (UUID):
            name (str):
            revision (int): Increases with every change, its metadata's too; also the `ETag` (`If-Match` takes
                it). Not the number of a version of the secret values, which only a change of them
                makes (`GET /credentials/{id}/versions`).
            secret_hints (CredentialSecretHints): The last four characters of each secret value of 16 characters or more, by
                field
                (`headers.<name>` for a custom credential's), so one can tell which value is
                stored. Shorter values, passwords and private keys have none: four characters would
                give away too large a share of them.
            type_ (CredentialType): The credential types.
            updated_at (datetime.datetime):
            access_key_id (str | Unset): The access key ID (`AKIA…`, or `ASIA…` for temporary credentials). (aws_sigv4)
            algorithm (CredentialAlgorithm | Unset): The signing algorithm. (jwt)
            assertion_algorithm (CredentialAssertionAlgorithm | Unset): The algorithm assertions are signed with (default
                RS256). (oauth2)
            assertion_key_id (str | Unset): `private_key_jwt`: the assertions' `kid` header, the id under which the provider
                holds the public key. (oauth2)
            assertion_subject (str | Unset): `jwt_bearer` only: the assertion's `sub`, the user a service account acts for
                (Google's domain-wide delegation). (oauth2)
            audience (str | Unset): The `audience` parameter some providers want. (oauth2)
            authorization_params (CredentialAuthorizationParams | Unset): Extra parameters of the authorization request,
                name to string (`access_type`: `offline`, `prompt`: `consent`); authorization_code only. (oauth2)
            authorization_url (str | Unset): The authorization endpoint a user is sent to when connecting
                (authorization_code only). (oauth2)
            ca_bundle (None | str | Unset): CA certificates, PEM, that pin the upstream's TLS certificate (a private PKI);
                `null`: the system's roots.
            certificate_format (CredentialCertificateFormat | Unset): How the certificate and key are given: `pem` (the
                default), or `pkcs12`, an archive (`.p12`, `.pfx`) the vault opens and stores as PEM. (mtls)
            claims (CredentialClaims | Unset): The claims template: `iss`, `sub`, `aud` and any custom claims (`iat`, `exp`
                and `jti` are set at signing). (jwt)
            client_auth (CredentialClientAuth | Unset): `basic` (client_secret_basic, the default but for `jwt_bearer`),
                `body` (client_secret_post), `private_key_jwt` (a JWT signed with `privateKey` per token request, RFC 7523 §2.2;
                what `jwt_bearer` requires and defaults to, its grant's assertion being the proof), or `none` (a public client,
                authorization_code only). (oauth2)
            client_id (str | Unset): The client id. (oauth2)
            connection (Connection | Unset): Where an authorization-code credential's connection stands.
            description (None | str | Unset):
            expires_at (datetime.datetime | None | Unset):
            grant (CredentialGrant | Unset): `client_credentials` (the default); `authorization_code`: a user connects the
                credential once (`POST /credentials/{id}/connect`), and the vault refreshes the tokens it is given; or
                `jwt_bearer` (RFC 7523 §2.1, Google service accounts): the vault asks with a JWT it signs with `privateKey`
                (`iss` the client id, `aud` the token URL, `scope`, and `sub` when `assertionSubject` is set). Cannot be
                changed. (oauth2)
            header_names (list[str] | Unset): The names of the headers set (their values are secret). (custom)
            issuer (str | Unset): The certificate's issuer. (mtls)
            key_encoding (CredentialKeyEncoding | Unset): How the key's text becomes its bytes (default utf8).
                (hmac_signature)
            key_id (str | Unset): Sent as the tokens' `kid` header, for an upstream that holds several keys. (jwt)
            not_after (str | Unset): The end of the certificate's validity (RFC 3339). (mtls)
            placement (Placement | Unset): Where a value goes on the outgoing request.
            preset (CredentialPreset | Unset): Fills every field below for a known scheme; fields given as well override it.
                `custom` (the default) fills none: give `stringToSign` and `signatureHeaders` (the other fields have defaults).
                (hmac_signature)
            region (str | Unset): The region the requests are signed for, such as `eu-west-1`. (aws_sigv4)
            revocation_url (str | Unset): An RFC 7009 revocation endpoint, called (best effort) when a connected credential
                is deleted; https, like `tokenUrl`. (oauth2)
            scopes (list[str] | Unset): Scopes requested with the grant. (oauth2)
            serial_number (str | Unset): The certificate's serial number, hex. (mtls)
            service (str | Unset): The service's signing name, such as `s3`, `sts` or `execute-api`. For `s3` the payload's
                hash is also sent as `X-Amz-Content-SHA256`. (aws_sigv4)
            signature_encoding (CredentialSignatureEncoding | Unset): How `{signature}` is written (default hex).
                (hmac_signature)
            signature_headers (CredentialSignatureHeaders | Unset): The headers set on each request: name to a template of
                the placeholders of `stringToSign` (but `{body}`), plus `{signature}`. One must hold `{signature}`.
                (hmac_signature)
            string_to_sign (str | Unset): What is signed: text with placeholders `{method}`, `{path}`, `{query}`,
                `{pathAndQuery}`, `{host}`, `{body}`, `{bodySha256}` (hex), `{bodySha256Base64}`, `{header:<name>}`,
                `{timestamp}`, `{nonce}` (new per request, or the one in a signature header the caller sent) and `{keyId}`;
                `\\n` is a line break. It must name a part of the request. (hmac_signature)
            subject (str | Unset): The certificate's subject. (mtls)
            timestamp_format (CredentialTimestampFormat | Unset): How `{timestamp}`, the signing time, is written (default
                unix: seconds). (hmac_signature)
            token_url (str | Unset): The token endpoint, https (an absolute URL). Naming it allows token requests to it; it
                need not be in `allowedHosts`, which governs proxied requests. (oauth2)
            ttl_seconds (int | Unset): Lifetime of each token, in seconds (default 300). (jwt)
            username (str | Unset): The user name (no `:`). (basic_auth)
    """

    allowed_hosts: list[str]
    created_at: datetime.datetime
    expired: bool
    id: UUID
    name: str
    revision: int
    secret_hints: CredentialSecretHints
    type_: CredentialType
    updated_at: datetime.datetime
    access_key_id: str | Unset = UNSET
    algorithm: CredentialAlgorithm | Unset = UNSET
    assertion_algorithm: CredentialAssertionAlgorithm | Unset = UNSET
    assertion_key_id: str | Unset = UNSET
    assertion_subject: str | Unset = UNSET
    audience: str | Unset = UNSET
    authorization_params: CredentialAuthorizationParams | Unset = UNSET
    authorization_url: str | Unset = UNSET
    ca_bundle: None | str | Unset = UNSET
    certificate_format: CredentialCertificateFormat | Unset = UNSET
    claims: CredentialClaims | Unset = UNSET
    client_auth: CredentialClientAuth | Unset = UNSET
    client_id: str | Unset = UNSET
    connection: Connection | Unset = UNSET
    description: None | str | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    grant: CredentialGrant | Unset = UNSET
    header_names: list[str] | Unset = UNSET
    issuer: str | Unset = UNSET
    key_encoding: CredentialKeyEncoding | Unset = UNSET
    key_id: str | Unset = UNSET
    not_after: str | Unset = UNSET
    placement: Placement | Unset = UNSET
    preset: CredentialPreset | Unset = UNSET
    region: str | Unset = UNSET
    revocation_url: str | Unset = UNSET
    scopes: list[str] | Unset = UNSET
    serial_number: str | Unset = UNSET
    service: str | Unset = UNSET
    signature_encoding: CredentialSignatureEncoding | Unset = UNSET
    signature_headers: CredentialSignatureHeaders | Unset = UNSET
    string_to_sign: str | Unset = UNSET
    subject: str | Unset = UNSET
    timestamp_format: CredentialTimestampFormat | Unset = UNSET
    token_url: str | Unset = UNSET
    ttl_seconds: int | Unset = UNSET
    username: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        allowed_hosts = self.allowed_hosts

        created_at = self.created_at.isoformat()

        expired = self.expired

        id = str(self.id)

        name = self.name

        revision = self.revision

        secret_hints = self.secret_hints.to_dict()

        type_ = self.type_.value

        updated_at = self.updated_at.isoformat()

        access_key_id = self.access_key_id

        algorithm: str | Unset = UNSET
        if not isinstance(self.algorithm, Unset):
            algorithm = self.algorithm.value

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

        ca_bundle: None | str | Unset
        if isinstance(self.ca_bundle, Unset):
            ca_bundle = UNSET
        else:
            ca_bundle = self.ca_bundle

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

        connection: dict[str, Any] | Unset = UNSET
        if not isinstance(self.connection, Unset):
            connection = self.connection.to_dict()

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

        header_names: list[str] | Unset = UNSET
        if not isinstance(self.header_names, Unset):
            header_names = self.header_names

        issuer = self.issuer

        key_encoding: str | Unset = UNSET
        if not isinstance(self.key_encoding, Unset):
            key_encoding = self.key_encoding.value

        key_id = self.key_id

        not_after = self.not_after

        placement: dict[str, Any] | Unset = UNSET
        if not isinstance(self.placement, Unset):
            placement = self.placement.to_dict()

        preset: str | Unset = UNSET
        if not isinstance(self.preset, Unset):
            preset = self.preset.value

        region = self.region

        revocation_url = self.revocation_url

        scopes: list[str] | Unset = UNSET
        if not isinstance(self.scopes, Unset):
            scopes = self.scopes

        serial_number = self.serial_number

        service = self.service

        signature_encoding: str | Unset = UNSET
        if not isinstance(self.signature_encoding, Unset):
            signature_encoding = self.signature_encoding.value

        signature_headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.signature_headers, Unset):
            signature_headers = self.signature_headers.to_dict()

        string_to_sign = self.string_to_sign

        subject = self.subject

        timestamp_format: str | Unset = UNSET
        if not isinstance(self.timestamp_format, Unset):
            timestamp_format = self.timestamp_format.value

        token_url = self.token_url

        ttl_seconds = self.ttl_seconds

        username = self.username

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowedHosts": allowed_hosts,
                "createdAt": created_at,
                "expired": expired,
                "id": id,
                "name": name,
                "revision": revision,
                "secretHints": secret_hints,
                "type": type_,
                "updatedAt": updated_at,
            }
        )
        if access_key_id is not UNSET:
            field_dict["accessKeyId"] = access_key_id
        if algorithm is not UNSET:
            field_dict["algorithm"] = algorithm
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
        if certificate_format is not UNSET:
            field_dict["certificateFormat"] = certificate_format
        if claims is not UNSET:
            field_dict["claims"] = claims
        if client_auth is not UNSET:
            field_dict["clientAuth"] = client_auth
        if client_id is not UNSET:
            field_dict["clientId"] = client_id
        if connection is not UNSET:
            field_dict["connection"] = connection
        if description is not UNSET:
            field_dict["description"] = description
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if grant is not UNSET:
            field_dict["grant"] = grant
        if header_names is not UNSET:
            field_dict["headerNames"] = header_names
        if issuer is not UNSET:
            field_dict["issuer"] = issuer
        if key_encoding is not UNSET:
            field_dict["keyEncoding"] = key_encoding
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if not_after is not UNSET:
            field_dict["notAfter"] = not_after
        if placement is not UNSET:
            field_dict["placement"] = placement
        if preset is not UNSET:
            field_dict["preset"] = preset
        if region is not UNSET:
            field_dict["region"] = region
        if revocation_url is not UNSET:
            field_dict["revocationUrl"] = revocation_url
        if scopes is not UNSET:
            field_dict["scopes"] = scopes
        if serial_number is not UNSET:
            field_dict["serialNumber"] = serial_number
        if service is not UNSET:
            field_dict["service"] = service
        if signature_encoding is not UNSET:
            field_dict["signatureEncoding"] = signature_encoding
        if signature_headers is not UNSET:
            field_dict["signatureHeaders"] = signature_headers
        if string_to_sign is not UNSET:
            field_dict["stringToSign"] = string_to_sign
        if subject is not UNSET:
            field_dict["subject"] = subject
        if timestamp_format is not UNSET:
            field_dict["timestampFormat"] = timestamp_format
        if token_url is not UNSET:
            field_dict["tokenUrl"] = token_url
        if ttl_seconds is not UNSET:
            field_dict["ttlSeconds"] = ttl_seconds
        if username is not UNSET:
            field_dict["username"] = username

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.connection import Connection  # noqa: PLC0415
        from ..models.credential_authorization_params import CredentialAuthorizationParams  # noqa: PLC0415
        from ..models.credential_claims import CredentialClaims  # noqa: PLC0415
        from ..models.credential_secret_hints import CredentialSecretHints  # noqa: PLC0415
        from ..models.credential_signature_headers import CredentialSignatureHeaders  # noqa: PLC0415
        from ..models.placement import Placement  # noqa: PLC0415

        d = dict(src_dict)
        allowed_hosts = cast(list[str], d.pop("allowedHosts"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        expired = d.pop("expired")

        id = UUID(d.pop("id"))

        name = d.pop("name")

        revision = d.pop("revision")

        secret_hints = CredentialSecretHints.from_dict(d.pop("secretHints"))

        type_ = CredentialType(d.pop("type"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        access_key_id = d.pop("accessKeyId", UNSET)

        _algorithm = d.pop("algorithm", UNSET)
        algorithm: CredentialAlgorithm | Unset
        if isinstance(_algorithm, Unset):
            algorithm = UNSET
        else:
            algorithm = CredentialAlgorithm(_algorithm)

        _assertion_algorithm = d.pop("assertionAlgorithm", UNSET)
        assertion_algorithm: CredentialAssertionAlgorithm | Unset
        if isinstance(_assertion_algorithm, Unset):
            assertion_algorithm = UNSET
        else:
            assertion_algorithm = CredentialAssertionAlgorithm(_assertion_algorithm)

        assertion_key_id = d.pop("assertionKeyId", UNSET)

        assertion_subject = d.pop("assertionSubject", UNSET)

        audience = d.pop("audience", UNSET)

        _authorization_params = d.pop("authorizationParams", UNSET)
        authorization_params: CredentialAuthorizationParams | Unset
        if isinstance(_authorization_params, Unset):
            authorization_params = UNSET
        else:
            authorization_params = CredentialAuthorizationParams.from_dict(_authorization_params)

        authorization_url = d.pop("authorizationUrl", UNSET)

        def _parse_ca_bundle(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ca_bundle = _parse_ca_bundle(d.pop("caBundle", UNSET))

        _certificate_format = d.pop("certificateFormat", UNSET)
        certificate_format: CredentialCertificateFormat | Unset
        if isinstance(_certificate_format, Unset):
            certificate_format = UNSET
        else:
            certificate_format = CredentialCertificateFormat(_certificate_format)

        _claims = d.pop("claims", UNSET)
        claims: CredentialClaims | Unset
        if isinstance(_claims, Unset):
            claims = UNSET
        else:
            claims = CredentialClaims.from_dict(_claims)

        _client_auth = d.pop("clientAuth", UNSET)
        client_auth: CredentialClientAuth | Unset
        if isinstance(_client_auth, Unset):
            client_auth = UNSET
        else:
            client_auth = CredentialClientAuth(_client_auth)

        client_id = d.pop("clientId", UNSET)

        _connection = d.pop("connection", UNSET)
        connection: Connection | Unset
        if isinstance(_connection, Unset):
            connection = UNSET
        else:
            connection = Connection.from_dict(_connection)

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
        grant: CredentialGrant | Unset
        if isinstance(_grant, Unset):
            grant = UNSET
        else:
            grant = CredentialGrant(_grant)

        header_names = cast(list[str], d.pop("headerNames", UNSET))

        issuer = d.pop("issuer", UNSET)

        _key_encoding = d.pop("keyEncoding", UNSET)
        key_encoding: CredentialKeyEncoding | Unset
        if isinstance(_key_encoding, Unset):
            key_encoding = UNSET
        else:
            key_encoding = CredentialKeyEncoding(_key_encoding)

        key_id = d.pop("keyId", UNSET)

        not_after = d.pop("notAfter", UNSET)

        _placement = d.pop("placement", UNSET)
        placement: Placement | Unset
        if isinstance(_placement, Unset):
            placement = UNSET
        else:
            placement = Placement.from_dict(_placement)

        _preset = d.pop("preset", UNSET)
        preset: CredentialPreset | Unset
        if isinstance(_preset, Unset):
            preset = UNSET
        else:
            preset = CredentialPreset(_preset)

        region = d.pop("region", UNSET)

        revocation_url = d.pop("revocationUrl", UNSET)

        scopes = cast(list[str], d.pop("scopes", UNSET))

        serial_number = d.pop("serialNumber", UNSET)

        service = d.pop("service", UNSET)

        _signature_encoding = d.pop("signatureEncoding", UNSET)
        signature_encoding: CredentialSignatureEncoding | Unset
        if isinstance(_signature_encoding, Unset):
            signature_encoding = UNSET
        else:
            signature_encoding = CredentialSignatureEncoding(_signature_encoding)

        _signature_headers = d.pop("signatureHeaders", UNSET)
        signature_headers: CredentialSignatureHeaders | Unset
        if isinstance(_signature_headers, Unset):
            signature_headers = UNSET
        else:
            signature_headers = CredentialSignatureHeaders.from_dict(_signature_headers)

        string_to_sign = d.pop("stringToSign", UNSET)

        subject = d.pop("subject", UNSET)

        _timestamp_format = d.pop("timestampFormat", UNSET)
        timestamp_format: CredentialTimestampFormat | Unset
        if isinstance(_timestamp_format, Unset):
            timestamp_format = UNSET
        else:
            timestamp_format = CredentialTimestampFormat(_timestamp_format)

        token_url = d.pop("tokenUrl", UNSET)

        ttl_seconds = d.pop("ttlSeconds", UNSET)

        username = d.pop("username", UNSET)

        credential = cls(
            allowed_hosts=allowed_hosts,
            created_at=created_at,
            expired=expired,
            id=id,
            name=name,
            revision=revision,
            secret_hints=secret_hints,
            type_=type_,
            updated_at=updated_at,
            access_key_id=access_key_id,
            algorithm=algorithm,
            assertion_algorithm=assertion_algorithm,
            assertion_key_id=assertion_key_id,
            assertion_subject=assertion_subject,
            audience=audience,
            authorization_params=authorization_params,
            authorization_url=authorization_url,
            ca_bundle=ca_bundle,
            certificate_format=certificate_format,
            claims=claims,
            client_auth=client_auth,
            client_id=client_id,
            connection=connection,
            description=description,
            expires_at=expires_at,
            grant=grant,
            header_names=header_names,
            issuer=issuer,
            key_encoding=key_encoding,
            key_id=key_id,
            not_after=not_after,
            placement=placement,
            preset=preset,
            region=region,
            revocation_url=revocation_url,
            scopes=scopes,
            serial_number=serial_number,
            service=service,
            signature_encoding=signature_encoding,
            signature_headers=signature_headers,
            string_to_sign=string_to_sign,
            subject=subject,
            timestamp_format=timestamp_format,
            token_url=token_url,
            ttl_seconds=ttl_seconds,
            username=username,
        )

        credential.additional_properties = d
        return credential

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
