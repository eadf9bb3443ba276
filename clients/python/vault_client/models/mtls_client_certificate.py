from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.mtls_client_certificate_certificate_format import MTLSClientCertificateCertificateFormat
from ..models.mtls_client_certificate_type import MTLSClientCertificateType
from ..types import UNSET, Unset

T = TypeVar("T", bound="MTLSClientCertificate")


@_attrs_define
class MTLSClientCertificate:
    """A TLS client certificate the vault presents in the handshake of each request (to `allowedHosts` only). Its subject,
    issuer, serial and `notAfter` are shown; `expiresAt` is `notAfter` unless set earlier.

        Attributes:
            name (str): 1 to 200 characters.
            type_ (MTLSClientCertificateType):
            allowed_hosts (list[str] | Unset): Destinations this credential may be sent to (see `Credential.allowedHosts`).
            ca_bundle (str | Unset): CA certificates, PEM (only `CERTIFICATE` blocks, up to 64 KiB): when set, a proxied
                request's upstream must present a certificate chaining to one of them (a private
                PKI) instead of the system's roots. Token endpoints keep the system's roots.
                Setting or changing it to trust a new root is a change of destinations: it needs
                the secret values re-entered or `credentials:route`.
            description (str | Unset): Up to 2000 characters.
            expires_at (datetime.datetime | Unset): ISO 8601 / RFC 3339; after it the credential is never applied.
            certificate (str | Unset): The client certificate, PEM, then any intermediates.
            certificate_format (MTLSClientCertificateCertificateFormat | Unset): How the certificate and key are given:
                `pem` (the default), or `pkcs12`, an archive (`.p12`, `.pfx`) the vault opens and stores as PEM.
            pkcs12 (str | Unset): The certificate, its chain and its key as a PKCS#12 archive, base64 (line breaks allowed).
                Opened once, never stored as given.
            pkcs_12_password (str | Unset): The archive's password.
            private_key (str | Unset): The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    """

    name: str
    type_: MTLSClientCertificateType
    allowed_hosts: list[str] | Unset = UNSET
    ca_bundle: str | Unset = UNSET
    description: str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    certificate: str | Unset = UNSET
    certificate_format: MTLSClientCertificateCertificateFormat | Unset = UNSET
    pkcs12: str | Unset = UNSET
    pkcs_12_password: str | Unset = UNSET
    private_key: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        type_ = self.type_.value

        allowed_hosts: list[str] | Unset = UNSET
        if not isinstance(self.allowed_hosts, Unset):
            allowed_hosts = self.allowed_hosts

        ca_bundle = self.ca_bundle

        description = self.description

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        certificate = self.certificate

        certificate_format: str | Unset = UNSET
        if not isinstance(self.certificate_format, Unset):
            certificate_format = self.certificate_format.value

        pkcs12 = self.pkcs12

        pkcs_12_password = self.pkcs_12_password

        private_key = self.private_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
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
        if certificate is not UNSET:
            field_dict["certificate"] = certificate
        if certificate_format is not UNSET:
            field_dict["certificateFormat"] = certificate_format
        if pkcs12 is not UNSET:
            field_dict["pkcs12"] = pkcs12
        if pkcs_12_password is not UNSET:
            field_dict["pkcs12Password"] = pkcs_12_password
        if private_key is not UNSET:
            field_dict["privateKey"] = private_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        type_ = MTLSClientCertificateType(d.pop("type"))

        allowed_hosts = cast(list[str], d.pop("allowedHosts", UNSET))

        ca_bundle = d.pop("caBundle", UNSET)

        description = d.pop("description", UNSET)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        certificate = d.pop("certificate", UNSET)

        _certificate_format = d.pop("certificateFormat", UNSET)
        certificate_format: MTLSClientCertificateCertificateFormat | Unset
        if isinstance(_certificate_format, Unset):
            certificate_format = UNSET
        else:
            certificate_format = MTLSClientCertificateCertificateFormat(_certificate_format)

        pkcs12 = d.pop("pkcs12", UNSET)

        pkcs_12_password = d.pop("pkcs12Password", UNSET)

        private_key = d.pop("privateKey", UNSET)

        mtls_client_certificate = cls(
            name=name,
            type_=type_,
            allowed_hosts=allowed_hosts,
            ca_bundle=ca_bundle,
            description=description,
            expires_at=expires_at,
            certificate=certificate,
            certificate_format=certificate_format,
            pkcs12=pkcs12,
            pkcs_12_password=pkcs_12_password,
            private_key=private_key,
        )

        mtls_client_certificate.additional_properties = d
        return mtls_client_certificate

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
