"""The one place a `ModelbuildError` becomes `Error: ...` / `Hint: ...` on stderr and an exit code.

Every modelbuild command object (the `modelbuild` group and the seed-compatible single commands)
mixes in `RendersErrors`, so no command catches errors itself. It also shows the core's notices
(records of the `modelbuild` loggers, such as which file a definition was built from) on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import traceback
from collections.abc import Iterator
from typing import Any

import typer
import typer.core

from modelbuild.errors import ExitCode, ModelbuildError

DEBUG_ENV = "MODELBUILD_DEBUG"


def debug_enabled(ctx: Any) -> bool:
    """True when --debug was given on this command or a parent, or MODELBUILD_DEBUG is set."""
    while ctx is not None:
        if ctx.params.get("debug"):
            return True
        ctx = ctx.parent
    return os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes")


def render_error(exc: BaseException, debug: bool) -> None:
    """Write the one-line error (and hint, and with debug the traceback) to stderr."""
    from rich.console import Console  # only on the error path: rich costs start-up time
    from rich.markup import escape

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if debug:
        console.print("".join(traceback.format_exception(exc)), markup=False, end="")
    if isinstance(exc, ModelbuildError):
        # Messages quote user and AWS text ("AlgorithmError: [bad] data"): escape it, or rich eats it as markup.
        console.print(f"[bold red]Error:[/] {escape(exc.message)}", markup=True)
        if exc.hint:
            console.print(f"[bold]Hint:[/] {escape(exc.hint)}")
    elif isinstance(exc, Terminated):
        console.print("[bold red]Terminated.[/]")
    elif isinstance(exc, KeyboardInterrupt):
        console.print("[bold red]Interrupted.[/]")


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI timeout, `docker stop`, `kill`) outside a run, handled as Ctrl-C is: whatever was being
    done is abandoned the way Ctrl-C abandons it, and the command says so and exits 143 instead of vanishing."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextlib.contextmanager
def terminating_as_interrupt() -> Iterator[None]:
    """For the block (in the main thread), SIGTERM raises `Terminated`. A local run installs its own handlers."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)


class _StderrNotices(logging.Handler):
    """Writes the core's INFO and WARNING records to stderr as plain lines (click resolves the stream
    at each call, so CliRunner captures them too)."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "Warning: " if record.levelno >= logging.WARNING else ""
        typer.echo(prefix + record.getMessage(), err=True)


@contextlib.contextmanager
def showing_notices() -> Iterator[None]:
    """Show the `modelbuild` loggers' records on stderr for the block (once, however deeply nested)."""
    logger = logging.getLogger("modelbuild")
    if any(isinstance(handler, _StderrNotices) for handler in logger.handlers):
        yield
        return
    handler, saved = _StderrNotices(), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


class RendersErrors:
    """Mixin for click commands: turns ModelbuildError and Ctrl-C into a message and an ExitCode."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from modelbuild.cli.coercion import defer_coercion  # no pydantic unless a value needs it

        defer_coercion(self)
        return super().parse_args(ctx, args)  # type: ignore[misc]

    def invoke(self, ctx: Any) -> Any:
        try:
            with showing_notices(), terminating_as_interrupt():
                return super().invoke(ctx)  # type: ignore[misc]
        except ModelbuildError as exc:
            render_error(exc, debug_enabled(ctx))
            raise typer.Exit(int(exc.exit_code)) from exc
        except KeyboardInterrupt as exc:
            render_error(exc, debug_enabled(ctx))
            code = ExitCode.TERMINATED if isinstance(exc, Terminated) else ExitCode.INTERRUPTED
            raise typer.Exit(int(code)) from exc


class ModelbuildGroup(RendersErrors, typer.core.TyperGroup):
    """The `modelbuild` command group."""


class ModelbuildCommand(RendersErrors, typer.core.TyperCommand):
    """A stand-alone command (the seed-compatible `get-pipeline-definition` and `run-pipeline`)."""
