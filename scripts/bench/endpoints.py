"""The CRUD endpoints on each store at BENCH_CONNECTIONS, and pgbench -S / -N on the same
PostgreSQL server with as many clients: the references of the reads and the writes."""

import re
import subprocess
from pathlib import Path

from .common import (CONNECTIONS, SECONDS, SEED, Server, fresh_database, log, pg_bin,
                     seed, vault_store, wrk)

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
    ("patch", "PATCH /credentials/{id} (random ids)"),
]


def bench_store(store, workdir):
    with vault_store(store, workdir, "bench") as (env, token), Server(env, workdir) as server:
        log(f"[{store}] seeding {SEED} credentials")
        ids_file = Path(workdir) / f"ids-{store}.txt"
        ids_file.write_text("\n".join(seed(server, token, SEED)) + "\n")
        results = {}
        for name, label in ENDPOINTS:
            log(f"[{store}] {label}: {SECONDS}s at {CONNECTIONS} connections")
            script = LUA[name] % {"ids": ids_file, "token": token} if name != "noop" else LUA[name]
            run = wrk(server.base, script, workdir)
            run["logged"] = server.logged_failures() if run["non_2xx"] else []
            results[name] = {"label": label, **run}
        return results


def pgbench(url, mode):
    done = subprocess.run([pg_bin("pgbench"), f"-{mode}", f"-c{CONNECTIONS}", "-j2",
                           f"-T{SECONDS}", "-n", url], capture_output=True, text=True, check=True)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    return {"transactions_per_second": tps,
            "latency_avg_ms": float(latency.group(1)) if latency else None}


def bench_pgbench():
    with fresh_database("vault_pgbench") as url:
        subprocess.run([pg_bin("pgbench"), "-i", "-q", "-s", "10", url], check=True,
                       capture_output=True)
        out = {}
        for mode, label in (("S", "pgbench -S (select only)"), ("N", "pgbench -N (simple update)")):
            log(f"[pgbench] {label}: {SECONDS}s at {CONNECTIONS} clients")
            out[mode] = {"label": label, **pgbench(url, mode)}
        return out
