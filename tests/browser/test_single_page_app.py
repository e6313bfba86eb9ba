"""oidc-client-ts (npm), unchanged, in a single-page application on an origin of its own:
sign-in through the hosted pages with PKCE as a public client, then the refresh and the
revocation, each a cross-origin call from the browser that only CORS lets through."""

import functools
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from conftest import ROOT
from pages import PASSWORD, sign_up

BUNDLE = ROOT / "tests" / "oidc" / "node_modules" / "oidc-client-ts" / "dist" / "browser" / "oidc-client-ts.min.js"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def album():
    """The application's files served on 127.0.0.1 (authd is on `localhost`: another origin)."""
    assert BUNDLE.exists(), "oidc-client-ts is missing: run scripts/oidc-deps.sh"
    folder = Path(tempfile.mkdtemp(prefix="authd-spa-"))
    for page in (ROOT / "tests" / "browser" / "spa").iterdir():
        shutil.copy(page, folder)
    shutil.copy(BUNDLE, folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.folder = folder
    server.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


def configure(album, authd, client_id):
    (album.folder / "config.js").write_text(
        "function albumUsers() {\n"
        "  return new oidc.UserManager({\n"
        f"    authority: {authd.base!r}, client_id: {client_id!r},\n"
        f"    redirect_uri: {album.origin + '/callback.html'!r},\n"
        "    scope: 'openid email profile offline_access', loadUserInfo: true,\n"
        "  });\n"
        "}\n"
    )


def test_a_single_page_app_on_another_origin_signs_in_refreshes_and_revokes(authd, browser, album):
    page = browser().new_page()
    sign_up(page, authd, "ada@example.com", name="Ada Lovelace")
    client_id, secret = authd.register_client(
        "--name", "Photo album", "--public", "--redirect-uri", album.origin + "/callback.html"
    )
    assert secret is None
    configure(album, authd, client_id)

    page.goto(album.origin + "/index.html")
    page.get_by_role("button", name="Sign in with authd").click()
    page.get_by_label("E-mail address").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Photo album", exact=True)).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(album.origin + "/callback.html*")
    expect(page.locator("#status")).to_have_text("signed in")
    # The e-mail address comes from userinfo, fetched by the application across origins.
    expect(page.locator("#who")).to_have_text("ada@example.com")
    first = page.evaluate("window.tokens")

    page.get_by_role("button", name="Stay signed in").click()
    expect(page.locator("#status")).to_have_text("refreshed")
    refreshed = page.evaluate("window.tokens")
    assert refreshed["access"] != first["access"]

    page.get_by_role("button", name="Forget me").click()
    expect(page.locator("#status")).to_have_text("revoked")
    answer = requests.post(
        authd.url("/oauth2/token"),
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh"], "client_id": client_id},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_an_origin_no_client_registered_gets_no_cors_answer(authd, album):
    authd.register_client("--name", "Photo album", "--public", "--redirect-uri", album.origin + "/callback.html")
    for origin, allowed in ((album.origin, True), ("http://127.0.0.1:9", False)):
        answer = requests.options(
            authd.url("/oauth2/token"),
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert (answer.headers.get("access-control-allow-origin") == origin) is allowed
