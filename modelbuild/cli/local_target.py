"""Rendering of the local target: `run --local`, `executions list|show` on this machine.

Each function calls one core function of `modelbuild.local` and renders its result: a live per-step
view when stdout is a terminal, plain lines otherwise, JSON lines with `--json`, and a summary table at
the end. A failed execution raises `ExecutionFailedError` after rendering, with the resume command.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from modelbuild.cli import render
from modelbuild.errors import ExecutionFailedError, ExecutionInterruptedError


def run_local(options: Any) -> None:
    """Run `options` (a `RunOptions`) with the local engine; raise ExecutionFailedError when it fails."""
    from modelbuild.cli.options import definition_cache_dir
    from modelbuild.local.callbacks import parse_answer
    from modelbuild.local.engine import load_source, run_pipeline

    source = load_source(options.definition_file, options.module_name, options.kwargs,
                         definition_cache=definition_cache_dir(options.state_dir), rebuild=options.rebuild)
    renderer = _renderer(options.json_output)
    with renderer:
        record = run_pipeline(
            source, options.parameters, state_dir=options.state_dir, max_parallel=options.max_parallel,
            resume=options.resume, steps=options.steps, on_event=renderer.on_event,
            cache_by_default=options.cache_by_default, stubs=options.stubs,
            callbacks={step: parse_answer(text) for step, text in options.callback_texts.items()},
            lambda_code=options.lambda_code,
        )
    renderer.summary(record, source)
    if record.status == "Stopped":
        raise ExecutionInterruptedError(f"execution {record.id} {record.failure_reason}; steps that had not ended "
                                        "are Stopped", hint=f"Resume with: {resume_command(options, record.id)}",
                                        terminated="SIGTERM" in (record.failure_reason or ""))
    if record.status != "Succeeded":
        failed = next((s for s in record.steps if s.status == "Failed"), None)
        if failed and failed.type == "Fail":
            # The pipeline decided to fail; resuming would decide the same.
            hint = "A Fail step ended the execution: change the data or parameters it depends on and run again."
        else:
            log = f"Log: {failed.log_path}. " if failed and failed.log_path else ""
            hint = f"{log}Resume with: {resume_command(options, record.id)}"
        raise ExecutionFailedError(f"execution {record.id} failed: {record.failure_reason}", hint=hint)


def resume_command(options: Any, execution_id: str) -> str:
    """The exact command that resumes `execution_id` with the same definition source and state dir."""
    words = ["modelbuild", "run", "--local", "--resume", execution_id]
    if options.definition_file:
        words += ["--definition", str(options.definition_file)]
    else:
        if options.module_name:
            words += ["--module-name", options.module_name]
        if options.kwargs:
            words += ["--kwargs", json.dumps(options.kwargs)]
    if options.steps:
        words += ["--steps", ",".join(options.steps)]
    for step, file in options.stubs.items():
        words += ["--stub", f"{step}={file}"]
    for step, text in options.callback_texts.items():
        words += ["--callback", f"{step}={text}"]
    for function, code in options.lambda_code.items():
        words += ["--lambda", f"{function}={code}"]
    if options.state_dir:
        words += ["--state-dir", str(options.state_dir)]
    return shlex.join(words)


def answer_callback(token: str, success: bool, outputs: list[str] | None, failure: str | None,
                    state_dir: Path | None) -> None:
    """Send a waiting local Callback step its answer."""
    from modelbuild.cli.options import parse_parameters
    from modelbuild.errors import UsageError
    from modelbuild.local.callbacks import FAILURE, SUCCESS, Answer, send_callback

    if success == (failure is not None):
        raise UsageError("give exactly one of --success and --failure REASON")
    if failure is not None and outputs:
        raise UsageError("--output only applies with --success")
    values = parse_parameters(outputs, "--output", "approved=true")
    answer = Answer(SUCCESS, values) if success else Answer(FAILURE, reason=failure)
    request = send_callback(token, answer, state_dir)
    typer.echo(f"Step {request['step']} of execution {request['execution_id']}: {answer.status}")


def list_executions(pipeline_name: str | None, limit: int, state_dir: Path | None, json_output: bool) -> None:
    """Print the local executions, newest first."""
    from modelbuild.local.records import list_executions as list_records

    records = list_records(state_dir, pipeline_name, limit)
    if json_output:
        typer.echo(json.dumps([record.to_json() for record in records], indent=2))
        return
    table = render.table("Execution", "Pipeline", "Status", "Started", "Duration", "Failure reason")
    for record in records:
        table.add_row(record.id, record.pipeline_name, render.styled(record.status), _clock(record.started, True),
                      _duration(record.started, record.ended), _short(record.failure_reason or ""))
    render.console().print(table)


def show_execution(execution_id: str, state_dir: Path | None, json_output: bool) -> None:
    """Print one local execution and its steps."""
    from modelbuild.local.records import get_execution

    record = get_execution(execution_id, state_dir)
    if json_output:
        typer.echo(json.dumps(record.to_json(), indent=2))
        return
    console = render.console()
    console.print(f"Execution {record.id} of {record.pipeline_name}: {render.styled(record.status)}"
                  f" ({_duration(record.started, record.ended)})")
    console.print("Parameters: " + ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                                             for k, v in record.parameters.items()), markup=False)
    if record.source_execution:
        console.print(f"Reuses steps of execution {record.source_execution}")
    if record.failure_reason:
        console.print(f"Failure reason: {record.failure_reason}", markup=False)
    console.print(_steps_table(record.steps, with_logs=True))
    if record.status == "Executing":
        from modelbuild.local.callbacks import pending_callbacks

        for request in pending_callbacks(record.id, state_dir):
            console.print(f"Step {request['step']} waits for callback token {request['token']}: answer with "
                          f"modelbuild executions callback {request['token']} --success (or --failure REASON)",
                          markup=False, soft_wrap=True)
    for step in record.steps:
        summaries = (step.properties or {}).get("TrainingJobSummaries")
        if step.type == "Tuning" and summaries:
            console.print(_tuning_table(step.name, summaries))


class _Renderer(render.EventRenderer):
    """Plain lines of step events (stdout is not a terminal)."""

    def on_event(self, event: Any) -> None:
        if event.step is None:
            self.console.print(f"{_clock(event.time)}  execution {event.execution_id}  {render.styled(event.status)}")
            return
        detail = f"  {event.reason}" if event.reason else ""
        detail += f"  (from {event.cached_from})" if event.cached_from else ""
        self.console.print(f"{_clock(event.time)}  {event.step}  {render.styled(event.status)}{detail}", markup=True)

    def summary(self, record: Any, source: Any = None) -> None:
        self.console.print(_steps_table(record.steps))
        took = _duration(record.started, record.ended)
        self.console.print(f"Execution {record.id}: {render.styled(record.status)} in {took}"
                           f" (details: modelbuild executions show {record.id})")


class _LiveRenderer(render.LiveEventRenderer, _Renderer):
    """A live table of the steps (stdout is a terminal)."""

    refresh_per_second = 8

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}
        self._rows_lock = threading.Lock()  # rich's refresh thread reads the rows while events add them
        super().__init__()

    def on_event(self, event: Any) -> None:
        if event.step is not None:
            if event.status == "Executing" and event.reason:  # a running step's message (a callback token)
                self.live.console.print(f"{event.step}: {event.reason}", markup=False, soft_wrap=True)
            with self._rows_lock:
                self.rows[event.step] = event
            self.live.refresh()

    def __rich__(self) -> Any:
        table = render.table("Step", "Type", "Status", "Since")
        with self._rows_lock:
            rows = list(self.rows.items())
        for name, event in rows:
            table.add_row(name, event.step_type, render.styled(event.status), _clock(event.time))
        return table


class _JsonRenderer(_Renderer):
    """JSON lines: one per event, then one with the whole execution."""

    def on_event(self, event: Any) -> None:
        typer.echo(json.dumps({"event": "step" if event.step else "execution", **event.to_json()}))

    def summary(self, record: Any, source: Any = None) -> None:
        built_from = {"module_file": source.module_file} if source is not None and source.module_file else {}
        typer.echo(json.dumps({"event": "summary", **built_from, "execution": record.to_json()}))


def _renderer(json_output: bool) -> _Renderer:
    return render.choose_renderer(json_output, plain=_Renderer, live=_LiveRenderer, json_lines=_JsonRenderer)


def _steps_table(steps: Sequence[Any], with_logs: bool = False) -> Any:
    table = render.table("Step", "Type", "Status", "Duration", "Attempts", "Detail", *(("Log",) if with_logs else ()))
    for step in steps:
        detail = step.failure_reason or (f"from {step.cached_from}" if step.cached_from else "")
        table.add_row(step.name, step.type, render.styled(step.status), _duration(step.started, step.ended),
                      str(step.attempts or ""), detail, *((step.log_path or "",) if with_logs else ()))
    return table


def _tuning_table(step_name: str, summaries: Sequence[dict]) -> Any:
    """A Tuning step's training jobs, best first (as SageMaker lists them), with their hyperparameters."""
    metric = next((s["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] for s in summaries
                   if s.get("FinalHyperParameterTuningJobObjectiveMetric")), "Objective")
    table = render.table(f"{step_name}: training job", "Status", metric, "Hyperparameters")
    for summary in summaries:
        value = (summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
        tuned = ", ".join(f"{k}={v}" for k, v in (summary.get("TunedHyperParameters") or {}).items())
        table.add_row(summary["TrainingJobName"], render.styled(summary["TrainingJobStatus"]),
                      "" if value is None else f"{value:g}", summary.get("FailureReason") or tuned)
    return table


def _short(reason: str, limit: int = 160) -> str:
    """A failure reason cut to one table cell (a 10 KB reason must not flood the list; `show` has it all)."""
    line = " ".join(reason.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _clock(timestamp: float | None, with_date: bool = False) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S", time.localtime(timestamp))


def _duration(started: float | None, ended: float | None) -> str:
    if started is None or ended is None:
        return ""
    return f"{ended - started:.1f}s"
