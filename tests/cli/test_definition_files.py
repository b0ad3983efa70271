"""`validate`, `graph`, `run` and `diff` read --definition FILE the same way and fail with the same exit code."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode

runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/PipelineRole"


def _fail(name: str) -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": "stop"}}


def _cycle() -> dict:
    first, second = _fail("First"), _fail("Second")
    first["DependsOn"], second["DependsOn"] = ["Second"], ["First"]
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [first, second]}


FILES = {
    "missing": (None, ExitCode.USAGE, "cannot read definition file"),
    "a directory": ("<dir>", ExitCode.USAGE, "cannot read definition file"),
    "not JSON": ("{'Steps': []", ExitCode.DEFINITION_INVALID, "is not valid JSON"),
    "JSON but no object": ("[1, 2]", ExitCode.DEFINITION_INVALID, "is not a pipeline definition"),
    "no Steps": ('{"Version": "2020-12-01"}', ExitCode.DEFINITION_INVALID, "no 'Steps' list"),
    "steps in a cycle": (json.dumps(_cycle()), ExitCode.DEFINITION_INVALID, "cycle"),
}
COMMANDS = {
    "validate": ["validate", "--state-dir", "{state}"],
    "graph": ["graph", "--state-dir", "{state}"],
    "run": ["run", "--local", "--state-dir", "{state}"],
    "diff": ["diff", "--role-arn", ROLE],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("content, code, message", FILES.values(), ids=FILES.keys())
def test_each_command_fails_the_same_way_on_the_same_file(tmp_path, command, content, code, message):
    path = tmp_path / "pipeline.json"
    if content == "<dir>":
        path.mkdir()
    elif content is not None:
        path.write_text(content)

    argv = [word.replace("{state}", str(tmp_path / "state")) for word in command]

    with mock.patch("modelbuild.sagemaker_target.run.make_clients", side_effect=AssertionError("reached AWS")):
        result = runner.invoke(app, [*argv, "--definition", str(path)])

    assert result.exit_code == code, result.output
    assert message in result.stderr or message in result.stdout, result.output
