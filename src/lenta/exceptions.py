"""lenta's exceptions: one tree, fed from one choke point per engine.

::

    LentaError
    ├── InvalidInputError            bad user input (a URL, a form value, a setting)
    │   └── InvalidFeedURLError
    ├── FeedNotFoundError            no feed with that id/URL
    ├── FeedExistsError              a feed with that URL is already there
    ├── CategoryNotFoundError
    ├── CategoryExistsError
    ├── UserNotFoundError
    ├── UserExistsError
    ├── LoginThrottledError          too many failed sign-ins: wait ``retry_after`` seconds
    ├── FetchError                   one fetch failed; ``kind`` says how (see FetchErrorKind)
    │   └── AddressNotAllowedError   the URL resolves to a private address not allowed by LENTA_FETCH_ALLOW
    ├── ParseError                   the bytes are not a feed we can read
    │   └── NotAFeedError            an HTML page (or anything else) with no feed in it
    ├── OPMLError                    an OPML document we cannot read
    └── StorageError                 the database failed; wraps the driver's error
        └── SchemaVersionError       the schema is not the one this lenta needs (`lenta migrate`)

Errors that reach a user carry a message in English that the web layer
translates by its ``message_id`` with ``args`` (see :func:`lenta.i18n.translate_error`).
A message that quotes outside words (a server's reason phrase, libcurl's or
a parser's explanation: English, or any language) also has a ``brief``: the
message without them, which is what other languages show. A fetch error is
stored as its kind and its :class:`ErrorMessage` (the brief, or the message,
and the arguments it names), so each reader sees it in their language.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from lenta._marks import N_

ArgValue = str | int | float


class LentaError(Exception):
    """Base class of every error lenta raises on purpose."""

    def __init__(self, message: str = "", *, brief: str | None = None, **args: object) -> None:
        self.message_id = message
        self.args_for_message = args
        # The message without its outside words, for languages they are not in; None: the message has none.
        self.brief_id = brief
        super().__init__(message.format(**args) if args else message)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (parse workers); rebuild them with
        # every attribute (kind, status…) whatever the subclass's __init__ takes.
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[LentaError], args: tuple[object, ...], state: dict[str, object]) -> LentaError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """An error as stored beside its kind: a catalog message (English, the
    key of every translation) and the arguments it names (an HTTP status,
    a host, a URL, a limit, a line and column), never a sentence already
    rendered in one language."""

    message: str
    args: Mapping[str, ArgValue] = field(default_factory=dict)

    @classmethod
    def of(cls, error: LentaError) -> ErrorMessage:
        """What ``error`` is stored as: its brief if it has one (so that no
        outside words need translating), with only the arguments it names."""
        message = error.brief_id or error.message_id
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(message) if name}
        except ValueError:  # not a catalog message: outside text with a stray brace names nothing
            names = set()
        args: dict[str, ArgValue] = {}
        for name, value in error.args_for_message.items():
            if name in names:
                args[name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        return cls(message, args)


class InvalidInputError(LentaError):
    """The caller gave lenta something it cannot use."""


class InvalidFeedURLError(InvalidInputError):
    """The URL is not an http(s) URL lenta could fetch."""


class FeedNotFoundError(LentaError):
    def __init__(self, feed: object) -> None:
        super().__init__(N_("No feed {feed}."), feed=feed)
        self.feed = feed


class FeedExistsError(LentaError):
    def __init__(self, url: str) -> None:
        super().__init__(N_("A feed with the URL {url} already exists."), url=url)
        self.url = url


class NotFollowingError(LentaError):
    """Not one of the reader's subscriptions, folders or items: whether it
    exists for someone else is not said."""

    def __init__(self, what: object) -> None:
        super().__init__(N_("Not found: {what}."), what=what)
        self.what = what


class AlreadyFollowingError(LentaError):
    def __init__(self, url: str) -> None:
        super().__init__(N_("You already follow {url}."), url=url)
        self.url = url


class CategoryNotFoundError(LentaError):
    def __init__(self, category: object) -> None:
        super().__init__(N_("No category {category}."), category=category)
        self.category = category


class CategoryExistsError(LentaError):
    def __init__(self, title: str) -> None:
        super().__init__(N_("A category named {title} already exists."), title=title)
        self.title = title


class UserNotFoundError(LentaError):
    def __init__(self, name: str) -> None:
        super().__init__(N_("No user {name}."), name=name)
        self.name = name


class UserExistsError(LentaError):
    def __init__(self, name: str) -> None:
        super().__init__(N_("A user named {name} already exists."), name=name)
        self.name = name


class LoginThrottledError(LentaError):
    """Too many failed sign-ins for this account or from this address; the
    password was not checked. Try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(N_("Too many failed sign-in attempts. Try again in {seconds} seconds."), seconds=retry_after)
        self.retry_after = retry_after


