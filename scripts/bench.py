#!/usr/bin/env python3
"""`make bench`: the vault's HTTP throughput and latency on SQLite and on PostgreSQL.

Builds nothing itself (the Makefile builds the release server first). For each store it
starts the release server on a free port, seeds credentials, and drives each endpoint with
wrk (16 connections, 2 threads: the load generator shares this machine's cores with the
server and the database, as it would in any single-machine measurement). Next to every
figure it puts, measured in the same run:
  - the server's no-op route (GET /healthz: HTTP and routing only), and
  - on PostgreSQL, pgbench -S (read-only) and pgbench -N (simple writes) on the same server
    with the same client count.
Then the proxy: a local upstream (the bench_upstream example) is called directly and
through POST /credentials/{id}/proxy, one connection at a time (low load), so the
difference of the two medians is what the vault adds to a request: authentication,
reading the credential, the audit event, injecting the auth, the request log.
Then a key rotation on each store: BENCH_REWRAP_COUNT (100,000) credentials are seeded under
one key (the bench_seed example), the server restarts with a new key and the old one as a
previous key, and `vault-server keys rewrap` runs while wrk reads credentials: the rewrap's
rows/s and credentials/s, and the read throughput during it next to after it.
The table goes to stdout and the figures, as JSON, to target/bench/.

Environment: BENCH_SECONDS (default 10) per run, BENCH_CONNECTIONS (16),
BENCH_SEED (1000 credentials), PGURL (postgres://postgres@127.0.0.1:5432/postgres),
BENCH_STORES (sqlite,postgres).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "target" / "release" / "vault-server"
UPSTREAM = ROOT / "target" / "release" / "examples" / "bench_upstream"
SEEDER = ROOT / "target" / "release" / "examples" / "bench_seed"
REWRAP_COUNT = int(os.environ.get("BENCH_REWRAP_COUNT", "100000"))
OUT_DIR = ROOT / "target" / "bench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SEED = int(os.environ.get("BENCH_SEED", "1000"))
PGURL = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432/postgres")
STORES = os.environ.get("BENCH_STORES", "sqlite,postgres").split(",")


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise SystemExit(f"{name} not found (Debian package postgresql or postgresql-client)")


def psql(url, sql):
    subprocess.run([pg_bin("psql"), url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True)


def with_database(url, name):
    """The same server URL with another database name."""
    return url.rsplit("/", 1)[0] + "/" + name


class Server:
    def __init__(self, env, workdir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The default log level (info: one line per request), written to a file as a
        # deployment would ship it, so the figures include the cost of logging.
        # The benchmark drives one access key far past any sane per-key rate limit.
        full_env = {"PATH": os.environ.get("PATH", ""), "VAULT_BIND": f"127.0.0.1:{self.port}",
                    "VAULT_DEV_MODE": "false", "VAULT_RATE_LIMIT_PER_SECOND": "0", **env}
        self.log_path = Path(workdir) / f"server-{self.port}.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(SERVER)], env=full_env, cwd=workdir,
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("server exited: " + self.log_path.read_text())
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def run_cli(args, env, workdir):
    full_env = {"PATH": os.environ.get("PATH", ""), "VAULT_DEV_MODE": "false", **env}
    done = subprocess.run([str(SERVER), *args], env=full_env, cwd=workdir,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"vault-server {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def request(method, url, token, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


def seed(server, token, count):
    ids = []
    for i in range(count):
        created = request("POST", server.base + "/credentials", token, {
            "name": f"seed {i}", "type": "api_key", "value": f"sk_seed_{uuid.uuid4().hex}",
            "description": "benchmark seed"})
        ids.append(created["id"])
    return ids


LUA_COMMON = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local counter = 0
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
"""

LUA = {
    "get": LUA_COMMON + """
request = function()
  return wrk.format("GET", "/credentials/" .. ids[math.random(#ids)])
end
""",
    "list": LUA_COMMON + """
request = function()
  return wrk.format("GET", "/credentials?limit=50")
end
""",
    "post": LUA_COMMON + """
request = function()
  counter = counter + 1
  local body = string.format('{"name":"bench %%d","type":"api_key","value":"sk_bench_%%d_%%d_abcdefgh"}',
    counter, counter, math.random(1000000000))
  return wrk.format("POST", "/credentials", nil, body)
end
""",
    "patch": LUA_COMMON + """
request = function()
  counter = counter + 1
  local body = string.format('{"value":"sk_rotated_%%d_%%d_abcdefgh"}', counter, math.random(1000000000))
  return wrk.format("PATCH", "/credentials/" .. ids[math.random(#ids)], nil, body)
end
""",
    "noop": """
request = function()
  return wrk.format("GET", "/healthz")
end
""",
}

