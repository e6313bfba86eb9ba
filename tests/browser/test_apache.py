"""Apache httpd with mod_auth_openidc, unchanged, as authd's relying party: a person opens
an application behind Apache, signs in on authd's pages with a password and an
authenticator app, allows the application, and is let in; and as a resource server that
checks an application's bearer token by introspection, letting in only tokens meant for
its API."""

import os
import time

import pytest
import requests
from playwright.sync_api import expect

from apache import APACHE, Apache
from pages import PASSWORD, add_authenticator_app, expect_account_page, second_step_with_app, sign_in, sign_out, sign_up


@pytest.fixture
def apache():
    """An Apache whose port is chosen (`start` runs it), stopped after the test."""
    if not os.access(APACHE, os.X_OK):
        assert not os.environ.get("AUTH_TEST_REQUIRE_BROWSER"), f"no Apache at {APACHE}: run make browser/deps"
        pytest.skip(f"no Apache at {APACHE} (make browser/deps installs it)")
    server = Apache()
    yield server
    if server.process and server.process.poll() is not None:
        print(server.log())
    server.stop()


def test_a_person_signs_in_to_an_application_behind_apache_with_a_second_factor(authd, browser, apache):
    page = browser().new_page()
    sign_up(page, authd, "grace@example.com", name="Grace Hopper")
    sign_in(page, authd, "grace@example.com")
    expect_account_page(page)
    secret = add_authenticator_app(page)
    sign_out(page)

    wiki = authd.register_client("--name", "Wiki", "--redirect-uri", apache.url("/app/redirect_uri"))
    apache.start(authd, app=wiki)

    page.goto(apache.url("/app/whoami"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail address").fill("grace@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    # The code that turned the app on is used up: the next time step's code signs in.
    second_step_with_app(page, secret, time.time() + 30)
    expect(page.get_by_text("Wiki", exact=True)).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(apache.url("/app/whoami"))
    seen = page.locator("body").inner_text()
    assert "REMOTE_USER=grace@example.com" in seen, apache.log()
    assert "OIDC_CLAIM_name=Grace Hopper" in seen
    assert "OIDC_CLAIM_email_verified" in seen

    # The session Apache keeps lets the person back in without another visit to authd.
    page.goto(apache.url("/app/whoami"))
    assert "REMOTE_USER=grace@example.com" in page.locator("body").inner_text()


def test_apache_lets_in_only_the_tokens_meant_for_its_api(authd, apache):
    api = authd.register_client("--name", "Reports API", "--resource", apache.url("/api"), "--grant", "client_credentials")
    job = authd.register_client("--name", "Nightly job", "--grant", "client_credentials")
    apache.start(authd, api=api)

    def token(**extra):
        answer = requests.post(
            authd.url("/oauth2/token"), auth=job, data={"grant_type": "client_credentials", **extra}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    meant_for_api = token(resource=apache.url("/api"))
    answer = requests.get(apache.url("/api/whoami"), headers={"Authorization": f"Bearer {meant_for_api}"}, timeout=10)
    assert answer.status_code == 200, apache.log()
    assert f"REMOTE_USER={job[0]}" in answer.text

    for refused in (token(), "not-a-token"):
        answer = requests.get(apache.url("/api/whoami"), headers={"Authorization": f"Bearer {refused}"}, timeout=10)
        assert answer.status_code == 401, answer.text

    # Revoked at authd, the token no longer opens the API.
    requests.post(authd.url("/oauth2/revoke"), auth=job, data={"token": meant_for_api}, timeout=10)
    answer = requests.get(apache.url("/api/whoami"), headers={"Authorization": f"Bearer {meant_for_api}"}, timeout=10)
    assert answer.status_code == 401
