"""An OAuth2 token endpoint that judges signed JWT assertions for the end-to-end tests
(tests/e2e/helpers/assertions.rs), over plain HTTP on 127.0.0.1. PyPI's PyJWT (a verifier
no one here wrote, installed by scripts/install-jwt-verifier.sh) checks the signatures.

Prints its port as the first line of stdout. `POST /token` takes either a JWT-bearer
grant (RFC 7523 §2.1), or a client credentials, authorization code or refresh token grant
authenticated by `private_key_jwt` (RFC 7523 §2.2); `GET /authorize` approves at once,
sending the browser back with a code (its PKCE challenge kept); `POST /revoke` (RFC 7009)
takes a token authenticated the same way; `GET /resource` answers 200 only to a bearer
token it issued. `GET /_received` lists the token and revocation requests, in order.
"""
import base64
import hashlib
import argparse
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

lock = threading.Lock()
seen_jti: set[str] = set()
received: list[dict] = []
codes: dict[str, dict] = {}  # code -> redirect_uri, PKCE challenge
issued: set[str] = set()  # access and refresh tokens
args = argparse.Namespace()
token_url = ""


class Refused(Exception):
    pass


def describe(e: jwt.PyJWTError, token: str) -> str:
    """Names the failed check first, so a test can match on it."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return f"malformed: {e}"
    for cls, what in [
        (jwt.InvalidAlgorithmError, f"algorithm {alg!r}, pinned {args.algorithm!r}"),
        (jwt.InvalidSignatureError, "signature"),
        (jwt.InvalidAudienceError, f"audience {claims.get('aud')!r}, expected {token_url!r}"),
        (jwt.InvalidIssuerError, f"issuer {claims.get('iss')!r}, expected {args.client_id!r}"),
        (jwt.MissingRequiredClaimError, "missing claim"),
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "not yet valid"),
    ]:
        if isinstance(e, cls):
            return f"{what}: {e}"
    return f"invalid JWT: {e}"


def verify(token: str, required: list[str], max_lifetime: int, record: dict) -> dict:
    try:
        # `algorithms` pins one: a header naming another (HS256 with the public key as the
        # HMAC secret, or "none") is refused before any signature check.
        claims = jwt.decode(token, key=args.public_key, algorithms=[args.algorithm],
                            audience=token_url, issuer=args.client_id,
                            options={"require": required, "strict_aud": True})
    except jwt.PyJWTError as e:
        raise Refused(describe(e, token)) from e
    # Recorded even when a check below fails: what the vault signed is the test's to see.
    record["claims"] = claims
    with lock:
        # Recorded only once the signature holds: an attacker's token cannot burn a jti.
        replayed = claims["jti"] in seen_jti
        seen_jti.add(claims["jti"])
    if replayed:
        raise Refused(f"replayed jti {claims['jti']!r}")
    if claims["exp"] - claims["iat"] > max_lifetime:
        raise Refused(f"lifetime: exp - iat = {claims['exp'] - claims['iat']} > {max_lifetime}")
    return claims


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as the vault's HTTP client expects of a real endpoint.
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        pass  # one line per request is noise; log_error still reports errors

    def reply(self, status: int, body: dict | list | None = None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/_received":
            with lock:
                self.reply(200, received)
        elif url.path == "/authorize":
            query = dict(parse_qsl(url.query))
            code = f"code-{secrets.token_urlsafe(16)}"
            with lock:
                codes[code] = {"redirect_uri": query.get("redirect_uri"),
                               "challenge": query.get("code_challenge")}
            back = urlencode({"code": code, "state": query.get("state", "")})
            self.send_response(302)
            self.send_header("Location", f"{query.get('redirect_uri')}?{back}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/resource":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            with lock:
                known = token in issued
            self.reply(200 if known else 401, {"ok": known})
        else:
            self.reply(404)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b""
        while size := int(self.rfile.readline().split(b";")[0], 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return body

    def do_POST(self):
        raw = self.read_body()
        if self.path not in ("/token", "/revoke"):
            return self.reply(404)
        revoking = self.path == "/revoke"
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        form = dict(pairs)
        bearer = form.get("grant_type") == JWT_BEARER
        kind, error_code = ("jwt_bearer", "invalid_grant") if bearer else ("client_assertion", "invalid_client")
        kind = "revocation" if revoking else kind
        token = form.pop("assertion" if bearer else "client_assertion", None)
        record = {"kind": kind, "ok": False, "error": None, "claims": None, "header": None,
                  "form": form, "access_token": None}
        try:
            record["header"] = jwt.get_unverified_header(token) if token else None
        except jwt.PyJWTError:
            pass
        try:
            self.check(record, pairs, token, bearer, revoking)
            record["ok"] = True
            if not revoking:
                record["access_token"] = f"at-{secrets.token_urlsafe(24)}"
        except Refused as e:
            record["error"] = str(e)
        answer = {"access_token": record["access_token"], "token_type": "Bearer",
                  "expires_in": args.expires_in}
        if record["ok"] and form.get("grant_type") in ("authorization_code", "refresh_token"):
            answer["refresh_token"] = f"rt-{secrets.token_urlsafe(24)}"
        with lock:
            received.append(record)
            if record["ok"] and not revoking:
                issued.update(t for k, t in answer.items() if k.endswith("_token"))
        if not record["ok"]:
            self.reply(400, {"error": error_code, "error_description": record["error"]})
        elif revoking:
            self.reply(200)
        else:
            self.reply(200, answer)

    def check(self, record: dict, pairs: list, token: str | None, bearer: bool, revoking: bool):
        form = record["form"]
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            raise Refused(f"content type {self.headers.get('Content-Type')!r}, not a form")
        if len(pairs) != len(form) + (token is not None):
            raise Refused("a parameter is repeated (RFC 6749 §3.2)")
        # One authentication method per request (RFC 6749 §2.3): the assertion is it.
        if "client_secret" in form or "Authorization" in self.headers:
            raise Refused("a client secret besides the assertion")
        if not token:
            raise Refused("no assertion" if bearer else "no client_assertion")
        if bearer:
            claims = verify(token, ["exp", "iat", "jti", "iss", "aud"], 3600, record)
            # Google reads the scopes from the claim; a scope parameter must not say otherwise.
            if "scope" in form and form["scope"] != claims.get("scope"):
                raise Refused(f"scope parameter {form['scope']!r}, claim {claims.get('scope')!r}")
            return
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise Refused(f"client_assertion_type {form.get('client_assertion_type')!r}")
        if revoking:
            if form.get("token") not in issued:
                raise Refused("revoking a token this endpoint never issued")
        elif form.get("grant_type") == "authorization_code":
            with lock:
                grant = codes.pop(form.get("code"), None)
            if grant is None:
                raise Refused("an unknown or used code")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                raise Refused(f"redirect_uri {form.get('redirect_uri')!r}")
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if grant["challenge"] and challenge.decode() != grant["challenge"]:
                raise Refused("the PKCE verifier does not match the challenge")
        elif form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in issued:
                raise Refused("an unknown refresh token")
        elif form.get("grant_type") != "client_credentials":
            raise Refused(f"grant_type {form.get('grant_type')!r}")
        if form.get("client_id", args.client_id) != args.client_id:
            raise Refused(f"client_id {form['client_id']!r}, expected {args.client_id!r}")
        claims = verify(token, ["exp", "iat", "jti", "iss", "sub", "aud"], 300, record)
        if claims["sub"] != args.client_id:
            raise Refused(f"sub {claims['sub']!r}, expected {args.client_id!r}")


def main():
    global token_url
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--public-key", required=True, help="PEM file")
    parser.add_argument("--algorithm", required=True, help="the one accepted: RS256, ES256, ...")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.parse_args(namespace=args)
    args.public_key = Path(args.public_key).read_text()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    token_url = f"http://127.0.0.1:{server.server_address[1]}/token"
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
