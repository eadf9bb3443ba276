from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.access_key_create import AccessKeyCreate
from ...models.access_key_created import AccessKeyCreated
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: AccessKeyCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/access-keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AccessKeyCreated | Problem | None:
    if response.status_code == 201:
        response_201 = AccessKeyCreated.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AccessKeyCreated | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AccessKeyCreate,
) -> Response[AccessKeyCreated | Problem]:
    """Create an access key

     Creates an access key, returned this once in `keySecret`. Needs `access-keys:manage`; a key never
    grants a scope its creator lacks, and never outlives its creator: without `expiresAt` it gets the
    creator's expiry (the access key's, or the identity-provider token's `exp`), and an `expiresAt`
    later than that is a 422 naming `expiresAt`.

    Args:
        body (AccessKeyCreate): `POST /access-keys`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessKeyCreated | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: AccessKeyCreate,
) -> AccessKeyCreated | Problem | None:
    """Create an access key

     Creates an access key, returned this once in `keySecret`. Needs `access-keys:manage`; a key never
    grants a scope its creator lacks, and never outlives its creator: without `expiresAt` it gets the
    creator's expiry (the access key's, or the identity-provider token's `exp`), and an `expiresAt`
    later than that is a 422 naming `expiresAt`.

    Args:
        body (AccessKeyCreate): `POST /access-keys`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessKeyCreated | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AccessKeyCreate,
) -> Response[AccessKeyCreated | Problem]:
    """Create an access key

     Creates an access key, returned this once in `keySecret`. Needs `access-keys:manage`; a key never
    grants a scope its creator lacks, and never outlives its creator: without `expiresAt` it gets the
    creator's expiry (the access key's, or the identity-provider token's `exp`), and an `expiresAt`
    later than that is a 422 naming `expiresAt`.

    Args:
        body (AccessKeyCreate): `POST /access-keys`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessKeyCreated | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: AccessKeyCreate,
) -> AccessKeyCreated | Problem | None:
    """Create an access key

     Creates an access key, returned this once in `keySecret`. Needs `access-keys:manage`; a key never
    grants a scope its creator lacks, and never outlives its creator: without `expiresAt` it gets the
    creator's expiry (the access key's, or the identity-provider token's `exp`), and an `expiresAt`
    later than that is a 422 naming `expiresAt`.

    Args:
        body (AccessKeyCreate): `POST /access-keys`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessKeyCreated | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
