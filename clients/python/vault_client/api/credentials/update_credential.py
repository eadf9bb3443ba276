from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credential import Credential
from ...models.credential_update import CredentialUpdate
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: CredentialUpdate,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/credentials/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Credential | Problem | None:
    if response.status_code == 200:
        response_200 = Credential.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Credential | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CredentialUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[Credential | Problem]:
    """Change a credential

     Changes some fields; new secret values are sealed as a new version. Needs `credentials:write`. A
    change that adds a destination (an `allowedHosts` entry, another `tokenUrl` or `audience`, a JWT
    `aud`) also needs the secret values re-entered in the same request, or `credentials:route` (else 403
    `route-not-allowed`).

    Args:
        id (str):
        if_match (None | str | Unset):
        body (CredentialUpdate): `PATCH /credentials/{id}`: any subset of the create fields but
            `type`. New secret values are sealed as a new version.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CredentialUpdate,
    if_match: None | str | Unset = UNSET,
) -> Credential | Problem | None:
    """Change a credential

     Changes some fields; new secret values are sealed as a new version. Needs `credentials:write`. A
    change that adds a destination (an `allowedHosts` entry, another `tokenUrl` or `audience`, a JWT
    `aud`) also needs the secret values re-entered in the same request, or `credentials:route` (else 403
    `route-not-allowed`).

    Args:
        id (str):
        if_match (None | str | Unset):
        body (CredentialUpdate): `PATCH /credentials/{id}`: any subset of the create fields but
            `type`. New secret values are sealed as a new version.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CredentialUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[Credential | Problem]:
    """Change a credential

     Changes some fields; new secret values are sealed as a new version. Needs `credentials:write`. A
    change that adds a destination (an `allowedHosts` entry, another `tokenUrl` or `audience`, a JWT
    `aud`) also needs the secret values re-entered in the same request, or `credentials:route` (else 403
    `route-not-allowed`).

    Args:
        id (str):
        if_match (None | str | Unset):
        body (CredentialUpdate): `PATCH /credentials/{id}`: any subset of the create fields but
            `type`. New secret values are sealed as a new version.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CredentialUpdate,
    if_match: None | str | Unset = UNSET,
) -> Credential | Problem | None:
    """Change a credential

     Changes some fields; new secret values are sealed as a new version. Needs `credentials:write`. A
    change that adds a destination (an `allowedHosts` entry, another `tokenUrl` or `audience`, a JWT
    `aud`) also needs the secret values re-entered in the same request, or `credentials:route` (else 403
    `route-not-allowed`).

    Args:
        id (str):
        if_match (None | str | Unset):
        body (CredentialUpdate): `PATCH /credentials/{id}`: any subset of the create fields but
            `type`. New secret values are sealed as a new version.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
