"""Authlib (PyPI), unchanged, as a server-side application: the authorization code with
PKCE through the hosted pages, the ID token checked as Authlib checks it, userinfo with
the token in the header and in the form body, a refresh that brings a new ID token,
introspection and revocation."""

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken
from playwright.sync_api import expect

from conftest import free_port
from pages import PASSWORD, sign_up

SCOPE = "openid email profile offline_access"


def id_token_claims(token, metadata, client_id, nonce=None):
    """The ID token's claims, validated by Authlib (signature, iss, aud, exp, iat, nonce, at_hash)."""
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "values": [metadata["issuer"]]}},
        claims_params={"client_id": client_id, "nonce": nonce, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    return claims


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_authlib_signs_in_reads_userinfo_refreshes_and_revokes(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "ada@example.com", name="Ada Lovelace")
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    client_id, secret = authd.register_client("--name", "Notebook", "--redirect-uri", redirect)
    metadata = requests.get(authd.url("/.well-known/openid-configuration"), timeout=10).json()

    app = OAuth2Session(client_id, secret, scope=SCOPE, redirect_uri=redirect, code_challenge_method="S256")
    verifier, nonce = generate_token(48), generate_token(20)
    url, _state = app.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)

    # Nothing listens at the redirect URI: the browser's arrival there is the answer.
    arrived = []
    page.route(redirect + "*", lambda route: (arrived.append(route.request.url), route.fulfill(body="signed in")))
    page.goto(url)
    page.get_by_label("E-mail address").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Notebook", exact=True)).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("signed in")).to_be_visible()

    token = app.fetch_token(metadata["token_endpoint"], authorization_response=arrived[0], code_verifier=verifier)
    claims = id_token_claims(token, metadata, client_id, nonce)
    assert claims["email"] == "ada@example.com" and claims["name"] == "Ada Lovelace"

    by_header = app.get(metadata["userinfo_endpoint"], timeout=10)
    assert by_header.status_code == 200 and by_header.json()["email"] == "ada@example.com"
    in_body = OAuth2Session(client_id, secret, token=token, token_placement="body")
    by_body = in_body.post(metadata["userinfo_endpoint"], timeout=10)
    assert by_body.status_code == 200, by_body.text
    assert by_body.json()["sub"] == claims["sub"]

    refreshed = app.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    again = id_token_claims(refreshed, metadata, client_id)
    assert again["sub"] == claims["sub"] and again["email"] == "ada@example.com"

    seen = app.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert seen["active"] is True and seen["client_id"] == client_id and seen["sub"] == claims["sub"]

    app.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
    with pytest.raises(OAuthError) as refused:
        app.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert refused.value.error == "invalid_grant"
    seen = app.introspect_token(metadata["introspection_endpoint"], token=refreshed["access_token"]).json()
    assert seen == {"active": False}
