"""The proxy under load: BENCH_CONNECTIONS connections (wrk -t2) against
POST /credentials/{id}/proxy with a bearer_token credential, next to the same upstream
called directly and through nginx setting a static header (the reference). Interleaved
(direct, nginx, SQLite, PostgreSQL, two PostgreSQL replicas, PostgreSQL at BUSIER times the
connections), BENCH_REPEATS times; the medians are reported.

The scale-out figure: two servers on one PostgreSQL database, each driven at half the
connections by its own wrk at the same time, next to one server at all of them. On
PostgreSQL the database's commits per use are counted too: its servers start before each
run and stop after it, so that pg_stat_database is read when every session they had has
exited and published its counts.

The grant check's cost: the same proxy driven with a key that holds only `credentials:use`
and a grant with method and path rules (no budget), next to the admin key, which
`credentials:use-all` lets through without reading grants.

The types that sign each request (`hmac_signature` with Kong's preset, `aws_sigv4`), on
SQLite, next to `bearer_token` in the same run: what a signature adds to a use. So too an
`oauth2` credential with `private_key_jwt` (its token, fetched once from the upstream's
`/token`, is cached). And through an HTTPS front (nginx, `tls_front`): an `mtls` use next
to a `bearer_token` use pinned to the same CA, both over TLS."""

import contextlib
import time
import uuid
from pathlib import Path

from .common import (CONNECTIONS, REPEATS, SECONDS, UPSTREAM, Server, commits, create_credential,
                     free_port,
                     log, median_of, request, running, stop, vault_store, wait_disconnected,
                     wrk, wrk_finish, wrk_start)
from .nginx import nginx
from .tls_front import openssl, tls_front
from .overhead import LUA_DIRECT, LUA_PROXY, PROXY_ENV, UPSTREAM_PATH, bearer_credential

# The commits-per-use figure again at this many times the connections: with no timer, a
# batch holds what queued during the commit before, so the ratio falls as load rises.
BUSIER = 4

# The types whose uses sign each request, compared with bearer_token's.
SIGNING_TYPES = ("hmac_signature", "aws_sigv4")

# Other variants: each compared with the plain run it names.
VARIANTS = {"sqlite_private_key_jwt": "sqlite", "sqlite_mtls": "sqlite_tls_bearer"}

LABELS = {
    "sqlite_private_key_jwt": "vault proxy, SQLite, oauth2 private_key_jwt (token cached)",
    "sqlite_tls_bearer": "vault proxy, SQLite, bearer_token over TLS (caBundle)",
    "sqlite_mtls": "vault proxy, SQLite, mtls over TLS (caBundle)",
    "sqlite_hmac_signature": "vault proxy, SQLite, hmac_signature (kong-hmac-auth)",
    "sqlite_aws_sigv4": "vault proxy, SQLite, aws_sigv4",
    "direct": "upstream, direct",
    "nginx": "nginx, static Authorization header",
    "sqlite": "vault proxy, SQLite",
    "postgres": "vault proxy, PostgreSQL, 1 replica",
    "postgres_two_replicas": f"vault proxy, PostgreSQL, 2 replicas x {CONNECTIONS // 2} conn.",
    "postgres_busier": f"vault proxy, PostgreSQL, 1 replica at {BUSIER * CONNECTIONS} conn.",
    "sqlite_granted": "vault proxy, SQLite, key with a grant",
    "postgres_granted": "vault proxy, PostgreSQL, 1 replica, key with a grant",
}


def granted_key(server, admin, credential):
    """A key with only `credentials:use`, and a grant of CREDENTIAL with method and path
    rules: the token of a principal whose every use reads and checks grants."""
    key = request("POST", server.base + "/access-keys", admin,
                  {"name": "bench grantee", "scopes": ["credentials:use"]})
    request("POST", f"{server.base}/credentials/{credential}/grants", admin,
            {"principal": f"key:{key['id']}", "methods": ["GET"],
             "paths": [UPSTREAM_PATH.split("?")[0] + "*"]})
    return key["keySecret"]


