"""`get-pipeline-definition`: the AWS seed's console script, flag for flag, over modelbuild's implementation.

Existing buildspecs call it with single-dash long flags (`-kwargs`, `-f`); those keep working.
"""

from __future__ import annotations

import typer

from modelbuild.cli.definition import emit_definition
from modelbuild.cli.errors import ModelbuildCommand
from modelbuild.cli.options import FILE_HELP, KWARGS_HELP, MODULE_HELP

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


@app.command(cls=ModelbuildCommand)
def get_pipeline_definition(
    module_name: str = typer.Option(None, "-n", "--module-name", help=MODULE_HELP),
    file_name: str = typer.Option(None, "-f", "--file-name", help=FILE_HELP),
    kwargs: str = typer.Option(None, "-kwargs", "--kwargs", help=KWARGS_HELP),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback when it fails."),
) -> None:
    """Get a SageMaker pipeline definition (seed-compatible; prefer `modelbuild get-definition`)."""
    emit_definition(module_name, kwargs, file_name, pretty=False)


def main() -> None:
    """Console-script entry point of `get-pipeline-definition`."""
    app()


if __name__ == "__main__":
    main()
