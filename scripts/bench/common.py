"""What every phase of `make bench` shares: its settings, the processes it starts, wrk,
pgbench's PostgreSQL, and the medians of repeated runs."""

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER = ROOT / "target" / "release" / "vault-server"
UPSTREAM = ROOT / "target" / "release" / "examples" / "bench_upstream"
SEEDER = ROOT / "target" / "release" / "examples" / "bench_seed"
OUT_DIR = ROOT / "target" / "bench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SEED = int(os.environ.get("BENCH_SEED", "1000"))
REWRAP_COUNT = int(os.environ.get("BENCH_REWRAP_COUNT", "100000"))
PGURL = os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432/postgres")
STORES = os.environ.get("BENCH_STORES", "sqlite,postgres").split(",")
# Past wrk's default of 2 s a response counts as a timeout and leaves the latencies: a
# slow tail must show in p99 instead.
WRK_TIMEOUT = "30s"


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds=10, process=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited before listening on port {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listening on port {port}")


def spawn(args, workdir, name, env=None):
    """A helper process (upstream, nginx, OpenBao) with its output in WORKDIR/NAME.log."""
    log_file = open(Path(workdir) / f"{name}.log", "wb")
    process = subprocess.Popen([str(a) for a in args], env=env, cwd=workdir,
                               stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()  # the child has its own descriptor
    return process


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(args, workdir, name, port, env=None):
    """spawn(), waiting for PORT to accept connections; stopped on leaving."""
    process = spawn(args, workdir, name, env)
    try:
        try:
            wait_for_port(port, process=process)
        except SystemExit as failed:
            output = (Path(workdir) / f"{name}.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"{failed}; its output:\n{output}") from None
        yield process
    finally:
        stop(process)


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise SystemExit(f"{name} not found (Debian package postgresql or postgresql-client)")


def psql(url, sql):
    """Runs SQL; returns what it printed (unaligned, tuples only)."""
    done = subprocess.run([pg_bin("psql"), url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"psql failed ({sql[:60]}...): {done.stderr}")
    return done.stdout.strip()


def with_database(url, name):
    """The same server URL with another database name."""
    return url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def fresh_database(prefix):
    """A new PostgreSQL database on PGURL's server, dropped on leaving; yields its URL."""
    name = f"{prefix}_{os.getpid()}"
    psql(PGURL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(PGURL, f"CREATE DATABASE {name}")
    try:
        yield with_database(PGURL, name)
    finally:
        psql(PGURL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_name(url):
    return url.rsplit("/", 1)[1].split("?")[0]


def commits(url):
    """pg_stat_database.xact_commit of URL's database, read from PGURL's so that reading
    adds none. A backend publishes its counts at most once a second while busy, and up to
    10 s after it goes idle, but always when it exits: so read it when no session of the
    database is left (wait_disconnected)."""
    return int(psql(PGURL, "SELECT xact_commit FROM pg_stat_database "
                           f"WHERE datname = '{database_name(url)}'"))


def wait_disconnected(url, seconds=15):
    """Waits until no session is connected to URL's database."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if psql(PGURL, "SELECT count(*) FROM pg_stat_activity "
                       f"WHERE datname = '{database_name(url)}'") == "0":
            return
        time.sleep(0.1)
    raise SystemExit(f"sessions still connected to {database_name(url)} after {seconds}s")


class Server:
    """The release vault-server on a free port of 127.0.0.1."""

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
        self.stop()
        raise SystemExit("server did not start")

    def stop(self):
        stop(self.process)
        self.log.close()

    def logged_failures(self, ignore=(), limit=5):
        """The last lines of its log about requests that did not succeed (but for the
        statuses in IGNORE), and its warnings and errors: what to show when a run failed."""
        found = [line for line in self.log_path.read_text(errors="replace").splitlines()
                 if " WARN " in line or " ERROR " in line or any(
                     status not in ignore for status in re.findall(r"status=([3-5]\d\d)", line))]
        return found[-limit:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_cli(args, env, workdir):
    full_env = {"PATH": os.environ.get("PATH", ""), "VAULT_DEV_MODE": "false", **env}
    done = subprocess.run([str(SERVER), *args], env=full_env, cwd=workdir,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"vault-server {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


@contextlib.contextmanager
def vault_store(store, workdir, name):
    """A new vault on STORE ("sqlite": WORKDIR/NAME.db; "postgres": a fresh database,
    dropped on leaving): yields its server environment and an admin access key."""
    env = {"ENCRYPTION_KEY": run_cli(["keys", "generate"], {}, workdir)}
    with contextlib.ExitStack() as stack:
        if store == "sqlite":
            env["DATABASE_URL"] = f"sqlite://{workdir}/{name}.db"
        else:
            env["DATABASE_URL"] = stack.enter_context(fresh_database(f"vault_{name}"))
            run_cli(["migrate"], env, workdir)
        yield env, run_cli(["bootstrap", "--org", name.replace("_", "-")], env, workdir)


def request(method, url, token, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"null")


def create_credential(server, token, fields):
    return request("POST", server.base + "/credentials", token, fields)["id"]


def seed(server, token, count):
    return [create_credential(server, token, {
        "name": f"seed {i}", "type": "api_key", "value": f"sk_seed_{uuid.uuid4().hex}",
        "description": "benchmark seed"}) for i in range(count)]


# Appended to a wrk script to count each status of 300 and above, over all of wrk's
# threads (each has its own Lua state; done() runs in the main one). Costs a Lua call
# per response, so only the write runs use it.
# Also numbers the threads (thread_id), for scripts that need values unique across them.
LUA_STATUSES = """
local bench_threads = {}
statuses = {}
thread_id = 0
function setup(thread)
  table.insert(bench_threads, thread)
  thread:set("thread_id", #bench_threads)
end
function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end
function done(summary, latency, requests)
  for _, thread in ipairs(bench_threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %d: %d\\n", status, count))
    end
  end
end
"""

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_latency(text, percentile):
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    statuses = {}
    for status, count in re.findall(r"^status (\d+): (\d+)$", out, re.M):
        statuses[status] = statuses.get(status, 0) + int(count)
    return {"requests_per_second": rps, "requests": requests, "p50_ms": parse_latency(out, 50),
            "p99_ms": parse_latency(out, 99), "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None,
            "statuses": statuses}


def wrk_start(base, script_text, workdir, threads=2, connections=None, seconds=None,
              name="bench"):
    """Starts wrk (with its Lua script in WORKDIR/NAME.lua); wrk_finish() parses it."""
    script = Path(workdir) / f"{name}.lua"
    script.write_text(script_text)
    return subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections or CONNECTIONS}",
                             f"-d{seconds or SECONDS}s", "--timeout", WRK_TIMEOUT, "--latency",
                             "-s", str(script), base],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wrk_finish(process):
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"wrk failed: {err or out}")
    return parse_wrk(out)


def wrk(base, script_text, workdir, threads=2, connections=None):
    return wrk_finish(wrk_start(base, script_text, workdir, threads, connections))


MEASURES = ("requests_per_second", "p50_ms", "p99_ms", "commits_per_use")


def median_of(runs):
    """One figure of repeated runs: the median of each measure, the sums of the counts,
    and every run kept."""
    def median(key):
        values = [r[key] for r in runs if r.get(key) is not None]
        return statistics.median(values) if values else None
    statuses = {}
    for r in runs:
        for status, count in r.get("statuses", {}).items():
            statuses[status] = statuses.get(status, 0) + count
    summary = {key: median(key) for key in MEASURES if key in runs[0]}
    summary.update({"requests": sum(r["requests"] for r in runs),
                    "non_2xx": sum(r["non_2xx"] for r in runs), "statuses": statuses,
                    "logged": [line for r in runs for line in r.get("logged", [])],
                    "repeats": len(runs), "runs": runs})
    return summary


def fmt(value, digits=2):
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(value, reference):
    return None if value is None or not reference else value / reference


def print_table(title, rows):
    """A left-aligned text table: ROWS[0] is the header."""
    print(f"\n{title}\n")
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    line = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    print(line(rows[0]))
    print(line(["-" * w for w in widths]))
    for row in rows[1:]:
        print(line(row))
