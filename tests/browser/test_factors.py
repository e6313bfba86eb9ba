"""Codes by text message from the account page, recovery codes shown once, and deleting
the account."""

from playwright.sync_api import expect

from conftest import screenshot
from pages import PASSWORD, expect_account_page, sign_in, sign_out

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
