"""`modelbuild get-definition`: print or save the definition JSON a pipeline module builds, offline."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from modelbuild.cli.app import app
from modelbuild.cli.options import (
    FILE_HELP,
    KWARGS_OPTION,
    MODULE_OPTION,
    REBUILD_OPTION,
    definition_cache_dir,
    parse_kwargs,
    parse_state_dir,
)
from modelbuild.errors import UsageError


def emit_definition(module_name: str | None, kwargs_text: str | None, file_name: str | None, pretty: bool,
                    stage: bool = False, state_dir: Path | None = None, reuse: bool = False,
                    rebuild: bool = False) -> None:
    """Build the definition offline and write it to `file_name` or stdout.

    Shared by `modelbuild get-definition` and the seed-compatible `get-pipeline-definition` (which
    never stages nor reuses: it writes nothing but the definition). With `stage`, the code and data
    the definition reads are copied into the local store first, so `run --local --definition FILE`
    finds them. With `reuse`, the last build is returned when nothing it depends on changed (see
    `modelbuild.definition.build_cache`), unless `rebuild`.
    """
    from modelbuild._utils import write_text_atomic

    if file_name and Path(file_name).is_dir():  # checked before the build, not after it
        raise UsageError(f"-f/--file {file_name} is a directory",
                         hint=f"Name a file: -f {Path(file_name) / 'pipeline.json'}")
    kwargs = parse_kwargs(kwargs_text)
    if reuse:
        from modelbuild.definition.build_cache import build_or_reuse

        built = build_or_reuse(module_name, kwargs, cache_dir=definition_cache_dir(state_dir), rebuild=rebuild)
    else:
        from modelbuild.definition.build import build_definition

        built = build_definition(module_name, kwargs)
    if stage:
        from modelbuild.local.engine import stage_uploads

        stage_uploads(built.uploads, state_dir)
    text = json.dumps(built.definition, indent=2) if pretty else built.text
    if file_name:
        try:
            write_text_atomic(file_name, text + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {file_name}: {exc.strerror or exc}",
                             hint="Choose a file in a directory you can write.") from exc
    else:
        typer.echo(text)


@app.command("get-definition")
def get_definition(
    module_name: str = MODULE_OPTION,
    kwargs: str = KWARGS_OPTION,
    file_name: str = typer.Option(None, "--file-name", "-f", help=FILE_HELP),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON for reading."),
    stage: bool = typer.Option(
        True, "--stage/--no-stage",
        help="Also copy the step code and data the definition reads into the local store (.modelbuild/s3), "
        "as an upsert copies them to S3, so `run --local --definition FILE` finds them.",
    ),
    state_dir: Path = typer.Option(
        None, "--state-dir", envvar="MODELBUILD_HOME", parser=parse_state_dir,
        help="The local state directory: the store, and the last build kept for reuse (default ./.modelbuild).",
    ),
    rebuild: bool = REBUILD_OPTION,
) -> None:
    """Print the SageMaker Pipelines definition JSON of a pipeline module: no AWS account, no network.

    The region comes from --kwargs, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1; role
    and bucket get placeholders unless given in --kwargs. The output is what an upsert would send.

    The module is your project's: `pipeline` in [tool:modelbuild] of its setup.cfg unless -n names
    another; stderr says which file was built, or that its last build was reused (nothing it depends
    on changed; --rebuild builds anyway).

    Example: modelbuild get-definition -n pipelines.abalone.pipeline --kwargs '{"region": "eu-west-1"}'
    """
    emit_definition(module_name, kwargs, file_name, pretty, stage=stage, state_dir=state_dir, reuse=True,
                    rebuild=rebuild)
