"""``python -m lenta`` and the ``lenta`` command: the CLI, started and stopped quickly.

A ``lenta refresh`` run from cron is over in about a second, and a third of
that was the interpreter starting and stopping, so both ends are trimmed:

- the garbage collector is off while the modules import (what they
  allocate is never garbage, and collections during SQLAlchemy's import
  cost about a tenth of start-up), what was imported is then frozen out
  of later collections, and the youngest generation is collected less often;
- once a command has finished (its database closed by the command's own
  context, its output flushed) and no child process is left to wait for,
  the process ends with :func:`os._exit`, skipping the teardown of every
  module, which only frees memory the operating system takes back anyway.

Whatever goes wrong, a command ends with one ``Error: …`` line and status
1, never a traceback: lenta's own errors are the commands' (``lenta.cli``),
and anything else that escapes them, a bug included, is caught here; the
traceback goes to the log at debug level (``--log-level debug``).
"""

from __future__ import annotations

import gc
import logging
import os
import sys


def run() -> None:
    gc.disable()
    from lenta.cli import main

    gc.freeze()
    # A refresh makes many small short-lived objects (a few dozen per feed);
    # collecting the youngest generation every 700 allocations cost ~5%.
    gc.set_threshold(10_000, 10, 10)
    gc.enable()
    try:
        main()
        code = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except Exception as error:
        code = _unexpected(error)
    _fast_exit(code)


def _unexpected(error: Exception) -> int:
    """A failure no command turned into a sentence: one line for the
    terminal, the traceback for the log (shown with ``--log-level debug``)."""
    from lenta._bounds import printable

    logging.getLogger("lenta").debug("the command failed", exc_info=error)
    detail = " ".join(str(error).split())[:500]
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    print(
        printable(f"Error: lenta failed unexpectedly ({what}); `lenta --log-level debug …` shows where."),
        file=sys.stderr,
    )
    return 1


def _fast_exit(code: int) -> None:
    multiprocessing = sys.modules.get("multiprocessing")  # only a command that used it can have children of it
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            pass
    if multiprocessing is not None and multiprocessing.active_children():  # let the normal exit wait for them
        sys.exit(code)
    os._exit(code)


if __name__ == "__main__":
    run()
