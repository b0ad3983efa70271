"""`modelbuild models list|compare|show|approve|reject`: the local model registry (in the state directory)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from modelbuild.cli import render
from modelbuild.cli.app import app
from modelbuild.cli.options import parse_state_dir

models_app = typer.Typer(help="List, show, approve and reject locally registered model versions.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")

STATE_DIR_OPTION = typer.Option(
    None, "--state-dir", envvar="MODELBUILD_HOME", parser=parse_state_dir,
    help="The state directory (default ./.modelbuild)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
PACKAGE_ARGUMENT = typer.Argument(..., metavar="GROUP/VERSION", help="e.g. AbalonePackageGroup/1")


@models_app.command("list")
def list_models(
    group: str = typer.Option(None, "--group", help="Only this model package group."),
    status: str = typer.Option(None, "--status", help="Only PendingManualApproval, Approved or Rejected."),
    state_dir: Path = STATE_DIR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """List registered model versions, newest first, with the metrics of their ModelQuality report."""
    from modelbuild.local.model_metrics import list_model_versions

    versions = list_model_versions(state_dir, group, status)
    if json_output:
        typer.echo(json.dumps([version.to_json() for version in versions], indent=2))
        return
    metric_names = list(dict.fromkeys(name for version in versions for name in version.metrics))
    rows = render.table("group", "version", "status", "created", "execution", *metric_names)
    for version in versions:
        package = version.package
        rows.add_row(render.escape(package.group_name), str(package.version), render.styled(package.status),
                     _timestamp(package.created), package.execution_id or "-",
                     *(_number(version.metrics.get(name)) for name in metric_names))
    _print_with_problems(rows, versions)


@models_app.command("compare")
def compare_models(
    group: str = typer.Argument(..., help="The model package group, e.g. AbalonePackageGroup."),
    versions: list[int] = typer.Argument(None, help="Versions to compare (default: all, oldest first)."),
    state_dir: Path = STATE_DIR_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Show the versions' metrics side by side, the best of each marked with * (see README for directions)."""
    from modelbuild.local.model_metrics import compare_model_versions

    comparison = compare_model_versions(group, versions or (), state_dir)
    if json_output:
        typer.echo(json.dumps(comparison.to_json(), indent=2))
        return
    numbers = [version.package.version for version in comparison.versions]
    rows = render.table("metric", "better", *(f"v{number}" for number in numbers))
    for metric in comparison.metrics:
        rows.add_row(render.escape(metric.name), metric.better or "?", *(
            f"[bold green]{_number(metric.values[n])} *[/]" if n in metric.best_versions
            else _number(metric.values.get(n)) for n in numbers))
    rows.add_row("status", "", *(render.styled(version.package.status) for version in comparison.versions))
    rows.add_row("execution", "", *(version.package.execution_id or "-" for version in comparison.versions))
    _print_with_problems(rows, comparison.versions)


def _print_with_problems(rows: object, versions: list) -> None:
    out = render.console()
    out.print(rows)
    for version in versions:
        if version.metrics_problem:
            package = version.package
            out.print(f"{render.escape(package.group_name)}/{package.version}: no metrics, "
                      f"{render.escape(version.metrics_problem)}", style="yellow")


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


@models_app.command("show")
def show_model(reference: str = PACKAGE_ARGUMENT, state_dir: Path = STATE_DIR_OPTION,
               json_output: bool = JSON_OPTION) -> None:
    """Show one model version: status, inference specification, metrics and the execution that made it."""
    from modelbuild.local.registry import get_model_package

    package = get_model_package(reference, state_dir)
    if json_output:
        typer.echo(json.dumps(package.to_json(), indent=2))
        return
    containers = package.inference_specification.get("Containers") or [{}]
    created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(package.created))
    for label, value in (
        ("Model package", f"{package.group_name}/{package.version}"), ("ARN", package.arn),
        ("Status", package.status), ("Created", created),
        ("Execution", f"{package.execution_id} (step {package.step_name})"),
        ("Image", containers[0].get("Image")), ("Model data", containers[0].get("ModelDataUrl")),
        ("Metrics", json.dumps(package.model_metrics) if package.model_metrics else None),
    ):
        typer.echo(f"{label + ':':<15}{value if value is not None else '-'}")


@models_app.command("approve")
def approve_model(reference: str = PACKAGE_ARGUMENT, state_dir: Path = STATE_DIR_OPTION) -> None:
    """Set a model version's approval status to Approved."""
    _set_status(reference, "Approved", state_dir)


@models_app.command("reject")
def reject_model(reference: str = PACKAGE_ARGUMENT, state_dir: Path = STATE_DIR_OPTION) -> None:
    """Set a model version's approval status to Rejected."""
    _set_status(reference, "Rejected", state_dir)


def _set_status(reference: str, status: str, state_dir: Path | None) -> None:
    from modelbuild.local.registry import set_approval_status

    package = set_approval_status(reference, status, state_dir)
    typer.echo(f"{package.group_name}/{package.version}: {package.status}")
