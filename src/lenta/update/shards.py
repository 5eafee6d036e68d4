"""A big ``lenta refresh`` on every core: one process per shard of the round.

A round of hundreds of feeds is CPU work in Python (request bookkeeping,
parsing, sanitizing, writing) and one process holds one core, so
:func:`run_shards` forks a child for every shard but the first (planned by
:func:`lenta.update.order.plan_shards`), runs the first itself on the
caller's event loop and hears from the children meanwhile. Each runs a
whole refresh of its shard: its own event loop, HTTP client, parse thread
and database connections; the database is all they share, each writing in
short transactions of its own. The calling process works rather than
waits: an idle parent would hold its memory (the interpreter and every
module, some 50 MB) for nothing.

Forked, a child starts with every module already imported, where a new
interpreter would spend half a second importing them again. Forking is
safe because it happens before the round starts: the caller runs no other
thread and holds no libcurl handle (:meth:`lenta.core.Lenta.refresh` forks
only then); the child leaves the parent's event loop alone (asyncio
forgets a running loop across a fork) and runs one of its own, and
``after_fork`` lets it drop the database connections it inherited.

A child reports through a pipe: each feed's outcome as it finishes, then
its summary, or the error that stopped it, each pickled. A child that dies
without a word (killed, out of memory) counts as failed for each feed it
had not finished; those stay claimed until their lease runs out, then are
due again.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import struct
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from lenta.types import RefreshSummary
from lenta.update import FeedOutcome
from lenta.update.order import Shard

_OUTCOME = b"O"
_SUMMARY = b"S"
_ERROR = b"E"
_HEADER = struct.Struct("!cQ")  # kind, length of the pickle that follows

# Runs one shard: (shard, report per finished feed) -> summary.
ShardRun = Callable[[Shard, Callable[[FeedOutcome], None]], Coroutine[Any, Any, RefreshSummary]]


@dataclass(eq=False)
class _Child:
    pid: int
    fd: int
    shard: Shard
    done: asyncio.Future[None]
    buffer: bytearray = field(default_factory=bytearray)
    finished: int = 0
    summary: RefreshSummary | None = None
    error: BaseException | None = None
    reaped: bool = False


async def run_shards(
    shards: Sequence[Shard],
    run: ShardRun,
    *,
    after_fork: Callable[[], None] = lambda: None,
    on_outcome: Callable[[FeedOutcome], None] | None = None,
) -> RefreshSummary:
    """Run ``run(shard, report)`` for every shard, the first on this event
    loop and each other in a forked child, and add up their summaries.
    ``on_outcome`` hears of every feed as it finishes, whichever process
    it was in (on this loop's thread).

    Call it before this process starts any thread (forking a threaded
    process can leave the child stuck on a lock another thread held).

    Raises:
        The first error a shard raised (a LentaError such as StorageError),
        once every shard has ended.
    """
    if not shards:
        return RefreshSummary()
    loop = asyncio.get_running_loop()

    def report(outcome: FeedOutcome) -> None:
        if on_outcome is not None:
            on_outcome(outcome)

    children: list[_Child] = []
    try:
        for shard in shards[1:]:
            children.append(_fork(shard, run, after_fork, loop))
        for child in children:
            loop.add_reader(child.fd, _read, loop, child, report)
        error: BaseException | None = None
        try:
            summary = await run(shards[0], report)
        except Exception as own_error:  # as a child's: raised once the others have ended
            summary, error = RefreshSummary(), own_error
        await asyncio.gather(*(child.done for child in children))
    except BaseException:
        for child in children:  # interrupted: take the children down with us
            _abandon(loop, child)
        raise
    for child in children:
        summary += child.summary or RefreshSummary()
        error = error or child.error
    if error is not None:
        raise error
    return summary


def _fork(shard: Shard, run: ShardRun, after_fork: Callable[[], None], loop: asyncio.AbstractEventLoop) -> _Child:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 0
        try:
            # Ctrl-C stops the child's own round, not the parent's (whose
            # handler the fork copied).
            signal.signal(signal.SIGINT, signal.default_int_handler)
            after_fork()
            summary = asyncio.run(run(shard, lambda outcome: _send(write_fd, _OUTCOME, outcome)))
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
    return _Child(pid, read_fd, shard, loop.create_future())


def _send(fd: int, kind: bytes, value: object) -> None:
    payload = pickle.dumps(value)
    data = _HEADER.pack(kind, len(payload)) + payload
    while data:
        data = data[os.write(fd, data) :]


def _read(loop: asyncio.AbstractEventLoop, child: _Child, report: Callable[[FeedOutcome], None]) -> None:
    """The child's pipe is readable: take its messages, or its end."""
    try:
        chunk = os.read(child.fd, 65536)
        if chunk:
            child.buffer += chunk
            for kind, value in _messages(child.buffer):
                if kind == _OUTCOME and isinstance(value, FeedOutcome):
                    child.finished += 1
                    report(value)
                elif kind == _SUMMARY and isinstance(value, RefreshSummary):
                    child.summary = value
                elif kind == _ERROR and isinstance(value, BaseException):
                    child.error = value
            return
        loop.remove_reader(child.fd)
        os.close(child.fd)
        _reap(child)
    except BaseException as error:  # a progress callback failed: the round fails with it
        _abandon(loop, child)
        if not child.done.done():
            child.done.set_exception(error)
        return
    if not child.done.done():
        child.done.set_result(None)


def _messages(buffer: bytearray) -> list[tuple[bytes, object]]:
    """The whole messages at the start of ``buffer``, taken off it."""
    found: list[tuple[bytes, object]] = []
    while len(buffer) >= _HEADER.size:
        kind, length = _HEADER.unpack_from(buffer)
        end = _HEADER.size + length
        if len(buffer) < end:
            break
        found.append((kind, pickle.loads(bytes(buffer[_HEADER.size : end]))))
        del buffer[:end]
    return found


def _reap(child: _Child) -> None:
    """Wait for the child (it closed its pipe: it is exiting); one that
    ended without a summary or an error was killed or crashed."""
    _, status = os.waitpid(child.pid, 0)
    child.reaped = True
    if child.summary is not None or child.error is not None:
        return
    # Which feeds it finished is known only from the outcomes it sent.
    why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
    total = len(child.shard.feeds)
    unfinished = max(0, total - child.finished)
    message = (
        f"the refresher process stopped ({why}) with {unfinished} of its {total} feeds "
        "not done; they will be tried again when their claim runs out"
    )
    child.summary = RefreshSummary(failed=unfinished, failures=((f"refresher process {child.pid}", message),))


def _abandon(loop: asyncio.AbstractEventLoop, child: _Child) -> None:
    """Stop listening to the child and end it, if it has not ended."""
    if child.reaped:
        return
    child.reaped = True
    loop.remove_reader(child.fd)
    try:
        os.close(child.fd)
    except OSError:
        pass
    try:
        os.kill(child.pid, signal.SIGTERM)
        os.waitpid(child.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
