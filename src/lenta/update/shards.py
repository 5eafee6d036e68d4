"""A big ``lenta refresh`` on every core: one process per shard of hosts.

A round of hundreds of feeds is CPU work in Python (request bookkeeping,
parsing, sanitizing, writing) and one process holds one core, so
:func:`run_shards` forks a child for every shard but the first (hosts split
by :func:`lenta.update.order.shard_by_host`), runs the first itself and
waits for the others. Each runs a whole refresh of its shard: its own event
loop, HTTP client, parse thread and database connections; the database is
all they share, each writing in short transactions of its own. The calling
process works rather than waits: an idle parent would hold its memory (the
interpreter and every module, some 50 MB) for nothing.

Forked, a child starts with every module already imported, where a new
interpreter would spend half a second importing them again. Forking is
safe because it happens before the round starts: the caller has no event
loop running, no thread, no libcurl handle (see
:meth:`lenta.core.Lenta.refresh_round`), and ``after_fork`` lets the child
drop the database connections it inherited. Only once every child exists
does the caller start a thread, to hear from them while it works.

A child reports through a pipe: a byte per finished feed (for a progress
bar), then its summary, or the error that stopped it, pickled. A child that
dies without a word (killed, out of memory) counts as failed for each feed
it had not finished; those stay claimed until their lease runs out, then
are due again.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import struct
import threading
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from lenta.types import Feed
from lenta.types import RefreshSummary

_TICK = b"."
_SUMMARY = b"S"
_ERROR = b"E"
_LENGTH = struct.Struct("!Q")

# Runs one shard in the calling process: (feeds, tick per finished feed) -> summary.
ShardRun = Callable[[Sequence[Feed], Callable[[], None]], RefreshSummary]


@dataclass
class _Child:
    pid: int
    fd: int
    feeds: Sequence[Feed]
    buffer: bytearray = field(default_factory=bytearray)
    ticks: int = 0
    done: bool = False


def run_shards(
    shards: Sequence[Sequence[Feed]],
    run: ShardRun,
    *,
    after_fork: Callable[[], None] = lambda: None,
    on_progress: Callable[[int], None] | None = None,
) -> RefreshSummary:
    """Run ``run(shard, tick)`` for every shard, the first in this process
    and each other in a forked child, and add up their summaries.
    ``on_progress(n)`` hears of every ``n`` feeds finished, as they finish
    (from two threads of this process, never at once).

    Raises:
        The first error a shard raised (a LentaError such as StorageError),
        once every shard has ended.
    """
    if not shards:
        return RefreshSummary()
    children: list[_Child] = []
    lock = threading.Lock()

    def progress(count: int) -> None:
        if on_progress is not None:
            with lock:
                on_progress(count)

    try:
        for shard in shards[1:]:
            children.append(_fork(shard, run, after_fork))
        # Threads only now that every fork is done.
        collected: list[tuple[RefreshSummary, BaseException | None]] = []
        collector = threading.Thread(
            target=lambda: collected.append(_collect(children, progress)), name="lenta-shards", daemon=True
        )
        collector.start()
        error: BaseException | None = None
        try:
            summary = run(shards[0], lambda: progress(1))
        except Exception as own_error:  # as a child's: raised once the others have ended
            summary, error = RefreshSummary(), own_error
        collector.join()
    except BaseException:
        for child in children:  # interrupted: take the children down with us
            if not child.done:
                _kill(child.pid)
        raise
    if not collected:  # the collector itself failed; its error went to threading.excepthook
        raise RuntimeError("lost track of the refresher processes")
    theirs, their_error = collected[0]
    error = error or their_error
    if error is not None:
        raise error
    return summary + theirs


def _fork(shard: Sequence[Feed], run: ShardRun, after_fork: Callable[[], None]) -> _Child:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 0
        try:
            after_fork()

            def tick() -> None:
                os.write(write_fd, _TICK)

            summary = run(shard, tick)
            _send(write_fd, _SUMMARY, summary)
        except BaseException as error:  # reported to the parent, which raises it
            code = 1
            try:
                _send(write_fd, _ERROR, error)
            except Exception:  # not picklable: its words, then
                _send(write_fd, _ERROR, RuntimeError(f"{type(error).__name__}: {error}"))
        finally:
            os._exit(code)
    os.close(write_fd)
    return _Child(pid, read_fd, shard)


def _send(fd: int, kind: bytes, value: object) -> None:
    payload = pickle.dumps(value)
    data = kind + _LENGTH.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data) :]


def _collect(children: list[_Child], on_progress: Callable[[int], None] | None) -> tuple[RefreshSummary, BaseException | None]:
    summary = RefreshSummary()
    error: BaseException | None = None
    with selectors.DefaultSelector() as selector:
        for child in children:
            selector.register(child.fd, selectors.EVENT_READ, child)
        while selector.get_map():
            for key, _ in selector.select():
                child = key.data
                chunk = os.read(child.fd, 65536)
                if chunk:
                    ticks = _take_ticks(child, chunk)
                    if ticks and on_progress is not None:
                        on_progress(ticks)
                    continue
                selector.unregister(child.fd)
                os.close(child.fd)
                result, child_error = _finish(child)
                summary += result
                error = error or child_error
    return summary, error


def _take_ticks(child: _Child, chunk: bytes) -> int:
    """Count the progress bytes of ``chunk``; keep what follows them (the report)."""
    if child.buffer:  # the report has begun: everything else is part of it
        child.buffer += chunk
        return 0
    ticks = len(chunk) - len(chunk.lstrip(_TICK))
    child.buffer += chunk[ticks:]
    child.ticks += ticks
    return ticks


def _finish(child: _Child) -> tuple[RefreshSummary, BaseException | None]:
    """Reap the child and read its report."""
    _, status = os.waitpid(child.pid, 0)
    child.done = True
    report = bytes(child.buffer)
    header = 1 + _LENGTH.size
    if len(report) >= header:
        (length,) = _LENGTH.unpack(report[1:header])
        if len(report) == header + length:
            value = pickle.loads(report[header:])
            if report[:1] == _SUMMARY and isinstance(value, RefreshSummary):
                return value, None
            if report[:1] == _ERROR and isinstance(value, BaseException):
                return RefreshSummary(), value
    # No report: the child was killed or crashed before it could say anything.
    # Which feeds it finished is not known (they finish in any order), only how many.
    why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
    unfinished = max(0, len(child.feeds) - child.ticks)
    message = (
        f"the refresher process stopped ({why}) with {unfinished} of its {len(child.feeds)} feeds "
        "not done; they will be tried again when their claim runs out"
    )
    return RefreshSummary(failed=unfinished, failures=((f"refresher process {child.pid}", message),)), None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
