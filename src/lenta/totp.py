"""A second factor: time-based one-time codes (TOTP, RFC 6238) and recovery
codes. Pure: no I/O, the clock passed in.

A code is 6 digits from HMAC-SHA-1 over the 30-second step since the epoch
(what every authenticator app makes from an ``otpauth://`` URI); one step
either side of now is accepted, for clocks a little apart and codes typed
as they change. A code is accepted once: the caller remembers the last step
it accepted for the user and passes it as ``after``, so a code seen over a
shoulder or in a log cannot be used again within its window.

Recovery codes are 80 random bits each (16 base32 letters, shown in groups
of four). They are stored as a SHA-256 of the user's id and the code, not
with Argon2 like passwords: a password is guessable and must be slow to
try, but 80 random bits are out of reach of any number of fast guesses, so
a slow hash would only cost the server — a sign-in with a recovery code
would otherwise hash up to ten times at 64 MiB and a fifth of a second
each, the very flood :mod:`lenta.auth` bounds. The user's id in the hash
keeps one user's stored codes from matching another's.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side of now that are accepted
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: 16 base32 letters
ISSUER = "lenta"

_CODE = re.compile(rf"^\d{{{DIGITS}}}$")
_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """What an authenticator app needs: the secret (base32) and the same as
    an ``otpauth://`` URI."""

    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """A user's second factor: whether sign-in asks for a code, since when,
    and how many recovery codes are left unused."""

    enabled: bool
    enabled_at: datetime | None = None
    recovery_codes_left: int = 0


def new_secret() -> str:
    """A new TOTP secret: 160 random bits in base32 (RFC 4226's advice)."""
    return pyotp.random_base32()


def setup(secret: str, account: str, issuer: str = ISSUER) -> TotpSetup:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)
    return TotpSetup(secret=secret, uri=uri)


def step_at(now: datetime) -> int:
    """The 30-second step ``now`` falls in (counted from the Unix epoch)."""
    return int(now.timestamp()) // STEP_SECONDS


def normalize_code(text: str) -> str:
    """A typed code without spaces or dashes ("123 456" is "123456")."""
    return _SEPARATORS.sub("", text.strip())[:64]


def is_totp_code(text: str) -> bool:
    return _CODE.match(normalize_code(text)) is not None


def matching_step(secret: str, code: str, now: datetime, *, after: int | None = None) -> int | None:
    """The step whose code ``code`` is, within :data:`WINDOW` steps of
    ``now`` and later than ``after`` (the last step accepted before: a code
    is good once); None if it is no such code."""
    code = normalize_code(code)
    if _CODE.match(code) is None:
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Every step is compared, in constant time, whichever matches.
        if secrets.compare_digest(otp.generate_otp(step), code) and (after is None or step > after):
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """``count`` new recovery codes, "abcd-efgh-ijkl-mnop" (lower-case base32)."""
    codes = []
    for _ in range(count):
        letters = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii").lower()
        codes.append("-".join(letters[i : i + 4] for i in range(0, len(letters), 4)))
    return codes


def recovery_code_hash(user_id: int, code: str) -> str:
    """What a recovery code is stored as (see the module's docstring); the
    code as typed, in either case, with or without its dashes and spaces."""
    normalized = normalize_code(code).lower()
    return hashlib.sha256(f"lenta-recovery:{user_id}:{normalized}".encode("utf-8", "surrogatepass")).hexdigest()
