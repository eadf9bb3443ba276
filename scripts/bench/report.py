"""The tables `make bench` prints, the ratios it adds to the report, and issue 15's
targets with the figures measured in the same run."""

import os
import statistics

from .common import CONNECTIONS, REPEATS, REWRAP_COUNT, SECONDS, fmt, print_table, ratio
from .endpoints import ENDPOINTS
from .proxy_load import LABELS, SIGNING_TYPES, VARIANTS


def endpoints_table(report):
    rows = [("store", "endpoint", "req/s", "p50 ms", "p99 ms", "x no-op", "x pgbench",
             "non-2xx")]
    pgbench = report.get("pgbench")
    for store, results in report["stores"].items():
        noop = results["noop"]["requests_per_second"]
        for name, label in ENDPOINTS:
            r = results[name]
            r["ratio_to_noop"] = ratio(r["requests_per_second"], noop)
            shown = ""
            if store == "postgres" and pgbench and name != "noop":
                mode = "S" if name in ("get", "list") else "N"
                r["ratio_to_pgbench"] = ratio(r["requests_per_second"],
                                              pgbench[mode]["transactions_per_second"])
                shown = f"{r['ratio_to_pgbench']:.2f} of -{mode}"
            rows.append((store, label, fmt(r["requests_per_second"], 0), fmt(r["p50_ms"]),
                         fmt(r["p99_ms"]), fmt(r["ratio_to_noop"]), shown, str(r["non_2xx"])))
    if pgbench:
        for mode in ("S", "N"):
            p = pgbench[mode]
            rows.append(("postgres", p["label"], fmt(p["transactions_per_second"], 0),
                         fmt(p["latency_avg_ms"]) + " (avg)", "-", "-", "1.00", "0"))
    print_table(f"endpoints: {SECONDS}s per run, {CONNECTIONS} connections, wrk -t2, "
                f"{os.cpu_count()} CPUs shared by client, server and database. x no-op: req/s "
                "over the same store's GET /healthz; x pgbench: over pgbench -S (reads) or -N "
                "(writes) tps on the same PostgreSQL with as many clients", rows)


def overhead_table(report):
    proxy = report["overhead"]
    rows = [("call", "req/s", "p50 ms", "p99 ms", "p50 added ms", "non-2xx")]
    for name in ("direct", "bearer", "jwt"):
        r = proxy[name]
        rows.append((r["label"], fmt(r["requests_per_second"], 0), fmt(r["p50_ms"], 3),
                     fmt(r["p99_ms"], 3), fmt(r.get("p50_added_ms"), 3), str(r["non_2xx"])))
    print_table(f"proxy overhead at low load (1 connection, {SECONDS}s each, same local "
                "upstream):", rows)


def proxy_load_table(report):
    proxy = report["proxy_load"]
    nginx = proxy["nginx"]["requests_per_second"]
    rows = [("path", "req/s", "p50 ms", "p99 ms", "x nginx", "commits/use", "non-2xx")]
    for r in proxy.values():
        r["ratio_to_nginx"] = ratio(r["requests_per_second"], nginx)
        rows.append((r["label"], fmt(r["requests_per_second"], 0), fmt(r["p50_ms"]),
                     fmt(r["p99_ms"]), fmt(r["ratio_to_nginx"]), fmt(r.get("commits_per_use"), 3),
                     str(r["non_2xx"])))
    print_table(f"proxy under load: {CONNECTIONS} connections, wrk -t2, medians of {REPEATS} "
                f"interleaved runs of {SECONDS}s. commits/use: PostgreSQL's xact_commit over the "
                "run (the servers' own start, stop and background statements included) over "
                "the uses; 2 replicas: their req/s added, the slower one's latency", rows)
    if "postgres_two_replicas" in proxy:
        two, one = proxy["postgres_two_replicas"], proxy["postgres"]
        two["ratio_to_one_replica"] = ratio(two["requests_per_second"], one["requests_per_second"])
        print(f"\nscale-out: 2 replicas on one PostgreSQL {fmt(two['requests_per_second'], 0)} "
              f"req/s combined, {fmt(two['ratio_to_one_replica'])} x one replica's "
              f"{fmt(one['requests_per_second'], 0)} (on {os.cpu_count()} shared CPUs this "
              f"mostly measures CPU contention); {fmt(two['commits_per_use'], 3)} commits per use")
    # Each variant next to the plain runs around it (the one before it, and the next
    # repeat's, when there is one): the store's throughput drifts down over a phase (its
    # logs grow) by more than what is compared costs, so a variant run later in a repeat
    # would look slower than it is.
    variants = [(f"{store}_granted", store, "ratio_to_use_all", "grant check, " + store,
                 "a key with a grant", "the use-all key's") for store in ("sqlite", "postgres")]
    variants += [(f"sqlite_{kind}", "sqlite", "ratio_to_bearer", f"{kind} use, sqlite",
                  f"a {kind} credential", "bearer_token's") for kind in SIGNING_TYPES]
    variants += [(key, base, "ratio_to_plain", key.removeprefix("sqlite_") + " use, sqlite",
                  LABELS[key], LABELS[base]) for key, base in VARIANTS.items()]
    for key, base, field, title, what, reference in variants:
        variant = proxy.get(key)
        if variant and base in proxy:
            plain = [run["requests_per_second"] for run in proxy[base]["runs"]]
            around = [statistics.mean(plain[i:i + 2]) for i in range(len(plain))]
            pairs = [ratio(v["requests_per_second"], u)
                     for v, u in zip(variant["runs"], around)]
            variant[field] = statistics.median(pairs)
            print(f"{title}: {what} {fmt(variant['requests_per_second'], 0)} req/s; "
                  f"{fmt(variant[field])} x {reference} in the runs around it "
                  f"(median of {', '.join(fmt(p) for p in pairs)})")
    if "postgres_busier" in proxy:
        busier, one = proxy["postgres_busier"], proxy["postgres"]
        connections = busier["runs"][0]["connections"]
        print(f"commits per use with load: {fmt(one['commits_per_use'], 3)} at {CONNECTIONS} "
              f"connections, {fmt(busier['commits_per_use'], 3)} at {connections} (a batch is "
              "what queued during the commit before)")


