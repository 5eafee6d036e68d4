"""Run one command and measure it: wall time, CPU time of the process and
its children, peak RSS of the whole process tree, bounded by a timeout.

CPU is the delta of ``getrusage(RUSAGE_CHILDREN)`` around the run (user +
sys of every waited-for descendant), so the caller must not reap other
children meanwhile. The bench process makes itself a child subreaper
(``PR_SET_CHILD_SUBREAPER``): a descendant orphaned by its parent (say a
multiprocessing forkserver outliving the main process by a moment) is
re-parented to us and reaped here, so its CPU is counted too.

Peak memory is the largest sum over the process and all its descendants,
sampled every 50 ms from ``/proc/PID/smaps_rollup``: RSS (what the targets
use; it counts pages shared between forked workers once per process, so it
errs high) and PSS (shared pages split between their users: the fairer
figure for a process pool).

``other_cpu`` is the CPU the rest of the machine used meanwhile (system-wide
busy time minus this run, the bench itself and the processes in
``exclude``, e.g. the feed server): other people's test runs on a shared
2-core machine show up there, and the wall times are worth little when it
is large.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.05


@dataclass
class Run:
    label: str
    argv: list[str]
    returncode: int
    wall: float
    cpu: float
    peak_rss: int
    peak_pss: int
    peak_procs: int
    other_cpu: float
    stdout: str
    stderr: str
    timed_out: bool = False

    def check(self) -> None:
        """Print the command's output tail when it failed (the bench goes on)."""
        if self.returncode != 0 or self.timed_out:
            why = "timed out" if self.timed_out else f"exit status {self.returncode}"
            print(f"!! {self.label}: {why}: {' '.join(self.argv)}")
            for line in (self.stdout + self.stderr).strip().splitlines()[-15:]:
                print(f"   | {line}")


def _rollup(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def tree_memory(pid: int) -> tuple[int, int, int]:
    """RSS and PSS summed over ``pid`` and its descendants, and how many processes."""
    try:
        root = psutil.Process(pid)
        pids = [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return 0, 0, 0
    rss = pss = 0
    for each in pids:
        r, p = _rollup(each)
        rss += r
        pss += p
    return rss, pss, len(pids)


class PeakSampler:
    """Samples ``tree_memory(pid)`` every 50 ms in a thread and keeps the peaks."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = self.peak_pss = self.peak_procs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss, pss, procs = tree_memory(self.pid)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, procs)
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _busy() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def _tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in (root, *root.children(recursive=True)):
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return total


_SUBREAPER = False


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``), so their CPU is counted."""
    global _SUBREAPER
    if not _SUBREAPER and sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
        _SUBREAPER = True


def _reap_orphans(keep: set[int], deadline: float) -> None:
    """Wait for (and reap) adopted descendants, except our own long-lived children."""
    me = psutil.Process()
    while time.monotonic() < deadline:
        orphans = [c.pid for c in me.children() if c.pid not in keep]
        if not orphans:
            return
        for pid in orphans:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
    for child in me.children():
        if child.pid not in keep:
            child.kill()
            os.waitpid(child.pid, 0)


QUIET_CORES = 0.25


def wait_quiet(max_wait: float, exclude: tuple[int, ...] = (), window: float = 2.0) -> tuple[float, float]:
    """Wait (at most ``max_wait`` s) until the rest of the machine uses under
    QUIET_CORES cores over ``window`` seconds. Returns (seconds waited, last
    load in cores)."""
    started = time.monotonic()
    me = psutil.Process()
    while True:
        busy, excluded, own = _busy(), _tree_cpu(list(exclude)), sum(me.cpu_times()[:2])
        time.sleep(window)
        load = ((_busy() - busy) - (_tree_cpu(list(exclude)) - excluded) - (sum(me.cpu_times()[:2]) - own)) / window
        waited = time.monotonic() - started
        if load < QUIET_CORES or waited >= max_wait:
            return waited, load


def run(label: str, argv: list[str], env: dict[str, str], timeout: float, exclude: tuple[int, ...] = ()) -> Run:
    """Run ``argv`` to completion (or ``timeout`` seconds) and measure it.

    ``exclude``: pids of our long-lived children (the feed server): neither
    reaped nor counted as other load.
    """
    become_subreaper()
    keep = {c.pid for c in psutil.Process().children()}
    me = psutil.Process()
    own_before = sum(me.cpu_times()[:2])
    excluded_before = _tree_cpu(list(exclude))
    busy_before = _busy()
    cpu_before = _cpu_children()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    sampler = PeakSampler(proc.pid)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is this run only
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    _reap_orphans(keep, time.monotonic() + 30)
    cpu = _cpu_children() - cpu_before
    other = (_busy() - busy_before) - cpu - (_tree_cpu(list(exclude)) - excluded_before) - (sum(me.cpu_times()[:2]) - own_before)
    return Run(
        label,
        argv,
        proc.returncode,
        wall,
        cpu,
        sampler.peak_rss,
        sampler.peak_pss,
        sampler.peak_procs,
        max(other, 0.0),
        stdout,
        stderr,
        timed_out,
    )


def file_size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def sqlite_size(db: Path) -> int:
    """The database with its WAL (and shared-memory index, if left behind)."""
    return file_size(db, Path(f"{db}-wal"), Path(f"{db}-shm"))


def machine() -> str:
    return (
        f"{platform.node() or 'host'}: {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
