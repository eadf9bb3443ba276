from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: str | Unset = UNSET,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["state"] = state

    params["code"] = code

    params["error"] = error

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/oauth/callback",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | str | None:
    if response.status_code == 200:
        response_200 = response.text
        return response_200

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 404:
        response_404 = response.text
        return response_404

    if response.status_code == 429:
        response_429 = response.text
        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = response.text
        return response_502

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    state: str | Unset = UNSET,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
) -> Response[Problem | str]:
    """Finish connecting an OAuth2 credential

     Where the provider sends the user back after `POST /credentials/{id}/connect`. Public: the single-
    use `state` authenticates it. Exchanges the code (with the PKCE verifier) and seals the tokens, then
    shows a small page saying connected, or why not. Every outcome is audited as `connection.connect`; a
    failure leaves the credential as it was.

    Args:
        state (str | Unset):
        code (str | Unset):
        error (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        state=state,
        code=code,
        error=error,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    state: str | Unset = UNSET,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
) -> Problem | str | None:
    """Finish connecting an OAuth2 credential

     Where the provider sends the user back after `POST /credentials/{id}/connect`. Public: the single-
    use `state` authenticates it. Exchanges the code (with the PKCE verifier) and seals the tokens, then
    shows a small page saying connected, or why not. Every outcome is audited as `connection.connect`; a
    failure leaves the credential as it was.

    Args:
        state (str | Unset):
        code (str | Unset):
        error (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return sync_detailed(
        client=client,
        state=state,
        code=code,
        error=error,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    state: str | Unset = UNSET,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
) -> Response[Problem | str]:
    """Finish connecting an OAuth2 credential

     Where the provider sends the user back after `POST /credentials/{id}/connect`. Public: the single-
    use `state` authenticates it. Exchanges the code (with the PKCE verifier) and seals the tokens, then
    shows a small page saying connected, or why not. Every outcome is audited as `connection.connect`; a
    failure leaves the credential as it was.

    Args:
        state (str | Unset):
        code (str | Unset):
        error (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | str]
    """

    kwargs = _get_kwargs(
        state=state,
        code=code,
        error=error,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    state: str | Unset = UNSET,
    code: str | Unset = UNSET,
    error: str | Unset = UNSET,
) -> Problem | str | None:
    """Finish connecting an OAuth2 credential

     Where the provider sends the user back after `POST /credentials/{id}/connect`. Public: the single-
    use `state` authenticates it. Exchanges the code (with the PKCE verifier) and seals the tokens, then
    shows a small page saying connected, or why not. Every outcome is audited as `connection.connect`; a
    failure leaves the credential as it was.

    Args:
        state (str | Unset):
        code (str | Unset):
        error (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | str
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            code=code,
            error=error,
        )
    ).parsed