ENDPOINTS = [
    ("noop", "GET /healthz (no-op)"),
    ("get", "GET /credentials/{id}"),
    ("list", "GET /credentials?limit=50"),
    ("post", "POST /credentials"),
    ("patch", "PATCH /credentials/{id}"),
]

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_latency(text, percentile):
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


def wrk(base, script_text, workdir, threads=2, connections=None):
    script = Path(workdir) / "bench.lua"
    script.write_text(script_text)
    connections = connections or CONNECTIONS
    done = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s", "--latency",
                           "-s", str(script), base], capture_output=True, text=True, check=True)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"requests_per_second": rps, "p50_ms": parse_latency(out, 50),
            "p99_ms": parse_latency(out, 99), "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None}


def pgbench(url, mode):
    done = subprocess.run([pg_bin("pgbench"), f"-{mode}", f"-c{CONNECTIONS}", "-j2",
                           f"-T{SECONDS}", "-n", url], capture_output=True, text=True, check=True)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    return {"transactions_per_second": tps,
            "latency_avg_ms": float(latency.group(1)) if latency else None}


def bench_store(store, workdir):
    key = run_cli(["keys", "generate"], {}, workdir)
    env = {"ENCRYPTION_KEY": key}
    if store == "sqlite":
        env["DATABASE_URL"] = f"sqlite://{workdir}/bench.db"
    else:
        name = f"vault_bench_{os.getpid()}"
        psql(PGURL, f"DROP DATABASE IF EXISTS {name}")
        psql(PGURL, f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = with_database(PGURL, name)
        run_cli(["migrate"], env, workdir)
    token = run_cli(["bootstrap", "--org", "bench"], env, workdir)
    server = Server(env, workdir)
    try:
        log(f"[{store}] seeding {SEED} credentials")
        ids = seed(server, token, SEED)
        ids_file = Path(workdir) / f"ids-{store}.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        results = {}
        for name, label in ENDPOINTS:
            log(f"[{store}] {label}: {SECONDS}s at {CONNECTIONS} connections")
            script = LUA[name] % {"ids": ids_file, "token": token} if name != "noop" else LUA[name]
            results[name] = {"label": label, **wrk(server.base, script, workdir)}
        return results
    finally:
        server.stop()
        if store == "postgres":
            psql(PGURL, f"DROP DATABASE IF EXISTS vault_bench_{os.getpid()} WITH (FORCE)")


def bench_pgbench():
    name = f"vault_pgbench_{os.getpid()}"
    psql(PGURL, f"DROP DATABASE IF EXISTS {name}")
    psql(PGURL, f"CREATE DATABASE {name}")
    url = with_database(PGURL, name)
    try:
        subprocess.run([pg_bin("pgbench"), "-i", "-q", "-s", "10", url], check=True,
                       capture_output=True)
        out = {}
        for mode, label in (("S", "pgbench -S (select only)"), ("N", "pgbench -N (simple update)")):
            log(f"[pgbench] {label}: {SECONDS}s at {CONNECTIONS} clients")
            out[mode] = {"label": label, **pgbench(url, mode)}
        return out
    finally:
        psql(PGURL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def wait_for_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listening on port {port}")


LUA_PROXY = """
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"method":"GET","url":"%(url)s"}'
request = function()
  return wrk.format(nil, "/credentials/%(id)s/proxy")
end
"""

LUA_DIRECT = """
request = function()
  return wrk.format("GET", "/v1/charges?limit=1")
end
"""


def bench_proxy(workdir):
    """Median latency of the same upstream call, direct and through the proxy (1 connection)."""
    port = free_port()
    upstream = subprocess.Popen([str(UPSTREAM), f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        origin = f"http://127.0.0.1:{port}"
        key = run_cli(["keys", "generate"], {}, workdir)
        env = {"ENCRYPTION_KEY": key, "DATABASE_URL": f"sqlite://{workdir}/proxy.db",
               "VAULT_PROXY_ALLOW_PRIVATE_NETWORKS": "true"}
        token = run_cli(["bootstrap", "--org", "proxy-bench"], env, workdir)
        server = Server(env, workdir)
        try:
            bearer = request("POST", server.base + "/credentials", token, {
                "name": "bench bearer", "type": "bearer_token",
                "value": f"tok_{uuid.uuid4().hex}", "allowedHosts": [origin]})["id"]
            jwt = request("POST", server.base + "/credentials", token, {
                "name": "bench jwt", "type": "jwt", "algorithm": "HS256",
                "secret": uuid.uuid4().hex + uuid.uuid4().hex, "claims": {"iss": "bench"},
                "allowedHosts": [origin]})["id"]
            url = f"{origin}/v1/charges?limit=1"
            results = {}
            log(f"[proxy] upstream called directly: {SECONDS}s, 1 connection")
            results["direct"] = {"label": "upstream, direct",
                                 **wrk(origin, LUA_DIRECT, workdir, threads=1, connections=1)}
            for name, cred in (("bearer", bearer), ("jwt", jwt)):
                log(f"[proxy] through the vault ({name}): {SECONDS}s, 1 connection")
                script = LUA_PROXY % {"token": token, "url": url, "id": cred}
                results[name] = {"label": f"upstream via proxy ({name}{', cached token' if name == 'jwt' else ''})",
                                 **wrk(server.base, script, workdir, threads=1, connections=1)}
            return results
        finally:
            server.stop()
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"requests_per_second": rps, "p50_ms": parse_latency(out, 50),
            "p99_ms": parse_latency(out, 99), "non_2xx": int(errors.group(1)) if errors else 0}


def bench_rewrap(store, workdir):
    """Rewrap throughput after a rotation, and reads during it next to reads after it."""
    old = run_cli(["keys", "generate"], {}, workdir)
    new = run_cli(["keys", "generate"], {}, workdir)
    env = {}
    if store == "sqlite":
        env["DATABASE_URL"] = f"sqlite://{workdir}/rewrap.db"
    else:
        name = f"vault_rewrap_{os.getpid()}"
        psql(PGURL, f"DROP DATABASE IF EXISTS {name}")
        psql(PGURL, f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = with_database(PGURL, name)
        run_cli(["migrate"], {**env, "ENCRYPTION_KEY": old}, workdir)
    try:
        ids_file = Path(workdir) / f"rewrap-ids-{store}.txt"
        log(f"[{store}] seeding {REWRAP_COUNT} credentials under the old key")
        started = time.time()
        seeded = subprocess.run([str(SEEDER), str(REWRAP_COUNT), str(ids_file)],
                                env={"PATH": os.environ.get("PATH", ""), "VAULT_DEV_MODE": "false",
                                     "RUST_LOG": "warn", "ENCRYPTION_KEY": old, **env},
                                cwd=workdir, capture_output=True, text=True)
        if seeded.returncode != 0:
            raise SystemExit(f"bench_seed failed: {seeded.stderr}")
        token = seeded.stdout.strip().splitlines()[-1]
        log(f"[{store}] seeded in {time.time() - started:.0f}s")
        rotated = {**env, "ENCRYPTION_KEY": new, "ENCRYPTION_KEYS_PREVIOUS": old}
        server = Server(rotated, workdir)
        try:
            script = LUA["get"] % {"ids": ids_file, "token": token}
            script_path = Path(workdir) / "rewrap.lua"
            script_path.write_text(script)
            log(f"[{store}] keys rewrap with GET /credentials/{{id}} at {CONNECTIONS} connections")
            reads = subprocess.Popen(["wrk", "-t2", f"-c{CONNECTIONS}", "-d600s", "--latency",
                                      "-s", str(script_path), server.base],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1)
            started = time.time()
            rewrap = subprocess.run([str(SERVER), "keys", "rewrap", "--batch", "500"],
                                    env={"PATH": os.environ.get("PATH", ""), "VAULT_DEV_MODE": "false",
                                         "RUST_LOG": "warn", **rotated},
                                    cwd=workdir, capture_output=True, text=True)
            seconds = time.time() - started
            reads.send_signal(2)  # SIGINT: wrk stops and reports
            during = parse_wrk(reads.communicate(timeout=30)[0])
            if rewrap.returncode != 0:
                raise SystemExit(f"keys rewrap failed: {rewrap.stderr}")
            moved = int(re.search(r"rewrapped (\d+) sealed rows", rewrap.stdout).group(1))
            log(f"[{store}] the same reads after the rewrap: {SECONDS}s")
            after = {**wrk(server.base, script, workdir)}
        finally:
            server.stop()
        return {"credentials": REWRAP_COUNT, "rows": moved, "seconds": seconds,
                "rows_per_second": moved / seconds, "credentials_per_second": REWRAP_COUNT / seconds,
                "reads_during": during, "reads_after": after,
                "read_ratio": during["requests_per_second"] / after["requests_per_second"]}
    finally:
        if store == "postgres":
            psql(PGURL, f"DROP DATABASE IF EXISTS vault_rewrap_{os.getpid()} WITH (FORCE)")


def fmt(value, digits=2):
    return "-" if value is None else f"{value:,.{digits}f}"


def main():
    if not SERVER.exists() or not UPSTREAM.exists() or not SEEDER.exists():
        raise SystemExit("release binaries missing: run `cargo build --release -p vault-server "
                         "--bin vault-server --example bench_upstream --example bench_seed`")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    report = {"seconds": SECONDS, "connections": CONNECTIONS, "seed": SEED,
              "machine": {"cpus": os.cpu_count()}, "stores": {}, "pgbench": None,
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory() as workdir:
        # The latency-sensitive proxy run goes first, before PostgreSQL's background work
        # (checkpoints, autovacuum after pgbench -N) shares the two cores with it.
        report["proxy"] = bench_proxy(workdir)
        for store in STORES:
            report["stores"][store] = bench_store(store, workdir)
        if "postgres" in STORES:
            report["pgbench"] = bench_pgbench()
        report["rewrap"] = {store: bench_rewrap(store, workdir) for store in STORES}

    rows = []
    for store, results in report["stores"].items():
        noop = results["noop"]["requests_per_second"]
        for name, label in ENDPOINTS:
            r = results[name]
            baseline = ""
            if store == "postgres" and report["pgbench"] and name != "noop":
                reference = report["pgbench"]["S" if name in ("get", "list") else "N"]
                ratio = r["requests_per_second"] / reference["transactions_per_second"]
                r["ratio_to_pgbench"] = ratio
                baseline = f"{ratio:.2f} of pgbench -{'S' if name in ('get', 'list') else 'N'}"
            r["ratio_to_noop"] = r["requests_per_second"] / noop
            rows.append((store, label, fmt(r["requests_per_second"], 0), fmt(r["p50_ms"]),
                         fmt(r["p99_ms"]), f"{r['ratio_to_noop']:.2f}", baseline,
                         str(r["non_2xx"])))
    if report["pgbench"]:
        for mode in ("S", "N"):
            p = report["pgbench"][mode]
            rows.append(("postgres", p["label"], fmt(p["transactions_per_second"], 0),
                         fmt(p["latency_avg_ms"]) + " (avg)", "-", "-", "1.00", "0"))
    header = ("store", "endpoint", "req/s", "p50 ms", "p99 ms", "x no-op", "x pgbench", "non-2xx")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    line = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths))
    print(f"\nvault benchmark: {SECONDS}s per run, {CONNECTIONS} connections, wrk -t2, "
          f"{os.cpu_count()} CPUs shared by client, server and database\n")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    proxy = report["proxy"]
    direct = proxy["direct"]["p50_ms"]
    print(f"\nproxy overhead at low load (1 connection, {SECONDS}s each, same local upstream):\n")
    prows = [("call", "req/s", "p50 ms", "p99 ms", "p50 added ms", "non-2xx")]
    for name in ("direct", "bearer", "jwt"):
        r = proxy[name]
        r["p50_added_ms"] = None if name == "direct" else r["p50_ms"] - direct
        prows.append((r["label"], fmt(r["requests_per_second"], 0), fmt(r["p50_ms"], 3),
                      fmt(r["p99_ms"], 3), "-" if name == "direct" else fmt(r["p50_added_ms"], 3),
                      str(r["non_2xx"])))
    pwidths = [max(len(str(row[i])) for row in prows) for i in range(len(prows[0]))]
    for row in prows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, pwidths)))
    print(f"\nkey rotation: keys rewrap of {REWRAP_COUNT:,} credentials (+ their versions) while "
          f"wrk reads at {CONNECTIONS} connections:\n")
    rrows = [("store", "rows", "seconds", "rows/s", "credentials/s", "reads/s during",
              "reads/s after", "during/after")]
    for store, r in report["rewrap"].items():
        rrows.append((store, f"{r['rows']:,}", fmt(r["seconds"], 1), fmt(r["rows_per_second"], 0),
                      fmt(r["credentials_per_second"], 0),
                      fmt(r["reads_during"]["requests_per_second"], 0),
                      fmt(r["reads_after"]["requests_per_second"], 0), f"{r['read_ratio']:.2f}"))
    rwidths = [max(len(str(row[i])) for row in rrows) for i in range(len(rrows[0]))]
    for row in rrows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, rwidths)))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for path in (OUT_DIR / f"results-{stamp}.json", OUT_DIR / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {OUT_DIR / 'latest.json'}")
    failures = [r for s in report["stores"].values() for r in s.values() if r["non_2xx"]]
    failures += [r for r in report["proxy"].values() if r["non_2xx"]]
    if failures:
        raise SystemExit("some requests failed: see non-2xx above")


if __name__ == "__main__":
    main()
