"""Deferred coercion: every option value comes out exactly as typer's own coercion gives it, and the
values a plain run passes (absent options, text for str and Path options) never import pydantic."""

from __future__ import annotations

import enum
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer._click.exceptions import ClickException

from modelbuild.cli.coercion import defer_coercion


class Colour(str, enum.Enum):
    red = "red"
    blue = "blue"


def every_kind_of_option() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def show(
        name: str = typer.Option(None, "--name"),
        named: str = typer.Option("default", "--named"),
        where: Path = typer.Option(None, "--where"),
        existing: Path = typer.Option(None, "--existing", exists=True, dir_okay=False),
        count: int = typer.Option(None, "--count", min=1),
        limit: int = typer.Option(20, "--limit", min=1, max=100),
        clamped: int = typer.Option(500, "--clamped", max=100, clamp=True),
        share: float = typer.Option(0.5, "--share", min=0, max=1),
        ratio: float = typer.Option(None, "--ratio"),
        colour: Colour = typer.Option(None, "--colour", case_sensitive=False),
        pairs: list[str] = typer.Option(None, "--pair"),
        flag: bool = typer.Option(False, "--flag"),
        switch: bool = typer.Option(True, "--switch/--no-switch"),
        upper: str = typer.Option(None, "--upper", parser=str.upper),
    ) -> dict:
        return {name: value for name, value in locals().items()}

    @app.command()
    def other() -> None:
        """A second command, so `show` is a subcommand as in modelbuild's group."""

    return app


def outcome(args: list[str], deferred: bool) -> tuple[str, object]:
    """What a command line gives: ("ok", the values with their types) or (the error's type, its message)."""
    command = typer.main.get_command(every_kind_of_option())
    if deferred:
        defer_coercion(command)
    try:
        values = command.main(["show", *args], standalone_mode=False, prog_name="t")
    except ClickException as exc:
        return type(exc).__name__, exc.format_message()
    return "ok", {name: (type(value), value) for name, value in values.items()}


COMMAND_LINES = {
    "nothing given": [],
    "text": ["--name", "abc", "--named", ""],
    "text with a surrogate (undecodable argv bytes)": ["--name", "caf\udce9"],
    "paths": ["--where", "some/dir", "--existing", __file__],
    "an empty and a dash path": ["--where", ""],
    "a dash path": ["--where", "-"],
    "a path that must exist and does not": ["--existing", "no/such/file"],
    "a path that must be a file and is a directory": ["--existing", os.path.dirname(__file__)],
    "numbers": ["--count", "3", "--ratio", "0.5", "--limit", "7", "--share", "1"],
    "a number with an underscore": ["--count", "1_000"],
    "a number below its minimum": ["--count", "0"],
    "not a number": ["--ratio", "half"],
    "a choice, any case": ["--colour", "BLUE"],
    "not a choice": ["--colour", "green"],
    "a repeated option": ["--pair", "a=1", "--pair", "b=2"],
    "flags": ["--flag", "--no-switch"],
    "a parser": ["--upper", "shout"],
}


@pytest.mark.parametrize("args", COMMAND_LINES.values(), ids=COMMAND_LINES.keys())
def test_deferred_coercion_gives_what_typer_gives(args):
    assert outcome(args, deferred=True) == outcome(args, deferred=False)


def test_the_comparison_covers_values_and_errors():
    """The command lines above are what they say: a success with every default, and the errors."""
    kinds = {name: outcome(args, deferred=True)[0] for name, args in COMMAND_LINES.items()}
    _, values = outcome([], deferred=True)

    assert values["limit"] == (int, 20) and values["clamped"] == (int, 100) and values["pairs"] == (type(None), None)
    assert values["where"] == (type(None), None) and values["named"] == (str, "default")
    assert [name for name, kind in kinds.items() if kind != "ok"] == [
        "a path that must exist and does not", "a path that must be a file and is a directory",
        "a number below its minimum", "not a number", "not a choice"]


def test_the_help_option_is_deferred_too():
    command = typer.main.get_command(every_kind_of_option())
    defer_coercion(command)
    show = command.commands["show"]

    with typer.Context(show) as ctx:
        help_option = show.get_help_option(ctx)

    assert type(help_option._runtime_param).__name__ == "DeferredCoercion"


PLAIN_RUN = """
import sys
from modelbuild.cli.app import app
state = ["--state-dir", sys.argv[1]]
for args in (["executions", "list", *state], ["models", "list", "--group", "x", *state]):
    try:
        app(args, standalone_mode=False)
    except SystemExit:
        pass
print(sorted(name for name in sys.modules if name.partition(".")[0] == "pydantic"))
"""


def test_a_plain_command_line_does_not_import_pydantic(tmp_path):
    done = subprocess.run([sys.executable, "-c", PLAIN_RUN, str(tmp_path / "state")], capture_output=True, text=True,
                          check=True)

    assert done.stdout.splitlines()[-1] == "[]", done.stderr
