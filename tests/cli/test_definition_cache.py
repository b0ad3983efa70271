"""Commands that only read a definition reuse the last build while nothing it depends on changed;
`--rebuild` builds anyway; the commands that upload always build afresh."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from modelbuild import get_pipeline_definition
from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from tests.definition.conftest import PROJECT_MODULE, forget_project_modules, write_project
from tests.sagemaker_target.conftest import ROLE_ARN

runner = CliRunner()
BUILT = f"Building {PROJECT_MODULE} from flows/tiny/pipeline.py"
REUSED = f"Reusing the build of {PROJECT_MODULE} from flows/tiny/pipeline.py (unchanged)"
UPLOAD = "s3/sagemaker-us-east-1-000000000000/tiny/sample.csv"
READERS = [["get-definition"], ["validate"], ["graph"], ["run", "--local"]]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The tiny project (a Condition step, an uploaded data file) as the working directory."""
    forget_project_modules()
    monkeypatch.chdir(write_project(tmp_path / "project"))
    yield tmp_path / "project"
    forget_project_modules()


def invoke(*argv: str):
    result = runner.invoke(app, list(argv))
    assert result.exit_code == ExitCode.OK, result.output
    return result


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_command_that_reads_the_definition_reuses_the_last_build(project, command):
    first = invoke("get-definition")

    again = invoke(*command)
    rebuilt = invoke(*command, "--rebuild")

    assert BUILT in first.stderr
    assert REUSED in again.stderr and BUILT not in again.stderr
    assert BUILT in rebuilt.stderr


def test_the_last_build_lives_in_the_state_dir(project, tmp_path):
    invoke("get-definition", "--state-dir", str(tmp_path / "elsewhere"))

    assert list((tmp_path / "elsewhere" / "definitions").glob("*.json"))
    assert BUILT in invoke("get-definition").stderr  # the default state dir has no build yet


def test_run_local_stages_the_uploads_of_a_reused_build(project, tmp_path):
    invoke("run", "--local")
    staged = tmp_path / "state" / UPLOAD
    staged.unlink()

    result = invoke("run", "--local", "--json")

    assert REUSED in result.stderr
    assert staged.read_bytes() == (project / "flows/tiny/data/sample.csv").read_bytes()
    assert json.loads(result.stdout.splitlines()[-1])["module_file"] == str(project / "flows/tiny/pipeline.py")


def test_validate_json_names_the_file_of_a_reused_build(project):
    invoke("get-definition")

    report = json.loads(invoke("validate", "--json").stdout)

    assert report["module_file"] == str(project / "flows/tiny/pipeline.py") and report["problems"] == []


def test_an_edit_in_the_package_is_built(project):
    invoke("get-definition")
    (project / "flows/tiny/data/sample.csv").write_text("5,6\n")

    assert BUILT in invoke("graph").stderr


def test_the_seeds_get_pipeline_definition_neither_reuses_nor_keeps_a_build(project, tmp_path):
    invoke("get-definition")
    (entry,) = (tmp_path / "state" / "definitions").glob("*.json")
    kept = entry.stat().st_mtime_ns

    result = runner.invoke(get_pipeline_definition.app, [])

    assert result.exit_code == ExitCode.OK, result.output
    assert BUILT in result.stderr
    assert entry.stat().st_mtime_ns == kept


def test_diff_and_validate_for_sagemaker_build_afresh(project, clients):
    invoke("get-definition", "--kwargs", json.dumps({"role": ROLE_ARN}))

    diffed = invoke("diff", "--role-arn", ROLE_ARN)
    validated = runner.invoke(app, ["validate", "--target", "sagemaker", "--role-arn", ROLE_ARN])

    assert BUILT in diffed.stderr
    assert BUILT in validated.stderr
