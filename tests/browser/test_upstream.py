"""Continue with ...: panva's oidc-provider (npm, an OpenID Certified provider, unchanged)
is the upstream, with its own sign-in and consent pages. A person signs in with it and gets
an account; another connects it to their account and disconnects it; an application of
authd gets authd's ID token for a person who signed in upstream."""

import base64
import json
import subprocess
import time
import urllib.request

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import expect

from conftest import ROOT, free_port, screenshot
from pages import expect_account_page, sign_in, sign_out, sign_up

PROVIDER = ROOT / "tests" / "oidc" / "upstream-provider.mjs"
CLIENT_ID, CLIENT_SECRET = "authd", "browser-suite-upstream-secret"


@pytest.fixture
def upstream_port():
    return free_port()


@pytest.fixture
def authd_config_file(tmp_path, upstream_port):
    """The configuration file naming the upstream (read by the `authd` fixture)."""
    path = tmp_path / "authd.toml"
    path.write_text(
        "[upstream.corp]\n"
        'kind = "oidc"\n'
        'name = "Corp SSO"\n'
        f'issuer = "http://127.0.0.1:{upstream_port}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
    )
    return path


@pytest.fixture
def upstream(authd_config_file, authd, upstream_port):
    """oidc-provider on 127.0.0.1 (authd is on `localhost`, so their cookies stay apart)."""
    assert (ROOT / "tests" / "oidc" / "node_modules" / "oidc-provider").exists(), "run scripts/oidc-deps.sh"
    callback = authd.url("/login/upstream/corp/callback")
    process = subprocess.Popen(
        ["node", str(PROVIDER), str(upstream_port), CLIENT_ID, CLIENT_SECRET, callback],
        cwd=PROVIDER.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{upstream_port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=1):
                break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "oidc-provider did not start"
            time.sleep(0.1)
    yield issuer
    process.terminate()
    process.wait(timeout=10)


def sign_in_upstream(page, login):
    """The person at oidc-provider's own pages: its sign-in, then its consent."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("whatever the provider asks")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_a_person_continues_with_the_upstream_and_gets_an_account(authd, upstream, browser):
    page = browser().new_page()
    page.goto(authd.url("/ui/login"))
    screenshot(page, "login-with-upstream")
    page.get_by_role("link", name="Continue with Corp SSO").click()
    assert page.url.startswith(upstream), page.url
    sign_in_upstream(page, "grace@example.com")
    expect(page).to_have_url(authd.url("/ui/account"))
    connected = page.locator("section", has=page.get_by_role("heading", name="Connected accounts"))
    expect(connected.get_by_text("Corp SSO", exact=True)).to_be_visible()
    expect(connected.get_by_text("grace@example.com")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Upstream grace")
    expect(page.get_by_text("Your e-mail address is verified.")).to_be_visible()

    # Its only way in: disconnecting it is refused, with a message.
    connected.get_by_role("button", name="Disconnect Corp SSO").click()
    expect(page.get_by_text("last way to sign in")).to_be_visible()


def test_a_person_connects_and_disconnects_the_upstream_on_the_account_page(authd, upstream, browser):
    page = browser().new_page()
    sign_up(page, authd, "ada@example.com", name="Ada Lovelace")
    sign_in(page, authd, "ada@example.com")
    expect_account_page(page)
    page.get_by_role("link", name="Connect Corp SSO").click()
    sign_in_upstream(page, "ada.at.corp@example.com")
    expect(page.get_by_text("is connected")).to_be_visible()
    connected = page.locator("section", has=page.get_by_role("heading", name="Connected accounts"))
    expect(connected.get_by_text("ada.at.corp@example.com")).to_be_visible()
    screenshot(page, "connected-accounts")

    # Signed out, the upstream now signs Ada in to the same account.
    sign_out(page)
    page.goto(authd.url("/ui/login"))
    page.get_by_role("link", name="Continue with Corp SSO").click()
    expect(page).to_have_url(authd.url("/ui/account"))
    expect(page.get_by_label("E-mail address", exact=True)).to_have_value("ada@example.com")

    connected = page.locator("section", has=page.get_by_role("heading", name="Connected accounts"))
    connected.get_by_role("button", name="Disconnect Corp SSO").click()
    expect(page.get_by_text("is disconnected")).to_be_visible()
    expect(page.get_by_role("link", name="Connect Corp SSO")).to_be_visible()


def test_an_application_of_authd_gets_its_id_token_for_an_upstream_sign_in(authd, upstream, browser):
    page = browser().new_page()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    client_id, secret = authd.register_client("--name", "Notebook", "--redirect-uri", redirect)
    metadata = requests.get(authd.url("/.well-known/openid-configuration"), timeout=10).json()
    app = OAuth2Session(client_id, secret, scope="openid email profile", redirect_uri=redirect, code_challenge_method="S256")
    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = app.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    arrived = []
    page.route(redirect + "*", lambda route: (arrived.append(route.request.url), route.fulfill(body="signed in")))

    page.goto(url)
    page.get_by_role("link", name="Continue with Corp SSO").click()
    sign_in_upstream(page, "linus@example.com")
    expect(page.get_by_text("Notebook", exact=True)).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("signed in")).to_be_visible()

    token = app.fetch_token(metadata["token_endpoint"], authorization_response=arrived[0], code_verifier=verifier)
    payload = token["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == metadata["issuer"] and claims["aud"] == client_id and claims["nonce"] == nonce
    assert claims["email"] == "linus@example.com"
    assert claims["amr"] == ["fed"], claims
