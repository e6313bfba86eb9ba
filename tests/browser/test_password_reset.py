"""A forgotten password: the e-mailed link sets a new one; the old one stops working."""

from playwright.sync_api import expect

from conftest import screenshot
from pages import NEW_PASSWORD, PASSWORD, expect_account_page, sign_in, sign_up


def test_a_reset_link_replaces_the_password(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "edsger@example.com")

    page.goto(authd.url("/ui/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    screenshot(page, "forgot")
    page.get_by_label("E-mail address").fill("edsger@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("a link to choose a new password is on its way")).to_be_visible()

    link = authd.inbox.wait_for_link("edsger@example.com", "/password/recover")
    page.goto(link)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("The two passwords differ.")).to_be_visible()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("The same password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()

    page.goto(link)
    page.get_by_label("New password").fill("another fresh passphrase 9")
    page.get_by_label("The same password again").fill("another fresh passphrase 9")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("This link has expired or was used already.")).to_be_visible()

    sign_in(page, authd, "edsger@example.com", password=PASSWORD)
    expect(page.get_by_text("The e-mail address or the password is wrong.")).to_be_visible()
    sign_in(page, authd, "edsger@example.com", password=NEW_PASSWORD)
    expect_account_page(page)
