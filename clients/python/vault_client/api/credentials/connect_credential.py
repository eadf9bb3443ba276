from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connect_started import ConnectStarted
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials/{id}/connect".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConnectStarted | Problem | None:
    if response.status_code == 200:
        response_200 = ConnectStarted.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[ConnectStarted | Problem]:
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
) -> Response[ConnectStarted | Problem]:
    """Start connecting an OAuth2 credential

     Starts the authorization-code flow (PKCE S256) of an `oauth2` credential with `grant`
    `authorization_code`. Needs `credentials:write`. Send the user to `authorizationUrl`: the provider
    sends them back to `redirectUri` (`/oauth/callback`), where the vault exchanges the code and seals
    the tokens. The link is single use, bound to this credential and to the caller, and expires in 10
    minutes.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectStarted | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> ConnectStarted | Problem | None:
    """Start connecting an OAuth2 credential

     Starts the authorization-code flow (PKCE S256) of an `oauth2` credential with `grant`
    `authorization_code`. Needs `credentials:write`. Send the user to `authorizationUrl`: the provider
    sends them back to `redirectUri` (`/oauth/callback`), where the vault exchanges the code and seals
    the tokens. The link is single use, bound to this credential and to the caller, and expires in 10
    minutes.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectStarted | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ConnectStarted | Problem]:
    """Start connecting an OAuth2 credential

     Starts the authorization-code flow (PKCE S256) of an `oauth2` credential with `grant`
    `authorization_code`. Needs `credentials:write`. Send the user to `authorizationUrl`: the provider
    sends them back to `redirectUri` (`/oauth/callback`), where the vault exchanges the code and seals
    the tokens. The link is single use, bound to this credential and to the caller, and expires in 10
    minutes.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectStarted | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> ConnectStarted | Problem | None:
    """Start connecting an OAuth2 credential

     Starts the authorization-code flow (PKCE S256) of an `oauth2` credential with `grant`
    `authorization_code`. Needs `credentials:write`. Send the user to `authorizationUrl`: the provider
    sends them back to `redirectUri` (`/oauth/callback`), where the vault exchanges the code and seals
    the tokens. The link is single use, bound to this credential and to the caller, and expires in 10
    minutes.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectStarted | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
