"""`modelbuild new` and `modelbuild update`: a project from the cookiecutter template, kept current."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from modelbuild.cli.app import app
from modelbuild.cli.options import parse_parameters

TEMPLATE_HELP = "A cookiecutter template directory or git URL (default: modelbuild's own template)."


@app.command("new")
def new(
    name: str = typer.Argument(
        None, help="Project directory and distribution name (the template's project_slug)."
    ),
    output_dir: Path = typer.Option(
        Path("."), "--output-dir", "-o", help="Where the project directory goes."
    ),
    pipeline_name: str = typer.Option(
        None, "--pipeline-name", help="Pipeline module name: pipelines/<name>/."
    ),
    region: str = typer.Option(None, "--region", help="AWS region of the pipeline."),
    # The choices are the template's (cookiecutter checks them), so they are not repeated here.
    ci: str = typer.Option(None, "--ci", help="CI files: codebuild, github (Actions, OIDC) or both."),
    assignments: list[str] = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Any template variable (repeatable)."
    ),
    template: str = typer.Option(None, "--template", help=TEMPLATE_HELP),
    checkout: str = typer.Option(None, "--checkout", help="Branch, tag or commit of a git --template."),
    no_input: bool = typer.Option(False, "--no-input", help="Do not prompt: take the defaults."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Write into a non-empty directory (the template's files only)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Create a SageMaker ModelBuild project from the cookiecutter template.

    Example: modelbuild new churn-model --no-input --pipeline-name churn --region eu-west-1 -o ~/src
    """
    from modelbuild.scaffold.new import new_project
    from modelbuild.scaffold.sources import BUNDLED

    named = {
        "project_slug": name,
        "pipeline_name": pipeline_name,
        "aws_region": region,
        "ci": ci,
    }
    overrides = {
        **{key: value for key, value in named.items() if value is not None},
        **parse_parameters(assignments, "--set", name="KEY", example="author='ML Team'"),
    }
    project = new_project(output_dir, overrides, template or BUNDLED, no_input, overwrite, checkout)
    if json_output:
        typer.echo(json.dumps(project.to_json(), indent=2))
        return
    typer.echo(f"Created {project.path} ({len(project.files)} files).")
    typer.echo(f"Next: cd {project.path} && pip install -e '.[test]' && modelbuild run --local")


def echo_plan(plan) -> None:
    """Print the diff of every change and a summary."""
    for change in plan.changes:
        typer.echo(change.diff, nl=False)
    mine = [change.path for change in plan.changes if change.user_changed]
    yours = f", {len(mine)} of them changed by you: {', '.join(mine)}" if mine else ""
    typer.echo(f"{len(plan.changes)} files would change{yours}.")
    if plan.changes:
        typer.echo(
            "Run `modelbuild update --apply` to write them" + (" (and --force for yours)." if mine else ".")
        )


def echo_result(result) -> None:
    """Print what `update --apply` wrote, removed and left alone."""
    for label, paths in (
        ("Wrote", result.written),
        ("Removed", result.removed),
        ("Left (changed by you)", result.kept),
    ):
        for path in paths:
            typer.echo(f"{label}: {path}")
    typer.echo(f"{len(result.written) + len(result.removed)} files updated, {len(result.kept)} left alone.")
    if result.kept:
        typer.echo(
            "Merge those by hand from `modelbuild update`'s diff, or overwrite them with --apply --force."
        )


def _agreed_to_hooks(project_dir: Path, template: str | None, json_output: bool) -> bool:
    """Show a non-bundled template's source and ask whether to run its hooks (only a person can answer)."""
    from modelbuild.cli.sagemaker_target import interactive
    from modelbuild.scaffold.sources import BUNDLED
    from modelbuild.scaffold.update import update_template

    if json_output or not interactive():  # the core refuses then, naming the template and --trust-template
        return False
    source = update_template(project_dir, template)
    if source == BUNDLED:
        return False
    typer.echo(f"The update renders the template {source}; its hooks are programs that run as you.", err=True)
    return typer.confirm("Run them?", default=False, err=True)


@app.command("update")
def update(
    project_dir: Path = typer.Option(Path("."), "--project-dir", "-C", help="The project (default: here)."),
    apply: bool = typer.Option(
        False, "--apply", help="Write the files you have not changed since generation."
    ),
    force: bool = typer.Option(False, "--force", help="With --apply, also overwrite the files you changed."),
    template: str = typer.Option(
        None, "--template", help="Render this template instead of the recorded one."
    ),
    checkout: str = typer.Option(None, "--checkout", help="Branch, tag or commit of a git template."),
    json_output: bool = typer.Option(
        False, "--json", help="Print the changes (or what --apply did) as JSON."
    ),
    trust_template: bool = typer.Option(
        False, "--trust-template", help="Run the hooks of a template other than the bundled one without asking."
    ),
) -> None:
    """Show how the installed modelbuild's template would change this project's files; --apply writes them.

    Run it in the project's own environment after upgrading modelbuild there. Your pipeline module
    (pipelines/<pipeline_name>/) and tests/ are never touched; files you changed
    since generation are listed and left alone unless --force. A template other than the bundled one
    runs its hooks as you: it is shown and you are asked first (or pass --trust-template).
    """
    from modelbuild.scaffold.update import apply_update, plan_update

    trust_template = trust_template or _agreed_to_hooks(project_dir, template, json_output)
    plan = plan_update(project_dir, template, checkout, trust_template)
    outcome = apply_update(plan, force) if apply else plan
    if json_output:
        typer.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        (echo_result if apply else echo_plan)(outcome)
