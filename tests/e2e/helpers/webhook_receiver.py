"""An HTTPS receiver of Standard Webhooks deliveries for the end-to-end tests
(tests/e2e/helpers/webhooks.rs), on 127.0.0.1. PyPI's standardwebhooks (a verifier no one
here wrote, installed by scripts/install-webhook-verifier.sh) judges the signatures.

Prints its port as the first line of stdout. Any POST to a path not starting with `/_` is
a delivery, recorded and answered with the status set for its path (200 by default).
`POST /_control` with `{"secrets": {path: "whsec_..."}, "status": {path or "*": code}}`
merges into the current settings; `GET /_received` lists the deliveries in arrival order.
"""
import argparse
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from standardwebhooks import Webhook

lock = threading.Lock()
secrets: dict[str, str] = {}
statuses: dict[str, int] = {}
received: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the vault's HTTP client expects of a real endpoint.
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        pass  # one line per request is noise; log_error still reports errors

    def reply(self, status: int, body: bytes = b"", content_type: str = "application/json"):
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return body
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                self.reply(200, json.dumps(received).encode())
        else:
            self.reply(404)

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_control":
            settings = json.loads(raw)
            with lock:
                secrets.update(settings.get("secrets", {}))
                statuses.update({k: int(v) for k, v in settings.get("status", {}).items()})
            self.reply(204)
        elif self.path.startswith("/_"):
            self.reply(404)
        else:
            self.deliver(raw)

    def deliver(self, raw: bytes):
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            name = name.lower()
            # A repeated header is one list, as HTTP reads it.
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        path = urlsplit(self.path).path
        with lock:
            secret = secrets.get(path)
            status = statuses.get(path, statuses.get("*", 200))
        verified, error = None, None
        if secret is not None:
            try:
                # Only the signature: whether the body is JSON is the test's to check.
                Webhook(secret).verify(raw, headers, json_parse=False)
                verified = True
            except Exception as e:  # any refusal, whatever the verifier raised it as
                verified, error = False, f"{type(e).__name__}: {e}"
        record = {
            "path": self.path,
            "headers": headers,
            "body": raw.decode("utf-8", "replace"),
            "verified": verified,
            "error": error,
            "status": status,
            "at": time.time(),
        }
        with lock:
            received.append(record)
        self.reply(status, b"{}")


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError)):
            # A client that refuses the certificate, or hangs up: one line, not a traceback.
            print(f"webhook_receiver: {client_address[0]}: {error!r}", file=sys.stderr)
        else:
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = Server(("127.0.0.1", 0), Handler)
    # The handshake on the first read, in the request's thread: a client that stalls or
    # fails it does not hold up the accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
