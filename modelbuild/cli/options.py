"""Parsing of option values that arrive as text: --kwargs, --tags and --parameter NAME=VALUE.

The AWS seed parsed --kwargs with `ast.literal_eval` alone, so JSON's true/false/null failed, and
crashed when --tags was absent. Here JSON is tried first, a Python literal second, and absence
means "empty".
"""

from __future__ import annotations

import ast
import enum
import json
import os
from pathlib import Path
from typing import Any

import typer

from modelbuild.errors import UsageError

# Options more than one command shares (get-definition, run, and the seed's scripts).
MODULE_HELP = (
    "Pipeline module with a get_pipeline(**kwargs) function, imported from the project directory first "
    "(default: `pipeline` in [tool:modelbuild] of the project's setup.cfg, or its only pipelines/<name>/pipeline.py)."
)
KWARGS_HELP = """Keyword arguments for get_pipeline as JSON (or a Python literal), e.g. '{"region": "eu-west-1"}'."""
FILE_HELP = "Write the definition to this file (atomically) instead of stdout."
MODULE_OPTION = typer.Option(None, "--module-name", "-n", help=MODULE_HELP)
KWARGS_OPTION = typer.Option(None, "--kwargs", help=KWARGS_HELP)
REBUILD_OPTION = typer.Option(
    False, "--rebuild",
    help="Build the definition even when nothing it depends on changed since the last build (which is reused "
    "otherwise, without importing the SDK).",
)
def parse_state_dir(value: Any) -> Path:
    """A --state-dir value: a path, never the empty string (which would put the state in the current directory)."""
    if isinstance(value, Path):
        return value
    if not str(value).strip():
        raise typer.BadParameter("is empty (which would write state into the current directory); name a "
                                 "directory, or leave the option (and MODELBUILD_HOME) out for ./.modelbuild")
    return Path(value)


STATE_DIR_OPTION = typer.Option(
    None, "--state-dir", envvar="MODELBUILD_HOME", parser=parse_state_dir,
    help="The local state directory, where the last build of each module is kept for reuse (default ./.modelbuild).",
)
DEFINITION_CACHE = "definitions"
"""The definition cache's directory inside the local state directory."""


def definition_cache_dir(state_dir: Path | None) -> Path:
    """Where builds are kept for reuse: `definitions/` in the local state directory (--state-dir,
    else MODELBUILD_HOME, else ./.modelbuild)."""
    from modelbuild.local.state import resolve_state_dir

    return resolve_state_dir(state_dir) / DEFINITION_CACHE