def signing_credentials(server, token, origin):
    """A credential of each signing type for ORIGIN: its id by type."""
    bodies = {
        "hmac_signature": {"preset": "kong-hmac-auth", "keyId": "bench",
                           "secret": f"k_{uuid.uuid4().hex}"},
        "aws_sigv4": {"accessKeyId": "AKIA" + uuid.uuid4().hex[:16].upper(),
                      "secretAccessKey": uuid.uuid4().hex + uuid.uuid4().hex,
                      "region": "us-east-1", "service": "execute-api"},
    }
    return {kind: create_credential(server, token, {"name": f"bench {kind}", "type": kind,
                                                    "allowedHosts": [origin], **body})
            for kind, body in bodies.items()}


def assertion_credential(server, token, origin, workdir):
    """An oauth2 client-credentials credential authenticated by `private_key_jwt` (an RSA
    key made for the run), its token from the upstream's `/token`."""
    openssl(workdir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", "assertion.key")
    key = (Path(workdir) / "assertion.key").read_text()
    return create_credential(server, token, {
        "name": "bench private_key_jwt", "type": "oauth2", "clientId": "bench",
        "clientAuth": "private_key_jwt", "privateKey": key, "tokenUrl": origin + "/token",
        "allowedHosts": [origin]})


def tls_credentials(server, token, front, pems):
    """A bearer_token and an mtls credential for the HTTPS FRONT, both pinned to its CA."""
    common = {"allowedHosts": [front], "caBundle": pems["ca.pem"]}
    return {
        "sqlite_tls_bearer": create_credential(server, token, {
            **common, "name": "bench tls bearer", "type": "bearer_token",
            "value": f"tok_{uuid.uuid4().hex}"}),
        "sqlite_mtls": create_credential(server, token, {
            **common, "name": "bench mtls", "type": "mtls",
            "certificate": pems["client.pem"], "privateKey": pems["client.key"]}),
    }


def checked(server, run, ignore=()):
    """RUN, with the server's log lines about failed requests when some failed."""
    run["logged"] = server.logged_failures(ignore) if run["non_2xx"] else []
    return run


def replicas_run(env, script, workdir, replicas, connections=CONNECTIONS):
    """REPLICAS servers on ENV's database, each under its own wrk at once (CONNECTIONS
    shared among them); the combined figures and the database's commits per use over the
    run."""
    url = env["DATABASE_URL"]
    before = commits(url)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Server(env, workdir)) for _ in range(replicas)]
        loads = [wrk_start(server.base, script, workdir, threads=max(1, 2 // replicas),
                           connections=connections // replicas, name=f"proxy-{i}")
                 for i, server in enumerate(servers)]
        try:
            each = [wrk_finish(load) for load in loads]
        finally:
            for load in loads:
                stop(load)
        logged = [line for server, r in zip(servers, each) if r["non_2xx"]
                  for line in server.logged_failures()]
    wait_disconnected(url)
    used = sum(r["requests"] for r in each)
    committed = commits(url) - before
    # Latency of two loads cannot be merged: the slower replica's percentiles.
    return {"requests_per_second": sum(r["requests_per_second"] for r in each),
            "requests": used, "p50_ms": max(r["p50_ms"] for r in each),
            "p99_ms": max(r["p99_ms"] for r in each),
            "non_2xx": sum(r["non_2xx"] for r in each), "logged": logged,
            "socket_errors": "; ".join(r["socket_errors"] for r in each if r["socket_errors"])
            or None, "commits": committed,
            "commits_per_use": committed / used if used else None, "connections": connections,
            "replicas": each if replicas > 1 else None}


def bench_proxy_load(workdir, stores):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    secret = f"tok_{uuid.uuid4().hex}"
    with contextlib.ExitStack() as stack:
        stack.enter_context(running([UPSTREAM, f"127.0.0.1:{port}"], workdir, "upstream", port))
        nginx_base = stack.enter_context(nginx(workdir, port, secret))
        front, pems = stack.enter_context(tls_front(workdir, port))
        # Each entry: the figure's key and what runs it once.
        runs = [("direct", lambda: wrk(origin, LUA_DIRECT, workdir)),
                ("nginx", lambda: wrk(nginx_base, LUA_DIRECT, workdir))]
        if "sqlite" in stores:
            env, token = stack.enter_context(vault_store("sqlite", workdir, "proxy_load"))
            server = stack.enter_context(Server({**env, **PROXY_ENV}, workdir))
            credential = bearer_credential(server, token, origin, secret)
            sqlite_script = LUA_PROXY % {"token": token, "url": origin + UPSTREAM_PATH,
                                         "id": credential}
            granted_script = LUA_PROXY % {"token": granted_key(server, token, credential),
                                          "url": origin + UPSTREAM_PATH, "id": credential}
            runs.append(("sqlite", lambda: checked(server, wrk(server.base, sqlite_script,
                                                                  workdir))))
            runs.append(("sqlite_granted",
                         lambda: checked(server, wrk(server.base, granted_script, workdir))))
            for kind, signed in signing_credentials(server, token, origin).items():
                script = LUA_PROXY % {"token": token, "url": origin + UPSTREAM_PATH,
                                      "id": signed}
                runs.append((f"sqlite_{kind}",
                             lambda script=script: checked(server, wrk(server.base, script,
                                                                       workdir))))
            others = {"sqlite_private_key_jwt": (origin, assertion_credential(
                server, token, origin, workdir))}
            others.update({key: (front, id) for key, id
                           in tls_credentials(server, token, front, pems).items()})
            for key, (target, id) in others.items():
                script = LUA_PROXY % {"token": token, "url": target + UPSTREAM_PATH, "id": id}
                runs.append((key, lambda script=script: checked(server, wrk(server.base, script,
                                                                            workdir))))
        if "postgres" in stores:
            env, token = stack.enter_context(vault_store("postgres", workdir, "proxy_load"))
            pg_env = {**env, **PROXY_ENV}
            with Server(pg_env, workdir) as first:
                credential = bearer_credential(first, token, origin, secret)
                grantee = granted_key(first, token, credential)
            pg_script = LUA_PROXY % {"token": token, "url": origin + UPSTREAM_PATH,
                                     "id": credential}
            pg_granted = LUA_PROXY % {"token": grantee, "url": origin + UPSTREAM_PATH,
                                      "id": credential}
            runs.append(("postgres", lambda: replicas_run(pg_env, pg_script, workdir, 1)))
            runs.append(("postgres_granted",
                         lambda: replicas_run(pg_env, pg_granted, workdir, 1)))
            runs.append(("postgres_two_replicas",
                         lambda: replicas_run(pg_env, pg_script, workdir, 2)))
            # One key drives every connection: the in-flight limits (16 per key, 32 per
            # server by default) would refuse most of them.
            busier = BUSIER * CONNECTIONS
            busier_env = {**pg_env, "VAULT_PROXY_MAX_IN_FLIGHT": str(busier),
                          "VAULT_PROXY_MAX_IN_FLIGHT_PER_KEY": str(busier)}
            runs.append(("postgres_busier",
                         lambda: replicas_run(busier_env, pg_script, workdir, 1,
                                              connections=busier)))
        results = {key: [] for key, _ in runs}
        for repeat in range(REPEATS):
            for key, run in runs:
                log(f"[proxy {repeat + 1}/{REPEATS}] {LABELS[key]}: {SECONDS}s")
                # wrk closes its connections with calls in flight when its time is up: let
                # the server finish those first, or the next run's first calls find the
                # key's in-flight bound (16) taken and get 429.
                time.sleep(0.5)
                results[key].append(run())
    return {key: {"label": LABELS[key], **median_of(r)} for key, r in results.items()}