class FetchErrorKind(enum.StrEnum):
    """How a fetch failed; stored per feed and shown on the health pages."""

    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # connection refused / reset
    TLS = "tls"  # certificate or handshake failure
    TIMEOUT = "timeout"  # connect, read or total deadline
    HTTP_CLIENT = "http_4xx"  # 4xx other than 410
    HTTP_SERVER = "http_5xx"
    GONE = "gone"  # 410
    BOT_WALL = "bot_wall"  # a challenge page instead of the feed
    TOO_LARGE = "too_large"  # body over the size cap
    TOO_MANY_REDIRECTS = "redirects"
    NOT_ALLOWED = "not_allowed"  # address or scheme refused by the outbound guard
    NETWORK = "network"  # any other transport failure
    NOT_A_FEED = "not_a_feed"
    PARSE = "parse"
    INTERNAL = "internal"  # lenta's own bug while handling this feed (the traceback is logged)


class FetchError(LentaError):
    """A fetch failed. ``kind`` classifies it; ``status`` is the HTTP status if any."""

    def __init__(
        self,
        message: str,
        *,
        kind: FetchErrorKind = FetchErrorKind.NETWORK,
        status: int | None = None,
        retry_after: float | None = None,
        brief: str | None = None,
        **args: object,
    ) -> None:
        super().__init__(message, brief=brief, **args)
        self.kind = kind
        self.status = status
        # seconds to wait, from a Retry-After header on 429/503
        self.retry_after = retry_after


class AddressNotAllowedError(FetchError):
    """The outbound guard refused a URL (scheme, or an address that is not
    globally routable and not in LENTA_FETCH_ALLOW)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        brief: str | None = None,
        **args: object,
    ) -> None:
        super().__init__(message, kind=FetchErrorKind.NOT_ALLOWED, status=status, retry_after=retry_after, brief=brief, **args)


class ParseError(LentaError):
    """The document could not be read as a feed."""


class NotAFeedError(ParseError):
    """The document is not a feed (for example an HTML page with no feed link)."""


class OPMLError(LentaError):
    """An OPML document could not be read."""


class StorageError(LentaError):
    """The database failed; ``__cause__`` is the driver's exception."""


class SchemaVersionError(StorageError):
    """The database's schema is not at the revision this lenta needs: older
    (an existing database is migrated only when asked, see
    :mod:`lenta.storage.migrate`) or newer (made by a later lenta)."""

    def __init__(self, current: str, head: str, *, newer: bool = False) -> None:
        if newer:
            message = (
                "The database's schema (revision {current}) is newer than this lenta knows (up to {head}): "
                "run the lenta that migrated it."
            )
        else:
            message = (
                "The database's schema is out of date (revision {current}; this lenta needs {head}): "
                "run `lenta migrate` (after a backup), or set LENTA_MIGRATE=true "
                "(`lenta serve --migrate`, `lenta worker --migrate`) to migrate on start."
            )
        super().__init__(message, current=current, head=head)
        self.current = current
        self.head = head
        self.newer = newer
