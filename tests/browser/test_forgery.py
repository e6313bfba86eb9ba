"""What another site cannot make a signed-in browser do."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect

from pages import NEW_PASSWORD, PASSWORD, expect_account_page, sign_in, sign_up


def evil_site(form_html):
    """A page on another origin (127.0.0.1 on its own port) serving `form_html`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = form_html.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_form_posted_from_another_site_is_refused(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "margaret@example.com")
    sign_in(page, authd, "margaret@example.com")
    expect_account_page(page)
    token = page.locator("input[name=csrf]").first.input_value()

    forged = f"""<!doctype html><form method="post" action="{authd.url('/ui/account/password')}">
      <input name="csrf" value="{token}"><input name="current_password" value="{PASSWORD}">
      <input name="password" value="{NEW_PASSWORD}"><button>Win a prize</button></form>"""
    site = evil_site(forged)
    try:
        page.goto(f"http://127.0.0.1:{site.server_address[1]}/")
        page.get_by_role("button", name="Win a prize").click()
        expect(page.get_by_text("This form did not come from this site")).to_be_visible()
    finally:
        site.shutdown()

    page.goto(authd.url("/ui/account"))
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    sign_in(page, authd, "margaret@example.com", password=PASSWORD)
    expect_account_page(page)


def test_a_form_without_its_token_is_refused(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "hedy@example.com")
    sign_in(page, authd, "hedy@example.com")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')")
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("This form did not come from this site")).to_be_visible()
    page.goto(authd.url("/ui/account"))
    expect_account_page(page)


def test_return_to_another_site_is_ignored(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "radia@example.com")
    sign_in(page, authd, "radia@example.com", return_to="https://evil.example/")
    expect_account_page(page)
    assert page.url == authd.url("/ui/account")


def test_return_to_an_own_page_is_followed(authd, browser):
    page = browser().new_page()
    sign_up(page, authd, "annie@example.com")
    page.goto(authd.url("/ui/account"))
    assert "/ui/login?return_to=" in page.url
    page.get_by_label("E-mail address").fill("annie@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_account_page(page)
    assert page.url == authd.url("/ui/account")
