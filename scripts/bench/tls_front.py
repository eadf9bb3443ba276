"""An HTTPS front for the TLS variants of the proxy benchmark: nginx terminating TLS on
127.0.0.1 in front of the same upstream, with a certificate of a CA made for the run (the
credentials pin it with `caBundle`), asking for a client certificate of that CA but not
requiring one (`ssl_verify_client optional`), so that an `mtls` use and a `bearer_token`
use go through the same TLS path and differ only by the certificate. Certificates are
made with the `openssl` command."""

import contextlib
import subprocess
from pathlib import Path

from .nginx import serving

SERVER = """listen 127.0.0.1:{{port}} ssl;
    ssl_certificate {tls}/server.pem;
    ssl_certificate_key {tls}/server.key;
    ssl_client_certificate {tls}/ca.pem;
    ssl_verify_client optional;"""


def openssl(tls, *args, stdin=None):
    done = subprocess.run(["openssl", *args], cwd=tls, input=stdin, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"openssl {' '.join(args)}: {done.stderr}")


def certificates(tls):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, under TLS."""
    openssl(tls, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1"),
                            ("client", "extendedKeyUsage=clientAuth")):
        openssl(tls, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=bench {name}")
        openssl(tls, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", "/dev/stdin",
                stdin=extension + "\n")
    return {name: (Path(tls) / name).read_text()
            for name in ("ca.pem", "client.pem", "client.key")}


@contextlib.contextmanager
def tls_front(workdir, upstream_port):
    """Yields the front's origin and the PEM of its CA, a client certificate and its key."""
    tls = Path(workdir) / "tls"
    tls.mkdir(exist_ok=True)
    pems = certificates(tls)
    with serving(workdir, "tls-nginx", upstream_port, SERVER.format(tls=tls)) as port:
        yield f"https://127.0.0.1:{port}", pems