def parse_literal(text: str, option: str, example: str = '{"region": "eu-west-1"}') -> Any:
    """Parse `text` as JSON, or failing that as a Python literal; UsageError naming `option` otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    except RecursionError as exc:
        raise UsageError(f"{option} is nested too deeply to read ({len(text)} characters)",
                         hint=f"Pass a flat value, e.g. {option} '{example}'") from exc
    try:
        return ast.literal_eval(_json_names_as_constants(ast.parse(text.strip(), mode="eval")))
    except (ValueError, SyntaxError, RecursionError, MemoryError) as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise UsageError(
            f"{option} is neither JSON nor a Python literal: {shown!r}",
            hint=f"Quote it for the shell, e.g. {option} '{example}'",
        ) from exc


_JSON_NAMES = {"true": True, "false": False, "null": None}


def _json_names_as_constants(tree: ast.Expression) -> ast.Expression:
    """Turn the bare names true/false/null into constants, so a Python literal may use JSON's spellings
    (a buildspec mixing the two, such as {'flag': true}, is common)."""
    for node in ast.walk(tree):
        for field_name, value in ast.iter_fields(node):
            if isinstance(value, list):
                value[:] = [_constant(item) for item in value]
            else:
                setattr(node, field_name, _constant(value))
    return tree


def _constant(node: object) -> object:
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return ast.Constant(_JSON_NAMES[node.id])
    return node


def parse_kwargs(text: str | None, option: str = "--kwargs") -> dict[str, Any]:
    """Parse a --kwargs value into a dict; None or empty text means no kwargs."""
    if text is None or not text.strip():
        return {}
    value = parse_literal(text, option)
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise UsageError(
            f"{option} should be an object with string keys, got {type(value).__name__}: {text!r}",
            hint=f"""For example {option} '{{"region": "eu-west-1", "role": "arn:aws:iam::..."}}'""",
        )
    if "region" in value:
        check_region(value["region"], f"{option} region")
    return value


def check_region(region: Any, where: str) -> None:
    """A string shaped like an AWS region name; UsageError naming `where` otherwise.

    Only the shape, with a regular expression: botocore's region list would cost about a second of
    start-up on every command, the definition cache's warm path included. A well-formed name SageMaker
    does not know is refused by the SDK at build time, naming the regions it supports.
    """
    from modelbuild.scaffold.names import REGION_PATTERN

    if not isinstance(region, str):
        raise UsageError(f"{where} should be a string such as \"eu-west-1\", got {type(region).__name__}: {region!r}",
                         hint=f"""Quote it: --kwargs '{{"region": "{region}"}}'""")
    if not REGION_PATTERN.match(region):
        raise UsageError(f"{where} {region!r} is not an AWS region name", hint="For example eu-west-1 or us-east-1.")


def parse_tags(text: str | None, option: str = "--tags") -> list[dict[str, str]]:
    """Parse a --tags value into [{"Key": ..., "Value": ...}]; None or empty text means no tags."""
    if text is None or not text.strip():
        return []
    value = parse_literal(text, option, '[{"Key": "team", "Value": "ml"}]')
    example = f"""{option} '[{{"Key": "team", "Value": "ml"}}]'"""
    if not isinstance(value, list):
        raise UsageError(f"{option} should be a list of tags, got {type(value).__name__}", hint=example)
    for tag in value:
        if not isinstance(tag, dict) or set(tag) != {"Key", "Value"}:
            raise UsageError(f"{option}: each tag should have exactly Key and Value, got {tag!r}", hint=example)
        tag["Value"] = str(tag["Value"])
    return value


def parse_steps(text: str | None, option: str = "--steps") -> tuple[str, ...]:
    """Step names of a comma-separated list; None means all steps, but a list of no names is a mistake."""
    if text is None:
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise UsageError(f"{option} {text!r} names no step", hint=f"For example {option} TrainModel,EvaluateModel")
    return names


def parse_parameters(pairs: list[str] | None, option: str = "--parameter", example: str = "MseThreshold=6.5", *,
                     name: str = "NAME") -> dict[str, str]:
    """Parse repeated NAME=VALUE options (--parameter, --set) into a dict of raw strings.

    Values stay text (a --parameter is typed later against the definition); a value may hold "=".
    """
    parameters: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problem = f"{pair!r} has no '='" if not sep else f"{pair!r} has no {name.lower()}"
            raise UsageError(f"{option} should look like {name}=VALUE; {problem}",
                             hint=f"For example {option} {example}")
        parameters[key.strip()] = value
    return parameters


TARGET_ENV = "MODELBUILD_TARGET"


class Target(str, enum.Enum):
    """Where a pipeline runs."""

    local = "local"
    sagemaker = "sagemaker"


def resolve_target(target: Target | None, local: bool) -> Target:
    """`--local`, else `--target` (or MODELBUILD_TARGET, read by typer), else local.

    `--local` overrides MODELBUILD_TARGET=sagemaker (a flag beats the environment), but given with
    `--target sagemaker` on the same command line it is a contradiction, refused before any work.
    """
    from_environment = os.environ.get(TARGET_ENV, "").lower() == Target.sagemaker.value
    if local and target is Target.sagemaker and not from_environment:
        raise UsageError("--local and --target sagemaker contradict each other", hint="Pass one of them.")
    if local:
        return Target.local
    return target or Target.local
