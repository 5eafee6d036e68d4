"""Sessions live on the server: a cookie opens only a live session, and
sign-out, a password change, the user's deletion and a key rotation end
them for good (copies of the cookie included); using one never extends
it; flash messages are kept with it, not in the cookie."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from itsdangerous import Signer
from itsdangerous import TimestampSigner
from sqlalchemy import event
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.cli import main
from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.storage import Storage
from lenta.web import create_app


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(settings: Settings, clock: Clock) -> Iterator[tuple[AppServer, Lenta]]:
    lenta = make_lenta(settings, clock=clock)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user("second", PASSWORD, is_admin=True)
    with AppServer(create_app(settings, lenta)) as web:
        yield web, lenta
    lenta.close()


def opens_admin(web: AppServer, cookie: str) -> bool:
    with httpx.Client(base_url=web.url(""), cookies={"lenta_session": cookie}, follow_redirects=False) as http:
        response = http.get(ADMIN)
    assert response.status_code in {200, 303}, response.status_code
    return response.status_code == 200


@pytest.fixture
def browsers() -> Iterator[list[httpx.Client]]:
    opened: list[httpx.Client] = []
    yield opened
    for http in opened:
        http.close()


def signed_in(web: AppServer, browsers: list[httpx.Client], name: str = "admin") -> tuple[httpx.Client, str]:
    """A browser signed in as ``name``, and a copy of its session cookie."""
    http = client(web)
    browsers.append(http)
    sign_in(http, name)
    cookie = http.cookies["lenta_session"]
    assert opens_admin(web, cookie)
    return http, cookie


def test_a_cookie_copied_before_sign_out_opens_nothing_after(site: tuple[AppServer, Lenta], browsers: list[httpx.Client]) -> None:
    web, _ = site
    http, copied = signed_in(web, browsers)
    token = form_token(http.get(ADMIN).text)
    assert http.post("/user/logout", data={"csrf_token": token}).status_code == 303
    assert "lenta_session" not in http.cookies
    assert not opens_admin(web, copied)


def test_a_password_change_ends_every_session_of_that_user(site: tuple[AppServer, Lenta], browsers: list[httpx.Client]) -> None:
    web, lenta = site
    _, laptop = signed_in(web, browsers)
    _, phone = signed_in(web, browsers)
    _, someone_else = signed_in(web, browsers, "second")
    lenta.change_password("admin", "a brand new password")
    assert not opens_admin(web, laptop) and not opens_admin(web, phone)
    assert opens_admin(web, someone_else)


def test_changing_ones_own_password_on_the_people_page_keeps_that_session(
    site: tuple[AppServer, Lenta], browsers: list[httpx.Client]
) -> None:
    web, lenta = site
    http, here = signed_in(web, browsers)
    _, elsewhere = signed_in(web, browsers)
    admin = lenta.get_user("admin")
    token = form_token(http.get(f"/admin/people/{admin.id}/edit").text)
    saved = http.post(f"/admin/people/{admin.id}/edit", data={"csrf_token": token, "pass": "another password!", "admin": "1"})
    assert saved.status_code == 303, saved.text
    assert opens_admin(web, here) and not opens_admin(web, elsewhere)
    assert lenta.authenticate("admin", "another password!") is not None


def test_deleting_a_user_ends_their_sessions(site: tuple[AppServer, Lenta], browsers: list[httpx.Client]) -> None:
    web, lenta = site
    _, theirs = signed_in(web, browsers, "second")
    lenta.delete_user("second")
    assert not opens_admin(web, theirs)


def test_a_cookie_forged_with_the_signing_key_opens_nothing(
    site: tuple[AppServer, Lenta], browsers: list[httpx.Client], lenta_storage: Storage
) -> None:
    # The attack of the issue: someone who read the key out of the database
    # signs a cookie of their own. A signature proves nothing without a live
    # session behind it, and the database holds only sessions' hashes.
    web, lenta = site
    _, real = signed_in(web, browsers)
    key = lenta.secret_key()
    forged = [
        Signer(key, salt="lenta-lenta_session").sign("admin").decode(),
        Signer(key, salt="lenta-lenta_session").sign(hashlib.sha256(b"x").hexdigest()).decode(),
        # What Starlette's cookie sessions accepted before: {"user": "admin"}, signed.
        TimestampSigner(key).sign("eyJ1c2VyIjogImFkbWluIn0=").decode(),
    ]
    with lenta_storage.db.engine.connect() as connection:
        stored_ids = [row[0] for row in connection.exec_driver_sql("SELECT id FROM sessions")]
    forged.append(Signer(key, salt="lenta-lenta_session").sign(stored_ids[0]).decode())  # the stored hash as a token
    for cookie in forged:
        assert not opens_admin(web, cookie)
    assert opens_admin(web, real)


def test_using_a_session_does_not_extend_it(site: tuple[AppServer, Lenta], browsers: list[httpx.Client], clock: Clock) -> None:
    web, _ = site
    http, cookie = signed_in(web, browsers)
    for _ in range(13):
        clock.now += timedelta(days=1)
        response = http.get(ADMIN)
        assert response.status_code == 200
        assert "lenta_session" not in response.headers.get("set-cookie", "")
    clock.now += timedelta(days=1, seconds=1)  # fourteen days after signing in, however busy
    assert not opens_admin(web, cookie)


def test_rotating_the_key_ends_every_session(
    site: tuple[AppServer, Lenta], browsers: list[httpx.Client], settings: Settings
) -> None:
    web, lenta = site
    _, first = signed_in(web, browsers)
    _, second = signed_in(web, browsers, "second")
    old_key = lenta.secret_key()
    result = CliRunner().invoke(main, ["secret", "rotate"], env={"LENTA_DB": settings.db}, catch_exceptions=False)
    assert result.exit_code == 0 and "2 sessions ended" in result.output
    assert lenta.secret_key() != old_key
    assert not opens_admin(web, first) and not opens_admin(web, second)


def test_the_key_can_come_from_a_file_and_is_then_rotated_there(settings: Settings, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k" * 48 + "\n")
    lenta = make_lenta(settings.replace(secret_key_file=str(key_file)))
    try:
        assert lenta.secret_key() == "k" * 48
        with pytest.raises(InvalidInputError, match="LENTA_SECRET_KEY_FILE"):
            lenta.rotate_secret_key()
        key_file.write_text("short")
        with pytest.raises(InvalidInputError, match="shorter than 32"):
            lenta.secret_key()
    finally:
        lenta.close()


def test_500_bad_opml_entries_are_all_reported_and_the_cookie_stays_small(
    site: tuple[AppServer, Lenta], browsers: list[httpx.Client]
) -> None:
    web, _ = site
    outlines = "".join(f'<outline type="rss" text="bad {n}" xmlUrl="gopher://bad.example/{n}"/>' for n in range(500))
    opml = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'.encode()
    http, _ = signed_in(web, browsers)
    token = form_token(http.get(f"{ADMIN}/add/opml").text)
    imported = http.post(f"{ADMIN}/add/opml", data={"csrf_token": token}, files={"upload": ("feeds.opml", opml, "text/x-opml")})
    assert imported.status_code == 303
    assert len(imported.headers.get("set-cookie", "")) < 300
    page = http.get(imported.headers["location"]).text
    assert all(f"gopher://bad.example/{n}:" in page for n in range(500))
    assert "gopher://bad.example/0:" not in http.get(ADMIN).text  # shown once, then gone


def test_cli_manages_users_and_keeps_an_admin(settings: Settings) -> None:
    env = {"LENTA_DB": settings.db}

    def run(*args: str, input: str | None = None) -> str:
        result = CliRunner().invoke(main, list(args), env=env, input=input)
        return result.output + (f"[exit {result.exit_code}]" if result.exit_code else "")

    assert run("user", "add", "boss", "--admin", input=PASSWORD + "\n").startswith("Created admin user boss")
    assert run("user", "add", "ann", input=PASSWORD + "\n").startswith("Created user ann")
    assert run("user", "list").splitlines()[0].startswith("ann\tuser")
    assert "Error: The last administrator cannot be deleted" in run("user", "delete", "boss")
    assert "Error: The last administrator" in run("user", "set-admin", "boss", "--no")
    assert run("user", "set-admin", "ann") == "ann is now an admin\n"
    assert run("user", "set-admin", "boss", "--no") == "boss is no longer an admin\n"
    assert run("user", "passwd", "ann", input="new password 2\n").startswith("Changed the password of ann")
    assert run("user", "passwd", "nobody", input="x\n").startswith("Error: No user nobody.")
    assert run("user", "delete", "boss") == "Deleted user boss\n"
    lenta = make_lenta(settings)
    try:
        assert [u.name for u in lenta.list_users()] == ["ann"]
        assert lenta.authenticate("ann", "new password 2") is not None
    finally:
        lenta.close()


def test_the_people_page_adds_and_deletes_users(site: tuple[AppServer, Lenta], browsers: list[httpx.Client]) -> None:
    web, lenta = site
    http, _ = signed_in(web, browsers)
    token = form_token(http.get("/admin/people/add").text)
    added = http.post("/admin/people/add", data={"csrf_token": token, "name": "carol", "pass": "carol's password"})
    assert added.status_code == 303
    people = http.get("/admin/people").text
    assert "carol" in people and "Created a new user account for carol." in people
    carol = lenta.get_user("carol")
    assert not carol.is_admin
    token = form_token(http.get(f"/admin/people/{carol.id}/delete").text)
    assert http.post(f"/admin/people/{carol.id}/delete", data={"csrf_token": token}).status_code == 303
    assert [u.name for u in lenta.list_users()] == ["admin", "second"]
    assert http.get("/admin/people/99999999999999999999/edit").status_code == 404
    with client(web) as anonymous:
        assert anonymous.get("/admin/people").status_code == 303  # to the login page


def test_a_sign_in_without_a_session_cookie_store_needs_its_csrf_cookie(site: tuple[AppServer, Lenta]) -> None:
    web, _ = site
    with client(web) as http:
        token = form_token(http.get("/user/login").text)
        http.cookies.clear()  # the token alone, without the signed cookie it came with
        refused = http.post("/user/login", data={"csrf_token": token, "name": "admin", "pass": PASSWORD})
    assert refused.status_code == 403


def test_a_page_reads_the_queued_messages_only_when_there_are_some(
    site: tuple[AppServer, Lenta], browsers: list[httpx.Client]
) -> None:
    """The session's read says whether messages are queued, so a page
    with none makes no round trip for them; a queued one is still shown
    on the next page, once."""
    web, lenta = site
    http, _ = signed_in(web, browsers)
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    engine = lenta._storage.db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert http.get(ADMIN).status_code == 200
        read_messages = [s for s in statements if "sessions.messages" in s and "FROM sessions JOIN" not in s]
        assert read_messages == [], read_messages

        signer = Signer(lenta.secret_key(), salt="lenta-lenta_session")
        session = lenta.session(signer.unsign(http.cookies["lenta_session"]).decode("ascii"))
        assert session is not None
        lenta.add_messages(session, [{"kind": "status", "text": "Queued meanwhile."}])  # as a background import does
        statements.clear()
        assert "Queued meanwhile." in http.get(ADMIN).text
        assert any("sessions.messages" in s and "FROM sessions JOIN" not in s for s in statements)
        assert "Queued meanwhile." not in http.get(ADMIN).text  # shown once
    finally:
        event.remove(engine, "before_cursor_execute", capture)
