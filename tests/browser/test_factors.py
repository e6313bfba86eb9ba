"""Codes by text message from the account page, recovery codes shown once, deleting the
account, and the password asked again before a factor goes."""

import time

import pytest
from playwright.sync_api import expect

from conftest import screenshot
from pages import PASSWORD, add_authenticator_app, expect_account_page, sign_in, sign_out, sign_up

PHONE = "+447700900123"


def test_codes_by_text_message_and_a_recovery_code_sign_in(authd, browser):
    page = browser().new_page()
    page.goto(authd.url("/ui/signup"))
    page.get_by_label("Your name").fill("Mary Somerville")
    page.get_by_label("E-mail address").fill("mary@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Mobile number (optional)").fill(PHONE)
    page.get_by_role("button", name="Create account").click()
    sign_in(page, authd, "mary@example.com")
    expect_account_page(page)

    page.get_by_label("Codes to my phone by").select_option("sms")
    page.get_by_role("button", name="Add codes by phone").click()
    page.get_by_label("Code").fill(authd.twilio.wait_for_code(PHONE))
    page.get_by_role("button", name="Turn it on").click()
    expect(page.get_by_text("Codes by text message", exact=True)).to_be_visible()

    page.get_by_role("button", name="Make new recovery codes").click()
    codes = [c.strip() for c in page.locator("ul.codes code").all_inner_texts()]
    assert len(codes) >= 8 and len(set(codes)) == len(codes)
    screenshot(page, "recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    sign_out(page)

    sign_in(page, authd, "mary@example.com")
    page.get_by_label("A code by text message").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(authd.twilio.wait_for_code(PHONE, skip=1))
    page.get_by_role("button", name="Sign in").click()
    expect_account_page(page)
    sign_out(page)

    for attempt, expected in [(codes[0], "signed in"), (codes[0], "refused")]:
        sign_in(page, authd, "mary@example.com")
        page.get_by_label("A recovery code").check()
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Recovery code").fill(attempt)
        page.get_by_role("button", name="Sign in").click()
        if expected == "signed in":
            expect_account_page(page)
            sign_out(page)
        else:
            expect(page.get_by_text("That code is not right.")).to_be_visible()


def test_an_account_deleted_from_its_page_is_gone(authd, browser):
    page = browser().new_page()
    page.goto(authd.url("/ui/signup"))
    page.get_by_label("Your name").fill("Sophie Germain")
    page.get_by_label("E-mail address").fill("sophie@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    sign_in(page, authd, "sophie@example.com")

    page.get_by_label("Your password, to confirm").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()

    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account and everything it held are deleted.")).to_be_visible()

    sign_in(page, authd, "sophie@example.com")
    expect(page.get_by_text("The e-mail address or the password is wrong.")).to_be_visible()


@pytest.mark.authd_env(AUTH_REAUTH_WINDOW_SECS="1")
def test_removing_a_factor_a_while_after_signing_in_asks_for_the_password_first(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "emmy@example.com", name="Emmy Noether")
    sign_in(page, authd, "emmy@example.com")
    expect_account_page(page)
    add_authenticator_app(page)
    time.sleep(2.1)  # the sign-in is no longer recent (a window of one second here)

    page.get_by_role("button", name="Remove Authenticator app").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    screenshot(page, "confirm-it-is-you")
    page.get_by_label("Your password", exact=True).fill("not my password at all")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    expect(page.get_by_text("Authenticator app", exact=True)).to_be_visible()

    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("For the next few minutes you can remove factors")).to_be_visible()
    page.get_by_role("button", name="Remove Authenticator app").click()
    expect(page.get_by_text("None yet.")).to_be_visible()
