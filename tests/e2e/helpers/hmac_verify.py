"""Checks requests the vault signed with an hmac_signature credential, using Python's
hmac module and each scheme written out here from its own documentation, not from the
vault's templates (tests/e2e/usage/signing.rs).

Reads JSON on stdin: {"scheme": "kong-hmac-auth" | "sha512-hex", "key": "...",
"username": "...", "request": {"method", "path", "headers", "body"}} and prints "ok", or
exits 1 saying what did not match.
"""
import base64
import email.utils
import hashlib
import hmac
import json
import re
import sys
import time


def fail(why):
    print(why)
    sys.exit(1)


def kong(case, request):
    # Kong's hmac-auth plugin: Authorization: hmac username="..", algorithm="..",
    # headers="h1 h2", signature="base64(HMAC(secret, 'h1: v1\nh2: v2'))", where the
    # pseudo-header request-line is "METHOD /path?query HTTP/1.1"; Digest is
    # "SHA-256=base64(sha256(body))"; Date within 300 s of now.
    headers = request["headers"]
    fields = dict(re.findall(r'(\w+)="([^"]*)"', headers["authorization"].removeprefix("hmac ")))
    if fields.get("username") != case["username"]:
        fail(f"username {fields.get('username')!r}")
    if fields.get("algorithm") != "hmac-sha256":
        fail(f"algorithm {fields.get('algorithm')!r}")
    lines = []
    for name in fields["headers"].split(" "):
        if name == "request-line":
            lines.append(f"{request['method']} {request['path']} HTTP/1.1")
        else:
            lines.append(f"{name}: {headers[name]}")
    expected = base64.b64encode(
        hmac.new(case["key"].encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    ).decode()
    if not hmac.compare_digest(expected, fields["signature"]):
        fail("the signature does not match")
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(request["body"].encode()).digest()).decode()
    if headers.get("digest") != digest:
        fail("the digest does not match the body")
    date = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
    if abs(time.time() - date) > 300:
        fail("the date is not within 300 s")


def sha512_hex(case, request):
    # A partner-API style: X-Timestamp (unix seconds) and X-Signature =
    # hex(HMAC-SHA512(key, METHOD \n path?query \n timestamp \n hex(sha256(body)))).
    headers = request["headers"]
    stamp = headers["x-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        fail("the timestamp is not within 300 s")
    message = "\n".join([request["method"], request["path"], stamp,
                         hashlib.sha256(request["body"].encode()).hexdigest()])
    expected = hmac.new(case["key"].encode(), message.encode(), hashlib.sha512).hexdigest()
    if not hmac.compare_digest(expected, headers["x-signature"]):
        fail("the signature does not match")


case = json.load(sys.stdin)
{"kong-hmac-auth": kong, "sha512-hex": sha512_hex}[case["scheme"]](case, case["request"])
print("ok")
