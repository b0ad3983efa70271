"""The one place a `ModelbuildError` becomes `Error: ...` / `Hint: ...` on stderr and an exit code.

Every modelbuild command object (the `modelbuild` group and the seed-compatible single commands)
mixes in `RendersErrors`, so no command catches errors itself.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import typer
import typer.core

from pipelines.errors import ExitCode, ModelbuildError

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
    elif isinstance(exc, KeyboardInterrupt):
        console.print("[bold red]Interrupted.[/]")


class RendersErrors:
    """Mixin for click commands: turns ModelbuildError and Ctrl-C into a message and an ExitCode."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except ModelbuildError as exc:
            render_error(exc, debug_enabled(ctx))
            raise typer.Exit(int(exc.exit_code)) from exc
        except KeyboardInterrupt as exc:
            render_error(exc, debug_enabled(ctx))
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from exc


class ModelbuildGroup(RendersErrors, typer.core.TyperGroup):
    """The `modelbuild` command group."""


class ModelbuildCommand(RendersErrors, typer.core.TyperCommand):
    """A stand-alone command (the seed-compatible `get-pipeline-definition` and `run-pipeline`)."""