def same_credential_table(report):
    same = report["same_credential"]
    openbao = same.get("openbao", {}).get("requests_per_second")
    rows = [("writes", "req/s", "p50 ms", "p99 ms", "x OpenBao", "409s", "other non-2xx")]
    for r in same.values():
        r["ratio_to_openbao"] = ratio(r["requests_per_second"], openbao)
        rows.append((r["label"], fmt(r["requests_per_second"], 0), fmt(r["p50_ms"]),
                     fmt(r["p99_ms"]), fmt(r["ratio_to_openbao"]), str(r["conflicts_409"]),
                     str(r["non_2xx"] - r["conflicts_409"])))
    print_table(f"same-credential writes: {CONNECTIONS} connections write one credential "
                f"(PATCH of its value, no If-Match) or one OpenBao KV v2 path; medians of "
                f"{REPEATS} interleaved runs of {SECONDS}s, 409s summed over them", rows)


def rewrap_table(report):
    rows = [("store", "rows", "seconds", "rows/s", "credentials/s", "reads/s during",
             "reads/s after", "during/after")]
    for store, r in report["rewrap"].items():
        rows.append((store, f"{r['rows']:,}", fmt(r["seconds"], 1), fmt(r["rows_per_second"], 0),
                     fmt(r["credentials_per_second"], 0),
                     fmt(r["reads_during"]["requests_per_second"], 0),
                     fmt(r["reads_after"]["requests_per_second"], 0), f"{r['read_ratio']:.2f}"))
    print_table(f"key rotation: keys rewrap of {REWRAP_COUNT:,} credentials (+ their versions) "
                f"while wrk reads at {CONNECTIONS} connections:", rows)


def dig(report, *keys):
    for key in keys:
        if not isinstance(report, dict) or report.get(key) is None:
            return None
        report = report[key]
    return report


