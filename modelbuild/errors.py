"""The project's one error type, its subclasses, and the exit codes the CLI maps them to.

The core raises these and never prints or exits; `modelbuild.cli.app` is the one place that turns
them into a message on stderr and an exit code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every modelbuild command (documented in the README and in `--help`)."""

    OK = 0
    FAILURE = 1
    USAGE = 2  # click's own code for bad options and parameters
    DEFINITION_INVALID = 3
    EXECUTION_FAILED = 4
    EXECUTION_STOPPED = 5
    AWS_UNREACHABLE = 6
    TIMED_OUT = 7
    LOCAL_STATE = 8  # the local state directory or its database cannot be used (read-only, corrupt, full)
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
    TERMINATED = 143  # 128 + SIGTERM: `kill`, CI timeouts, `docker stop`


class ModelbuildError(Exception):
    """Base class: raised when modelbuild cannot do what it was asked, for a reason the user can fix.

    Args:
        message: one line naming the problem.
        hint: one line saying what to do about it, or None.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ModelbuildError):
    """Raised when an option or argument has a value of the wrong form."""

    exit_code = ExitCode.USAGE


class BadParameterValueError(UsageError):
    """Raised when a pipeline parameter override names no parameter or has a value of the wrong type."""


class UnknownStepError(UsageError):
    """Raised when a step name given by the user is not in the definition."""


class ModuleLoadError(UsageError):
    """Raised when a pipeline module cannot be imported or has no usable `get_pipeline`."""


class DefinitionError(ModelbuildError):
    """Raised when a pipeline definition is invalid: malformed JSON, bad references, cycles, unsupported steps."""

    exit_code = ExitCode.DEFINITION_INVALID


class ExecutionFailedError(ModelbuildError):
    """Raised when a pipeline execution ended Failed (a Fail step or a failing step)."""

    exit_code = ExitCode.EXECUTION_FAILED


class ExecutionStoppedError(ModelbuildError):
    """Raised when a pipeline execution ended Stopped."""

    exit_code = ExitCode.EXECUTION_STOPPED


class ExecutionInterruptedError(ModelbuildError):
    """Raised when SIGINT (Ctrl-C) or SIGTERM stopped a local execution; exits 130 or 143, as a shell reports."""

    def __init__(self, message: str, hint: str | None = None, *, terminated: bool = False) -> None:
        super().__init__(message, hint)
        self.exit_code = ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED


class ExecutionTimeoutError(ModelbuildError):
    """Raised when waiting for an execution took longer than the user's --timeout."""

    exit_code = ExitCode.TIMED_OUT


class AwsError(ModelbuildError):
    """Raised when AWS cannot be reached or refuses a call (credentials, region, access, validation)."""

    exit_code = ExitCode.AWS_UNREACHABLE


class StateError(ModelbuildError):
    """Raised when the local state directory or its SQLite database cannot be used: not a directory,
    read-only, corrupt, locked too long, from a newer modelbuild, or the disk is full."""

    exit_code = ExitCode.LOCAL_STATE


class ScaffoldError(ModelbuildError):
    """Raised when a project cannot be generated or updated from its template."""


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """Return "Did you mean 'X'?" for the closest of `choices` to `name`, or None when none is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1)
    return f"Did you mean {matches[0]!r}?" if matches else None
