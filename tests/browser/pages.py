"""What a person does on the hosted pages, as steps the tests share."""

from playwright.sync_api import Page, expect

from conftest import totp

PASSWORD = "plum lantern orbit 47"
NEW_PASSWORD = "quiet harbour violet 83"


def sign_up(page: Page, authd, email, name="Ada Lovelace", password=PASSWORD):
    page.goto(authd.url("/ui/signup"))
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your account is ready")).to_be_visible()


def sign_in(page: Page, authd, email, password=PASSWORD, return_to=None):
    path = "/ui/login" + (f"?return_to={return_to}" if return_to else "")
    page.goto(authd.url(path))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_account_page(page: Page):
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()


def sign_out(page: Page):
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out of this browser.")).to_be_visible()


def add_authenticator_app(page: Page):
    """On the account page: turns on an authenticator app; its secret (for `totp`)."""
    page.get_by_role("button", name="Add an authenticator app").click()
    secret = page.locator("[data-totp-secret]").inner_text().strip()
    page.get_by_label("Code").fill(totp(secret))
    page.get_by_role("button", name="Turn it on").click()
    expect(page.get_by_text("The second factor is on.")).to_be_visible()
    return secret


def second_step_with_app(page: Page, secret, at):
    """On the "Second step" page: signs in with the app's code of time `at`."""
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    page.get_by_label("A code from your authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(totp(secret, at))
    page.get_by_role("button", name="Sign in").click()