def targets(report):
    """Issues 15, 17 and 21's targets: (target, measured, "met" | "missed" | "not measured")."""
    at_least = lambda goal: (lambda v: v >= goal)
    below = lambda goal: (lambda v: v < goal)
    at_most = lambda goal: (lambda v: v <= goal)
    apply = report.get("apply_credential")
    checks = [
        ("proxy, SQLite: >= 0.5 of nginx", ("proxy_load", "sqlite", "ratio_to_nginx"),
         at_least(0.5), "{:.2f}"),
        ("proxy, SQLite: p99 < 5 ms", ("proxy_load", "sqlite", "p99_ms"), below(5), "{:.2f} ms"),
        ("proxy, PostgreSQL: >= 0.3 of nginx", ("proxy_load", "postgres", "ratio_to_nginx"),
         at_least(0.3), "{:.2f}"),
        ("proxy, PostgreSQL: p99 < 5 ms", ("proxy_load", "postgres", "p99_ms"), below(5),
         "{:.2f} ms"),
        ("grant check, SQLite: >= 0.95 of the use-all key",
         ("proxy_load", "sqlite_granted", "ratio_to_use_all"), at_least(0.95), "{:.2f}"),
        ("grant check, PostgreSQL: >= 0.95 of the use-all key",
         ("proxy_load", "postgres_granted", "ratio_to_use_all"), at_least(0.95), "{:.2f}"),
        # A signature adds at most 10% to a use's cost: throughput at least 1/1.1.
        *[(f"{kind} use, SQLite: >= 0.91 of bearer_token",
           ("proxy_load", f"sqlite_{kind}", "ratio_to_bearer"), at_least(0.91), "{:.2f}")
          for kind in SIGNING_TYPES],
        (f"proxy, PostgreSQL: <= 0.2 commits per use ({CONNECTIONS} conn.)",
         ("proxy_load", "postgres", "commits_per_use"), at_most(0.2), "{:.3f}"),
        ("writes, PostgreSQL POST: >= 1.0 of pgbench -N",
         ("stores", "postgres", "post", "ratio_to_pgbench"), at_least(1.0), "{:.2f}"),
        ("writes, PostgreSQL PATCH: >= 1.0 of pgbench -N",
         ("stores", "postgres", "patch", "ratio_to_pgbench"), at_least(1.0), "{:.2f}"),
        ("writes, SQLite POST: p99 < 10 ms", ("stores", "sqlite", "post", "p99_ms"), below(10),
         "{:.2f} ms"),
        ("writes, SQLite PATCH: p99 < 10 ms", ("stores", "sqlite", "patch", "p99_ms"), below(10),
         "{:.2f} ms"),
        ("same credential, PostgreSQL: >= 2x OpenBao",
         ("same_credential", "postgres", "ratio_to_openbao"), at_least(2.0), "{:.2f}x"),
        ("same credential, SQLite: p99 < 50 ms", ("same_credential", "sqlite", "p99_ms"),
         below(50), "{:.2f} ms"),
        ("same credential, PostgreSQL: p99 < 50 ms", ("same_credential", "postgres", "p99_ms"),
         below(50), "{:.2f} ms"),
        ("same credential, SQLite: zero 409s without If-Match",
         ("same_credential", "sqlite", "conflicts_409"), at_most(0), "{}"),
        ("same credential, PostgreSQL: zero 409s without If-Match",
         ("same_credential", "postgres", "conflicts_409"), at_most(0), "{}"),
        ("reads, SQLite GET by id: >= 0.5 of the no-op route",
         ("stores", "sqlite", "get", "ratio_to_noop"), at_least(0.5), "{:.2f}"),
        ("reads, PostgreSQL GET by id: >= 0.5 of pgbench -S",
         ("stores", "postgres", "get", "ratio_to_pgbench"), at_least(0.5), "{:.2f}"),
        ("apply_credential, SQLite file, 16 tasks: >= 20,000 uses/s",
         ("apply_credential", "uses_per_second"), at_least(20000), "{:,.0f}/s"),
    ]
    out = []
    for label, path, ok, shown in checks:
        value = dig(report, *path)
        if path[0] == "apply_credential" and apply and apply["stale"]:
            value = None  # from an earlier run, not this one
        status = "not measured" if value is None else "met" if ok(value) else "missed"
        out.append({"target": label, "value": value, "status": status,
                    "measured": None if value is None else shown.format(value)})
    return out


def targets_table(report):
    report["targets"] = targets(report)
    rows = [("target (issues 15, 17, 21)", "measured", "status")]
    rows += [(t["target"], t["measured"] or "-", t["status"]) for t in report["targets"]]
    print_table("targets (ratios to references measured in this run; a missed target does not "
                "fail the run):", rows)
    met = sum(t["status"] == "met" for t in report["targets"])
    print(f"\n{met} of {len(report['targets'])} targets met")


def socket_errors(report):
    """wrk's socket errors (connect, read, write, timeout) of any run, shown, not judged."""
    found = []
    for phase in ("overhead", "proxy_load", "same_credential"):
        for r in (report.get(phase) or {}).values():
            for run in r.get("runs", [r]):
                if run.get("socket_errors"):
                    found.append(f"{r['label']}: {run['socket_errors']}")
    for results in report["stores"].values():
        found += [f"{r['label']}: {r['socket_errors']}" for r in results.values()
                  if r.get("socket_errors")]
    if found:
        print("\nwrk socket errors:\n  " + "\n  ".join(found))


def print_report(report):
    if report.get("stores"):
        endpoints_table(report)
    if report.get("overhead"):
        overhead_table(report)
    if report.get("proxy_load"):
        proxy_load_table(report)
    if report.get("same_credential"):
        same_credential_table(report)
    if report.get("rewrap"):
        rewrap_table(report)
    socket_errors(report)
    targets_table(report)
