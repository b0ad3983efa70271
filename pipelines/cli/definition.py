"""`modelbuild get-definition`: print or save the definition JSON a pipeline module builds, offline."""

from __future__ import annotations

import json

import typer

from pipelines.cli.app import app
from pipelines.cli.options import DEFAULT_MODULE, FILE_HELP, KWARGS_HELP, MODULE_HELP, parse_kwargs


def emit_definition(module_name: str, kwargs_text: str | None, file_name: str | None, pretty: bool) -> None:
    """Build the definition offline and write it to `file_name` or stdout.

    Shared by `modelbuild get-definition` and the seed-compatible `get-pipeline-definition`.
    """
    from pipelines._utils import write_text_atomic
    from pipelines.definition.build import build_definition

    built = build_definition(module_name, parse_kwargs(kwargs_text))
    text = json.dumps(built.definition, indent=2) if pretty else built.text
    if file_name:
        write_text_atomic(file_name, text + "\n")
    else:
        typer.echo(text)


@app.command("get-definition")
def get_definition(
    module_name: str = typer.Option(DEFAULT_MODULE, "--module-name", "-n", help=MODULE_HELP),
    kwargs: str = typer.Option(None, "--kwargs", help=KWARGS_HELP),
    file_name: str = typer.Option(None, "--file-name", "-f", help=FILE_HELP),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON for reading."),
) -> None:
    """Print the SageMaker Pipelines definition JSON of a pipeline module: no AWS account, no network.

    The region comes from --kwargs, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1; role
    and bucket get placeholders unless given in --kwargs. The output is what an upsert would send.

    Example: modelbuild get-definition -n pipelines.abalone.pipeline --kwargs '{"region": "eu-west-1"}'
    """
    emit_definition(module_name, kwargs, file_name, pretty)
