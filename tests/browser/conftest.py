"""The browser suite's harness: the real authd binary on a random port with its own data
folder, a real SMTP server (aiosmtpd) and a fake Twilio on loopback, and Debian's Chromium
driven by Playwright. Each test gets a fresh server, so tests never share accounts.

Run by scripts/browser-tests.sh (`make test`, `make ci`); AUTHD_BINARY names the binary.
"""

import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time
import base64
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
# `make screenshots` points this at docs/screenshots, the pictures the README shows.
SCREENSHOTS = ROOT / os.environ.get("AUTH_TEST_SCREENSHOTS", "target/screenshots")
CHROMIUM = os.environ.get("AUTH_TEST_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic finds a closed network here; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TWILIO_SID = "AC00000000000000000000000000000000"
TWILIO_TOKEN = "browser-suite-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """Every e-mail the SMTP server received, as parsed messages."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.rcpt_tos, message))
            self.lock.notify_all()
        return "250 OK"

    def wait_for_link(self, to, path, timeout=10.0):
        """The first link to `path` in a message to `to`, waiting for it to arrive."""
        pattern = re.compile(r"https?://[^\s\"'<>]+" + re.escape(path) + r"\?hash=[A-Za-z0-9_\-]+")
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for rcpt, message in reversed(self.messages):
                    if to in rcpt:
                        found = pattern.search(message.get_body(("plain",)).get_content())
                        if found:
                            return found.group(0)
                left = deadline - time.monotonic()
                assert left > 0, f"no e-mail to {to} with a {path} link"
                self.lock.wait(left)

    def count_to(self, to):
        with self.lock:
            return sum(1 for rcpt, _ in self.messages if to in rcpt)


class FakeTwilio(ThreadingHTTPServer):
    """Twilio's Messages endpoint, keeping what it is asked to send."""

    def __init__(self):
        self.sent = []
        super().__init__(("127.0.0.1", 0), TwilioHandler)


    def wait_for_code(self, to, skip=0, timeout=10.0):
        """The 6-digit code in the message to `to` after the first `skip` ones."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bodies = [m["Body"] for m in self.sent if m.get("To", "").endswith(to)]
            if len(bodies) > skip:
                return re.search(r"\b(\d{6})\b", bodies[skip]).group(1)
            time.sleep(0.05)
        raise AssertionError(f"no text message to {to}")


class TwilioHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        status, body = 401, {"code": 20003}
        if self.headers.get("authorization") == expected:
            self.server.sent.append({k: v[0] for k, v in form.items()})
            status, body = 201, {"sid": "SM" + "0" * 32, "status": "queued"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class Authd:
    """A running authd: its base URL (on `localhost`, where WebAuthn works) and its mail."""

    def __init__(self, base, inbox, twilio, process, folder, binary, env):
        self.base = base
        self.inbox = inbox
        self.twilio = twilio
        self.process = process
        self.folder = folder
        self.binary = binary
        self.env = env

    def url(self, path):
        return self.base + path

    def cli(self, *args):
        """Runs `authd <args>` on this server's data, as its operator would; its output."""
        done = subprocess.run(
            [self.binary, *args], cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def register_client(self, *args):
        """`authd client create <args>`: the new client's id and secret (None when public)."""
        printed = dict(
            line.split(" = ", 1) for line in self.cli("client", "create", *args).splitlines() if " = " in line
        )
        return printed["client_id"], printed.get("client_secret")


@pytest.fixture
def authd(request):
    """A fresh authd; a test marked `authd_env(KEY=value)` sets more of its environment."""
    binary = str((ROOT / os.environ.get("AUTHD_BINARY", "target/debug/authd")).resolve())
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    twilio = FakeTwilio()
    threading.Thread(target=twilio.serve_forever, daemon=True).start()
    port = free_port()
    base = f"http://localhost:{port}"
    folder = tempfile.TemporaryDirectory(prefix="authd-browser-")
    env = dict(os.environ)
    env.update(
        AUTH_LISTEN=f"127.0.0.1:{port}",
        AUTH_PUBLIC_URL=base,
        AUTH_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
        AUTH_TWILIO_ACCOUNT_SID=TWILIO_SID,
        AUTH_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        AUTH_TWILIO_FROM="+15005550006",
        AUTH_TWILIO_BASE_URL=f"http://127.0.0.1:{twilio.server_address[1]}",
        AUTH_OIDC_RSA_KEY_FILE=str(ROOT / "tests" / "fixtures" / "oidc-rsa.pem"),
        AUTH_ARGON2_MEMORY_KIB="1024",
        AUTH_ARGON2_ITERATIONS="1",
        AUTH_NOTIFY_POLL_MS="100",
        AUTH_REVOCATION_CATCH_UP_MS="200",
        AUTH_LOG_FORMAT="json",
        RUST_LOG="warn",
    )
    marker = request.node.get_closest_marker("authd_env")
    if marker:
        env.update(marker.kwargs)
    # A test that needs a configuration file (upstream providers) names it by this fixture.
    if "authd_config_file" in request.fixturenames:
        env["AUTH_CONFIG"] = str(request.getfixturevalue("authd_config_file"))
    log = open(Path(folder.name) / "server.log", "w")
    process = subprocess.Popen([binary, "serve"], cwd=folder.name, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health/ready", process)
        yield Authd(base, inbox, twilio, process, folder.name, binary, env)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        smtp.stop()
        twilio.shutdown()
        folder.cleanup()


def wait_ready(url, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "authd exited at start-up"
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("authd did not become ready")


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    """A browser context of its own (its own cookies), closed after the test."""
    contexts = []

    def open_context(**options):
        options.setdefault("viewport", {"width": 1024, "height": 900})
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def screenshot(page, name):
    """Keeps a picture of the page (for the README: `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def totp(secret_base32, at=None):
    """The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret_base32` at `at`."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def pytest_configure(config):
    config.addinivalue_line("markers", "authd_env(**env): more environment for the test's authd")
