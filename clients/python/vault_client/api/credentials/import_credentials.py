from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.import_request import ImportRequest
from ...models.import_result import ImportResult
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: ImportRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials/import",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ImportResult | Problem | None:
    if response.status_code == 200:
        response_200 = ImportResult.from_dict(response.json())

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ImportResult | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImportRequest,
) -> Response[ImportResult | Problem]:
    """Import an export bundle

     Opens a bundle (`bundle`: the age file in base64) with `passphrase` or `identity` (an age X25519
    secret key), checks every credential in it as a create body is checked, then creates them, their
    values sealed under this installation's keys. A wrong passphrase or one invalid credential imports
    nothing. `ids`: `keep` (the default) keeps the bundle's ids; `new` derives new ones from this
    organization and each exported id. A credential whose id is already here is left as it is
    (`exists`), so importing a bundle again changes nothing. Needs `credentials:write`. Each credential
    created is audited (`credential.import`).

    Args:
        body (ImportRequest): `POST /credentials/import`: the bundle, and exactly one of
            `passphrase` and `identity`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportResult | Problem]
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
    body: ImportRequest,
) -> ImportResult | Problem | None:
    """Import an export bundle

     Opens a bundle (`bundle`: the age file in base64) with `passphrase` or `identity` (an age X25519
    secret key), checks every credential in it as a create body is checked, then creates them, their
    values sealed under this installation's keys. A wrong passphrase or one invalid credential imports
    nothing. `ids`: `keep` (the default) keeps the bundle's ids; `new` derives new ones from this
    organization and each exported id. A credential whose id is already here is left as it is
    (`exists`), so importing a bundle again changes nothing. Needs `credentials:write`. Each credential
    created is audited (`credential.import`).

    Args:
        body (ImportRequest): `POST /credentials/import`: the bundle, and exactly one of
            `passphrase` and `identity`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportResult | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ImportRequest,
) -> Response[ImportResult | Problem]:
    """Import an export bundle

     Opens a bundle (`bundle`: the age file in base64) with `passphrase` or `identity` (an age X25519
    secret key), checks every credential in it as a create body is checked, then creates them, their
    values sealed under this installation's keys. A wrong passphrase or one invalid credential imports
    nothing. `ids`: `keep` (the default) keeps the bundle's ids; `new` derives new ones from this
    organization and each exported id. A credential whose id is already here is left as it is
    (`exists`), so importing a bundle again changes nothing. Needs `credentials:write`. Each credential
    created is audited (`credential.import`).

    Args:
        body (ImportRequest): `POST /credentials/import`: the bundle, and exactly one of
            `passphrase` and `identity`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportResult | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ImportRequest,
) -> ImportResult | Problem | None:
    """Import an export bundle

     Opens a bundle (`bundle`: the age file in base64) with `passphrase` or `identity` (an age X25519
    secret key), checks every credential in it as a create body is checked, then creates them, their
    values sealed under this installation's keys. A wrong passphrase or one invalid credential imports
    nothing. `ids`: `keep` (the default) keeps the bundle's ids; `new` derives new ones from this
    organization and each exported id. A credential whose id is already here is left as it is
    (`exists`), so importing a bundle again changes nothing. Needs `credentials:write`. Each credential
    created is audited (`credential.import`).

    Args:
        body (ImportRequest): `POST /credentials/import`: the bundle, and exactly one of
            `passphrase` and `identity`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportResult | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
