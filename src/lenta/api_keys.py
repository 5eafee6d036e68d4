"""App passwords and API keys (issue 12): what reader apps sign in with.

Each is a random secret of 160 bits, shown once when it is made and kept
only as its SHA-256 (a slow hash adds nothing to a secret that cannot be
guessed, and an app signs in on every request). An app password is for
HTTP Basic and the APIs' own logins, in place of the account's password;
an API key is Miniflux's ``X-Auth-Token``. Each is named (one a device),
shows when it was last used, and is revoked on its own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KINDS = ("app_password", "api_key")
MAX_NAME_CHARS = 100
MAX_SECRET_CHARS = 200  # longer "secrets" are not ours: refused before hashing


def new_secret() -> str:
    return secrets.token_urlsafe(20)


def fever_key(name: str, secret: str) -> str:
    """Fever's api_key for a user name and an app password: md5("name:secret"),
    as a Fever client computes it (MD5 is Fever's; the secret is random)."""
    return hashlib.md5(f"{name}:{secret}".encode(), usedforsecurity=False).hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class NewCredential:
    """A credential just made: its id and name, and the secret, shown this once."""

    id: int
    name: str
    kind: str
    secret: str
