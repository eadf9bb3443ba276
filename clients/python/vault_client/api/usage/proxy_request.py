from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.proxy_request import ProxyRequest
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ProxyRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials/{id}/proxy".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem:
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

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Problem.from_dict(response.json())

        return response_504

    response_default = cast(Any, None)
    return response_default


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Problem]:
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
    body: ProxyRequest,
) -> Response[Any | Problem]:
    """Send a request with a credential applied

     Sends a request to one of the credential's allowed hosts with the credential applied, and answers
    with the upstream's status, headers and body. Needs `credentials:use-all`, or `credentials:use` and
    a grant of the credential whose methods and paths allow the request (403 `not-granted`, or 403
    `request-not-granted` naming the rule); past the grant's budget, 429 `budget-exhausted`. An
    authorization-code `oauth2` credential that was never connected is a 409 `not-connected`, and one
    whose provider refused its refresh token a 409 `reconnect-required`. Nothing goes upstream on a
    refusal. Gateway errors (502, 504) and refusals are problem+json. The upstream's response comes back
    with `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff` in place of its own.
    Calls in flight are bounded per server (past it: 503 `proxy-busy`) and per caller (429 `too-many-in-
    flight`), both with Retry-After; the call is refused before its body is read.

    Args:
        id (str):
        body (ProxyRequest): `POST /credentials/{id}/proxy`: the request to send with the
            credential applied.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
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
    body: ProxyRequest,
) -> Any | Problem | None:
    """Send a request with a credential applied

     Sends a request to one of the credential's allowed hosts with the credential applied, and answers
    with the upstream's status, headers and body. Needs `credentials:use-all`, or `credentials:use` and
    a grant of the credential whose methods and paths allow the request (403 `not-granted`, or 403
    `request-not-granted` naming the rule); past the grant's budget, 429 `budget-exhausted`. An
    authorization-code `oauth2` credential that was never connected is a 409 `not-connected`, and one
    whose provider refused its refresh token a 409 `reconnect-required`. Nothing goes upstream on a
    refusal. Gateway errors (502, 504) and refusals are problem+json. The upstream's response comes back
    with `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff` in place of its own.
    Calls in flight are bounded per server (past it: 503 `proxy-busy`) and per caller (429 `too-many-in-
    flight`), both with Retry-After; the call is refused before its body is read.

    Args:
        id (str):
        body (ProxyRequest): `POST /credentials/{id}/proxy`: the request to send with the
            credential applied.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
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
    body: ProxyRequest,
) -> Response[Any | Problem]:
    """Send a request with a credential applied

     Sends a request to one of the credential's allowed hosts with the credential applied, and answers
    with the upstream's status, headers and body. Needs `credentials:use-all`, or `credentials:use` and
    a grant of the credential whose methods and paths allow the request (403 `not-granted`, or 403
    `request-not-granted` naming the rule); past the grant's budget, 429 `budget-exhausted`. An
    authorization-code `oauth2` credential that was never connected is a 409 `not-connected`, and one
    whose provider refused its refresh token a 409 `reconnect-required`. Nothing goes upstream on a
    refusal. Gateway errors (502, 504) and refusals are problem+json. The upstream's response comes back
    with `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff` in place of its own.
    Calls in flight are bounded per server (past it: 503 `proxy-busy`) and per caller (429 `too-many-in-
    flight`), both with Retry-After; the call is refused before its body is read.

    Args:
        id (str):
        body (ProxyRequest): `POST /credentials/{id}/proxy`: the request to send with the
            credential applied.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
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
    body: ProxyRequest,
) -> Any | Problem | None:
    """Send a request with a credential applied

     Sends a request to one of the credential's allowed hosts with the credential applied, and answers
    with the upstream's status, headers and body. Needs `credentials:use-all`, or `credentials:use` and
    a grant of the credential whose methods and paths allow the request (403 `not-granted`, or 403
    `request-not-granted` naming the rule); past the grant's budget, 429 `budget-exhausted`. An
    authorization-code `oauth2` credential that was never connected is a 409 `not-connected`, and one
    whose provider refused its refresh token a 409 `reconnect-required`. Nothing goes upstream on a
    refusal. Gateway errors (502, 504) and refusals are problem+json. The upstream's response comes back
    with `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff` in place of its own.
    Calls in flight are bounded per server (past it: 503 `proxy-busy`) and per caller (429 `too-many-in-
    flight`), both with Retry-After; the call is refused before its body is read.

    Args:
        id (str):
        body (ProxyRequest): `POST /credentials/{id}/proxy`: the request to send with the
            credential applied.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
