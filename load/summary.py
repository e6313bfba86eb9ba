#!/usr/bin/env python3
"""Prints a table of k6 --summary-export files: requests/s, p95, p99 and failure rate."""
import json
import pathlib
import re
import sys

results = pathlib.Path(sys.argv[1])
print(f"{'scenario':<24} {'req/s':>10} {'p95 ms':>9} {'p99 ms':>9} {'failed':>8}")
rates = {}
for name in sys.argv[2:]:
    path = results / f"{name}.json"
    if not path.exists():
        print(f"{name:<24} {'(no result)':>10}")
        continue
    metrics = json.loads(path.read_text())["metrics"]
    rate = metrics["http_reqs"]["rate"]
    duration = metrics["http_req_duration"]
    failed = metrics.get("http_req_failed", {}).get("value", 0.0)
    rates[name] = rate
    print(f"{name:<24} {rate:>10.1f} {duration['p(95)']:>9.2f} {duration['p(99)']:>9.2f} {failed:>8.2%}")
    if "revocation_crossing_ms" in metrics:
        crossing = metrics["revocation_crossing_ms"]
        print(f"{'':<24} revoked on one instance, refused on the other after p95 {crossing['p(95)']:.0f} ms, max {crossing['max']:.0f} ms")
if "me" in rates and "hello" in rates:
    print(f"GET /user/me reaches {rates['me'] / rates['hello']:.0%} of the minimal hyper server's requests/s")
argon2 = results / "argon2.txt"
if "login" in rates and argon2.exists():
    ceiling = float(re.match(r"([\d.]+)", argon2.read_text()).group(1))
    print(f"login reaches {rates['login'] / ceiling:.0%} of {ceiling:.1f} argon2id verifications/s")
