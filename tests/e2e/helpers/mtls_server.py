"""An HTTPS server on 127.0.0.1, for the end-to-end tests of mtls credentials and CA
bundles (tests/e2e/usage/mtls.rs, ca_bundle.rs). With --client-ca it requires a client
certificate signed by it (Python's ssl, CERT_REQUIRED: a handshake without one fails).
Prints its port as the first line of stdout, and answers every request with JSON naming
the client certificate's subject (null without one), the path, and whether an
Authorization header came (never its value).
"""
import argparse
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        pass

    def do_GET(self):
        peer = self.connection.getpeercert() or {}
        subject = dict(pair[0] for pair in peer.get("subject", ()))
        body = json.dumps({
            "client": subject.get("commonName"),
            "path": self.path,
            "authorization": "Authorization" in self.headers,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client without a certificate, or that refuses ours: one line, not a traceback.
        print(f"mtls_server: {client_address[0]}: {sys.exc_info()[1]!r}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-ca")
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(args.client_ca)
    server = Server(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
