"""Sign-ins are throttled per account and per address (growing locks, a
lockout window, 429 with Retry-After, no hashing while locked), and at most
a few passwords are hashed at once however many arrive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from webserver import AppServer

from lenta import auth
from lenta import logins
from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import LoginThrottledError
from lenta.storage import Storage
from lenta.web import create_app

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttled(settings: Settings, clock: Clock) -> Iterator[Lenta]:
    lenta = make_lenta(settings, clock=clock)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    yield lenta
    lenta.close()


def attempt(http: httpx.Client, name: str, password: str) -> httpx.Response:
    token = form_token(http.get("/user/login").text)
    return http.post("/user/login", data={"csrf_token": token, "name": name, "pass": password, "destination": ADMIN})


def test_locks_grow_from_thirty_seconds_to_the_lockout_window() -> None:
    locks = [logins.lock_for(n, logins.ACCOUNT) for n in range(1, 13)]
    assert locks[:4] == [None] * 4
    assert locks[4:] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)] + [logins.LOCKOUT] * 3
    state = None
    for minute in range(5):
        state = logins.after_failure(state, NOW + timedelta(minutes=minute), logins.ACCOUNT)
    assert state is not None and state.failures == 5 and state.locked_until == NOW + timedelta(minutes=4, seconds=30)
    # An hour after the last failure, the count starts over.
    later = logins.after_failure(state, NOW + timedelta(hours=2), logins.ACCOUNT)
    assert later.failures == 1 and later.locked_until is None
    assert logins.retry_after([state, None], NOW + timedelta(minutes=4)) == 30
    assert logins.retry_after([state], NOW + timedelta(minutes=5)) is None


def test_addresses_are_keyed_so_that_one_subscriber_is_one_key() -> None:
    assert logins.address_key("2001:db8:1:2:3:4:5:6") == logins.address_key("2001:db8:1:2:ffff::1") == ("addr:2001:db8:1:2::/64")
    assert logins.address_key("::ffff:192.0.2.7") == logins.address_key("192.0.2.7") == "addr:192.0.2.7"
    assert logins.address_key(None) is None
    assert logins.account_key("  Admin ") == logins.account_key("admin")


def test_after_five_failures_the_account_answers_429_until_its_lock_ends(
    throttled: Lenta, lenta_storage: Storage, settings: Settings, clock: Clock
) -> None:
    with AppServer(create_app(settings, throttled)) as web, client(web) as http:
        for _ in range(5):
            assert attempt(http, "admin", "wrong password").status_code == 400
        locked = attempt(http, "admin", PASSWORD)  # the right password, too soon
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "30"
        assert "Too many failed sign-in attempts. Try again in 30 seconds." in locked.text
        clock.now += timedelta(seconds=31)
        assert attempt(http, "admin", "wrong again").status_code == 400  # the 6th failure: a minute this time
        assert attempt(http, "admin", PASSWORD).headers.get("retry-after") == "60"
        clock.now += timedelta(seconds=61)
        assert attempt(http, "admin", PASSWORD).status_code == 303
        # A success forgets the account's failures.
        assert lenta_storage.login_failures.get([logins.account_key("admin")]) == {}


def test_the_lockout_window_holds_at_fifteen_minutes(throttled: Lenta, clock: Clock) -> None:
    for _ in range(12):
        wait = throttled.sign_in_wait("admin", address="192.0.2.1")
        clock.now += timedelta(seconds=wait or 0)
        assert throttled.sign_in("admin", "wrong password", address="192.0.2.1") is None
    with pytest.raises(LoginThrottledError) as refused:
        throttled.sign_in("admin", PASSWORD, address="192.0.2.1")
    assert refused.value.retry_after == 15 * 60
    clock.now += logins.LOCKOUT
    assert throttled.sign_in("admin", PASSWORD, address="192.0.2.1") is not None


def test_one_address_guessing_many_names_is_locked_after_twenty(throttled: Lenta) -> None:
    for n in range(20):
        assert throttled.sign_in(f"guess{n}", "wrong password", address="203.0.113.9") is None
    with pytest.raises(LoginThrottledError):
        throttled.sign_in("admin", PASSWORD, address="203.0.113.9")
    assert throttled.sign_in("admin", PASSWORD, address="198.51.100.1") is not None  # other addresses are not


def test_a_locked_account_is_refused_without_hashing(throttled: Lenta, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(5):
        throttled.sign_in("admin", "wrong password", address=None)
    hashed: list[str] = []

    def verify_password(stored: str, password: str) -> bool:
        hashed.append(password)
        return False

    monkeypatch.setattr(auth, "verify_password", verify_password)
    with pytest.raises(LoginThrottledError):
        throttled.sign_in("admin", "another guess", address=None)
    assert hashed == []


class CountingHasher(PasswordHasher):
    """Argon2 as usual, counting how many checks run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 - argon2's own name
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return super().verify(hash, password)
        finally:
            with self.lock:
                self.running -= 1


def test_a_flood_of_sign_ins_hashes_two_at_a_time_and_sheds_the_rest(
    throttled: Lenta, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingHasher()
    monkeypatch.setattr(auth, "_hasher", counting)
    auth.dummy_hash()  # made once, outside the count
    with AppServer(create_app(settings, throttled)) as web:
        with client(web) as http:
            token = form_token(http.get("/user/login").text)
            cookies = dict(http.cookies)

        def one(n: int) -> int:
            # Every attempt another account name: the per-account throttle stays out of the way.
            with httpx.Client(base_url=web.url(""), cookies=cookies, timeout=120) as flood:
                return flood.post(
                    "/user/login", data={"csrf_token": token, "name": f"user{n}", "pass": "wrong password"}
                ).status_code

        with ThreadPoolExecutor(max_workers=60) as pool:
            statuses = list(pool.map(one, range(60)))
    assert counting.peak <= auth.MAX_CONCURRENT_HASHES
    assert 503 in statuses  # more than the queue holds were turned away at once...
    assert set(statuses) <= {400, 429, 503}  # ...the rest checked or throttled
    assert statuses.count(400) >= auth.MAX_CONCURRENT_HASHES
