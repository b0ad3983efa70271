"""`modelbuild run`: one command, two targets. Parses options, then hands them to the target's renderer.

`--target local` (the default: no surprise AWS bill) runs the definition with the local engine
(`modelbuild.cli.local_target`); `--target sagemaker` upserts and starts it on SageMaker
(`modelbuild.cli.sagemaker_target`). Both receive the same `RunOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import typer

from modelbuild.cli.app import app
from modelbuild.cli.options import (
    KWARGS_OPTION,
    MODULE_OPTION,
    REBUILD_OPTION,
    TARGET_ENV,
    Target,
    parse_kwargs,
    parse_parameters,
    parse_state_dir,
    parse_steps,
    parse_tags,
    resolve_target,
)


@dataclass(frozen=True)
class RunOptions:
    """Everything `modelbuild run` was asked, parsed and checked for form (not yet against a definition)."""

    module_name: str | None
    kwargs: dict
    definition_file: Path | None
    parameters: dict[str, str]
    json_output: bool
    # local target
    state_dir: Path | None = None
    max_parallel: int | None = None
    resume: str | None = None
    steps: tuple[str, ...] = ()
    cache_by_default: bool = True
    rebuild: bool = False
    stubs: dict[str, str] = field(default_factory=dict)
    callback_texts: dict[str, str] = field(default_factory=dict)  # step -> "success:NAME=VALUE" | "failure:WHY"
    lambda_code: dict[str, str] = field(default_factory=dict)  # function ARN or name -> "PATH:HANDLER"
    # SageMaker target
    role_arn: str | None = None
    description: str | None = None
    tags: tuple[dict, ...] = ()
    execution_name: str | None = None
    execution_description: str | None = None
    wait: bool = False
    timeout: float | None = None


@app.command("run")
def run(
    module_name: str = MODULE_OPTION,
    kwargs: str = KWARGS_OPTION,
    definition_file: Path = typer.Option(
        None, "--definition", "-d", help="Run this definition JSON file instead of building one from --module-name."
    ),
    target: Target = typer.Option(
        None, "--target", "-t", envvar=TARGET_ENV, case_sensitive=False,
        help="Where to run: local (default; this machine, no AWS, no Docker) or sagemaker.",
    ),
    local: bool = typer.Option(False, "--local", help="Short for --target local."),
    parameter: list[str] = typer.Option(
        None, "--parameter", "-p", metavar="NAME=VALUE", help="Override a pipeline parameter (repeatable)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Emit JSON lines of events instead of a live view."),
    state_dir: Path = typer.Option(
        None, "--state-dir", envvar="MODELBUILD_HOME", parser=parse_state_dir,
        help="Local target: where executions, models and the S3 store live (default ./.modelbuild).",
    ),
    max_parallel: int = typer.Option(
        None, "--max-parallel", min=1,
        help="Most steps at once (local default: the CPU count; on SageMaker: its ParallelismConfiguration).",
    ),
    resume: str = typer.Option(None, "--resume", metavar="EXEC_ID", help="Local target: rerun what did not succeed."),
    steps: str = typer.Option(
        None, "--steps", metavar="A,B", help="Local target: run only these steps, reusing the others' outputs."
    ),
    cache: bool = typer.Option(
        True, "--cache/--no-cache",
        help="Local target: serve job steps without a CacheConfig from earlier identical runs (content-keyed); "
        "steps with a CacheConfig follow it.",
    ),
    rebuild: bool = REBUILD_OPTION,
    stub: list[str] = typer.Option(
        None, "--stub", metavar="STEP=FILE.json",
        help="Local target: take STEP's properties from FILE (as SageMaker reports them) instead of running it; "
        "for steps that cannot run here (EMR, AutoML, checks, a Lambda known only by ARN). Repeatable.",
    ),
    callback: list[str] = typer.Option(
        None, "--callback", metavar="STEP=success[:NAME=VALUE,...]|failure[:REASON]",
        help="Local target: answer Callback step STEP before it starts, instead of waiting for "
        "`modelbuild executions callback TOKEN`. Repeatable.",
    ),
    lambda_function: list[str] = typer.Option(
        None, "--lambda", metavar="FUNCTION=PATH:HANDLER",
        help="Local target: run this local code (a .py file or directory, and module.function) for Lambda "
        "FUNCTION (its ARN or name), known here only by ARN. Repeatable.",
    ),
    role_arn: str = typer.Option(None, "--role-arn", help="SageMaker target: the IAM role the pipeline runs as."),
    description: str = typer.Option(None, "--description", help="SageMaker target: the pipeline's description."),
    tags: str = typer.Option(None, "--tags", help="""SageMaker target: '[{"Key": "team", "Value": "ml"}]'."""),
    execution_name: str = typer.Option(None, "--execution-name", help="SageMaker target: the execution's name."),
    execution_description: str = typer.Option(
        None, "--execution-description", help="SageMaker target: the execution's description."
    ),
    wait: bool = typer.Option(False, "--wait", help="SageMaker target: follow the execution until it ends."),
    timeout: float = typer.Option(
        None, "--timeout", min=0, help="SageMaker target with --wait: give up after SECONDS."
    ),
) -> None:
    """Run a pipeline: on this machine with the local engine (default), or on SageMaker.

    Examples:

      modelbuild run --local

      modelbuild run --local --parameter MseThreshold=0.5

      modelbuild run --local --stub SparkPrep=emr-stub.json

      modelbuild run --target sagemaker --role-arn ARN --wait
    """
    options = RunOptions(
        module_name=module_name,
        kwargs=parse_kwargs(kwargs),
        definition_file=definition_file,
        parameters=parse_parameters(parameter),
        json_output=json_output,
        state_dir=state_dir,
        max_parallel=max_parallel,
        resume=resume,
        steps=parse_steps(steps),
        cache_by_default=cache,
        rebuild=rebuild,
        stubs=parse_parameters(stub, "--stub", "SparkPrep=emr-stub.json"),
        callback_texts=parse_parameters(callback, "--callback", "Approve=success:approved=true"),
        lambda_code=parse_parameters(lambda_function, "--lambda", "notify=lambdas/notify.py:notify.handler"),
        role_arn=role_arn,
        description=description,
        tags=tuple(parse_tags(tags)),
        execution_name=execution_name,
        execution_description=execution_description,
        wait=wait,
        timeout=timeout,
    )
    if resolve_target(target, local) is Target.local:
        from modelbuild.cli.local_target import run_local

        run_local(options)
    else:
        from modelbuild.cli.sagemaker_target import run_sagemaker

        run_sagemaker(options)
