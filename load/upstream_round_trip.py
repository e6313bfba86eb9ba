#!/usr/bin/env python3
"""Time of a "Continue with ..." round trip on loopback, and authd's own share of it.

Starts two authd processes from one binary, each on its own SQLite file: the upstream on
127.0.0.2 (an OpenID Connect provider with a first-party client for the other) and the
authd under test on 127.0.0.1 with `[upstream.corp]` pointing at it. One person signs in
at the upstream once; then, ROUNDS times, a browser with no session at the authd under
test goes the whole way: departure (302 to the upstream), the upstream's authorization
(straight back, the person being signed in there), and the callback (code exchange with
the upstream, ID token validation, the account found, a session opened). Each leg is timed
by the client; the servers' own histograms (`/metrics`) give the time inside each server,
so authd's share is its departure plus its callback minus the upstream's token endpoint.
Standard library only.

    cargo build --release && python3 load/upstream_round_trip.py [binary] [rounds]
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

BINARY = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/authd")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PASSWORD = "correct horse battery staple"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Cookies per host:port, no redirect followed."""

    def __init__(self):
        self.jar = {}

    def request(self, method, url, body=None, headers=None):
        parts = urllib.parse.urlsplit(url)
        site = parts.netloc
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = dict(headers or {})
        cookies = self.jar.get(site, {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        took = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.split(";")[0].partition("=")
                self.jar.setdefault(site, {})[key] = rest
        connection.close()
        location = response.getheader("Location")
        if location:
            location = urllib.parse.urljoin(url, location)
        return response.status, location, text, took


def start(binary, folder, listen, public_url, extra):
    env = dict(os.environ)
    env.update(
        AUTH_LISTEN=listen,
        AUTH_PUBLIC_URL=public_url,
        AUTH_DATABASE_URL=f"sqlite://{folder}/authd.db?mode=rwc",
        AUTH_LOG_FORMAT="json",
        RUST_LOG="warn",
        **extra,
    )
    process = subprocess.Popen([binary, "serve"], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host, port = listen.rsplit(":", 1)
    for _ in range(300):
        try:
            with socket.create_connection((host, int(port)), 0.2):
                return process, env
        except OSError:
            time.sleep(0.05)
    raise SystemExit("authd did not start")


def histogram(base, route):
    """(sum, count) of the HTTP duration histogram of `route` on the server at `base`."""
    _, _, text, _ = Browser().request("GET", base + "/metrics")
    total = count = 0.0
    for line in text.splitlines():
        if f'route="{route}"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if line.startswith("authd_http_request_duration_seconds_sum"):
            total += value
        elif line.startswith("authd_http_request_duration_seconds_count"):
            count += value
    return total, count


def main():
    up_folder, here_folder = tempfile.mkdtemp(), tempfile.mkdtemp()
    up_port, here_port = free_port(), free_port()
    up_base, here_base = f"http://127.0.0.2:{up_port}", f"http://127.0.0.1:{here_port}"
    callback = f"{here_base}/login/upstream/corp/callback"
    upstream, up_env = start(BINARY, up_folder, f"127.0.0.2:{up_port}", up_base, {})
    printed = subprocess.run(
        [BINARY, "client", "create", "--name", "Downstream", "--redirect-uri", callback, "--first-party"],
        cwd=up_folder, env=up_env, capture_output=True, text=True, check=True,
    ).stdout
    client = dict(line.split(" = ", 1) for line in printed.splitlines() if " = " in line)
    with open(f"{here_folder}/authd.toml", "w") as config:
        config.write(
            f'[upstream.corp]\nkind = "oidc"\nname = "Corp"\nissuer = "{up_base}"\n'
            f'client_id = "{client["client_id"]}"\nclient_secret = "{client["client_secret"]}"\n'
        )
    here, _ = start(BINARY, here_folder, f"127.0.0.1:{here_port}", here_base, {"AUTH_CONFIG": f"{here_folder}/authd.toml"})
    try:
        browser = Browser()
        body = json.dumps({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
        browser.request("POST", up_base + "/user", body, {"Content-Type": "application/json"})
        _, _, page, _ = browser.request("GET", up_base + "/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf": csrf, "email": "ada@example.com", "password": PASSWORD})
        browser.request("POST", up_base + "/ui/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Origin": up_base})

        legs = {"departure": [], "upstream authorize": [], "callback": [], "total": []}
        for round_ in range(ROUNDS + 1):
            browser.jar.pop(f"127.0.0.1:{here_port}", None)
            status, to_upstream, _, departure = browser.request("GET", here_base + "/login/upstream/corp")
            assert status == 302, status
            status, to_callback, _, authorize = browser.request("GET", to_upstream)
            assert to_callback and to_callback.startswith(callback), (status, to_callback)
            status, home, text, arrival = browser.request("GET", to_callback)
            assert status == 303 and home.endswith("/ui/account"), (status, home, text[:300])
            if round_ == 0:
                # The first round reads Discovery and the keys: left out, as a warm cache is the norm.
                base = {route: histogram(here_base, route) for route in ("/login/upstream/{id}", "/login/upstream/{id}/callback")}
                up_token = histogram(up_base, "/oauth2/token")
                continue
            for leg, took in zip(legs, (departure, authorize, arrival, departure + authorize + arrival)):
                legs[leg].append(took * 1000)

        def inside(base_url, route, before):
            total, count = histogram(base_url, route)
            return (total - before[0]) / (count - before[1]) * 1000

        departure_in = inside(here_base, "/login/upstream/{id}", base["/login/upstream/{id}"])
        callback_in = inside(here_base, "/login/upstream/{id}/callback", base["/login/upstream/{id}/callback"])
        token_in = inside(up_base, "/oauth2/token", up_token)
        print(f"{ROUNDS} warm round trips on loopback ({BINARY})")
        for leg, values in legs.items():
            values.sort()
            print(f"  {leg:20s} median {statistics.median(values):6.2f} ms   p95 {values[int(len(values) * 0.95) - 1]:6.2f} ms")
        print("inside the servers (mean, from their /metrics histograms):")
        print(f"  authd departure      {departure_in:6.2f} ms")
        print(f"  authd callback       {callback_in:6.2f} ms (includes the code exchange below)")
        print(f"  upstream /oauth2/token {token_in:6.2f} ms")
        print(f"authd's own share per sign-in: {departure_in + callback_in - token_in:6.2f} ms")
    finally:
        for process in (here, upstream):
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
