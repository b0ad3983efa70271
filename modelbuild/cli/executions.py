"""`modelbuild executions list|show|stop`: past and running executions, of either target.

Each command parses options and hands them to the target's renderer (`modelbuild.cli.local_target`
or `modelbuild.cli.sagemaker_target`), which calls the core and prints text or `--json`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from modelbuild.cli.app import app
from modelbuild.cli.options import TARGET_ENV, Target, parse_state_dir, resolve_target

executions_app = typer.Typer(
    help="List, show and stop pipeline executions (local or on SageMaker).", no_args_is_help=True
)
app.add_typer(executions_app, name="executions")

TARGET_OPTION = typer.Option(
    None, "--target", "-t", envvar=TARGET_ENV, case_sensitive=False, help="local (default) or sagemaker."
)
LOCAL_OPTION = typer.Option(False, "--local", help="Short for --target local.")
STATE_DIR_OPTION = typer.Option(
    None, "--state-dir", envvar="MODELBUILD_HOME", parser=parse_state_dir,
    help="Local target: the state directory (default ./.modelbuild)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


@executions_app.command("list")
def list_executions(
    pipeline_name: str = typer.Option(None, "--pipeline-name", help="Only this pipeline's executions."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many, newest first."),
    target: Target = TARGET_OPTION,
    local: bool = LOCAL_OPTION,
    state_dir: Path = STATE_DIR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """List executions, newest first."""
    if resolve_target(target, local) is Target.local:
        from modelbuild.cli import local_target

        local_target.list_executions(pipeline_name, limit, state_dir, json_output)
    else:
        from modelbuild.cli import sagemaker_target

        sagemaker_target.list_executions(pipeline_name, limit, json_output)


@executions_app.command("show")
def show_execution(
    execution: str = typer.Argument(..., metavar="EXEC_ID", help="A local execution id, or a SageMaker execution ARN."),
    target: Target = TARGET_OPTION,
    local: bool = LOCAL_OPTION,
    state_dir: Path = STATE_DIR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Show one execution and its steps."""
    if execution.startswith("arn:") or resolve_target(target, local) is Target.sagemaker:
        from modelbuild.cli import sagemaker_target

        sagemaker_target.show_execution(execution, json_output)
    else:
        from modelbuild.cli import local_target

        local_target.show_execution(execution, state_dir, json_output)


@executions_app.command("callback")
def answer_callback(
    token: str = typer.Argument(..., metavar="TOKEN", help="The token the waiting Callback step printed."),
    success: bool = typer.Option(False, "--success", help="The step succeeds (SendPipelineExecutionStepSuccess)."),
    output: list[str] = typer.Option(
        None, "--output", metavar="NAME=VALUE", help="With --success: an output parameter's value (repeatable)."
    ),
    failure: str = typer.Option(
        None, "--failure", metavar="REASON", help="The step fails with REASON (SendPipelineExecutionStepFailure)."
    ),
    state_dir: Path = STATE_DIR_OPTION,
) -> None:
    """Answer a local Callback step that waits for its token, from any terminal.

    Examples:

      modelbuild executions callback TOKEN --success --output approved=true

      modelbuild executions callback TOKEN --failure "rejected by review"
    """
    from modelbuild.cli import local_target

    local_target.answer_callback(token, success, output, failure, state_dir)


@executions_app.command("stop")
def stop_execution(
    execution: str = typer.Argument(..., metavar="EXEC_ARN", help="The SageMaker execution ARN."),
) -> None:
    """Stop a running SageMaker execution."""
    from modelbuild.cli import sagemaker_target

    sagemaker_target.stop_execution(execution)
