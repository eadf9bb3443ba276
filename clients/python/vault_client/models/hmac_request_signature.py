from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.hmac_request_signature_algorithm import HMACRequestSignatureAlgorithm
from ..models.hmac_request_signature_key_encoding import HMACRequestSignatureKeyEncoding
from ..models.hmac_request_signature_preset import HMACRequestSignaturePreset
from ..models.hmac_request_signature_signature_encoding import HMACRequestSignatureSignatureEncoding
from ..models.hmac_request_signature_timestamp_format import HMACRequestSignatureTimestampFormat
from ..models.hmac_request_signature_type import HMACRequestSignatureType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.hmac_request_signature_signature_headers import HMACRequestSignatureSignatureHeaders


T = TypeVar("T", bound="HMACRequestSignature")


@_attrs_define
class HMACRequestSignature:
    """An HMAC-SHA256/512 over the parts of each request a template names, sent in headers whose values are templates too.
    Presets: `standard-webhooks` (Standard Webhooks, as a sender) and `kong-hmac-auth` (Kong's hmac-auth plugin, HTTP
    Signatures style).

        Attributes:
            name (str): 1 to 200 characters.
            secret (str): The HMAC key, read per `keyEncoding` (a `whsec_` prefix is dropped for `base64`).
            type_ (HMACRequestSignatureType):
            allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
            ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
                request's upstream must present a certificate chaining to one of them (a private
                PKI) instead of the system's roots. Token endpoints keep the system's roots.
                Setting or changing it to trust a new root is a change of destinations: it needs
                the secret values re-entered or `credentials:route`.
            description (str | Unset): Up to 2000 characters.
            expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
            algorithm (HMACRequestSignatureAlgorithm | Unset): The MAC (default HMAC-SHA256).
            key_encoding (HMACRequestSignatureKeyEncoding | Unset): How the key's text becomes its bytes (default utf8).
            key_id (str | Unset): A public name of the key, for `{keyId}` (Kong's username); required when a template holds
                `{keyId}`.
            preset (HMACRequestSignaturePreset | Unset): Fills every field below for a known scheme; fields given as well
                override it. `custom` (the default) fills none: give `stringToSign` and `signatureHeaders` (the other fields
                have defaults).
            signature_encoding (HMACRequestSignatureSignatureEncoding | Unset): How `{signature}` is written (default hex).
            signature_headers (HMACRequestSignatureSignatureHeaders | Unset): The headers set on each request: name to a
                template of the placeholders of `stringToSign` (but `{body}`), plus `{signature}`. One must hold `{signature}`.
            string_to_sign (str | Unset): What is signed: text with placeholders `{method}`, `{path}`, `{query}`,
                `{pathAndQuery}`, `{host}`, `{body}`, `{bodySha256}` (hex), `{bodySha256Base64}`, `{header:<name>}`,
                `{timestamp}`, `{nonce}` (new per request, or the one in a signature header the caller sent) and `{keyId}`;
                `\\n` is a line break. It must name a part of the request.
            timestamp_format (HMACRequestSignatureTimestampFormat | Unset): How `{timestamp}`, the signing time, is written
                (default unix: seconds).
    """

    name: str
    secret: str
    type_: HMACRequestSignatureType
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    algorithm: HMACRequestSignatureAlgorithm | Unset = UNSET
    key_encoding: HMACRequestSignatureKeyEncoding | Unset = UNSET
    key_id: str | Unset = UNSET
    preset: HMACRequestSignaturePreset | Unset = UNSET
    signature_encoding: HMACRequestSignatureSignatureEncoding | Unset = UNSET
    signature_headers: HMACRequestSignatureSignatureHeaders | Unset = UNSET
    string_to_sign: str | Unset = UNSET
    timestamp_format: HMACRequestSignatureTimestampFormat | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        secret = self.secret

        type_ = self.type_.value

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        algorithm: str | Unset = UNSET
        if not isinstance(self.algorithm, Unset):
            algorithm = self.algorithm.value

        key_encoding: str | Unset = UNSET
        if not isinstance(self.key_encoding, Unset):
            key_encoding = self.key_encoding.value

        key_id = self.key_id

        preset: str | Unset = UNSET
        if not isinstance(self.preset, Unset):
            preset = self.preset.value

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "secret": secret,
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
        if algorithm is not UNSET:
            field_dict["algorithm"] = algorithm
        if key_encoding is not UNSET:
            field_dict["keyEncoding"] = key_encoding
        if key_id is not UNSET:
            field_dict["keyId"] = key_id
        if preset is not UNSET:
            field_dict["preset"] = preset
        if signature_encoding is not UNSET:
            field_dict["signatureEncoding"] = signature_encoding
        if signature_headers is not UNSET:
            field_dict["signatureHeaders"] = signature_headers
        if string_to_sign is not UNSET:
            field_dict["stringToSign"] = string_to_sign
        if timestamp_format is not UNSET:
            field_dict["timestampFormat"] = timestamp_format

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.hmac_request_signature_signature_headers import HMACRequestSignatureSignatureHeaders  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        secret = d.pop("secret")

        type_ = HMACRequestSignatureType(d.pop("type"))

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        _algorithm = d.pop("algorithm", UNSET)
        algorithm: HMACRequestSignatureAlgorithm | Unset
        if isinstance(_algorithm, Unset):
            algorithm = UNSET
        else:
            algorithm = HMACRequestSignatureAlgorithm(_algorithm)

        _key_encoding = d.pop("keyEncoding", UNSET)
        key_encoding: HMACRequestSignatureKeyEncoding | Unset
        if isinstance(_key_encoding, Unset):
            key_encoding = UNSET
        else:
            key_encoding = HMACRequestSignatureKeyEncoding(_key_encoding)

        key_id = d.pop("keyId", UNSET)

        _preset = d.pop("preset", UNSET)
        preset: HMACRequestSignaturePreset | Unset
        if isinstance(_preset, Unset):
            preset = UNSET
        else:
            preset = HMACRequestSignaturePreset(_preset)

        _signature_encoding = d.pop("signatureEncoding", UNSET)
        signature_encoding: HMACRequestSignatureSignatureEncoding | Unset
        if isinstance(_signature_encoding, Unset):
            signature_encoding = UNSET
        else:
            signature_encoding = HMACRequestSignatureSignatureEncoding(_signature_encoding)

        _signature_headers = d.pop("signatureHeaders", UNSET)
        signature_headers: HMACRequestSignatureSignatureHeaders | Unset
        if isinstance(_signature_headers, Unset):
            signature_headers = UNSET
        else:
            signature_headers = HMACRequestSignatureSignatureHeaders.from_dict(_signature_headers)

        string_to_sign = d.pop("stringToSign", UNSET)

        _timestamp_format = d.pop("timestampFormat", UNSET)
        timestamp_format: HMACRequestSignatureTimestampFormat | Unset
        if isinstance(_timestamp_format, Unset):
            timestamp_format = UNSET
        else:
            timestamp_format = HMACRequestSignatureTimestampFormat(_timestamp_format)

        hmac_request_signature = cls(
            name=name,
            secret=secret,
            type_=type_,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
            algorithm=algorithm,
            key_encoding=key_encoding,
            key_id=key_id,
            preset=preset,
            signature_encoding=signature_encoding,
            signature_headers=signature_headers,
            string_to_sign=string_to_sign,
            timestamp_format=timestamp_format,
        )

        hmac_request_signature.additional_properties = d
        return hmac_request_signature

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
