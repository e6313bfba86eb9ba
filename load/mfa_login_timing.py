#!/usr/bin/env python3
"""End-to-end time of an MFA (TOTP) login against a running authd: POST /login, then
POST /mfa/choose, then POST /mfa/code. Standard library only.

    python3 load/mfa_login_timing.py [base_url] [users]
"""
import base64
import hashlib
import hmac
import json
import statistics
import struct
import sys
import time
import urllib.request
import uuid

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PASSWORD = "correct horse battery staple"


def call(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data) as response:
        return json.loads(response.read() or b"null")


def totp(secret_base32, at):
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def main():
    enrolled = []
    for _ in range(USERS):
        email = f"mfa-timing-{uuid.uuid4().hex}@example.com"
        call("POST", "/user", {"name": "Timing", "email": email, "password": PASSWORD})
        token = call("POST", "/login", {"email": email, "password": PASSWORD})["token"]
        factor = call("POST", "/mfa", {"strategy": "TOTP"}, token)
        call("POST", "/mfa/validate", {"id": factor["mfaId"], "code": totp(factor["secret"], time.time())}, token)
        enrolled.append((email, factor["secret"]))

    timings = []
    for email, secret in enrolled:
        started = time.perf_counter()
        challenge = call("POST", "/login", {"email": email, "password": PASSWORD})
        chosen = call("POST", "/mfa/choose", {"hash": challenge["hash"], "strategy": "TOTP"})
        # The validation spent the current step; the next one is within the accepted drift.
        credential = call("POST", "/mfa/code", {"hash": chosen["hash"], "code": totp(secret, time.time() + 30)})
        timings.append((time.perf_counter() - started) * 1000)
        assert credential["token"]
    timings.sort()
    print(f"MFA (TOTP) logins: {len(timings)}")
    print(f"  median {statistics.median(timings):.1f} ms, p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, "
          f"min {timings[0]:.1f} ms, max {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
