"""`modelbuild get-definition` and the seed's `get-pipeline-definition`: one implementation, two spellings."""

import json
from types import SimpleNamespace
from unittest import mock

import pytest
from typer.testing import CliRunner

from pipelines import get_pipeline_definition
from pipelines.cli.app import app
from pipelines.errors import ExitCode

runner = CliRunner()
DEFINITION = {"Version": "2020-12-01", "Steps": [{"Name": "A", "Type": "Fail", "Arguments": {}}]}


@pytest.fixture
def build():
    """The core mocked: build_definition returns a tiny definition."""
    built = SimpleNamespace(text=json.dumps(DEFINITION), definition=DEFINITION)
    with mock.patch("pipelines.definition.build.build_definition", return_value=built) as patched:
        yield patched


def test_defaults_to_the_reference_pipeline(build):
    result = runner.invoke(app, ["get-definition"])
    assert result.exit_code == ExitCode.OK, result.output
    build.assert_called_once_with("pipelines.abalone.pipeline", {})
    assert json.loads(result.stdout) == DEFINITION


def test_passes_module_and_json_kwargs(build):
    result = runner.invoke(app, ["get-definition", "-n", "my.module", "--kwargs", '{"region": "eu-west-1"}'])
    assert result.exit_code == ExitCode.OK, result.output
    build.assert_called_once_with("my.module", {"region": "eu-west-1"})


def test_pretty_indents(build):
    result = runner.invoke(app, ["get-definition", "--pretty"])
    assert result.stdout == json.dumps(DEFINITION, indent=2) + "\n"


def test_file_name_writes_the_file_and_nothing_to_stdout(build, tmp_path):
    target = tmp_path / "out" / "definition.json"
    result = runner.invoke(app, ["get-definition", "-f", str(target)])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text()) == DEFINITION


def test_bad_kwargs_fail_before_building(build):
    result = runner.invoke(app, ["get-definition", "--kwargs", "{region"])
    assert result.exit_code == ExitCode.USAGE
    assert "Error: --kwargs is neither JSON nor a Python literal" in result.stderr
    build.assert_not_called()


def test_seed_flags_are_accepted(build, tmp_path):
    target = tmp_path / "definition.json"
    result = runner.invoke(
        get_pipeline_definition.app,
        ["-n", "my.module", "-kwargs", "{'region': 'eu-west-1', 'flag': true}", "-f", str(target)],
    )
    assert result.exit_code == ExitCode.OK, result.output
    build.assert_called_once_with("my.module", {"region": "eu-west-1", "flag": True})
    assert json.loads(target.read_text()) == DEFINITION


def test_seed_script_renders_errors_the_same_way(build):
    result = runner.invoke(get_pipeline_definition.app, ["-kwargs", "[1]"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("Error: --kwargs should be an object")
