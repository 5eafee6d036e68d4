"""Accounts over real HTTP: a second factor (turned on with a code, asked
for after the password, throttled, codes good once, recovery codes, the
half-signed-in state's five minutes, the admin's reset), open registration,
a user's settings applied to the pages, and the web app manifest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import httpx
import pyotp
import pytest
from httpserver import LocalServer
from httpserver import Reply
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import RSS
from test_web import client
from test_web import feed_xml
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import SignedIn
from lenta.core import make_lenta
from lenta.exceptions import UserNotFoundError
from lenta.site_settings import SiteSettings
from lenta.types import User
from lenta.user_settings import UserSettings
from lenta.web import create_app
from lenta.web.account import HashGate

NOW = datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC)  # ten seconds into a 30-second step


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(settings: Settings, clock: Clock) -> Iterator[tuple[AppServer, Lenta]]:
    lenta = make_lenta(settings, clock=clock)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user("anna", PASSWORD)
    with AppServer(create_app(settings, lenta)) as web:
        yield web, lenta
    lenta.close()


@contextlib.contextmanager
def signed_in(web: AppServer, name: str = "anna", language: str = "en") -> Iterator[httpx.Client]:
    with client(web, language) as http:
        sign_in(http, name)
        yield http


def password_step(http: httpx.Client, name: str = "anna", destination: str = "/reader") -> httpx.Response:
    token = form_token(http.get("/user/login").text)
    return http.post("/user/login", data={"csrf_token": token, "name": name, "pass": PASSWORD, "destination": destination})


def code_step(http: httpx.Client, code: str, destination: str = "/reader") -> httpx.Response:
    page = http.get("/user/login/code")
    token = form_token(page.text) if page.status_code == 200 else form_token(http.get("/user/login").text)
    return http.post("/user/login/code", data={"csrf_token": token, "code": code, "destination": destination})


def turn_on(web: AppServer, clock: Clock) -> tuple[str, list[str]]:
    """Anna turns her second factor on; returns its secret and recovery codes."""
    with signed_in(web) as http:
        page = http.get("/user/two-factor")
        secret_match = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page.text)
        assert secret_match, page.text
        secret = secret_match.group(1)
        uri = parse_page(page.text).cssselect("code.totp-uri")[0].text_content()
        assert pyotp.parse_uri(uri).secret == secret
        token = form_token(page.text)
        wrong = http.post("/user/two-factor/enable", data={"csrf_token": token, "code": wrong_code(secret, clock.now)})
        assert wrong.status_code == 400 and "The code is not right" in wrong.text
        assert "Second factor" in http.get("/user/settings").text
        no_csrf = http.post("/user/two-factor/enable", data={"code": pyotp.TOTP(secret).at(clock.now)})
        assert no_csrf.status_code == 403
        shown = http.post("/user/two-factor/enable", data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock.now)})
        assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
        codes = [code.text_content() for code in parse_page(shown.text).cssselect("ul.recovery-codes code")]
        assert len(codes) == 10
        assert "10 recovery codes left." in http.get("/user/two-factor").text
    clock.now += timedelta(seconds=30)  # the next code is the next step's
    return secret, codes


def wrong_code(secret: str, now: datetime) -> str:
    near = {pyotp.TOTP(secret).at(now + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


def test_signing_in_asks_for_the_code_and_starts_no_session_before_it(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, _ = site
    secret, _ = turn_on(web, clock)
    with client(web) as http:
        asked = password_step(http)
        assert asked.status_code == 303 and asked.headers["location"] == "/user/login/code?destination=/reader"
        assert "lenta_session" not in http.cookies and "lenta_pending" in http.cookies
        assert http.get("/reader").status_code == 303  # not signed in yet
        assert http.get("/user/settings").headers["location"].startswith("/user/login")
        form = http.get(asked.headers["location"])
        assert form.status_code == 200 and 'autocomplete="one-time-code"' in form.text
        wrong = code_step(http, wrong_code(secret, clock.now))
        assert wrong.status_code == 400 and "The code is not right" in wrong.text
        assert "lenta_session" not in http.cookies
        right = code_step(http, pyotp.TOTP(secret).at(clock.now))
        assert right.status_code == 303 and right.headers["location"] == "/reader"
        assert "lenta_pending" not in http.cookies
        account = http.get("/user/settings")
        assert account.status_code == 200 and "Signed in as anna." in account.text
    # The code just used is no good again, in another browser with the right password.
    with client(web) as other:
        assert password_step(other).status_code == 303
        replay = code_step(other, pyotp.TOTP(secret).at(clock.now))
        assert replay.status_code == 400 and "lenta_session" not in other.cookies
    # Without a password first there is no code form, and a forged cookie opens none.
    with client(web) as stranger:
        assert stranger.get("/user/login/code").headers["location"] == "/user/login"
        stranger.cookies.set("lenta_pending", "2.1796574410.abc")
        assert code_step(stranger, pyotp.TOTP(secret).at(clock.now)).status_code == 400


def test_wrong_codes_are_throttled_like_passwords(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, _ = site
    secret, _ = turn_on(web, clock)
    with client(web) as http:
        password_step(http)
        for _ in range(5):
            assert code_step(http, wrong_code(secret, clock.now)).status_code == 400
        locked = code_step(http, pyotp.TOTP(secret).at(clock.now))  # right, but too soon
        assert locked.status_code == 429 and locked.headers["retry-after"] == "30"
        assert "Too many failed sign-in attempts. Try again in 30 seconds." in locked.text
        assert "lenta_session" not in http.cookies
        # Signing in with the password again does not buy more guesses.
        password_step(http)
        assert code_step(http, pyotp.TOTP(secret).at(clock.now)).status_code == 429
        clock.now += timedelta(seconds=31)
        assert code_step(http, pyotp.TOTP(secret).at(clock.now)).status_code == 303
        assert http.get("/user/settings").status_code == 200


def test_a_recovery_code_signs_in_once(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, _ = site
    _, codes = turn_on(web, clock)
    with client(web) as http:
        password_step(http)
        assert code_step(http, codes[0]).status_code == 303
        assert "9 recovery codes left." in http.get("/user/two-factor").text
    with client(web) as again:
        password_step(again)
        assert code_step(again, codes[0]).status_code == 400
        assert code_step(again, codes[1].upper()).status_code == 303


def test_the_half_signed_in_state_ends_after_five_minutes(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, _ = site
    secret, _ = turn_on(web, clock)
    with client(web) as http:
        password_step(http)
        token = form_token(http.get("/user/login/code").text)
        clock.now += timedelta(minutes=5, seconds=1)
        late = http.post("/user/login/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock.now)})
        assert late.status_code == 400 and "The sign-in took too long" in late.text
        assert "lenta_session" not in http.cookies
        assert http.get("/user/login/code").headers["location"] == "/user/login"
        # Within the five minutes it works.
        password_step(http)
        clock.now += timedelta(minutes=4, seconds=50)
        assert code_step(http, pyotp.TOTP(secret).at(clock.now)).status_code == 303


def test_turning_it_off_takes_a_current_code(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, lenta = site
    secret, _ = turn_on(web, clock)
    with client(web) as http:
        password_step(http)
        code_step(http, pyotp.TOTP(secret).at(clock.now))
        clock.now += timedelta(seconds=30)
        token = form_token(http.get("/user/two-factor").text)
        wrong = http.post("/user/two-factor/disable", data={"csrf_token": token, "code": wrong_code(secret, clock.now)})
        assert wrong.status_code == 400 and lenta.second_factor(lenta.get_user("anna")).enabled
        done = http.post("/user/two-factor/disable", data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock.now)})
        assert done.status_code == 303 and not lenta.second_factor(lenta.get_user("anna")).enabled
        assert "The second factor is off" in http.get("/user/two-factor").text
    with client(web) as again:
        assert password_step(again).headers["location"] == "/reader"  # the password alone again


def test_the_admin_can_reset_a_users_second_factor(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, lenta = site
    turn_on(web, clock)
    anna = lenta.get_user("anna")
    with signed_in(web, "admin") as admin:
        page = admin.get(f"/admin/people/{anna.id}/edit")
        assert 'name="reset_second_factor"' in page.text
        token = form_token(page.text)
        saved = admin.post(f"/admin/people/{anna.id}/edit", data={"csrf_token": token, "reset_second_factor": "1"})
        assert saved.status_code == 303
        assert 'name="reset_second_factor"' not in admin.get(f"/admin/people/{anna.id}/edit").text
    assert not lenta.second_factor(anna).enabled
    with client(web) as http:
        assert password_step(http).headers["location"] == "/reader"
        assert "lenta_session" in http.cookies


# -- open registration ----------------------------------------------------------


def open_registration(web: AppServer, on: bool) -> None:
    with signed_in(web, "admin") as admin:
        page = admin.get(f"{ADMIN}/settings")
        assert 'name="open_registration"' in page.text
        data = {"csrf_token": form_token(page.text), "open_registration": ["false", "true"] if on else "false"}
        assert admin.post(f"{ADMIN}/settings", data=data).status_code == 303


def register(http: httpx.Client, name: str, password: str = PASSWORD, again: str | None = None) -> httpx.Response:
    token = form_token(http.get("/user/register").text)
    data = {"csrf_token": token, "name": name, "pass": password, "pass2": password if again is None else again}
    return http.post("/user/register", data=data)


def test_registration_is_off_by_default_then_opens_to_ordinary_accounts(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, lenta = site
    with client(web) as http:
        assert http.get("/user/register").status_code == 404
        assert http.post("/user/register", data={"name": "x", "pass": PASSWORD, "pass2": PASSWORD}).status_code == 404
        assert "/user/register" not in http.get("/user/login").text
    open_registration(web, True)
    assert lenta.site_settings().open_registration
    with client(web) as http:
        assert 'href="/user/register"' in http.get("/user/login").text
        no_csrf = http.post("/user/register", data={"name": "mallory", "pass": PASSWORD, "pass2": PASSWORD})
        assert no_csrf.status_code == 403
        mismatch = register(http, "newcomer", PASSWORD, "another password")
        assert mismatch.status_code == 400 and "The two passwords are not the same." in mismatch.text
        weak = register(http, "newcomer", "short")
        assert weak.status_code == 400 and "A password needs at least 8 characters." in weak.text
        taken = register(http, "admin")
        assert taken.status_code == 400 and "A user named admin already exists." in taken.text
        spaces = register(http, "two words")
        assert spaces.status_code == 400
        made = register(http, "newcomer")
        assert made.status_code == 303 and made.headers["location"] == "/reader"
        assert "Welcome, newcomer" in http.get("/user/settings").text
    newcomer = lenta.get_user("newcomer")
    assert not newcomer.is_admin
    open_registration(web, False)
    with client(web) as http:
        assert http.get("/user/register").status_code == 404


def test_registrations_from_one_address_are_throttled(site: tuple[AppServer, Lenta], clock: Clock) -> None:
    web, _ = site
    open_registration(web, True)
    with client(web) as http:
        assert register(http, "weak", "short").status_code == 400  # every attempt counts
        for n in range(4):
            http.cookies.clear()
            assert register(http, f"reader{n}").status_code == 303
        http.cookies.clear()
        locked = register(http, "sixth")
        assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
        assert "Too many accounts were requested from your address. Try again in 60 seconds." in locked.text
        clock.now += timedelta(seconds=61)
        assert register(http, "sixth").status_code == 303


# -- a user's settings ---------------------------------------------------------------


def save_settings(http: httpx.Client, **values: str) -> httpx.Response:
    token = form_token(http.get("/user/settings").text)
    data = {"language": "", "time_zone": "", "theme": "system", "per_page": "30", **values}
    return http.post("/user/settings", data={"csrf_token": token, **data})


def test_settings_are_validated_and_nothing_of_a_bad_form_is_saved(site: tuple[AppServer, Lenta]) -> None:
    web, lenta = site
    with client(web) as anonymous:
        assert anonymous.get("/user/settings").headers["location"] == "/user/login?destination=/user/settings"
    with signed_in(web) as http:
        page = parse_page(http.get("/user/settings").text)
        assert page.cssselect("#edit-per-page")[0].get("value") == "30"
        assert page.cssselect("#edit-theme-system")[0].get("checked") is not None
        for bad, message in [
            ({"per_page": "5"}, "Items per page must be a whole number from 10 to 200."),
            ({"per_page": "500"}, "Items per page must be a whole number from 10 to 200."),
            ({"theme": "sepia"}, "Unsupported theme: sepia"),
            ({"time_zone": "Mars/Olympus"}, "Unknown time zone: Mars/Olympus"),
            ({"language": "de"}, "Unsupported language: de"),
        ]:
            refused = save_settings(http, full_text="yes", **bad)
            assert refused.status_code == 400 and message in refused.text, bad
        assert lenta.user_settings(lenta.get_user("anna")).full_text is False
        token = form_token(http.get("/user/settings").text)
        assert http.post("/user/settings", data={"per_page": "50"}).status_code == 403  # no CSRF token
        saved = save_settings(http, per_page="50", full_text="yes", read_on_scroll="yes")
        assert saved.status_code == 303 and token
        own = lenta.user_settings(lenta.get_user("anna"))
        assert (own.per_page, own.full_text, own.read_on_scroll) == (50, True, True)
        assert "The changes have been saved." in http.get("/user/settings").text
        save_settings(http, per_page="50")  # an unticked box is "no"
        assert lenta.user_settings(lenta.get_user("anna")).full_text is False


def test_the_language_chosen_wins_over_the_browsers(site: tuple[AppServer, Lenta]) -> None:
    web, _ = site
    with signed_in(web, language="en") as http:
        assert save_settings(http, language="ru").status_code == 303
        assert "Изменения сохранены." in http.get("/user/settings").text  # the message in the language chosen
        page = http.get("/aggregator")
        assert '<html lang="ru"' in page.text and "Выйти" in page.text
        save_settings(http, language="")
        assert '<html lang="en"' in http.get("/aggregator").text
    with signed_in(web, language="ru") as http:
        save_settings(http, language="en")
        assert '<html lang="en"' in http.get("/aggregator").text and "Log out" in http.get("/aggregator").text
    with client(web, "ru") as anonymous:  # others still get their browser's
        assert '<html lang="ru"' in anonymous.get("/aggregator").text


def test_the_theme_is_a_class_on_the_page(site: tuple[AppServer, Lenta]) -> None:
    web, _ = site
    with client(web) as anonymous:
        assert 'class="theme-system"' in anonymous.get("/aggregator").text
    with signed_in(web) as http:
        assert 'class="theme-system"' in http.get("/aggregator").text
        save_settings(http, theme="dark")
        page = http.get("/aggregator").text
        assert '<html lang="en" class="theme-dark">' in page and '<meta name="color-scheme" content="dark">' in page
        save_settings(http, theme="light")
        assert 'class="theme-light"' in http.get("/aggregator").text
    css = httpx.get(web.url("/static/lenta.css")).text
    assert ":root.theme-dark {" in css and "@media (prefers-color-scheme: dark)" in css
    dark = css.split(":root.theme-dark {", 1)[1].split("}", 1)[0]
    assert all(f"--{name}:" in dark for name in ("ink", "muted", "line", "accent", "bg", "wash"))


def test_times_are_shown_in_the_users_time_zone(site: tuple[AppServer, Lenta]) -> None:
    web, lenta = site
    lenta.save_site_settings({"time_zone": "UTC"})
    with LocalServer({"/one.xml": Reply(body=feed_xml(1), headers=RSS)}) as feeds:
        asyncio.run(lenta.add_feed(feeds.url("/one.xml")))
        asyncio.run(lenta.refresh(all_feeds=True))

    def first_time(http: httpx.Client) -> tuple[str, str]:
        time = parse_page(http.get("/aggregator").text).cssselect(".feed-item-meta time")[0]
        return time.text_content(), time.get("title") or ""

    with signed_in(web) as http:
        # Item 1 is dated 2025-05-31 23:00 UTC.
        text, title = first_time(http)
        assert "31.05.2025 - 23:00" in text and "UTC" in title
        save_settings(http, time_zone="Asia/Tokyo")
        text, title = first_time(http)
        assert "01.06.2025 - 08:00" in text and "Asia/Tokyo" in title
    with client(web) as anonymous:
        assert "31.05.2025 - 23:00" in first_time(anonymous)[0]


# -- installable as a web app --------------------------------------------------------


def test_the_manifest_is_served_and_linked(site: tuple[AppServer, Lenta]) -> None:
    web, _ = site
    with client(web) as http:
        served = http.get("/static/manifest.webmanifest")
        page = parse_page(http.get("/aggregator").text)
    assert served.status_code == 200
    assert served.headers["content-type"].split(";")[0] == "application/manifest+json"
    manifest = json.loads(served.text)
    assert manifest["start_url"] == "/reader" and manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"] and manifest["background_color"]
    assert manifest["icons"] == [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}]
    assert page.cssselect('link[rel="manifest"]')[0].get("href") == "/static/manifest.webmanifest"
    assert page.cssselect('meta[name="theme-color"]')[0].get("content") == manifest["theme_color"]


def test_registering_passes_the_sign_in_flood_gate(settings: Settings, clock: Clock) -> None:
    lenta = make_lenta(settings, clock=clock)
    lenta.save_site_settings({"open_registration": "true"})
    app = create_app(settings, lenta)
    app.state.hash_gate = HashGate(queue=0)  # as full as a flood leaves it
    try:
        with AppServer(app) as web, client(web) as http:
            token = form_token(http.get("/user/register").text)
            data = {"csrf_token": token, "name": "newcomer", "pass": PASSWORD, "pass2": PASSWORD}
            busy = http.post("/user/register", data=data)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
            # Answered before routing, the CSRF check and the form parser (SignInFloodGuard), as sign-ins are.
            assert http.post("/user/register", content=b"x" * 100).status_code == 503
        with pytest.raises(UserNotFoundError):
            lenta.get_user("newcomer")
    finally:
        lenta.close()


def test_settings_are_read_once_per_signed_in_request_and_never_for_anonymous_ones(
    site: tuple[AppServer, Lenta], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed-in request reads its session, the user's settings and the
    site's together, once; an anonymous one reads no session or settings
    of a user, and the site's once."""
    web, lenta = site
    reads: list[str] = []
    with_session, alone, site_wide = lenta.signed_in, lenta.user_settings, lenta.site_settings

    def counted_signed_in(token: str) -> SignedIn | None:
        found = with_session(token)
        reads.append(f"session and settings of {found.session.user.name}" if found else "no session")
        return found

    def counted_settings(user: User) -> UserSettings:
        reads.append(f"settings of {user.name}")
        return alone(user)

    def counted_site_settings() -> SiteSettings:
        reads.append("site settings")
        return site_wide()

    monkeypatch.setattr(lenta, "signed_in", counted_signed_in)
    monkeypatch.setattr(lenta, "user_settings", counted_settings)
    monkeypatch.setattr(lenta, "site_settings", counted_site_settings)
    with client(web) as anonymous:
        anonymous.get("/aggregator")  # its handler and its template both need the site's settings
        assert reads == ["site settings"]
        reads.clear()
        anonymous.get("/user/login")
        assert reads == ["site settings"]
    with signed_in(web) as http:
        reads.clear()
        http.get("/aggregator")
    assert reads == ["session and settings of anna"]
