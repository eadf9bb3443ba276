from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConnectStarted")


@_attrs_define
class ConnectStarted:
    """
    Attributes:
        authorization_url (str): Send the user here: the provider's authorization page, with `state` and a PKCE
            S256 challenge. Treat it as a secret until used.
        expires_at (datetime.datetime): When the link stops working (10 minutes).
        redirect_uri (str): The redirect URI it names: it must be registered with the provider as it is.
    """

    authorization_url: str
    expires_at: datetime.datetime
    redirect_uri: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        authorization_url = self.authorization_url

        expires_at = self.expires_at.isoformat()

        redirect_uri = self.redirect_uri

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "authorizationUrl": authorization_url,
                "expiresAt": expires_at,
                "redirectUri": redirect_uri,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        authorization_url = d.pop("authorizationUrl")

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        redirect_uri = d.pop("redirectUri")

        connect_started = cls(
            authorization_url=authorization_url,
            expires_at=expires_at,
            redirect_uri=redirect_uri,
        )

        connect_started.additional_properties = d
        return connect_started

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
