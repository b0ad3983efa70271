"""`modelbuild`: the typer application. Each command lives in a module of its own beside this one.

Nothing here imports the SageMaker SDK: commands import the core lazily, inside their bodies, so
`modelbuild --help` costs what typer costs.
"""

from __future__ import annotations

import typer

from modelbuild.__version__ import __version__
from modelbuild.cli.errors import ModelbuildGroup
from modelbuild.errors import ExitCode

EXIT_CODES_HELP = "Exit codes: " + ", ".join(
    f"{int(code)} {code.name.lower().replace('_', ' ')}" for code in ExitCode
)

app = typer.Typer(
    name="modelbuild",
    cls=ModelbuildGroup,
    help="Build, check and run Amazon SageMaker Pipelines, on SageMaker or on this machine.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold AWS credentials
    # Plain click help: typer's rich help formatter alone costs ~110 ms of imports, more than
    # typer itself, and `--help` should cost what typer costs.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"modelbuild {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback when a command fails (or set MODELBUILD_DEBUG=1)."
    ),
) -> None:
    """Build, check and run Amazon SageMaker Pipelines, on SageMaker or on this machine."""


# Commands register themselves on `app` when their module is imported; the order here is the
# order of `--help`: what a pipeline is, then running it, then its results, then projects.
# isort: off
from modelbuild.cli import definition, checks, run, executions, models, s3, scaffold  # noqa: E402,F401
# isort: on


def main() -> None:
    """Console-script entry point of `modelbuild`."""
    app()
