"""Login throttling: pure decisions, the clock passed in.

Failed sign-ins are counted per account (the name as typed, whether or not
it exists, so a refusal says nothing about which names do) and per client
address (IPv6 by its /64, which one subscriber usually holds whole). A few
failures are free; after that each failure locks the key for a growing
delay — 30 s, 1 min, 2 min … up to :data:`LOCKOUT` — and attempts while it is
locked are refused (429 with Retry-After) without checking the password at
all, so a flood costs no hashing. Failures are forgotten an hour after the
last one; a successful sign-in forgets the account's (not the address's:
one valid account must not buy an address more guesses at others).

Wrong second-factor codes count the same way, under a key of their own per
account (:func:`second_factor_key`) and the address's; registrations are
counted per address (:data:`REGISTRATION`), every attempt.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

LOCKOUT = timedelta(minutes=15)  # the longest a key is locked at a time
MEMORY = timedelta(hours=1)  # failures this long after the last one are forgotten


@dataclass(frozen=True, slots=True)
class Policy:
    free: int  # failures before the first lock
    first_lock: timedelta = timedelta(seconds=30)
    longest_lock: timedelta = LOCKOUT


ACCOUNT = Policy(free=5)
# Several people can share an address (an office, a carrier's NAT).
ADDRESS = Policy(free=20)
# Accounts made from one address (open registration): every attempt counts,
# a few an hour are free, then each waits a growing while.
REGISTRATION = Policy(free=5, first_lock=timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class FailureState:
    failures: int
    last_at: datetime
    locked_until: datetime | None = None


def account_key(name: str) -> str:
    return "user:" + " ".join(name.split()).casefold()[:256]


def second_factor_key(name: str) -> str:
    """Wrong second-factor codes for an account count apart from wrong
    passwords: a right password forgets the account's password failures,
    and must not buy whoever knows it more guesses at the code."""
    return "code:" + account_key(name)


def registration_key(address: str | None) -> str | None:
    """The key an address's registrations are counted under (None: unknown address)."""
    key = address_key(address)
    return "register:" + key if key is not None else None


def address_key(address: str | None) -> str | None:
    """The key an address's failures are counted under; None when the
    server does not know the client's address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "addr:" + address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "addr:" + str(ip.ipv4_mapped)
        return "addr:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "addr:" + str(ip)


def lock_for(failures: int, policy: Policy) -> timedelta | None:
    """How long a key stays locked after its ``failures``-th failure in a row."""
    over = failures - policy.free
    if over < 0:
        return None
    factor: int = 2 ** min(over, 32)  # int ** int is typed Any
    return min(policy.first_lock * factor, policy.longest_lock)


def after_failure(state: FailureState | None, now: datetime, policy: Policy) -> FailureState:
    """A key's state once one more failure has happened at ``now``."""
    failures = 1 if state is None or now - state.last_at > MEMORY else state.failures + 1
    lock = lock_for(failures, policy)
    return FailureState(failures, now, now + lock if lock is not None else None)


def retry_after(states: Iterable[FailureState | None], now: datetime) -> int | None:
    """Whole seconds until every given key is unlocked; None when none is locked."""
    waits = [
        (state.locked_until - now).total_seconds()
        for state in states
        if state is not None and state.locked_until is not None and state.locked_until > now
    ]
    return math.ceil(max(waits)) if waits else None
