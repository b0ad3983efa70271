"""Rendering of the SageMaker target: `run --target sagemaker`, `run-pipeline`, `executions list|show|stop`.

Each function calls the core in `modelbuild.sagemaker_target` and renders the result: a live table of
the steps when stdout is a terminal, plain lines otherwise (CodeBuild logs), JSON lines with `--json`.
A Failed / Stopped / timed-out execution ends in the matching error (and exit code) after rendering;
Ctrl-C while following says the execution keeps running and how to stop it, or offers to stop it
when the session is interactive.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer

from modelbuild.cli import render
from modelbuild.errors import UsageError


def run_sagemaker(options: Any) -> None:
    """Upsert and start `options` (a `RunOptions`) on SageMaker; with `options.wait` follow it to the end.

    Raises:
        UsageError: a local-target option was given.
        ExecutionFailedError / ExecutionStoppedError / ExecutionTimeoutError: how a followed execution ended.
    """
    local_only = [flag for flag, given in (("--definition", options.definition_file), ("--resume", options.resume),
                                           ("--steps", options.steps), ("--stub", options.stubs),
                                           ("--callback", options.callback_texts),
                                           ("--lambda", options.lambda_code)) if given]
    if options.timeout is not None and not options.wait:
        raise UsageError("--timeout only applies with --wait", hint="Add --wait to follow the execution.")
    if local_only:
        raise UsageError(
            f"{', '.join(local_only)} only apply to the local target",
            hint="The SageMaker target builds the definition from --module-name and runs every step.",
        )
    start_and_follow(
        options.module_name, options.kwargs, options.role_arn,
        description=options.description, tags=options.tags, parameters=options.parameters,
        execution_name=options.execution_name, execution_description=options.execution_description,
        max_parallel_steps=options.max_parallel, wait=options.wait, timeout=options.timeout,
        json_output=options.json_output,
    )


def start_and_follow(module_name: str, kwargs: dict, role_arn: str | None, *, description: str | None = None,
                     tags: Sequence[dict] = (), parameters: dict[str, str] | None = None,
                     execution_name: str | None = None, execution_description: str | None = None,
                     max_parallel_steps: int | None = None, wait: bool = False, timeout: float | None = None,
                     json_output: bool = False) -> None:
    """Shared by `modelbuild run --target sagemaker` and the seed-compatible `run-pipeline`."""
    from modelbuild.sagemaker_target.run import run_on_sagemaker

    started = run_on_sagemaker(
        module_name, kwargs, role_arn, description=description, tags=tags, parameters=parameters,
        execution_name=execution_name, execution_description=execution_description,
        max_parallel_steps=max_parallel_steps,
    )
    for warning in started.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    if json_output:
        typer.echo(json.dumps(started.to_json()))
    else:
        verb = "Created" if started.created else "Updated"
        typer.echo(f"{verb} pipeline {started.pipeline_name} ({started.pipeline_arn})")
        typer.echo(f"Started execution {started.execution_arn}")
        typer.echo(f"Console: {started.console_url}")
    if wait:
        follow(started.execution_arn, json_output, timeout, region=started.region)


def follow(execution_arn: str, json_output: bool, timeout: float | None, region: str | None = None) -> None:
    """Render an execution's step transitions until it ends, then raise unless it Succeeded."""
    from modelbuild.sagemaker_target.aws import make_clients
    from modelbuild.sagemaker_target.watch import ExecutionFinished, raise_for_outcome, watch_execution

    clients = make_clients(region or region_of(execution_arn))
    renderer = _renderer(json_output)
    finished = None
    try:
        with renderer:
            for event in watch_execution(clients, execution_arn, timeout=timeout):
                renderer.on_event(event)
                if isinstance(event, ExecutionFinished):
                    finished = event
    except KeyboardInterrupt:
        _interrupted(clients, execution_arn, json_output)
        raise
    if finished is not None:  # watch_execution always ends with it, or raises
        renderer.summary(finished)
        raise_for_outcome(finished)


def _interrupted(clients: Any, execution_arn: str, json_output: bool) -> None:
    """Never leave an execution running silently: offer to stop it, or say how to."""
    import click

    from modelbuild.sagemaker_target.executions import stop_execution as stop

    stop_command = f"modelbuild executions stop {execution_arn}"
    if interactive() and not json_output:
        try:
            wanted = typer.confirm(f"\nStop execution {execution_arn} on SageMaker?", default=False, err=True)
        except click.exceptions.Abort:
            wanted = False
        if wanted:
            stop(clients, execution_arn)
            typer.echo(f"Stopping {execution_arn}", err=True)
            return
    typer.echo(f"\nThe execution is still running on SageMaker: {execution_arn}\nStop it with: {stop_command}",
               err=True)


