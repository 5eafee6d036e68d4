"""A second factor (TOTP, RFC 6238) and recovery codes: the pure checks in
lenta.totp, then the facade on SQLite and PostgreSQL — enabling takes a
right code, a code is good once, recovery codes once each, wrong codes are
throttled apart from wrong passwords, turning it off takes a code, and the
admin's reset. Also users' settings and open registration below the web."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pyotp
import pytest

from lenta import logins
from lenta import totp
from lenta.config import load_settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.exceptions import LoginThrottledError
from lenta.exceptions import UserExistsError
from lenta.site_settings import SiteSettings
from lenta.site_settings import zone_for
from lenta.types import User
from lenta.user_settings import UserSettings

# A step's 10th second: the step before and the one after are 10 and 20 seconds away.
NOW = datetime(2026, 12, 6, 12, 0, 10, tzinfo=UTC)
PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.10"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


# -- lenta.totp, pure ---------------------------------------------------------


def test_a_code_is_taken_within_one_step_of_now_and_no_further() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and pyotp.TOTP(secret).byte_secret()  # 160 bits of base32
    step = totp.step_at(NOW)
    assert totp.matching_step(secret, code_at(secret, NOW), NOW) == step
    assert totp.matching_step(secret, code_at(secret, NOW - timedelta(seconds=30)), NOW) == step - 1
    assert totp.matching_step(secret, code_at(secret, NOW + timedelta(seconds=30)), NOW) == step + 1
    # Two steps away: no longer (nor yet) a code; a code is six digits, spaces and dashes aside.
    for far in (NOW - timedelta(seconds=60), NOW + timedelta(seconds=60), NOW - timedelta(hours=1)):
        code = code_at(secret, far)
        if code not in {code_at(secret, NOW + timedelta(seconds=s)) for s in (-30, 0, 30)}:
            assert totp.matching_step(secret, code, NOW) is None
    code = code_at(secret, NOW)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", NOW) == step
    assert totp.matching_step(secret, code[:5], NOW) is None
    assert totp.matching_step(secret, "abcdef", NOW) is None
    assert totp.matching_step(pyotp.random_base32(), code, NOW) is None or code == code_at(secret, NOW)


def test_a_code_is_good_once_the_step_after_the_last_accepted_only() -> None:
    secret = totp.new_secret()
    code = code_at(secret, NOW)
    step = totp.step_at(NOW)
    assert totp.matching_step(secret, code, NOW, after=step - 1) == step
    assert totp.matching_step(secret, code, NOW, after=step) is None
    # Accepted in the next step: a code of that step, not the old one again.
    later = NOW + timedelta(seconds=30)
    assert totp.matching_step(secret, code, later, after=step) is None
    assert totp.matching_step(secret, code_at(secret, later), later, after=step) == step + 1


def test_the_setup_gives_the_secret_and_an_otpauth_uri_apps_read() -> None:
    setup = totp.setup("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "anna", "My site")
    assert setup.secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    parsed = pyotp.parse_uri(setup.uri)
    assert setup.uri.startswith("otpauth://totp/")
    assert isinstance(parsed, pyotp.TOTP) and parsed.secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert parsed.digits == 6 and parsed.interval == 30 and parsed.issuer == "My site" and parsed.name == "anna"


def test_recovery_codes_are_80_random_bits_hashed_with_the_user() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert len(code.replace("-", "")) * 5 == 80  # base32: five bits a letter
    code = codes[0]
    hashed = totp.recovery_code_hash(1, code)
    assert len(hashed) == 64 and code not in hashed
    assert totp.recovery_code_hash(1, code.upper().replace("-", " ")) == hashed
    assert totp.recovery_code_hash(2, code) != hashed
    assert not totp.is_totp_code(code) and totp.is_totp_code("123 456")


# -- the facade, on each backend ----------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(backend_url: str, clock: Clock) -> Iterator[Lenta]:
    lenta = make_lenta(load_settings({}, db=backend_url), clock=clock)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    lenta.add_user("anna", PASSWORD)
    yield lenta
    lenta.close()


def turn_on(lenta: Lenta, user: User, clock: Clock) -> tuple[str, list[str]]:
    setup = lenta.start_totp(user)
    codes = lenta.enable_totp(user, code_at(setup.secret, clock.now), address=ADDRESS)
    clock.now += timedelta(seconds=30)  # the next code is another step's
    return setup.secret, codes


def test_enabling_takes_a_right_code_of_the_secret_shown(accounts: Lenta, clock: Clock) -> None:
    anna = accounts.get_user("anna")
    assert accounts.second_factor(anna).enabled is False
    setup = accounts.start_totp(anna)
    assert accounts.start_totp(anna) == setup  # the page shown again: the same secret, until it is confirmed
    with pytest.raises(InvalidInputError):
        accounts.enable_totp(anna, "000000" if code_at(setup.secret, NOW) != "000000" else "111111", address=ADDRESS)
    with pytest.raises(InvalidInputError):
        accounts.enable_totp(anna, code_at(pyotp.random_base32(), NOW), address=ADDRESS)
    assert accounts.second_factor(anna).enabled is False  # a pending secret asks for nothing
    assert accounts.check_second_factor(anna, code_at(setup.secret, NOW), address=ADDRESS) is False
    codes = accounts.enable_totp(anna, code_at(setup.secret, NOW), address=ADDRESS)
    state = accounts.second_factor(anna)
    assert state.enabled and state.enabled_at == NOW and state.recovery_codes_left == 10 and len(codes) == 10
    with pytest.raises(InvalidInputError):
        accounts.start_totp(anna)  # on already


def test_a_code_is_accepted_once_and_then_refused_as_a_replay(accounts: Lenta, clock: Clock) -> None:
    anna = accounts.get_user("anna")
    secret, _ = turn_on(accounts, anna, clock)
    code = code_at(secret, clock.now)
    assert accounts.check_second_factor(anna, code, address=ADDRESS) is True
    assert accounts.check_second_factor(anna, code, address=ADDRESS) is False  # the same code, the same window
    # The code that enabled it was a step earlier: it is no good either.
    assert accounts.check_second_factor(anna, code_at(secret, NOW), address=ADDRESS) is False
    clock.now += timedelta(seconds=30)
    assert accounts.check_second_factor(anna, code_at(secret, clock.now), address=ADDRESS) is True


def test_a_recovery_code_signs_in_once(accounts: Lenta, clock: Clock) -> None:
    anna = accounts.get_user("anna")
    _, codes = turn_on(accounts, anna, clock)
    assert accounts.check_second_factor(anna, codes[3].upper(), address=ADDRESS) is True
    assert accounts.second_factor(anna).recovery_codes_left == 9
    assert accounts.check_second_factor(anna, codes[3], address=ADDRESS) is False
    # Another user's codes open nothing.
    admin = accounts.get_user("admin")
    _, admin_codes = turn_on(accounts, admin, clock)
    assert accounts.check_second_factor(anna, admin_codes[0], address=ADDRESS) is False
    assert accounts.check_second_factor(admin, admin_codes[0], address=ADDRESS) is True


def test_wrong_codes_lock_the_account_apart_from_its_password(accounts: Lenta, clock: Clock) -> None:
    anna = accounts.get_user("anna")
    secret, _ = turn_on(accounts, anna, clock)
    wrong = "000000" if code_at(secret, clock.now) != "000000" else "111111"
    for _ in range(5):
        assert accounts.check_second_factor(anna, wrong, address=ADDRESS) is False
    with pytest.raises(LoginThrottledError) as locked:
        accounts.check_second_factor(anna, code_at(secret, clock.now), address=ADDRESS)  # right, but too soon
    assert locked.value.retry_after == 30
    assert accounts.second_factor_wait("anna", address="198.51.100.1") == 30  # the account, from anywhere
    # The right password forgets the password's failures, not the codes'.
    assert accounts.sign_in("anna", PASSWORD, address=ADDRESS) is not None
    assert accounts.second_factor_wait("anna", address=ADDRESS) == 30
    with pytest.raises(LoginThrottledError):
        accounts.disable_totp(anna, code_at(secret, clock.now), address=ADDRESS)
    clock.now += timedelta(seconds=31)
    assert accounts.check_second_factor(anna, code_at(secret, clock.now), address=ADDRESS) is True
    assert accounts.second_factor_wait("anna", address=None) is None  # a right code forgets them


def test_turning_it_off_takes_a_code_and_the_admin_can_reset_it(accounts: Lenta, clock: Clock) -> None:
    anna = accounts.get_user("anna")
    secret, codes = turn_on(accounts, anna, clock)
    with pytest.raises(InvalidInputError):
        accounts.disable_totp(anna, "not a code", address=ADDRESS)
    assert accounts.second_factor(anna).enabled
    accounts.disable_totp(anna, code_at(secret, clock.now), address=ADDRESS)
    assert accounts.second_factor(anna) == totp.SecondFactor(enabled=False)
    with pytest.raises(InvalidInputError):
        accounts.disable_totp(anna, code_at(secret, clock.now), address=ADDRESS)  # off already
    # On again: a new secret, new recovery codes; the old ones are gone.
    clock.now += timedelta(seconds=30)
    new_secret, new_codes = turn_on(accounts, anna, clock)
    assert new_secret != secret and not set(new_codes) & set(codes)
    assert accounts.check_second_factor(anna, codes[0], address=ADDRESS) is False
    # A lost phone: a recovery code turns it off, or the admin resets it.
    accounts.disable_totp(anna, new_codes[0], address=ADDRESS)
    clock.now += timedelta(seconds=30)
    turn_on(accounts, anna, clock)
    assert accounts.reset_second_factor("anna") == anna
    assert accounts.second_factor(anna).enabled is False
    assert accounts.check_second_factor(anna, code_at(new_secret, clock.now), address=ADDRESS) is False


def test_settings_are_validated_whole_and_kept_per_user(accounts: Lenta) -> None:
    anna, admin = accounts.get_user("anna"), accounts.get_user("admin")
    assert accounts.user_settings(anna) == UserSettings()
    assert UserSettings().per_page == 30 and UserSettings().theme == "system"
    saved = accounts.save_user_settings(
        anna,
        {"language": "ru", "time_zone": "Asia/Tokyo", "theme": "dark", "per_page": "50", "full_text": "yes"},
    )
    assert saved == UserSettings("ru", "Asia/Tokyo", "dark", 50, True, False)
    assert accounts.user_settings(anna) == saved and accounts.user_settings(admin) == UserSettings()
    bad_values = [
        {"language": "de"},
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "../../etc/passwd"},
        {"theme": "sepia"},
        {"per_page": "9"},
        {"per_page": "201"},
        {"per_page": "thirty"},
        {"per_page": "-50"},
        {"full_text": "maybe"},
    ]
    for bad in bad_values:
        with pytest.raises(InvalidInputError):
            accounts.save_user_settings(anna, {"theme": "light", **bad})
        assert accounts.user_settings(anna) == saved, bad  # nothing of a bad form is kept
    # lenta's own names are no settings: neither written nor read as one.
    accounts.save_user_settings(anna, {"_totp_last_step": "999999999"})
    assert accounts.user_settings(anna) == saved
    site = SiteSettings(time_zone="Europe/Moscow")
    assert str(zone_for(anna, site, saved)) == "Asia/Tokyo"
    assert str(zone_for(anna, site, UserSettings())) == "Europe/Moscow"
    assert str(zone_for(None, site, saved)) == "Europe/Moscow"


def test_registration_is_closed_by_default_and_throttled_per_address(accounts: Lenta, clock: Clock) -> None:
    assert SiteSettings().open_registration is False
    with pytest.raises(InvalidInputError):
        accounts.register("newcomer", PASSWORD, address=ADDRESS)
    assert accounts.save_site_settings({"open_registration": "true"}).open_registration is True
    with pytest.raises(InvalidInputError):
        accounts.save_site_settings({"open_registration": "perhaps"})
    user = accounts.register("newcomer", PASSWORD, address=ADDRESS)
    assert user.name == "newcomer" and not user.is_admin
    with pytest.raises(UserExistsError):
        accounts.register("newcomer", PASSWORD, address=ADDRESS)
    with pytest.raises(InvalidInputError):
        accounts.register("weak", "short", address=ADDRESS)
    for n in range(2):
        accounts.register(f"reader{n}", PASSWORD, address=ADDRESS)
    with pytest.raises(LoginThrottledError) as locked:  # every attempt counts: the sixth waits a minute
        accounts.register("sixth", PASSWORD, address=ADDRESS)
    assert locked.value.retry_after == 60
    assert accounts.register("elsewhere", PASSWORD, address="198.51.100.7").name == "elsewhere"
    assert accounts.sign_in_wait("admin", address=ADDRESS) is None  # signing in is not what was locked
    clock.now += timedelta(seconds=61)
    assert accounts.register("sixth", PASSWORD, address=ADDRESS).name == "sixth"
    assert logins.registration_key(None) is None
