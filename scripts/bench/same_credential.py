"""Writes to one credential under contention: BENCH_CONNECTIONS connections PATCH the same
credential's value without If-Match (which must never be refused for concurrency: each
409 is counted), next to OpenBao writing one KV v2 path on the same PostgreSQL server.
Interleaved (SQLite, PostgreSQL, OpenBao), BENCH_REPEATS times; medians reported."""

import contextlib

from .common import (CONNECTIONS, LUA_STATUSES, REPEATS, SECONDS, Server, create_credential,
                     fresh_database, log, median_of, vault_store, wrk)
from .openbao import openbao

LUA_PATCH_ONE = """
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"value":"sk_same_%%d_%%d_abcdefgh"}', thread_id, counter)
  return wrk.format(nil, "/credentials/%(id)s", nil, body)
end
"""

LUA_OPENBAO_PUT = """
wrk.method = "PUT"
wrk.headers["X-Vault-Token"] = "%(token)s"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"data":{"value":"sk_same_%%d_%%d_abcdefgh"}}', thread_id, counter)
  return wrk.format(nil, "/v1/secret/data/bench", nil, body)
end
"""

LABELS = {
    "sqlite": "vault PATCH one credential, SQLite",
    "postgres": "vault PATCH one credential, PostgreSQL",
    "openbao": "OpenBao PUT one KV v2 path, PostgreSQL",
}


def bench_same_credential(workdir, stores):
    with contextlib.ExitStack() as stack:
        targets = {}
        for store in stores:
            env, token = stack.enter_context(vault_store(store, workdir, "same_credential"))
            server = stack.enter_context(Server(env, workdir))
            credential = create_credential(server, token, {
                "name": "bench contended", "type": "api_key", "value": "sk_same_first"})
            script = LUA_PATCH_ONE % {"token": token, "id": credential} + LUA_STATUSES
            targets[store] = (server.base, script, server)
        if "postgres" in stores:
            url = stack.enter_context(fresh_database("openbao_bench"))
            base, token = stack.enter_context(openbao(workdir, url))
            targets["openbao"] = (base, LUA_OPENBAO_PUT % {"token": token} + LUA_STATUSES, None)
        results = {key: [] for key in targets}
        for repeat in range(REPEATS):
            for key, (base, script, server) in targets.items():
                log(f"[same credential {repeat + 1}/{REPEATS}] {LABELS[key]}: {SECONDS}s at "
                    f"{CONNECTIONS} connections")
                run = wrk(base, script, workdir)
                # A 409 is a missed target, counted; any other failure is shown.
                if server and run["non_2xx"] - run["statuses"].get("409", 0):
                    run["logged"] = server.logged_failures(ignore=("409",))
                results[key].append(run)
    out = {key: {"label": LABELS[key], **median_of(r)} for key, r in results.items()}
    for r in out.values():
        r["conflicts_409"] = r["statuses"].get("409", 0)
    return out
