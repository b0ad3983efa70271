"""The module a user names is the user's own.

In a seed-style project (its own `pipelines/abalone/pipeline.py`, whose steps are not the reference
pipeline's), every command builds that file, says so, or fails naming it: never modelbuild's
reference pipeline of the same dotted name, even when that one was imported first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelbuild import get_pipeline_definition, run_pipeline
from modelbuild.cli.app import app
from modelbuild.definition.loader import load_pipeline_module
from modelbuild.definition.project import find_project
from modelbuild.errors import ExitCode
from tests.sagemaker_target.conftest import ROLE_ARN

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
MODULE = "pipelines.abalone.pipeline"
USER_PIPELINE = '''"""A user's abalone pipeline, not modelbuild's: its steps are UsersOwnCheck and UsersOwnFail."""


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None, pipeline_name="UsersPipeline"):
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    threshold = ParameterInteger(name="Threshold", default_value=1)
    check = ConditionStep(
        name="UsersOwnCheck",
        conditions=[ConditionGreaterThanOrEqualTo(left=threshold, right=1)],
        if_steps=[],
        else_steps=[FailStep(name="UsersOwnFail", error_message="Threshold is below 1")],
    )
    return Pipeline(name=pipeline_name, parameters=[threshold], steps=[check], sagemaker_session=sagemaker_session)
'''
USER_STEPS = {"UsersOwnCheck", "UsersOwnFail"}


def step_names(steps: list) -> set[str]:
    names = set()
    for step in steps:
        names.add(step["Name"])
        for branch in ("IfSteps", "ElseSteps"):
            names |= step_names(step.get("Arguments", {}).get(branch, []))
    return names


@pytest.fixture
def seed_project(tmp_path, monkeypatch) -> Path:
    """A project in the SageMaker seed's layout (setup.py, no [tool:modelbuild]), as the working directory.

    modelbuild's reference `pipelines.abalone.pipeline` is imported first, as an earlier build would.
    """
    reference = load_pipeline_module(MODULE, find_project(REPO))
    assert sys.modules[MODULE].__file__ == str(reference.file)
    project = tmp_path / "user-project"
    (project / "pipelines" / "abalone").mkdir(parents=True)
    (project / "setup.py").write_text('import setuptools\n\nsetuptools.setup(name="user-project")\n')
    (project / "pipelines" / "__init__.py").write_text("")
    (project / "pipelines" / "abalone" / "__init__.py").write_text("")
    (project / "pipelines" / "abalone" / "pipeline.py").write_text(USER_PIPELINE)
    monkeypatch.chdir(project)
    return project


BUILT_FROM = f"Building {MODULE} from pipelines/abalone/pipeline.py"


@pytest.mark.parametrize("argv", [["get-definition"], ["get-definition", "-n", MODULE]])
def test_get_definition_builds_the_projects_file(seed_project, argv):
    result = runner.invoke(app, argv)

    assert result.exit_code == ExitCode.OK, result.output
    assert step_names(json.loads(result.stdout)["Steps"]) == USER_STEPS
    assert BUILT_FROM in result.stderr


def test_the_seeds_get_pipeline_definition_builds_the_projects_file(seed_project):
    result = runner.invoke(get_pipeline_definition.app, ["-n", MODULE])

    assert result.exit_code == ExitCode.OK, result.output
    assert step_names(json.loads(result.stdout)["Steps"]) == USER_STEPS


def test_validate_and_graph_read_the_projects_file(seed_project):
    validated = runner.invoke(app, ["validate", "--json"])
    graphed = runner.invoke(app, ["graph"])

    assert validated.exit_code == ExitCode.OK, validated.output
    report = json.loads(validated.stdout)
    assert report["pipeline_name"] == "UsersPipeline" and report["problems"] == []
    assert report["module_file"] == str(seed_project / "pipelines" / "abalone" / "pipeline.py")
    assert graphed.exit_code == ExitCode.OK, graphed.output
    assert "UsersOwnCheck" in graphed.stdout and "TrainAbaloneModel" not in graphed.stdout


def test_run_local_runs_the_projects_pipeline(seed_project):
    result = runner.invoke(app, ["run", "--local", "--json"])

    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["module_file"] == str(seed_project / "pipelines" / "abalone" / "pipeline.py")
    assert {step["name"] for step in summary["execution"]["steps"]} == USER_STEPS


def test_run_on_sagemaker_and_diff_upsert_the_projects_pipeline(seed_project, clients):
    started = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE_ARN, "--json"])
    diffed = runner.invoke(app, ["diff", "--role-arn", ROLE_ARN, "--json"])

    assert started.exit_code == ExitCode.OK, started.output
    assert json.loads(started.stdout)["pipeline_name"] == "UsersPipeline"
    deployed = clients.sagemaker.describe_pipeline(PipelineName="UsersPipeline")["PipelineDefinition"]
    assert step_names(json.loads(deployed)["Steps"]) == USER_STEPS
    assert diffed.exit_code == ExitCode.OK, diffed.output
    assert json.loads(diffed.stdout)["module_file"].endswith("user-project/pipelines/abalone/pipeline.py")


@pytest.mark.slow  # about 10 s: botocore retries moto's answer to the steps listing, with its backoff
def test_the_seeds_run_pipeline_upserts_the_projects_pipeline(seed_project, clients):
    result = runner.invoke(run_pipeline.app, ["-n", MODULE, "-role-arn", ROLE_ARN])

    # The seed's script always waits; moto cannot list execution steps, but the upsert is done.
    assert BUILT_FROM in result.stderr
    deployed = clients.sagemaker.describe_pipeline(PipelineName="UsersPipeline")["PipelineDefinition"]
    assert step_names(json.loads(deployed)["Steps"]) == USER_STEPS


def test_a_broken_project_module_fails_naming_its_file(seed_project):
    (seed_project / "pipelines" / "abalone" / "pipeline.py").write_text("raise RuntimeError('no data yet')\n")

    result = runner.invoke(app, ["get-definition"])

    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert str(seed_project / "pipelines" / "abalone" / "pipeline.py") in result.stderr
    assert "no data yet" in result.stderr


def test_a_module_the_project_lacks_is_not_found_even_if_modelbuild_had_one(seed_project):
    (seed_project / "pipelines" / "abalone" / "pipeline.py").unlink()
    (seed_project / "pipelines" / "abalone" / "flow.py").write_text(USER_PIPELINE)

    result = runner.invoke(app, ["get-definition", "-n", MODULE])

    assert result.exit_code == ExitCode.USAGE
    assert f"No module named '{MODULE}' in {seed_project}" in result.stderr
    assert "Did you mean 'pipelines.abalone.flow'?" in result.stderr


def test_a_module_found_outside_the_project_is_built_with_a_warning(seed_project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "shared_pipeline.py").write_text(USER_PIPELINE)
    monkeypatch.syspath_prepend(str(elsewhere))

    result = runner.invoke(app, ["get-definition", "-n", "shared_pipeline"])

    assert result.exit_code == ExitCode.OK, result.output
    assert f"Warning: {elsewhere / 'shared_pipeline.py'} was found outside the project directory" in result.stderr


def test_modelbuilds_own_modules_are_refused(seed_project):
    result = runner.invoke(app, ["get-definition", "-n", "modelbuild.cli.app"])

    assert result.exit_code == ExitCode.USAGE
    assert "is a module of modelbuild itself" in result.stderr


def test_a_project_with_several_pipelines_and_no_setting_asks_which(seed_project):
    (seed_project / "pipelines" / "churn").mkdir()
    (seed_project / "pipelines" / "churn" / "pipeline.py").write_text(USER_PIPELINE)

    result = runner.invoke(app, ["run", "--local"])

    assert result.exit_code == ExitCode.USAGE
    assert "2 pipeline modules (pipelines.abalone.pipeline, pipelines.churn.pipeline)" in result.stderr


def test_the_setting_in_setup_cfg_names_the_default_module_from_any_subdirectory(seed_project, monkeypatch):
    (seed_project / "pipelines" / "churn").mkdir()
    (seed_project / "pipelines" / "churn" / "__init__.py").write_text("")
    (seed_project / "pipelines" / "churn" / "pipeline.py").write_text(USER_PIPELINE.replace("UsersOwn", "Churn"))
    (seed_project / "setup.cfg").write_text("[tool:modelbuild]\npipeline = pipelines.churn.pipeline\n")
    monkeypatch.chdir(seed_project / "pipelines")

    result = runner.invoke(app, ["get-definition"])

    assert result.exit_code == ExitCode.OK, result.output
    assert step_names(json.loads(result.stdout)["Steps"]) == {"ChurnCheck", "ChurnFail"}


@pytest.mark.slow  # builds the definition in a fresh process
def test_the_installed_console_script_builds_the_projects_file(seed_project):
    """What a user types, in a fresh process: the installed `modelbuild`, in the project directory."""
    script = Path(sys.executable).parent / "modelbuild"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    result = subprocess.run([str(script), "get-definition", "-n", MODULE], cwd=seed_project, env=env,
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert step_names(json.loads(result.stdout)["Steps"]) == USER_STEPS
    assert f"Building {MODULE} from pipelines/abalone/pipeline.py" in result.stderr
