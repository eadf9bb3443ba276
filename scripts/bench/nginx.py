"""nginx as the reference of the proxy: what a user would run instead of the vault for a
static secret. A reverse proxy in front of the same upstream that sets a fixed
`Authorization: Bearer ...` header, with keepalive connections to the upstream, in the
foreground on 127.0.0.1, with everything it writes in the benchmark's work directory."""

import contextlib
import shutil
import subprocess
from pathlib import Path

from .common import free_port, log, running

CONFIG = """
daemon off;
worker_processes auto;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/nginx-temp/body;
  proxy_temp_path {workdir}/nginx-temp/proxy;
  fastcgi_temp_path {workdir}/nginx-temp/fastcgi;
  uwsgi_temp_path {workdir}/nginx-temp/uwsgi;
  scgi_temp_path {workdir}/nginx-temp/scgi;
  upstream bench_upstream {{
    server 127.0.0.1:{upstream_port};
    keepalive 32;
  }}
  server {{
    {server}
    location / {{
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      {location}
    }}
  }}
}}
"""


@contextlib.contextmanager
def serving(workdir, name, upstream_port, server, location=""):
    """nginx (its files named NAME in WORKDIR) in front of 127.0.0.1:UPSTREAM_PORT, with
    SERVER's directives ({port}: the port it listens on) and LOCATION's; yields the port."""
    binary = nginx_binary()
    (Path(workdir) / "nginx-temp").mkdir(exist_ok=True)
    port = free_port()
    config = Path(workdir) / f"{name}.conf"
    config.write_text(CONFIG.format(workdir=workdir, name=name, upstream_port=upstream_port,
                                    server=server.format(port=port), location=location))
    # -e: the error log before the configuration is read (not the packaged /var/log path).
    args = [binary, "-p", workdir, "-c", config, "-e", Path(workdir) / f"{name}-error.log"]
    with running(args, workdir, name, port):
        yield port


def _find():
    # /usr/sbin is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def nginx_binary():
    """nginx, installed from Debian's packages when missing (as the Makefile installs wrk)."""
    if _find():
        return _find()
    if not shutil.which("apt-get"):
        raise SystemExit("nginx is missing and there is no apt-get: install nginx, the "
                         "reference of the proxy benchmark")
    log("nginx is missing: installing Debian's nginx package")
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx"]):
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"could not install nginx ({' '.join(args)}): {done.stderr}")
    if not _find():
        raise SystemExit("apt-get installed nginx but no nginx binary was found")
    return _find()


@contextlib.contextmanager
def nginx(workdir, upstream_port, secret):
    """Runs nginx in front of 127.0.0.1:UPSTREAM_PORT; yields its base URL."""
    with serving(workdir, "nginx", upstream_port, "listen 127.0.0.1:{port};",
                 f'proxy_set_header Authorization "Bearer {secret}";') as port:
        yield f"http://127.0.0.1:{port}"
