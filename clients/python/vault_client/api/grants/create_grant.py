from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.grant import Grant
from ...models.grant_create import GrantCreate
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: GrantCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials/{id}/grants".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Grant | Problem | None:
    if response.status_code == 201:
        response_201 = Grant.from_dict(response.json())

        return response_201

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Grant | Problem]:
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
    body: GrantCreate,
) -> Response[Grant | Problem]:
    """Grant a credential

     Grants a principal (`key:<id>`, `subject:<sub>` or `group:<name>`) the use of this credential
    (`use`), or its use and the right to grant `use` of it (`manage`), optionally for some methods and
    paths only, with a budget and an expiry. Needs `credentials:write` and `credentials:use-all`, or a
    live `manage` grant of the credential (then only `use`, within that grant's methods, paths, budget
    and expiry). Nobody grants to themselves, and a grant never outlives its granter: without
    `expiresAt` it gets the granter's key's or token's expiry. Audited.

    Args:
        id (str):
        body (GrantCreate): `POST /credentials/{id}/grants`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Grant | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: GrantCreate,
) -> Grant | Problem | None:
    """Grant a credential

     Grants a principal (`key:<id>`, `subject:<sub>` or `group:<name>`) the use of this credential
    (`use`), or its use and the right to grant `use` of it (`manage`), optionally for some methods and
    paths only, with a budget and an expiry. Needs `credentials:write` and `credentials:use-all`, or a
    live `manage` grant of the credential (then only `use`, within that grant's methods, paths, budget
    and expiry). Nobody grants to themselves, and a grant never outlives its granter: without
    `expiresAt` it gets the granter's key's or token's expiry. Audited.

    Args:
        id (str):
        body (GrantCreate): `POST /credentials/{id}/grants`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Grant | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: GrantCreate,
) -> Response[Grant | Problem]:
    """Grant a credential

     Grants a principal (`key:<id>`, `subject:<sub>` or `group:<name>`) the use of this credential
    (`use`), or its use and the right to grant `use` of it (`manage`), optionally for some methods and
    paths only, with a budget and an expiry. Needs `credentials:write` and `credentials:use-all`, or a
    live `manage` grant of the credential (then only `use`, within that grant's methods, paths, budget
    and expiry). Nobody grants to themselves, and a grant never outlives its granter: without
    `expiresAt` it gets the granter's key's or token's expiry. Audited.

    Args:
        id (str):
        body (GrantCreate): `POST /credentials/{id}/grants`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Grant | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: GrantCreate,
) -> Grant | Problem | None:
    """Grant a credential

     Grants a principal (`key:<id>`, `subject:<sub>` or `group:<name>`) the use of this credential
    (`use`), or its use and the right to grant `use` of it (`manage`), optionally for some methods and
    paths only, with a budget and an expiry. Needs `credentials:write` and `credentials:use-all`, or a
    live `manage` grant of the credential (then only `use`, within that grant's methods, paths, budget
    and expiry). Nobody grants to themselves, and a grant never outlives its granter: without
    `expiresAt` it gets the granter's key's or token's expiry. Audited.

    Args:
        id (str):
        body (GrantCreate): `POST /credentials/{id}/grants`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Grant | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
