"""botocore's SigV4 headers for the requests of sigv4_botocore.rs, the reference to check
RingRequestSigner against.

stdin: a JSON list of requests, each {name, method, url, headers: [[name, value]...],
body (base64), access_key_id, secret_access_key, session_token (or null), region, service,
unsigned_payload, content_sha256_header, time (unix seconds)}.
stdout: a JSON list, per request, of the lower-cased Authorization, X-Amz-Date,
X-Amz-Security-Token and X-Amz-Content-SHA256 headers botocore set (null when absent),
and botocore's canonical request (to show on a mismatch).
"""

import base64
import datetime
import hashlib
import json
import sys
from unittest import mock
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import botocore.auth
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

OUTPUT = ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"]


class S3Config:
    """The part of a client's Config that S3SigV4Auth reads to sign the payload or not."""

    def __init__(self, payload_signing_enabled):
        self.s3 = {"payload_signing_enabled": payload_signing_enabled}


def sign(case):
    name = case["name"]
    s3 = case["service"] == "s3"
    unsigned = case["unsigned_payload"]
    body = base64.b64decode(case["body"])
    parts = urlsplit(case["url"])
    # A botocore client hands the query to the signer as params (decoded pairs), which it
    # encodes canonically; a raw URL query it would sign unchanged (presigned URLs only).
    params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False)
    request = AWSRequest(
        method=case["method"],
        url=urlunsplit(parts._replace(query="", fragment="")),
        data=body,
        params=params,
    )
    for header, value in case["headers"]:
        request.headers[header] = value  # HTTPMessage appends: a repeated name stays repeated.

    # botocore has no switch for x-amz-content-sha256: S3SigV4Auth always sends it, and
    # SigV4Auth signs it when present (with UNSIGNED-PAYLOAD it adds it itself).
    if s3 or unsigned:
        if not case["content_sha256_header"]:
            raise SystemExit(f"{name}: botocore always sends x-amz-content-sha256 here")
    if s3:
        request.context["client_config"] = S3Config(not unsigned)
    elif unsigned:
        if parts.scheme != "https":
            raise SystemExit(f"{name}: botocore signs the payload of plain-http requests")
        request.context["payload_signing_enabled"] = False
    elif case["content_sha256_header"]:
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()

    credentials = Credentials(
        case["access_key_id"], case["secret_access_key"], case["session_token"]
    )
    auth = (S3SigV4Auth if s3 else SigV4Auth)(credentials, case["service"], case["region"])
    at = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc)
    # add_auth reads the clock through this name (botocore.compat's, imported into auth).
    with mock.patch.object(
        botocore.auth, "get_current_datetime", return_value=at.replace(tzinfo=None)
    ):
        auth.add_auth(request)
    expected = at.strftime(SIGV4_TIMESTAMP)
    if request.context["timestamp"] != expected or request.headers["X-Amz-Date"] != expected:
        raise SystemExit(f"{name}: botocore did not sign at the fixed time {expected}")

    out = {header.lower(): request.headers.get(header) for header in OUTPUT}
    # The canonical request again, without the Authorization header just added (which
    # headers_to_sign would otherwise pick up).
    del request.headers["Authorization"]
    out["canonical_request"] = auth.canonical_request(request)
    return out


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
