"""`modelbuild validate|graph|diff`: look at a definition before anything runs.

`validate` and `graph` are offline (build the module's definition, or reuse its last build when
nothing it depends on changed, or read `--definition FILE`); `diff` compares the definition an
upsert would send, built afresh, with the deployed pipeline.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import typer

from modelbuild.cli.app import app
from modelbuild.cli.options import (
    KWARGS_OPTION,
    MODULE_OPTION,
    REBUILD_OPTION,
    STATE_DIR_OPTION,
    TARGET_ENV,
    Target,
    definition_cache_dir,
    parse_kwargs,
)
from modelbuild.errors import DefinitionError, ExitCode

DEFINITION_OPTION = typer.Option(
    None, "--definition", "-d", help="Check this definition JSON file instead of building one from --module-name."
)
ROLE_HELP = "The IAM role the pipeline runs as on SageMaker (also fills get_pipeline's role and default_bucket)."


class GraphFormat(str, enum.Enum):
    """How `graph` draws the step DAG."""

    text = "text"
    mermaid = "mermaid"
    dot = "dot"


def load_definition(module_name: str | None, kwargs_text: str | None, definition_file: Path | None,
                    role_arn: str | None = None, state_dir: Path | None = None,
                    rebuild: bool = False) -> tuple[dict[str, Any], str, str | None]:
    """(definition, pipeline name, module file or None) from a JSON file, or built offline from a module.

    A module's last build is reused when nothing it depends on changed (unless `rebuild`). With
    `role_arn` the module is built afresh, as `run --target sagemaker` builds it (role and default
    bucket filled in), so what is checked is what would be upserted: filling them in imports the
    module, before any build, where the definition cache would not see what it reads.

    Raises:
        DefinitionError: the file cannot be read or is not JSON.
    """
    if definition_file is not None:
        try:
            return json.loads(Path(definition_file).read_text(encoding="utf-8")), Path(definition_file).stem, None
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise DefinitionError(f"cannot read definition {str(definition_file)!r}: {exc}") from exc
        except RecursionError as exc:
            raise DefinitionError(f"definition {str(definition_file)!r} is nested too deeply to read") from exc
    kwargs = parse_kwargs(kwargs_text)
    if role_arn:
        from modelbuild.definition.build import build_definition
        from modelbuild.sagemaker_target.run import sagemaker_kwargs

        built = build_definition(module_name, sagemaker_kwargs(module_name, kwargs, role_arn))
    else:
        from modelbuild.definition.build_cache import build_or_reuse

        built = build_or_reuse(module_name, kwargs, cache_dir=definition_cache_dir(state_dir), rebuild=rebuild)
    return built.definition, built.pipeline_name, built.module_file


@app.command("validate")
def validate(
    module_name: str = MODULE_OPTION,
    kwargs: str = KWARGS_OPTION,
    definition_file: Path = DEFINITION_OPTION,
    target: Target = typer.Option(
        Target.local, "--target", "-t", envvar=TARGET_ENV, case_sensitive=False,
        help="Check for this target: sagemaker also needs --role-arn.",
    ),
    role_arn: str = typer.Option(None, "--role-arn", help=ROLE_HELP),
    json_output: bool = typer.Option(
        False, "--json", help="Print the result as JSON: pipeline name, module file and the problems."
    ),
    state_dir: Path = STATE_DIR_OPTION,
    rebuild: bool = REBUILD_OPTION,
) -> None:
    """Check a pipeline definition offline: references, property paths, PropertyFiles, parameter and
    condition types, cycles, step arguments and instance types against SageMaker's API model.

    Exits 0 when there is nothing to fix, else 3 (definition invalid) after listing every problem.

    Example: modelbuild validate --target sagemaker --role-arn arn:aws:iam::123456789012:role/Pipeline
    """
    from modelbuild.definition.validate import validate_definition

    definition, name, module_file = load_definition(module_name, kwargs, definition_file, role_arn, state_dir, rebuild)
    problems = validate_definition(definition, target=target.value, role_arn=role_arn)
    if json_output:
        typer.echo(json.dumps({
            "pipeline_name": name,
            "module_file": module_file,
            "definition_file": str(definition_file) if definition_file else None,
            "problems": [problem.to_json() for problem in problems],
        }, indent=2))
    else:
        for problem in problems:
            typer.echo(f"- {problem}")
    if problems:
        raise DefinitionError(
            f"{name}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found",
            hint="Fix them in the pipeline module and run `modelbuild validate` again.",
        )
    if not json_output:
        typer.echo(f"{name}: no problems found (target {target.value}).")


@app.command("graph")
def graph(
    module_name: str = MODULE_OPTION,
    kwargs: str = KWARGS_OPTION,
    definition_file: Path = DEFINITION_OPTION,
    fmt: GraphFormat = typer.Option(
        GraphFormat.text, "--format", "-f", case_sensitive=False,
        help="text (a tree for the terminal), mermaid (for READMEs and pull requests) or dot (Graphviz).",
    ),
    state_dir: Path = STATE_DIR_OPTION,
    rebuild: bool = REBUILD_OPTION,
) -> None:
    """Draw the pipeline's step graph, offline.

    Examples:

      modelbuild graph

      modelbuild graph --format mermaid > docs/pipeline.mmd

      modelbuild graph --format dot | dot -Tsvg > pipeline.svg
    """
    from modelbuild.definition.graph import render_graph

    definition, name, _ = load_definition(module_name, kwargs, definition_file, state_dir=state_dir, rebuild=rebuild)
    typer.echo(render_graph(definition, fmt.value, title=name), nl=False)


@app.command("diff")
def diff(
    module_name: str = MODULE_OPTION,
    kwargs: str = KWARGS_OPTION,
    role_arn: str = typer.Option(None, "--role-arn", help=ROLE_HELP),
    pipeline_name: str = typer.Option(
        None, "--pipeline-name", help="The deployed pipeline to compare with (default: the module's pipeline name)."
    ),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when an upsert would change something."),
    json_output: bool = typer.Option(False, "--json", help="Print the differences as JSON."),
) -> None:
    """Show what an upsert would change in the deployed pipeline, grouped by step.

    Example: modelbuild diff --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN" --exit-code
    """
    from modelbuild.sagemaker_target.run import diff_with_deployed, require_role

    require_role(role_arn)
    name, difference, module_file = diff_with_deployed(module_name, parse_kwargs(kwargs), role_arn, pipeline_name)
    if json_output:
        typer.echo(json.dumps({"pipeline_name": name, "module_file": module_file, **difference.to_json()},
                              indent=2, default=str))
    else:
        typer.echo(f"Pipeline {name}:")
        for line in difference.lines():
            typer.echo(line)
    if exit_code and difference.changed:
        raise typer.Exit(int(ExitCode.FAILURE))
