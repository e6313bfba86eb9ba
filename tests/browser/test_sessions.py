"""Two browsers signed in to one account: one signs the other out from the account page."""

import time

from playwright.sync_api import expect

from pages import expect_account_page, sign_in, sign_up


def test_a_session_ended_from_another_browser_is_signed_out_within_a_second(authd, browser):
    laptop = browser(user_agent="Laptop browser").new_page()
    phone = browser(user_agent="Phone browser").new_page()
    sign_up(laptop, authd, "katherine@example.com")
    sign_in(laptop, authd, "katherine@example.com")
    sign_in(phone, authd, "katherine@example.com")
    expect_account_page(phone)

    laptop.goto(authd.url("/ui/account"))
    phone_row = laptop.locator("ul.rows li", has_text="Phone browser")
    expect(phone_row).to_have_count(1)
    phone_row.get_by_role("button", name="Sign out").click()
    ended = time.monotonic()
    expect(laptop.get_by_text("That session is signed out.")).to_be_visible()
    expect(laptop.locator("ul.rows li", has_text="Phone browser")).to_have_count(0)

    phone.goto(authd.url("/ui/account"))
    assert time.monotonic() - ended < 1.0
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/ui/login" in phone.url

    laptop.goto(authd.url("/ui/account"))
    expect_account_page(laptop)
