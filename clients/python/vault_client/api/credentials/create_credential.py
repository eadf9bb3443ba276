from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_key import APIKey
from ...models.aws_signature_v4 import AWSSignatureV4
from ...models.basic_auth import BasicAuth
from ...models.bearer_token import BearerToken
from ...models.credential import Credential
from ...models.custom_headers import CustomHeaders
from ...models.hmac_request_signature import HMACRequestSignature
from ...models.mtls_client_certificate import MTLSClientCertificate
from ...models.o_auth_2 import OAuth2
from ...models.problem import Problem
from ...models.signed_jwt import SignedJWT
from ...types import Response


def _get_kwargs(
    *,
    body: APIKey
    | AWSSignatureV4
    | BasicAuth
    | BearerToken
    | CustomHeaders
    | HMACRequestSignature
    | MTLSClientCertificate
    | OAuth2
    | SignedJWT,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/credentials",
    }

    if isinstance(body, APIKey):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BearerToken):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, BasicAuth):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, OAuth2):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, SignedJWT):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, CustomHeaders):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, AWSSignatureV4):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, HMACRequestSignature):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Credential | Problem | None:
    if response.status_code == 201:
        response_201 = Credential.from_dict(response.json())

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
) -> Response[Credential | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: APIKey
    | AWSSignatureV4
    | BasicAuth
    | BearerToken
    | CustomHeaders
    | HMACRequestSignature
    | MTLSClientCertificate
    | OAuth2
    | SignedJWT,
) -> Response[Credential | Problem]:
    """Create a credential

     Creates a credential. Needs `credentials:write`. The secret values are sealed and never returned.

    Args:
        body (APIKey | AWSSignatureV4 | BasicAuth | BearerToken | CustomHeaders |
            HMACRequestSignature | MTLSClientCertificate | OAuth2 | SignedJWT): `POST /credentials`: a
            flat object whose fields are chosen by `type` (`GET /credential-types` describes them).
            Secret fields are write-only. Unknown fields are a 400; wrong or missing per-type fields a
            422 naming the field.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Problem]
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
    body: APIKey
    | AWSSignatureV4
    | BasicAuth
    | BearerToken
    | CustomHeaders
    | HMACRequestSignature
    | MTLSClientCertificate
    | OAuth2
    | SignedJWT,
) -> Credential | Problem | None:
    """Create a credential

     Creates a credential. Needs `credentials:write`. The secret values are sealed and never returned.

    Args:
        body (APIKey | AWSSignatureV4 | BasicAuth | BearerToken | CustomHeaders |
            HMACRequestSignature | MTLSClientCertificate | OAuth2 | SignedJWT): `POST /credentials`: a
            flat object whose fields are chosen by `type` (`GET /credential-types` describes them).
            Secret fields are write-only. Unknown fields are a 400; wrong or missing per-type fields a
            422 naming the field.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: APIKey
    | AWSSignatureV4
    | BasicAuth
    | BearerToken
    | CustomHeaders
    | HMACRequestSignature
    | MTLSClientCertificate
    | OAuth2
    | SignedJWT,
) -> Response[Credential | Problem]:
    """Create a credential

     Creates a credential. Needs `credentials:write`. The secret values are sealed and never returned.

    Args:
        body (APIKey | AWSSignatureV4 | BasicAuth | BearerToken | CustomHeaders |
            HMACRequestSignature | MTLSClientCertificate | OAuth2 | SignedJWT): `POST /credentials`: a
            flat object whose fields are chosen by `type` (`GET /credential-types` describes them).
            Secret fields are write-only. Unknown fields are a 400; wrong or missing per-type fields a
            422 naming the field.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: APIKey
    | AWSSignatureV4
    | BasicAuth
    | BearerToken
    | CustomHeaders
    | HMACRequestSignature
    | MTLSClientCertificate
    | OAuth2
    | SignedJWT,
) -> Credential | Problem | None:
    """Create a credential

     Creates a credential. Needs `credentials:write`. The secret values are sealed and never returned.

    Args:
        body (APIKey | AWSSignatureV4 | BasicAuth | BearerToken | CustomHeaders |
            HMACRequestSignature | MTLSClientCertificate | OAuth2 | SignedJWT): `POST /credentials`: a
            flat object whose fields are chosen by `type` (`GET /credential-types` describes them).
            Secret fields are write-only. Unknown fields are a 400; wrong or missing per-type fields a
            422 naming the field.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
