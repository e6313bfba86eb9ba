"""A passkey added on the account page signs in without a password, through Chromium's
virtual authenticator (the DevTools WebAuthn domain)."""

from playwright.sync_api import expect

from pages import expect_account_page, sign_in, sign_out, sign_up


def virtual_authenticator(page):
    """A platform authenticator that holds discoverable credentials and verifies its user."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    found = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return devtools, found["authenticatorId"]


def test_a_passkey_signs_in_without_a_password(authd, browser):
    page = browser().new_page()
    devtools, authenticator = virtual_authenticator(page)
    sign_up(page, authd, "barbara@example.com")
    sign_in(page, authd, "barbara@example.com")
    expect_account_page(page)

    page.get_by_label("Passkey name").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_text("The second factor is on.")).to_be_visible()
    expect(page.get_by_text("Passkey “Work laptop”")).to_be_visible()
    stored = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    sign_out(page)
    page.goto(authd.url("/ui/login"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect_account_page(page)
    expect(page.get_by_text("Signed in").first).to_be_visible()


def test_a_passkey_is_a_second_factor_after_the_password(authd, browser):
    page = browser().new_page()
    virtual_authenticator(page)
    sign_up(page, authd, "frances@example.com")
    sign_in(page, authd, "frances@example.com")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_text("The second factor is on.")).to_be_visible()
    sign_out(page)

    sign_in(page, authd, "frances@example.com")
    page.get_by_label("Your passkey").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Use my passkey").click()
    expect_account_page(page)
