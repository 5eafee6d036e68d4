"""One request and its response on a libcurl handle.

:class:`Exchange` receives the response as libcurl parses it: header lines
(``HEADERFUNCTION``) and body pieces (``WRITEFUNCTION``). When the head is
complete it asks its ``choose_sink`` what to do with the body (read it
decoded, keep it compressed, read only its start, or refuse it), so a
Content-Length over the cap or a refused coding stops the transfer before
a byte of the body is read. Whatever a callback decides to stop for is
kept in :attr:`Exchange.stopped_by` and raised by the caller once libcurl
has let go, since an exception cannot cross libcurl.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from lenta.fetch._decode import BodySink

HTTP_VERSIONS = {1: "HTTP/1.0", 2: "HTTP/1.1", 3: "HTTP/2", 30: "HTTP/3"}


@dataclass(frozen=True, slots=True)
class Response:
    """A response's head: status, reason phrase, headers (names lower-cased,
    repeated ones joined with ", "), the URL it answers and the protocol."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]
    http_version: str = "HTTP/1.1"


SinkChooser = Callable[[int, Mapping[str, str]], BodySink]


class Exchange:
    """The callbacks of one transfer, and what they gathered."""

    __slots__ = ("status", "reason", "headers", "sink", "stopped_by", "last_activity", "_choose", "_lines")

    def __init__(self, choose_sink: SinkChooser, *, grace: float = 0.0) -> None:
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.sink: BodySink | None = None
        self.stopped_by: BaseException | None = None  # raised once libcurl returns
        # The idle clock starts ``grace`` seconds ahead: connecting has its own timeout.
        self.last_activity = time.monotonic() + grace
        self._choose = choose_sink
        self._lines: list[bytes] = []

    def progress(self) -> float:
        return self.last_activity

    def on_header(self, line: bytes) -> int | None:
        """libcurl's HEADERFUNCTION: one raw header line, CRLF included.

        Lines are only kept until the head is complete (the blank line),
        then read at once: most of a 304 is its head.
        """
        self.last_activity = time.monotonic()
        if line not in (b"\r\n", b"\n"):
            self._lines.append(line)
            return None
        try:
            self._read_head()
            if self.status >= 200:  # the final head (after any 1xx): what to do with the body
                self.sink = self._choose(self.status, self.headers)
        except Exception as exc:  # TooLarge, Undecodable... from the sink chooser
            self.stopped_by = exc
            return 0  # anything but len(line) makes libcurl stop
        return None

    def _read_head(self) -> None:
        lines, self._lines = self._lines, []
        headers: dict[str, str] = {}
        last: str | None = None
        for raw in lines:
            text = raw.decode("latin-1").rstrip("\r\n")
            if text.startswith("HTTP/"):  # the status line
                _, _, rest = text.partition(" ")
                code, _, reason = rest.partition(" ")
                self.status = int(code) if code.isdigit() else 0
                self.reason = reason.strip()
            elif text[:1] in (" ", "\t") and last is not None:  # obsolete line folding
                headers[last] += " " + text.strip()
            else:
                name, colon, value = text.partition(":")
                if colon:
                    key = name.strip().lower()
                    value = value.strip()
                    previous = headers.get(key)
                    headers[key] = value if previous is None else f"{previous}, {value}"
                    last = key
        self.headers = headers

    def on_body(self, data: bytes) -> int | None:
        """libcurl's WRITEFUNCTION: the next piece of the body, as sent."""
        self.last_activity = time.monotonic()
        sink = self.sink
        if sink is None:  # a body with no head: not HTTP as we know it
            self.stopped_by = ValueError("a body before the response head")
            return 0
        try:
            if not sink.write(data):
                return 0  # truncated: we have all we keep
        except Exception as exc:
            self.stopped_by = exc
            return 0
        return None

    def response(self, url: str, http_version: int) -> Response:
        return Response(url, self.status, self.reason, self.headers, HTTP_VERSIONS.get(http_version, "HTTP/1.1"))

    def body(self) -> bytes:
        """The body the sink kept (b"" when there was none: 304, HEAD...)."""
        return self.sink.finish() if self.sink is not None else b""
