"""Terminal output both run targets share: the console, tables, status colours, durations.

rich is imported inside the functions: it costs start-up time that `modelbuild --help` should not pay.
"""

from __future__ import annotations

import sys
from typing import Any

PLAIN_WIDTH = 200
"""Console width when stdout is not a terminal: wide enough that a CodeBuild log line is never folded."""

STATUS_STYLES = {
    "Succeeded": "green", "Cached": "cyan", "Reused": "cyan", "Failed": "bold red", "Executing": "yellow",
    "Starting": "yellow", "Skipped": "dim", "Stopped": "magenta", "Stopping": "magenta",
    "CompletedWithFailures": "red", "Completed": "green", "Stubbed": "blue",
}


def console() -> Any:
    """A rich console on stdout, without syntax highlighting."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else PLAIN_WIDTH)


def table(*columns: str) -> Any:
    """A borderless rich table with these columns, folding long cells instead of cutting them."""
    from rich.table import Table

    result = Table(box=None, pad_edge=False)
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


def styled(status: str) -> str:
    """`status` in rich markup with its colour."""
    style = STATUS_STYLES.get(status)
    return f"[{style}]{status}[/]" if style else status


def escape(text: str) -> str:
    """`text` with rich markup characters escaped (failure reasons may contain "[...]")."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class EventRenderer:
    """Base of both targets' progress renderers: a console, and a context manager a live view extends."""

    def __init__(self) -> None:
        self.console = console()

    def __enter__(self) -> EventRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def choose_renderer(json_output: bool, plain: type, live: type, json_lines: type) -> Any:
    """JSON lines when asked; else a live view on a terminal, plain lines elsewhere (CI logs)."""
    if json_output:
        return json_lines()
    return live() if sys.stdout.isatty() else plain()


class LiveEventRenderer(EventRenderer):
    """A live view on a terminal that redraws the renderer itself: subclasses define `__rich__`."""

    refresh_per_second = 4

    def __init__(self) -> None:
        super().__init__()
        from rich.live import Live

        # Live re-renders `self` on every refresh, so durations of running steps tick between events.
        self.live = Live(self, console=self.console, refresh_per_second=self.refresh_per_second, transient=True)

    def __enter__(self) -> LiveEventRenderer:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)  # type: ignore[arg-type]