def interactive() -> bool:
    """True when a person is at the terminal (both stdin and stdout are terminals)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def region_of(arn: str) -> str | None:
    """The region field of an ARN, None when it has none."""
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 3 and arn.startswith("arn:") else None


def list_executions(pipeline_name: str | None, limit: int, json_output: bool) -> None:
    """Print a SageMaker pipeline's executions, newest first.

    Raises:
        UsageError: no --pipeline-name (the hint lists the region's pipelines).
    """
    from modelbuild.sagemaker_target.aws import make_clients
    from modelbuild.sagemaker_target.executions import list_executions as list_summaries
    from modelbuild.sagemaker_target.executions import list_pipeline_names

    clients = make_clients()
    if not pipeline_name:
        names = list_pipeline_names(clients)
        raise UsageError(
            "--pipeline-name is required with --target sagemaker",
            hint=(f"Pipelines in {clients.region}: {', '.join(names)}" if names
                  else f"There are no pipelines in {clients.region}."),
        )
    summaries = list_summaries(clients, pipeline_name, limit)
    if json_output:
        typer.echo(json.dumps([summary.to_json() for summary in summaries], indent=2))
        return
    table = render.table("Execution ARN", "Status", "Started", "Name", "Failure reason")
    for summary in summaries:
        table.add_row(summary.arn, render.styled(summary.status), _when(summary.started),
                      render.escape(summary.display_name or ""), render.escape(summary.failure_reason or ""))
    render.console().print(table)


def show_execution(execution_arn: str, json_output: bool) -> None:
    """Print one SageMaker execution, its parameters and its steps."""
    from modelbuild.sagemaker_target.aws import make_clients
    from modelbuild.sagemaker_target.executions import console_url, describe_execution, list_steps

    if not execution_arn.startswith("arn:"):
        raise UsageError(f"{execution_arn!r} is not an execution ARN",
                         hint="Copy one from `modelbuild executions list --target sagemaker --pipeline-name NAME`.")
    clients = make_clients(region_of(execution_arn))
    summary = describe_execution(clients, execution_arn)
    steps = list_steps(clients, execution_arn)
    if json_output:
        typer.echo(json.dumps({**summary.to_json(), "steps": [step.to_json() for step in steps]}, indent=2))
        return
    console = render.console()
    console.print(f"Execution {summary.arn}: {render.styled(summary.status)}")
    console.print(f"Started: {_when(summary.started)}   Console: {console_url(summary.arn)}", markup=False)
    if summary.parameters:
        console.print("Parameters: " + ", ".join(f"{name}={value}" for name, value in summary.parameters),
                      markup=False)
    if summary.failure_reason:
        console.print(f"Failure reason: {summary.failure_reason}", markup=False)
    console.print(_steps_table(steps))


def stop_execution(execution_arn: str) -> None:
    """Ask SageMaker to stop an execution."""
    from modelbuild.sagemaker_target.aws import make_clients
    from modelbuild.sagemaker_target.executions import stop_execution as stop

    if not execution_arn.startswith("arn:"):
        raise UsageError(f"{execution_arn!r} is not an execution ARN", hint="Stopping works on SageMaker executions.")
    stop(make_clients(region_of(execution_arn)), execution_arn)
    typer.echo(f"Stopping {execution_arn} (it goes Stopping, then Stopped).")


class _Renderer(render.EventRenderer):
    """Plain lines, one per step transition (stdout is not a terminal: CodeBuild logs)."""

    def on_event(self, event: Any) -> None:
        if hasattr(event, "step"):
            self.console.print(f"{time.strftime('%H:%M:%S')}  {event.step.name}  {render.styled(event.step.status)}"
                               f"{_detail(event.step)}")

    def summary(self, finished: Any) -> None:
        self.console.print(_steps_table(finished.steps))
        reason = f": {finished.failure_reason}" if finished.failure_reason else ""
        self.console.print(f"Execution {render.styled(finished.status)}{render.escape(reason)}")


class _LiveRenderer(render.LiveEventRenderer, _Renderer):
    """A live table of the steps, updated at each transition (stdout is a terminal)."""

    refresh_per_second = 2

    def __init__(self) -> None:
        self.steps: dict[str, Any] = {}
        super().__init__()

    def on_event(self, event: Any) -> None:
        if hasattr(event, "step"):
            self.steps[event.step.name] = event.step
            self.live.refresh()

    def __rich__(self) -> Any:
        return _steps_table(list(self.steps.values()), running_since=True)


class _JsonRenderer(_Renderer):
    """JSON lines: one per step transition, one when the execution ends."""

    def on_event(self, event: Any) -> None:
        typer.echo(json.dumps(event.to_json(), default=str))

    def summary(self, finished: Any) -> None:
        return None


def _renderer(json_output: bool) -> _Renderer:
    return render.choose_renderer(json_output, plain=_Renderer, live=_LiveRenderer, json_lines=_JsonRenderer)


def _detail(step: Any) -> str:
    from rich.markup import escape

    parts = []
    if step.seconds is not None:
        parts.append(_seconds(step.seconds))
    if step.cache_source:
        parts.append(f"cache hit from {step.cache_source}")
    if step.failure_reason:
        parts.append(step.failure_reason)
    if step.job_arn:
        parts.append(step.job_arn)
    return escape("  " + "  ".join(parts)) if parts else ""


def _steps_table(steps: Sequence[Any], running_since: bool = False) -> Any:
    """The steps as a table; with `running_since`, a running step's duration is the time since it started."""
    table = render.table("Step", "Status", "Duration", "Attempts", "Cache hit", "Job / failure reason")
    now = datetime.now().astimezone()
    for step in steps:
        seconds = step.seconds
        if seconds is None and running_since and step.started is not None:
            seconds = (now - step.started).total_seconds()
        table.add_row(step.name, render.styled(step.status), _seconds(seconds), str(step.attempts or ""),
                      "yes" if step.cache_source else "", render.escape(step.failure_reason or step.job_arn or ""))
    return table










def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""
