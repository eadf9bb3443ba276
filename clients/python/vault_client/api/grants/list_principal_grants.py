from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.grant_list import GrantList
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    principal: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["principal"] = principal

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/grants",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> GrantList | Problem | None:
    if response.status_code == 200:
        response_200 = GrantList.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[GrantList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    principal: str | Unset = UNSET,
) -> Response[GrantList | Problem]:
    """List a principal's grants

     What a principal may use: its grants, of every credential. Without `principal`, the caller's own
    (its key's, or its token's subject's and groups'), which anyone may list; another principal's need
    `credentials:read`. A key with `credentials:use-all` uses every credential without a grant.

    Args:
        principal (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GrantList | Problem]
    """

    kwargs = _get_kwargs(
        principal=principal,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    principal: str | Unset = UNSET,
) -> GrantList | Problem | None:
    """List a principal's grants

     What a principal may use: its grants, of every credential. Without `principal`, the caller's own
    (its key's, or its token's subject's and groups'), which anyone may list; another principal's need
    `credentials:read`. A key with `credentials:use-all` uses every credential without a grant.

    Args:
        principal (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GrantList | Problem
    """

    return sync_detailed(
        client=client,
        principal=principal,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    principal: str | Unset = UNSET,
) -> Response[GrantList | Problem]:
    """List a principal's grants

     What a principal may use: its grants, of every credential. Without `principal`, the caller's own
    (its key's, or its token's subject's and groups'), which anyone may list; another principal's need
    `credentials:read`. A key with `credentials:use-all` uses every credential without a grant.

    Args:
        principal (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GrantList | Problem]
    """

    kwargs = _get_kwargs(
        principal=principal,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    principal: str | Unset = UNSET,
) -> GrantList | Problem | None:
    """List a principal's grants

     What a principal may use: its grants, of every credential. Without `principal`, the caller's own
    (its key's, or its token's subject's and groups'), which anyone may list; another principal's need
    `credentials:read`. A key with `credentials:use-all` uses every credential without a grant.

    Args:
        principal (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GrantList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            principal=principal,
        )
    ).parsed
