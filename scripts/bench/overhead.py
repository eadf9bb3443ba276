"""What the proxy adds to one request at low load: the local upstream called directly and
through POST /credentials/{id}/proxy, one connection at a time, on SQLite."""

import uuid

from .common import (SECONDS, UPSTREAM, Server, create_credential, free_port, log, running,
                     vault_store, wrk)

LUA_PROXY = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"method":"GET","url":"%(url)s"}'
request = function()
  return wrk.format(nil, "/credentials/%(id)s/proxy")
end
"""

# The same call as the proxied one; nginx is driven with it too.
LUA_DIRECT = """
request = function()
  return wrk.format("GET", "/v1/charges?limit=1")
end
"""

UPSTREAM_PATH = "/v1/charges?limit=1"
PROXY_ENV = {"VAULT_PROXY_ALLOW_PRIVATE_NETWORKS": "true"}


def bearer_credential(server, token, origin, value=None):
    return create_credential(server, token, {
        "name": "bench bearer", "type": "bearer_token",
        "value": value or f"tok_{uuid.uuid4().hex}", "allowedHosts": [origin]})


def bench_overhead(workdir):
    """Median latency of the same upstream call, direct and through the proxy (1 connection)."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with running([UPSTREAM, f"127.0.0.1:{port}"], workdir, "upstream-overhead", port), \
            vault_store("sqlite", workdir, "proxy") as (env, token), \
            Server({**env, **PROXY_ENV}, workdir) as server:
        bearer = bearer_credential(server, token, origin)
        jwt = create_credential(server, token, {
            "name": "bench jwt", "type": "jwt", "algorithm": "HS256",
            "secret": uuid.uuid4().hex + uuid.uuid4().hex, "claims": {"iss": "bench"},
            "allowedHosts": [origin]})
        results = {}
        log(f"[overhead] upstream called directly: {SECONDS}s, 1 connection")
        results["direct"] = {"label": "upstream, direct",
                             **wrk(origin, LUA_DIRECT, workdir, threads=1, connections=1)}
        for name, cred in (("bearer", bearer), ("jwt", jwt)):
            log(f"[overhead] through the vault ({name}): {SECONDS}s, 1 connection")
            script = LUA_PROXY % {"token": token, "url": origin + UPSTREAM_PATH, "id": cred}
            label = f"upstream via proxy ({name}{', cached token' if name == 'jwt' else ''})"
            results[name] = {"label": label,
                             **wrk(server.base, script, workdir, threads=1, connections=1)}
        direct = results["direct"]["p50_ms"]
        for name in ("bearer", "jwt"):
            results[name]["p50_added_ms"] = results[name]["p50_ms"] - direct
        return results
