"""Password hashing (Argon2id, argon2-cffi's recommended parameters).

Each hash or check takes 64 MiB and a fifth of a second of a core, on
purpose: guessing must be expensive. The same cost makes a flood of login
attempts a way to exhaust the server's memory (issue 8 saw gigabytes), so
at most :data:`MAX_CONCURRENT_HASHES` run at a time in a
process, whoever asks; the others wait their turn. The web server runs them
on :func:`hash_pool`, threads of their own at the lowest CPU priority
(Argon2's lanes run on threads they start, which inherit it): a flood of
sign-ins then takes only the CPU that pages leave idle.
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # Argon2 reads it all: a megabyte "password" is work for nothing
MAX_CONCURRENT_HASHES = 2
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)

T = TypeVar("T")


def _lowest_priority() -> None:
    # Linux gives each thread its own nice value (setpriority on a thread id);
    # elsewhere this may fail, and hashing runs at the usual priority.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


@functools.cache
def hash_pool() -> ThreadPoolExecutor:
    """Threads for password checks (:data:`MAX_CONCURRENT_HASHES` of them),
    at the lowest CPU priority; nothing else runs on them."""
    return ThreadPoolExecutor(MAX_CONCURRENT_HASHES, thread_name_prefix="lenta-hash", initializer=_lowest_priority)


def _bounded(work: Callable[[], T]) -> T:
    with _hashing:
        return work()


def hash_password(password: str) -> str:
    return _bounded(lambda: _hasher.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        password = password[:MAX_PASSWORD_LENGTH]  # same cost as any other wrong password; never a match
        password_hash = dummy_hash()

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return _bounded(check)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so a login
    attempt takes as long whether or not the name is taken. Made on first
    use: hashing takes a fifth of a second, too long for every start."""
    return _hasher.hash(secrets.token_urlsafe(16))
