"""`modelbuild run --local`, `executions list|show` and `models ...` on this machine."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from modelbuild.local.registry import ModelRegistry
from modelbuild.local.scheduler import StepEvent
from modelbuild.local.state import open_state

runner = CliRunner()
CHECK_ONLY = {"Version": "2020-12-01", "Parameters": [{"Name": "Go", "Type": "Boolean", "DefaultValue": True}],
              "Steps": [{"Name": "Check", "Type": "Condition", "Arguments": {
                  "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Go"}, "RightValue": True}],
                  "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "told to stop"}}]}}]}


@pytest.fixture
def definition_file(tmp_path) -> Path:
    path = tmp_path / "check.json"
    path.write_text(json.dumps(CHECK_ONLY))
    return path


def record(status: str = "Succeeded", reason: str | None = None) -> SimpleNamespace:
    step = SimpleNamespace(name="Check", type="Condition", status=status, started=1.0, ended=2.0, attempts=1,
                           failure_reason=reason, cached_from=None, log_path=None)
    return SimpleNamespace(id="abc123", status=status, failure_reason=reason, started=1.0, ended=2.0, steps=[step],
                           to_json=lambda: {"id": "abc123"})


SOURCE = SimpleNamespace(module_file="/project/pipelines/abalone/pipeline.py")


@pytest.fixture
def engine():
    """The core mocked: load_source and run_pipeline of modelbuild.local.engine."""
    with mock.patch("modelbuild.local.engine.load_source", return_value=SOURCE) as load, \
            mock.patch("modelbuild.local.engine.run_pipeline", return_value=record()) as run:
        yield SimpleNamespace(load=load, run=run)


def test_run_local_hands_the_options_to_the_engine(engine, tmp_path):
    result = runner.invoke(app, ["run", "--local", "--definition", "d.json", "-p", "Go=false", "--max-parallel", "2",
                                 "--steps", "A, B", "--state-dir", str(tmp_path)])

    assert result.exit_code == ExitCode.OK, result.output
    engine.load.assert_called_once_with(Path("d.json"), None, {}, definition_cache=tmp_path / "definitions",
                                        rebuild=False)
    engine.run.assert_called_once_with(SOURCE, {"Go": "false"}, state_dir=tmp_path, max_parallel=2, resume=None,
                                       steps=("A", "B"), on_event=mock.ANY, cache_by_default=True, stubs={},
                                       callbacks={}, lambda_code={})


def test_no_cache_turns_the_default_cache_off(engine):
    result = runner.invoke(app, ["run", "--local", "--no-cache"])

    assert result.exit_code == ExitCode.OK, result.output
    assert engine.run.call_args.kwargs["cache_by_default"] is False


def test_local_is_the_default_target(engine):
    result = runner.invoke(app, ["run"])

    assert result.exit_code == ExitCode.OK, result.output
    engine.load.assert_called_once_with(None, None, {}, definition_cache=mock.ANY, rebuild=False)


def test_rebuild_asks_for_a_fresh_build(engine):
    result = runner.invoke(app, ["run", "--local", "--rebuild"])

    assert result.exit_code == ExitCode.OK, result.output
    assert engine.load.call_args.kwargs["rebuild"] is True


def test_a_failed_execution_exits_execution_failed_with_the_resume_command(engine, tmp_path):
    engine.run.return_value = record("Failed", "step 'Check' failed: boom")

    result = runner.invoke(app, ["run", "--local", "-n", "my.pipeline", "--state-dir", str(tmp_path)])

    assert result.exit_code == ExitCode.EXECUTION_FAILED
    assert f"modelbuild run --local --resume abc123 --module-name my.pipeline --state-dir {tmp_path}" in result.output


def test_json_prints_one_line_per_event_then_the_summary(engine):
    def run(source, parameters, on_event, **kwargs):
        on_event(StepEvent("abc123", "Check", "Condition", "Executing", 1.0))
        on_event(StepEvent("abc123", "Check", "Condition", "Succeeded", 2.0, attempts=1))
        return record()

    engine.run.side_effect = run

    result = runner.invoke(app, ["run", "--local", "--json"])

    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["event"], line.get("status")) for line in lines] == [
        ("step", "Executing"), ("step", "Succeeded"), ("summary", None)]
    assert lines[-1]["module_file"] == SOURCE.module_file  # which file the run was built from


def test_a_real_run_then_executions_list_and_show(definition_file, tmp_path):
    state = ["--state-dir", str(tmp_path / "state")]
    run = runner.invoke(app, ["run", "--local", "--json", "--definition", str(definition_file), *state])
    execution_id = json.loads(run.stdout.splitlines()[-1])["execution"]["id"]

    listed = runner.invoke(app, ["executions", "list", *state])
    shown = runner.invoke(app, ["executions", "show", execution_id, "--json", *state])

    assert (run.exit_code, listed.exit_code, shown.exit_code) == (ExitCode.OK,) * 3, run.output
    assert execution_id in listed.stdout and "Succeeded" in listed.stdout
    assert [step["name"] for step in json.loads(shown.stdout)["steps"]] == ["Check", "Stop"]


def test_a_fail_step_exits_execution_failed_and_names_its_message(definition_file):
    result = runner.invoke(app, ["run", "--local", "--definition", str(definition_file), "-p", "Go=false"])

    assert result.exit_code == ExitCode.EXECUTION_FAILED
    assert "told to stop" in result.output
    assert "Hint: A Fail step ended the execution" in result.stderr
    assert "--resume" not in result.output


def test_an_invalid_definition_exits_definition_invalid(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"Steps": [{"Name": "A", "Type": "EMR", "Arguments": {}}]}))

    result = runner.invoke(app, ["run", "--local", "--definition", str(path)])

    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "'A' (EMR)" in result.output


def test_a_definition_whose_code_is_not_stored_exits_usage_naming_the_uri(tmp_path):
    step = {"Name": "P", "Type": "Processing", "Arguments": {
        "AppSpecification": {"ContainerEntrypoint": ["python3", "/opt/ml/processing/code/p.py"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": "s3://b/code/p.py",
                                                               "LocalPath": "/opt/ml/processing/code"}}]}}
    path = tmp_path / "needs_code.json"
    path.write_text(json.dumps({"Steps": [step]}))

    result = runner.invoke(app, ["run", "--local", "--definition", str(path)])

    assert result.exit_code == ExitCode.USAGE
    assert "s3://b/code/p.py" in result.output


def test_showing_an_unknown_execution_suggests_one(definition_file):
    run = runner.invoke(app, ["run", "--local", "--json", "--definition", str(definition_file)])
    execution_id = json.loads(run.stdout.splitlines()[-1])["execution"]["id"]

    result = runner.invoke(app, ["executions", "show", execution_id[:-1] + "x"])

    assert result.exit_code == ExitCode.USAGE
    assert f"Did you mean '{execution_id}'" in result.output


@pytest.fixture
def registered(tmp_path) -> list[str]:
    """Two versions of group G in the state dir; returns the --state-dir option."""
    state_dir = tmp_path / "state"
    with open_state(state_dir) as state:
        registry = ModelRegistry(state)
        for _ in range(2):
            registry.register("G", {"InferenceSpecification": {"Containers": []}}, "exec1", "Register")
    return ["--state-dir", str(state_dir)]


def test_models_list_filters_by_group_and_status(registered):
    runner.invoke(app, ["models", "approve", "G/2", *registered])

    approved = runner.invoke(app, ["models", "list", "--status", "Approved", "--json", *registered])
    other_group = runner.invoke(app, ["models", "list", "--group", "H", "--json", *registered])

    assert [(p["group_name"], p["version"]) for p in json.loads(approved.stdout)] == [("G", 2)]
    assert json.loads(other_group.stdout) == []


def test_models_list_prints_a_table_row_per_version(registered):
    result = runner.invoke(app, ["models", "list", *registered])

    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["group", "version", "status", "created", "execution"]  # no metrics registered: no columns
    assert [row[:3] + row[5:] for row in rows[1:]] == [["G", "2", "PendingManualApproval", "exec1"],
                                                       ["G", "1", "PendingManualApproval", "exec1"]]


@pytest.mark.parametrize(("command", "status"), [("approve", "Approved"), ("reject", "Rejected")])
def test_approve_and_reject_set_the_status(registered, command, status):
    result = runner.invoke(app, ["models", command, "G/1", *registered])
    shown = runner.invoke(app, ["models", "show", "G/1", "--json", *registered])

    assert result.stdout == f"G/1: {status}\n"
    assert json.loads(shown.stdout)["status"] == status


def test_an_unknown_model_version_exits_usage(registered):
    result = runner.invoke(app, ["models", "show", "G/9", *registered])

    assert result.exit_code == ExitCode.USAGE
    assert "no model package G/9" in result.output


def test_an_unknown_status_filter_exits_usage_with_a_suggestion(registered):
    result = runner.invoke(app, ["models", "list", "--status", "Aproved", *registered])

    assert result.exit_code == ExitCode.USAGE
    assert "Did you mean 'Approved'" in result.output


def test_executions_show_prints_the_failure_reason_and_steps(definition_file):
    run = runner.invoke(app, ["run", "--local", "--json", "--definition", str(definition_file), "-p", "Go=false"])
    execution_id = json.loads(run.stdout.splitlines()[-1])["execution"]["id"]

    result = runner.invoke(app, ["executions", "show", execution_id])

    assert result.exit_code == ExitCode.OK, result.output
    assert "Failure reason: step 'Stop' failed: told to stop" in result.stdout
    assert "Parameters: Go=false" in result.stdout


def test_executions_list_in_a_directory_without_state_creates_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELBUILD_HOME")

    result = runner.invoke(app, ["executions", "list", "--json"])

    assert (result.exit_code, json.loads(result.stdout)) == (ExitCode.OK, [])
    assert not (tmp_path / ".modelbuild").exists()


def test_the_state_dir_defaults_to_dot_modelbuild_in_the_working_directory(definition_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODELBUILD_HOME")

    result = runner.invoke(app, ["run", "--local", "--definition", str(definition_file)])

    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / ".modelbuild" / "state.sqlite3").is_file()


def test_executions_list_filters_by_pipeline_name(definition_file, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(definition_file.read_text())
    for path in (definition_file, other):
        runner.invoke(app, ["run", "--local", "--definition", str(path)])

    result = runner.invoke(app, ["executions", "list", "--pipeline-name", "other", "--json"])

    assert [execution["pipeline_name"] for execution in json.loads(result.stdout)] == ["other"]


def test_a_terminal_gets_the_live_table_instead_of_event_lines(engine):
    from modelbuild.local.scheduler import StepEvent

    def run(source, parameters, *, on_event, **_):
        on_event(StepEvent("abc123", "Check", "Condition", "Executing", 1.0))
        on_event(StepEvent("abc123", "Check", "Condition", "Succeeded", 2.0))
        return record()

    engine.run.side_effect = run
    with mock.patch("modelbuild.cli.render.sys") as fake_sys:
        fake_sys.stdout.isatty.return_value = True
        live = runner.invoke(app, ["run", "--local"])
    plain = runner.invoke(app, ["run", "--local"])

    assert (live.exit_code, plain.exit_code) == (ExitCode.OK, ExitCode.OK), live.output
    assert "Check  Executing" in plain.output
    assert "Check  Executing" not in live.output
    assert "Execution abc123: Succeeded" in live.output


@pytest.mark.slow
def test_a_saved_definition_runs_locally_after_get_definition(tmp_path):
    """The README's path: save the definition, then run the file (get-definition staged its code and data)."""
    definition = tmp_path / "definition.json"
    saved = runner.invoke(app, ["get-definition", "-f", str(definition)])
    ran = runner.invoke(app, ["run", "--local", "--definition", str(definition)])

    assert saved.exit_code == ExitCode.OK, saved.output
    assert ran.exit_code == ExitCode.OK, ran.output
    assert "TransformAbaloneTest  Succeeded" in ran.output


def test_approving_a_missing_version_lists_the_groups_versions(registered):
    result = runner.invoke(app, ["models", "approve", "G/9", *registered])

    assert result.exit_code == ExitCode.USAGE
    assert "no model package G/9" in result.stderr and "G has version(s) 1, 2." in result.stderr
    assert "Did you mean 'G'" not in result.stderr


def test_a_long_failure_reason_takes_one_cell_of_executions_list(tmp_path):
    definition = {"Version": "2020-12-01", "Steps": [
        {"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x" * 10_000}}]}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(definition))
    state = ["--state-dir", str(tmp_path / "state")]
    runner.invoke(app, ["run", "--local", "--definition", str(path), *state])

    listed = runner.invoke(app, ["executions", "list", *state])

    assert listed.exit_code == ExitCode.OK, listed.output
    assert len(listed.stdout) < 1000 and "…" in listed.stdout
