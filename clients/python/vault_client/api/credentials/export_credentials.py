from http import HTTPStatus
from io import BytesIO
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.export_request import ExportRequest
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    *,
    body: ExportRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials/export",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ExportRequest,
) -> Response[File | Problem]:
    """Export credentials, sealed

     Every credential of the organization, its secret values included (and, with `versions`, the kept
    versions of them), in an age file sealed to `passphrase` (age's scrypt recipient, at least 12
    characters) or to `recipients` (age X25519 public keys): any age implementation opens it, and `POST
    /credentials/import` takes it into another organization or installation. Needs `credentials:export`,
    which no key has unless issued by name. Each credential exported is audited (`credential.export`).

    Args:
        body (ExportRequest): `POST /credentials/export`: whom to seal the bundle to (exactly one
            of `passphrase` and
            `recipients`), and whether to include the versions.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
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
    body: ExportRequest,
) -> File | Problem | None:
    """Export credentials, sealed

     Every credential of the organization, its secret values included (and, with `versions`, the kept
    versions of them), in an age file sealed to `passphrase` (age's scrypt recipient, at least 12
    characters) or to `recipients` (age X25519 public keys): any age implementation opens it, and `POST
    /credentials/import` takes it into another organization or installation. Needs `credentials:export`,
    which no key has unless issued by name. Each credential exported is audited (`credential.export`).

    Args:
        body (ExportRequest): `POST /credentials/export`: whom to seal the bundle to (exactly one
            of `passphrase` and
            `recipients`), and whether to include the versions.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ExportRequest,
) -> Response[File | Problem]:
    """Export credentials, sealed

     Every credential of the organization, its secret values included (and, with `versions`, the kept
    versions of them), in an age file sealed to `passphrase` (age's scrypt recipient, at least 12
    characters) or to `recipients` (age X25519 public keys): any age implementation opens it, and `POST
    /credentials/import` takes it into another organization or installation. Needs `credentials:export`,
    which no key has unless issued by name. Each credential exported is audited (`credential.export`).

    Args:
        body (ExportRequest): `POST /credentials/export`: whom to seal the bundle to (exactly one
            of `passphrase` and
            `recipients`), and whether to include the versions.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ExportRequest,
) -> File | Problem | None:
    """Export credentials, sealed

     Every credential of the organization, its secret values included (and, with `versions`, the kept
    versions of them), in an age file sealed to `passphrase` (age's scrypt recipient, at least 12
    characters) or to `recipients` (age X25519 public keys): any age implementation opens it, and `POST
    /credentials/import` takes it into another organization or installation. Needs `credentials:export`,
    which no key has unless issued by name. Each credential exported is audited (`credential.export`).

    Args:
        body (ExportRequest): `POST /credentials/export`: whom to seal the bundle to (exactly one
            of `passphrase` and
            `recipients`), and whether to include the versions.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
