"""Job processes: each in its own process group, gone when modelbuild goes, stopped together on a signal.

- Every job starts a new session (so its own process group): a terminal's Ctrl-C reaches modelbuild
  only, and stopping a job stops everything it started (`killpg`), as stopping a container would.
- On Linux a job also gets a parent-death signal (`prctl(PR_SET_PDEATHSIG, SIGKILL)`, set in the child
  before it runs the job): when modelbuild itself is killed, even by SIGKILL, the kernel kills the job.
  That reaches the job's first process only; what it started is reached by the watchdog: a small
  process of its own session that learns each job's process group over a pipe and, when the pipe
  closes because modelbuild died (however it died), kills the groups still registered.
- `stop_on_signals()` turns SIGINT and SIGTERM, for the length of a run, into a `Cancellation`: the
  scheduler starts nothing new and retries nothing, and the running jobs' groups get SIGTERM, then
  SIGKILL after `GRACE_SECONDS` (a second signal kills them at once). tox 4 stops its environments so.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL, as a short `docker stop -t`
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

# The watchdog: reads "+PGID" / "-PGID" lines; at end of input (modelbuild is gone), kills what is left.
_WATCHDOG = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    (groups.add if line[0] == "+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""
_watchdog: subprocess.Popen | None = None
_running: set[subprocess.Popen] = set()
_running_lock = threading.RLock()  # re-entrant: the signal handler may interrupt its holder
_stopping = threading.Event()  # set by `terminate_all` until the end of `stop_on_signals`: no job starts


class Cancellation:
    """Set once, by the first stopping signal; `signal` says which."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: signal.Signals | None = None

    def stop(self, signum: int) -> None:
        """Record the stop (the first signal wins)."""
        if self.signal is None:
            self.signal = signal.Signals(signum)
        self._event.set()

    def is_set(self) -> bool:
        """True once stopped."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on a stop; True when stopped."""
        return self._event.wait(seconds)

    @property
    def reason(self) -> str:
        """'stopped by SIGTERM', for the execution's and its steps' records."""
        return f"stopped by {self.signal.name if self.signal else 'request'}"


def run(command: Sequence[str], timeout: float | None = None, **popen: Any) -> int:
    """Run `command` in its own process group to its end and return its exit code (-N: killed by signal N).

    What the job left running in its group is killed when it ends, as when a container exits. Once the
    run is stopping (`terminate_all`), a job is not started (-SIGTERM, as if stopped at once): the stop may
    come while a step stages its inputs, after the scheduler's last look at the cancellation.

    Raises:
        subprocess.TimeoutExpired: it ran over `timeout` seconds (its group is killed first).
        OSError: it could not start.
    """
    parent = os.getpid()
    with _running_lock:  # a stop sees either no process or a registered one, never one in between
        if _stopping.is_set():
            return -signal.SIGTERM
        process = subprocess.Popen(command, start_new_session=True,  # noqa: PLW1509 - preexec only calls prctl
                                   preexec_fn=(lambda: _die_with(parent)) if _LIBC is not None else None, **popen)
        _running.add(process)
        _tell_watchdog(f"+{process.pid}")
        if _stopping.is_set():  # the signal handler ran (in this thread) while Popen was starting it
            _signal_group(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout)
    finally:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        with _running_lock:
            _running.discard(process)
            _tell_watchdog(f"-{process.pid}")


def _tell_watchdog(line: str) -> None:
    """Send one line to the watchdog, started on first use (call with `_running_lock` held)."""
    global _watchdog
    if _watchdog is None or _watchdog.poll() is not None:
        _watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True, text=True)  # not stopped by the terminal's Ctrl-C
        for process in _running:  # a restarted watchdog learns the groups running now
            _watchdog.stdin.write(f"+{process.pid}\n")
    try:
        _watchdog.stdin.write(line + "\n")
        _watchdog.stdin.flush()
    except OSError:  # it died: the next line starts another
        pass


def _die_with(parent: int) -> None:
    """In the child, before exec: be killed when the parent dies (and already is, if it died meanwhile)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)


def terminate_all(grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to every running job's group now, SIGKILL to those still running after `grace` seconds.

    Until the end of the run (`stop_on_signals`), no new job starts.
    """
    with _running_lock:
        _stopping.set()
        processes = list(_running)
    for process in processes:
        _signal_group(process.pid, signal.SIGTERM)

    def kill_survivors() -> None:
        with _running_lock:
            survivors = list(_running)  # those signalled above, and any that started as the stop came
        for process in survivors:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGKILL)

    if grace <= 0:
        kill_survivors()
        return
    timer = threading.Timer(grace, kill_survivors)
    timer.daemon = True
    timer.start()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):  # the group is gone already
        pass


@contextmanager
def stop_on_signals(cancellation: Cancellation) -> Iterator[Cancellation]:
    """For the block, SIGINT and SIGTERM stop `cancellation` and the running jobs instead of raising.

    Only the main thread can own signal handlers; elsewhere (a run started from a worker thread) the
    block runs with the process's handlers unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield cancellation
        return

    def handler(signum: int, frame: Any) -> None:
        again = cancellation.is_set()
        cancellation.stop(signum)
        terminate_all(0 if again else GRACE_SECONDS)  # a second signal: no more grace

    saved = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancellation
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)
        _stopping.clear()
