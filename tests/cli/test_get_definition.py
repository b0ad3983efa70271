"""`modelbuild get-definition` and the seed's `get-pipeline-definition`: one implementation, two spellings."""

import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild import get_pipeline_definition
from modelbuild.cli.app import app
from modelbuild.errors import ExitCode

runner = CliRunner()
UPLOADS = {"s3://bucket/code/abc/preprocess.py": b"print('preprocessing')\n"}
DEFINITION = {"Version": "2020-12-01", "Steps": [{"Name": "A", "Type": "Fail", "Arguments": {}}]}


@pytest.fixture
def build():
    """The core mocked: build_or_reuse (get-definition) and build_definition (the seed's command, which
    never reuses a build) return a tiny definition."""
    built = SimpleNamespace(text=json.dumps(DEFINITION), definition=DEFINITION, uploads=UPLOADS)
    with mock.patch("modelbuild.definition.build.build_definition", return_value=built) as fresh, \
            mock.patch("modelbuild.definition.build_cache.build_or_reuse", return_value=built) as reuse:
        yield SimpleNamespace(fresh=fresh, reuse=reuse)


def test_without_a_module_name_the_core_takes_the_projects_default(build):
    result = runner.invoke(app, ["get-definition"])
    assert result.exit_code == ExitCode.OK, result.output
    build.reuse.assert_called_once_with(None, {}, cache_dir=mock.ANY, rebuild=False)
    assert json.loads(result.stdout) == DEFINITION


def test_passes_module_and_json_kwargs(build):
    result = runner.invoke(app, ["get-definition", "-n", "my.module", "--kwargs", '{"region": "eu-west-1"}'])
    assert result.exit_code == ExitCode.OK, result.output
    build.reuse.assert_called_once_with("my.module", {"region": "eu-west-1"}, cache_dir=mock.ANY, rebuild=False)


def test_the_last_build_is_kept_in_the_state_dir_and_rebuild_forces_a_build(build, tmp_path):
    result = runner.invoke(app, ["get-definition", "--rebuild", "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == ExitCode.OK, result.output
    build.reuse.assert_called_once_with(None, {}, cache_dir=tmp_path / "state" / "definitions", rebuild=True)


def test_pretty_indents(build):
    result = runner.invoke(app, ["get-definition", "--pretty"])
    assert result.stdout == json.dumps(DEFINITION, indent=2) + "\n"


def test_file_name_writes_the_file_and_nothing_to_stdout(build, tmp_path):
    target = tmp_path / "out" / "definition.json"
    result = runner.invoke(app, ["get-definition", "-f", str(target)])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text()) == DEFINITION


def test_code_is_staged_in_the_local_store_for_run_local(build, tmp_path):
    result = runner.invoke(app, ["get-definition", "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == ExitCode.OK, result.output
    staged = tmp_path / "state" / "s3" / "bucket" / "code" / "abc" / "preprocess.py"
    assert staged.read_bytes() == UPLOADS["s3://bucket/code/abc/preprocess.py"]


def test_no_stage_leaves_the_store_alone(build, tmp_path):
    result = runner.invoke(app, ["get-definition", "--no-stage", "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == ExitCode.OK, result.output
    assert not (tmp_path / "state" / "s3").exists()


def test_seed_command_never_stages(build, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELBUILD_HOME", str(tmp_path / "state"))
    result = runner.invoke(get_pipeline_definition.app, [])
    assert result.exit_code == ExitCode.OK, result.output
    assert not (tmp_path / "state").exists()
    build.fresh.assert_called_once_with(None, {})


def test_bad_kwargs_fail_before_building(build):
    result = runner.invoke(app, ["get-definition", "--kwargs", "{region"])
    assert result.exit_code == ExitCode.USAGE
    assert "Error: --kwargs is neither JSON nor a Python literal" in result.stderr
    build.reuse.assert_not_called()


def test_seed_flags_are_accepted(build, tmp_path):
    target = tmp_path / "definition.json"
    result = runner.invoke(
        get_pipeline_definition.app,
        ["-n", "my.module", "-kwargs", "{'region': 'eu-west-1', 'flag': true}", "-f", str(target)],
    )
    assert result.exit_code == ExitCode.OK, result.output
    build.fresh.assert_called_once_with("my.module", {"region": "eu-west-1", "flag": True})
    assert json.loads(target.read_text()) == DEFINITION


def test_seed_script_renders_errors_the_same_way(build):
    result = runner.invoke(get_pipeline_definition.app, ["-kwargs", "[1]"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Error: --kwargs should be an object")


# The real core behind the command: errors are one line, with a documented exit code, no traceback.


def test_unknown_module_is_a_usage_error_with_a_suggestion():
    result = runner.invoke(app, ["get-definition", "-n", "pipelines.abalone.pipelin"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        f"Error: No module named 'pipelines.abalone.pipelin' in {Path.cwd()}",
        "Hint: Did you mean 'pipelines.abalone.pipeline'?",
    ]


def test_failing_get_pipeline_is_definition_invalid_and_debug_shows_the_traceback(tmp_path, monkeypatch):
    (tmp_path / "broken_pipeline.py").write_text("def get_pipeline(region):\n    raise KeyError('bucket')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = runner.invoke(app, ["get-definition", "-n", "broken_pipeline"])
    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "Error: broken_pipeline.get_pipeline() failed: KeyError: 'bucket'" in result.stderr
    assert "Traceback" not in result.stderr
    verbose = runner.invoke(app, ["--debug", "get-definition", "-n", "broken_pipeline"])
    assert "Traceback (most recent call last)" in verbose.stderr


def test_file_is_not_touched_when_the_build_fails(tmp_path):
    target = tmp_path / "definition.json"
    target.write_text("previous")
    result = runner.invoke(app, ["get-definition", "-n", "no.such.module", "-f", str(target)])
    assert result.exit_code == ExitCode.USAGE
    assert target.read_text() == "previous"


def test_seed_command_renders_the_reference_pipeline_for_the_region_in_kwargs():
    result = runner.invoke(
        get_pipeline_definition.app,
        ["--module-name", "pipelines.abalone.pipeline", "--kwargs", '{"region": "eu-west-1"}'],
    )
    assert result.exit_code == ExitCode.OK, result.output
    definition = json.loads(result.stdout)
    train = next(step for step in definition["Steps"] if step["Name"] == "TrainAbaloneModel")
    assert train["Arguments"]["AlgorithmSpecification"]["TrainingImage"].startswith("141502667606.dkr.ecr.eu-west-1.")
    assert "sagemaker-eu-west-1-000000000000" in result.stdout
