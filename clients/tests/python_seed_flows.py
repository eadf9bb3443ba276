"""The seed page's flows through the generated Python client (clients/python), against a
real server the end-to-end test started (tests/e2e/clients.rs): create a credential of each
type, list, get, update, delete, proxy, create an access key, and a problem+json error
read as the client's typed `Problem`. Arguments: the server's base URL, an admin access
key, and an upstream origin the server may proxy to. Prints "ok" when every flow held."""
import sys
import uuid

from vault_client import AuthenticatedClient
from vault_client.api.access_keys import create_access_key
from vault_client.api.credentials import (create_credential, delete_credential, get_credential,
                                          list_credentials, update_credential)
from vault_client.api.usage import proxy_request
from vault_client.models import (AccessKeyCreate, AccessKeyCreated, APIKey, BasicAuth, BearerToken,
                                 Credential, CredentialList, CredentialUpdate, CustomHeaders,
                                 OAuth2, Problem, ProxyRequest, SignedJWT)

base, token, upstream = sys.argv[1:4]
client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)


def secret(label):
    return f"{label}-{uuid.uuid4().hex}"


bodies = [
    APIKey.from_dict({"name": "Stripe API Key", "type": "api_key", "value": secret("sk_live"),
                      "description": "Production Stripe key", "allowedHosts": [upstream]}),
    BearerToken.from_dict({"name": "GitHub", "type": "bearer_token", "value": secret("ghp")}),
    BasicAuth.from_dict({"name": "Jenkins", "type": "basic_auth", "username": "ci",
                         "password": secret("pw")}),
    OAuth2.from_dict({"name": "Auth0 M2M", "type": "oauth2", "clientId": "client-123",
                      "clientSecret": secret("cs"), "tokenUrl": "https://auth.example.com/oauth/token",
                      "scopes": ["read:users"]}),
    SignedJWT.from_dict({"name": "Internal JWT", "type": "jwt", "algorithm": "HS256",
                         "secret": secret("a-secret-of-at-least-32-bytes")}),
    CustomHeaders.from_dict({"name": "Legacy partner", "type": "custom",
                             "headers": {"X-Partner-Key": secret("pk")}}),
]
created = []
with client as client:
    for body in bodies:
        credential = create_credential.sync(client=client, body=body)
        assert isinstance(credential, Credential), credential
        assert credential.name == body.name and credential.revision == 1, credential
        created.append(credential)

    listed = list_credentials.sync(client=client, limit=100)
    assert isinstance(listed, CredentialList), listed
    assert {c.id for c in created} <= {c.id for c in listed.items}, listed

    stripe = created[0]
    read = get_credential.sync(str(stripe.id), client=client)
    assert isinstance(read, Credential) and read.description == "Production Stripe key", read

    changed = update_credential.sync(str(stripe.id), client=client,
                                     body=CredentialUpdate.from_dict({"value": secret("sk_live_new")}))
    assert isinstance(changed, Credential) and changed.revision == 2, changed

    used = proxy_request.sync_detailed(str(stripe.id), client=client, body=ProxyRequest.from_dict(
        {"method": "GET", "url": f"{upstream}/v1/charges"}))
    assert used.status_code == 200, used

    key = create_access_key.sync(client=client, body=AccessKeyCreate.from_dict(
        {"name": "ci", "scopes": ["credentials:read"]}))
    assert isinstance(key, AccessKeyCreated) and key.key_secret.startswith("vlt_"), key

    deleted = delete_credential.sync_detailed(str(stripe.id), client=client)
    assert deleted.status_code == 204, deleted
    # A problem+json error comes back as the client's Problem, with its stable code.
    missing = get_credential.sync(str(stripe.id), client=client)
    assert isinstance(missing, Problem) and missing.code == "not-found", missing
print("ok")
