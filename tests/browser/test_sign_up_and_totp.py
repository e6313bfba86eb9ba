"""Sign up, verify the address from the e-mail, sign in, add an authenticator app,
sign out, and sign in again with the password and a code from the app."""

import time

import pytest
from playwright.sync_api import expect

from conftest import screenshot, totp
from pages import PASSWORD, expect_account_page, sign_in, sign_out, sign_up


@pytest.mark.authd_env(AUTH_EMAIL_VERIFICATION="required")
def test_a_new_account_verifies_its_address_and_signs_in_with_an_authenticator_app(authd, browser):
    page = browser().new_page()
    page.goto(authd.url("/ui/signup"))
    screenshot(page, "signup")
    sign_up(page, authd, "ada@example.com")

    sign_in(page, authd, "ada@example.com")
    expect(page.get_by_text("Verify your e-mail address first")).to_be_visible()

    # The refused sign-in sends a new link, which voids the one from the sign-up: wait for
    # it, or the older link may be the newest one here yet.
    deadline = time.monotonic() + 10
    while authd.inbox.count_to("ada@example.com") < 2:
        assert time.monotonic() < deadline, "no second verification e-mail"
        time.sleep(0.05)
    page.goto(authd.inbox.wait_for_link("ada@example.com", "/user/verify"))
    expect(page.get_by_text("Your e-mail address is verified.")).to_be_visible()

    page.goto(authd.url("/ui/login"))
    screenshot(page, "login")
    sign_in(page, authd, "ada@example.com")
    expect_account_page(page)
    expect(page.get_by_text("Your e-mail address is verified.")).to_be_visible()

    page.get_by_role("button", name="Add an authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    screenshot(page, "enrol-totp")
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    page.get_by_label("Code").fill(totp(secret))
    page.get_by_role("button", name="Turn it on").click()
    expect(page.get_by_text("The second factor is on.")).to_be_visible()
    expect(page.get_by_text("Authenticator app", exact=True)).to_be_visible()
    screenshot(page, "account")

    sign_out(page)

    sign_in(page, authd, "ada@example.com")
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    screenshot(page, "mfa")
    page.get_by_label("A code from your authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill("000000" if totp(secret) != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    # The code that turned the factor on is used up: the next time step's code signs in.
    page.get_by_label("Code").fill(totp(secret, time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect_account_page(page)


def test_the_pages_fit_a_phone(authd, browser):
    page = browser(viewport={"width": 320, "height": 640}).new_page()
    sign_up(page, authd, "grace@example.com")
    sign_in(page, authd, "grace@example.com")
    expect_account_page(page)
    for path in ["/ui/account", "/ui/login", "/ui/signup", "/ui/forgot"]:
        page.goto(authd.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width}px wide at 320px"
    page.goto(authd.url("/ui/account"))
    screenshot(page, "account-phone")


def test_a_wrong_password_is_said_in_words_on_the_page(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "alan@example.com")
    sign_in(page, authd, "alan@example.com", password="not the password")
    expect(page.get_by_role("alert")).to_have_text("The e-mail address or the password is wrong.")
    assert page.get_by_label("E-mail address").input_value() == "alan@example.com"
    sign_in(page, authd, "alan@example.com", password=PASSWORD)
    expect_account_page(page)


def test_the_pages_work_without_javascript(authd, browser):
    page = browser(java_script_enabled=False).new_page()
    sign_up(page, authd, "joan@example.com")
    page.goto(authd.url("/ui/login"))
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    sign_in(page, authd, "joan@example.com")
    expect_account_page(page)
    page.get_by_label("Name", exact=True).fill("Joan Clarke")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    assert page.get_by_label("Name", exact=True).input_value() == "Joan Clarke"
