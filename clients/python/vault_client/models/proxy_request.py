from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.proxy_request_headers import ProxyRequestHeaders


T = TypeVar("T", bound="ProxyRequest")


@_attrs_define
class ProxyRequest:
    """`POST /credentials/{id}/proxy`: the request to send with the credential applied.

    Attributes:
        method (str): An HTTP method.
        url (str): An absolute `https://` (or allowed `http://`) URL on one of the credential's
            `allowedHosts`.
        body (str | Unset): A text body.
        body_base_64 (str | Unset): A binary body, standard base64 (not with `body`).
        headers (ProxyRequestHeaders | Unset): Headers to send; the credential's own header replaces a same-named one.
    """

    method: str
    url: str
    body: str | Unset = UNSET
    body_base_64: str | Unset = UNSET
    headers: ProxyRequestHeaders | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        method = self.method

        url = self.url

        body = self.body

        body_base_64 = self.body_base_64

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "method": method,
                "url": url,
            }
        )
        if body is not UNSET:
            field_dict["body"] = body
        if body_base_64 is not UNSET:
            field_dict["bodyBase64"] = body_base_64
        if headers is not UNSET:
            field_dict["headers"] = headers

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.proxy_request_headers import ProxyRequestHeaders  # noqa: PLC0415

        d = dict(src_dict)
        method = d.pop("method")

        url = d.pop("url")

        body = d.pop("body", UNSET)

        body_base_64 = d.pop("bodyBase64", UNSET)

        _headers = d.pop("headers", UNSET)
        headers: ProxyRequestHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = ProxyRequestHeaders.from_dict(_headers)

        proxy_request = cls(
            method=method,
            url=url,
            body=body,
            body_base_64=body_base_64,
            headers=headers,
        )

        proxy_request.additional_properties = d
        return proxy_request

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
