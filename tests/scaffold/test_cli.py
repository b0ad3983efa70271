"""`modelbuild new` and `modelbuild update`: options reach the core; results and refusals are rendered."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from modelbuild.scaffold.update import FileChange, UpdateResult

runner = CliRunner()


@pytest.fixture
def new_project():
    project = SimpleNamespace(path=Path("/src/churn-model"), files=("setup.py",), to_json=lambda: {"path": "x"})
    with mock.patch("modelbuild.scaffold.new.new_project", return_value=project) as patched:
        yield patched


@pytest.fixture
def planned():
    """plan_update and apply_update mocked: one change the user made, one they did not."""
    plan = SimpleNamespace(
        changes=(
            FileChange("setup.py", "update", False, b"new", "--- a/setup.py\n+++ b/setup.py\n"),
            FileChange("README.md", "update", True, b"new", "--- a/README.md\n+++ b/README.md\n"),
        ),
        to_json=lambda: {"changes": []},
    )
    result = UpdateResult(written=("setup.py",), removed=(), kept=("README.md",))
    with (
        mock.patch("modelbuild.scaffold.update.plan_update", return_value=plan) as plan_update,
        mock.patch("modelbuild.scaffold.update.apply_update", return_value=result) as apply_update,
    ):
        yield SimpleNamespace(plan=plan, plan_update=plan_update, apply_update=apply_update)


def test_new_passes_the_name_and_options_as_template_variables(new_project):
    result = runner.invoke(
        app,
        ["new", "churn-model", "--no-input", "--pipeline-name", "churn", "--region", "eu-west-1", "-o", "src",
         "--ci", "github", "--set", "author=Jane Doe"],
    )

    assert result.exit_code == ExitCode.OK, result.output
    new_project.assert_called_once_with(
        Path("src"),
        {"project_slug": "churn-model", "pipeline_name": "churn", "aws_region": "eu-west-1", "ci": "github",
         "author": "Jane Doe"},
        "bundled", True, False, None,
    )
    assert "Created /src/churn-model" in result.stdout


def test_new_without_a_name_leaves_the_slug_to_the_template(new_project):
    result = runner.invoke(app, ["new", "--template", "gh:me/tpl", "--checkout", "v1", "--overwrite"])

    assert result.exit_code == ExitCode.OK, result.output
    new_project.assert_called_once_with(Path("."), {}, "gh:me/tpl", False, True, "v1")


def test_new_refuses_a_set_without_equals(new_project):
    result = runner.invoke(app, ["new", "x", "--set", "author"])

    assert result.exit_code == ExitCode.USAGE
    assert "--set should look like KEY=VALUE" in result.stderr
    new_project.assert_not_called()


def test_new_json_prints_the_result(new_project):
    result = runner.invoke(app, ["new", "x", "--no-input", "--json"])

    assert json.loads(result.stdout) == {"path": "x"}


def test_update_shows_the_diff_and_names_the_files_the_user_changed(planned):
    result = runner.invoke(app, ["update", "-C", "proj"])

    assert result.exit_code == ExitCode.OK, result.output
    planned.plan_update.assert_called_once_with(Path("proj"), None, None, False)
    planned.apply_update.assert_not_called()
    assert "+++ b/setup.py" in result.stdout
    assert "2 files would change, 1 of them changed by you: README.md." in result.stdout


def test_update_apply_force_applies_the_plan(planned):
    result = runner.invoke(app, ["update", "--apply", "--force", "--template", "tpl"])

    assert result.exit_code == ExitCode.OK, result.output
    planned.plan_update.assert_called_once_with(Path("."), "tpl", None, False)
    planned.apply_update.assert_called_once_with(planned.plan, True)
    assert "Wrote: setup.py" in result.stdout and "Left (changed by you): README.md" in result.stdout


# End to end through the real core: the commands a user types.


def test_new_then_update_on_the_real_template(tmp_path):
    created = runner.invoke(app, ["new", "churn-model", "--no-input", "--pipeline-name", "churn", "-o", str(tmp_path)])
    shown = runner.invoke(app, ["update", "-C", str(tmp_path / "churn-model")])

    assert created.exit_code == ExitCode.OK, created.output
    assert (tmp_path / "churn-model" / "pipelines" / "churn" / "pipeline.py").is_file()
    assert shown.exit_code == ExitCode.OK, shown.output
    assert "would change" in shown.stdout


@pytest.mark.parametrize("name", ["../escape", "/abs/path"])
def test_new_refuses_a_path_as_the_name_with_a_usage_error(tmp_path, name):
    result = runner.invoke(app, ["new", name, "--no-input", "-o", str(tmp_path / "out")])

    assert result.exit_code == ExitCode.USAGE
    assert "project slug" in result.stderr
    assert not (tmp_path / "out").exists()


def test_new_refuses_an_existing_project(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")

    result = runner.invoke(app, ["new", "taken", "--no-input", "-o", str(tmp_path)])

    assert result.exit_code == ExitCode.FAILURE
    assert "already exists" in result.stderr and "--overwrite" in result.stderr


def test_new_prompts_for_the_variables(tmp_path):
    answers = "\n".join(["prompted", "", "", "churn"]) + "\n" + "\n" * 20

    result = runner.invoke(app, ["new", "-o", str(tmp_path)], input=answers)

    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "prompted" / "pipelines" / "churn" / "pipeline.py").is_file()


# -- a template other than the bundled one runs its hooks only with consent (issue 13, item 6) --


@pytest.fixture
def project_of_a_local_template(tmp_path):
    """A project generated from a copy of the bundled template whose pre-generation hook leaves a mark."""
    import shutil

    from modelbuild.scaffold.sources import bundled_template_dir

    template = tmp_path / "their-template"
    shutil.copytree(bundled_template_dir(), template)
    marker = tmp_path / "hook-ran"
    (template / "hooks").mkdir(exist_ok=True)
    (template / "hooks" / "pre_gen_project.py").write_text(f"open({str(marker)!r}, 'a').write('ran')\n")
    created = runner.invoke(app, ["new", "churn-model", "--no-input", "--template", str(template),
                                  "-o", str(tmp_path / "out")])
    assert created.exit_code == ExitCode.OK, created.output
    marker.unlink()
    return SimpleNamespace(path=tmp_path / "out" / "churn-model", template=template, marker=marker)


def test_update_refuses_to_run_another_templates_hooks_without_consent(project_of_a_local_template):
    project = project_of_a_local_template

    result = runner.invoke(app, ["update", "-C", str(project.path)])

    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"renders the template {project.template}" in result.stderr and "--trust-template" in result.stderr
    assert not project.marker.exists()


def test_update_asks_a_person_before_running_another_templates_hooks(project_of_a_local_template):
    project = project_of_a_local_template
    with mock.patch("modelbuild.cli.sagemaker_target.interactive", return_value=True):
        declined = runner.invoke(app, ["update", "-C", str(project.path)], input="n\n")

    assert declined.exit_code == ExitCode.USAGE
    assert f"The update renders the template {project.template}" in declined.stderr
    assert not project.marker.exists()


def test_update_with_trust_template_runs_them(project_of_a_local_template):
    project = project_of_a_local_template

    result = runner.invoke(app, ["update", "-C", str(project.path), "--trust-template"])

    assert result.exit_code == ExitCode.OK, result.output
    assert project.marker.exists()
