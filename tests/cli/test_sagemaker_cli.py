"""The SageMaker target's commands with the core mocked: run, run-pipeline, executions, validate, graph, diff."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild import run_pipeline
from modelbuild.cli.app import app
from modelbuild.definition.diff import DefinitionDiff, FieldChange, StepDiff
from modelbuild.errors import ExecutionTimeoutError, ExitCode
from modelbuild.sagemaker_target.executions import ExecutionSummary, StepState
from modelbuild.sagemaker_target.run import StartedExecution
from modelbuild.sagemaker_target.watch import ExecutionFinished, StepTransition

runner = CliRunner()
ROLE = "arn:aws:iam::123456789012:role/PipelineRole"
ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/abalonepipeline/execution/e1"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 1, 1, 12, 1, 30, tzinfo=timezone.utc)
STARTED = StartedExecution(ARN, "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/abalonepipeline",
                           "AbalonePipeline", "eu-west-1", True, "https://console/e1")
TRAIN_JOB = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/t1"


@pytest.fixture
def start():
    with mock.patch("modelbuild.sagemaker_target.run.run_on_sagemaker", return_value=STARTED) as patched:
        yield patched


@pytest.fixture
def clients():
    with mock.patch("modelbuild.sagemaker_target.aws.make_clients") as patched:
        yield patched.return_value


def watching(*events):
    """Patch watch_execution to yield `events` (an exception among them is raised there)."""
    def watch(clients, arn, timeout=None):
        for event in events:
            if isinstance(event, BaseException):
                raise event
            yield event

    return mock.patch("modelbuild.sagemaker_target.watch.watch_execution", side_effect=watch)


def finished(status, *steps, reason=None):
    return ExecutionFinished(ARN, status, reason, tuple(steps))


def train(status, **extra):
    return StepState("Train", status, started=T0, ended=T1 if status != "Executing" else None, **extra)


def test_run_passes_every_option_to_the_core_and_prints_the_arn_and_console_link(start):
    result = runner.invoke(app, [
        "run", "--target", "sagemaker", "--role-arn", ROLE, "--kwargs", '{"region": "eu-west-1"}',
        "--tags", '[{"Key": "team", "Value": "ml"}]', "--parameter", "ModelApprovalStatus=Approved",
        "--description", "abalone", "--execution-name", "nightly", "--execution-description", "from CI",
        "--max-parallel", "2",
    ])

    assert result.exit_code == ExitCode.OK, result.output
    start.assert_called_once_with(
        None, {"region": "eu-west-1"}, ROLE, description="abalone",
        tags=({"Key": "team", "Value": "ml"},), parameters={"ModelApprovalStatus": "Approved"},
        execution_name="nightly", execution_description="from CI", max_parallel_steps=2,
    )
    assert f"Started execution {ARN}" in result.stdout
    assert "Console: https://console/e1" in result.stdout


@pytest.mark.parametrize("option", [["--definition", "d.json"], ["--resume", "x"], ["--steps", "A"]])
def test_local_only_options_are_refused_for_sagemaker(start, option):
    result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, *option])

    assert result.exit_code == ExitCode.USAGE
    assert "only apply to the local target" in result.stderr
    start.assert_not_called()


def test_wait_prints_a_line_per_step_transition_with_duration_and_job(start, clients):
    events = (
        StepTransition(train("Executing"), None),
        StepTransition(train("Succeeded", job_arn=TRAIN_JOB), "Executing"),
        finished("Succeeded", train("Succeeded", job_arn=TRAIN_JOB)),
    )
    with watching(*events):
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait"])

    assert result.exit_code == ExitCode.OK, result.output
    lines = [line for line in result.stdout.splitlines() if "  Train  " in line]
    assert lines[0].endswith("Train  Executing")
    assert "Succeeded  1m30s" in lines[1] and TRAIN_JOB in lines[1]
    assert "Execution Succeeded" in result.stdout


def test_a_cache_hit_is_shown(start, clients):
    cached = train("Succeeded", cache_source="arn:aws:sagemaker:eu-west-1:1:pipeline/p/execution/old")
    with watching(StepTransition(cached, None), finished("Succeeded", cached)):
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait"])

    assert "cache hit from arn:aws:sagemaker:eu-west-1:1:pipeline/p/execution/old" in result.stdout


@pytest.mark.parametrize("status, code", [("Failed", ExitCode.EXECUTION_FAILED),
                                          ("Stopped", ExitCode.EXECUTION_STOPPED)])
def test_the_exit_code_says_how_the_execution_ended(start, clients, status, code):
    step = train(status, failure_reason="AlgorithmError: [bad] data" if status == "Failed" else None)
    with watching(StepTransition(step, None), finished(status, step)):
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait"])

    assert result.exit_code == code, result.output
    if status == "Failed":
        assert "Train: AlgorithmError: [bad] data" in result.stderr


def test_a_timeout_exits_timed_out(start, clients):
    timeout = ExecutionTimeoutError("Execution still Executing after 5 s", hint="It keeps running.")
    with watching(StepTransition(train("Executing"), None), timeout) as watch:
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait", "--timeout", "5"])

    assert result.exit_code == ExitCode.TIMED_OUT, result.output
    assert watch.call_args.kwargs == {"timeout": 5.0}


def test_json_emits_one_object_per_line(start, clients):
    with watching(StepTransition(train("Executing"), None), finished("Succeeded", train("Succeeded"))):
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait", "--json"])

    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["event"] for event in events] == ["started", "step", "finished"]
    assert events[1]["step"] == "Train" and events[2]["status"] == "Succeeded"


def test_ctrl_c_says_the_execution_keeps_running_and_how_to_stop_it(start, clients):
    with watching(StepTransition(train("Executing"), None), KeyboardInterrupt()):
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait"])

    assert result.exit_code == ExitCode.INTERRUPTED
    assert f"still running on SageMaker: {ARN}" in result.stderr
    assert f"modelbuild executions stop {ARN}" in result.stderr


def test_ctrl_c_at_a_terminal_offers_to_stop_the_execution(start, clients):
    with watching(KeyboardInterrupt()), mock.patch("modelbuild.cli.sagemaker_target.interactive", return_value=True), \
            mock.patch("modelbuild.sagemaker_target.executions.stop_execution") as stop:
        result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--wait"], input="y\n")

    assert result.exit_code == ExitCode.INTERRUPTED
    stop.assert_called_once_with(clients, ARN)
    assert f"Stopping {ARN}" in result.stderr


def test_run_pipeline_takes_the_seeds_flags_and_waits(start, clients):
    with watching(finished("Succeeded")) as watch:
        result = runner.invoke(run_pipeline.app, [
            "-n", "pipelines.abalone.pipeline", "-role-arn", ROLE, "-kwargs", "{'region': 'eu-west-1'}",
            "-tags", '[{"Key": "team", "Value": "ml"}]', "-description", "seed",
        ])

    assert result.exit_code == ExitCode.OK, result.output
    start.assert_called_once_with(
        "pipelines.abalone.pipeline", {"region": "eu-west-1"}, ROLE, description="seed",
        tags=[{"Key": "team", "Value": "ml"}], parameters=None, execution_name=None,
        execution_description=None, max_parallel_steps=None,
    )
    watch.assert_called_once()


def test_run_pipeline_exits_with_the_executions_outcome(start, clients):
    with watching(finished("Failed", train("Failed", failure_reason="boom"))):
        result = runner.invoke(run_pipeline.app, ["-role-arn", ROLE])

    assert result.exit_code == ExitCode.EXECUTION_FAILED
    assert "Error: Execution Failed: Train: boom" in result.stderr


def test_executions_list_needs_a_pipeline_name_and_names_the_candidates(clients):
    with mock.patch("modelbuild.sagemaker_target.executions.list_pipeline_names", return_value=["A", "B"]):
        result = runner.invoke(app, ["executions", "list", "--target", "sagemaker"])

    assert result.exit_code == ExitCode.USAGE
    assert "--pipeline-name is required" in result.stderr and "A, B" in result.stderr


def test_executions_list_says_when_the_region_has_no_pipelines(clients):
    clients.region = "eu-west-1"
    with mock.patch("modelbuild.sagemaker_target.executions.list_pipeline_names", return_value=[]):
        result = runner.invoke(app, ["executions", "list", "--target", "sagemaker"])

    assert result.exit_code == ExitCode.USAGE
    assert "There are no pipelines in eu-west-1" in result.stderr


def test_timeout_without_wait_is_refused(start):
    result = runner.invoke(app, ["run", "--target", "sagemaker", "--role-arn", ROLE, "--timeout", "60"])

    assert result.exit_code == ExitCode.USAGE
    assert "--timeout only applies with --wait" in result.stderr
    start.assert_not_called()


def test_executions_list_prints_the_core_summaries(clients):
    summaries = [ExecutionSummary(ARN, "Failed", T0, "nightly", failure_reason="Step Train failed")]
    with mock.patch("modelbuild.sagemaker_target.executions.list_executions", return_value=summaries) as listed:
        result = runner.invoke(app, ["executions", "list", "--target", "sagemaker", "--pipeline-name", "P",
                                     "--limit", "5", "--json"])

    assert result.exit_code == ExitCode.OK, result.output
    listed.assert_called_once_with(clients, "P", 5)
    assert json.loads(result.stdout)[0]["arn"] == ARN


def test_executions_show_uses_the_arns_region(clients):
    summary = ExecutionSummary(ARN, "Succeeded", T0, parameters=(("MseThreshold", "6.0"),))
    with mock.patch("modelbuild.sagemaker_target.executions.describe_execution", return_value=summary), \
            mock.patch("modelbuild.sagemaker_target.executions.list_steps", return_value=[train("Succeeded")]), \
            mock.patch("modelbuild.sagemaker_target.aws.make_clients") as make:
        result = runner.invoke(app, ["executions", "show", ARN])

    assert result.exit_code == ExitCode.OK, result.output
    make.assert_called_once_with("eu-west-1")
    assert "MseThreshold=6.0" in result.stdout and "Train" in result.stdout


def test_executions_stop_asks_the_core_to_stop(clients):
    with mock.patch("modelbuild.sagemaker_target.executions.stop_execution") as stop:
        result = runner.invoke(app, ["executions", "stop", ARN])

    assert result.exit_code == ExitCode.OK, result.output
    stop.assert_called_once_with(clients, ARN)


@pytest.fixture
def definition_file(tmp_path):
    """A two-step definition file: Second waits for First."""
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"Version": "2020-12-01", "Steps": [
        {"Name": "First", "Type": "Fail", "Arguments": {}},
        {"Name": "Second", "Type": "Fail", "Arguments": {}, "DependsOn": ["First"]},
    ]}))
    return path


def test_validate_exits_ok_without_problems(definition_file):
    result = runner.invoke(app, ["validate", "--definition", str(definition_file)])

    assert result.exit_code == ExitCode.OK, result.output
    assert "no problems found" in result.stdout


def test_validate_lists_every_problem_and_exits_definition_invalid(definition_file):
    definition = json.loads(definition_file.read_text())
    definition["Steps"][1]["DependsOn"] = ["Frist"]
    definition_file.write_text(json.dumps(definition))

    result = runner.invoke(app, ["validate", "--definition", str(definition_file), "--target", "sagemaker"])

    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "- step 'Second' at DependsOn[0]: refers to step 'Frist'" in result.stdout
    assert "- pipeline at RoleArn:" in result.stdout
    assert "2 problems found" in result.stderr


def test_validate_json_prints_the_problems(definition_file):
    result = runner.invoke(app, ["validate", "--definition", str(definition_file), "--target", "sagemaker", "--json"])

    assert result.exit_code == ExitCode.DEFINITION_INVALID
    report = json.loads(result.stdout)
    assert [problem["path"] for problem in report["problems"]] == ["RoleArn"]
    assert report["definition_file"] == str(definition_file) and report["module_file"] is None


@pytest.mark.parametrize("fmt, expected", [("text", "└── Second [Fail]"), ("mermaid", "s0 --> s1"),
                                           ("dot", '"First" -> "Second";')])
def test_graph_prints_the_chosen_format(definition_file, fmt, expected):
    result = runner.invoke(app, ["graph", "--definition", str(definition_file), "--format", fmt])

    assert result.exit_code == ExitCode.OK, result.output
    assert expected in result.stdout


def test_graph_builds_the_module_when_no_file_is_given(definition_file):
    built = mock.Mock(definition=json.loads(definition_file.read_text()), pipeline_name="Two")
    with mock.patch("modelbuild.definition.build_cache.build_or_reuse", return_value=built) as build:
        result = runner.invoke(app, ["graph", "-n", "my.module", "--kwargs", '{"region": "eu-west-1"}'])

    build.assert_called_once_with("my.module", {"region": "eu-west-1"}, cache_dir=mock.ANY, rebuild=False)
    assert result.stdout.startswith("Two (2 steps)")


CHANGED = DefinitionDiff(steps=(StepDiff("Train", "changed", "Training", (FieldChange("Arguments.X", 1, 2),)),))


@pytest.mark.parametrize("difference, code", [(CHANGED, ExitCode.FAILURE), (DefinitionDiff(), ExitCode.OK)])
def test_diff_exit_code_says_whether_an_upsert_would_change_anything(difference, code):
    deployed = ("P", difference, "pipeline.py")
    with mock.patch("modelbuild.sagemaker_target.run.diff_with_deployed", return_value=deployed) as diff:
        result = runner.invoke(app, ["diff", "--role-arn", ROLE, "--exit-code"])

    assert result.exit_code == code, result.output
    diff.assert_called_once_with(None, {}, ROLE, None, None)


def test_diff_groups_the_changes_by_step():
    with mock.patch("modelbuild.sagemaker_target.run.diff_with_deployed", return_value=("P", CHANGED, "pipeline.py")):
        result = runner.invoke(app, ["diff", "--role-arn", ROLE])

    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines()[1:] == ["~ step Train [Training]", "    Arguments.X: 1 -> 2"]


def test_diff_needs_a_role():
    result = runner.invoke(app, ["diff"])

    assert result.exit_code == ExitCode.USAGE
    assert "--role-arn" in result.stderr


def buildspec_argv(environment: dict[str, str]) -> list[str]:
    """The argv of the buildspec's `modelbuild` command, expanded by bash with `environment`."""
    import os
    import subprocess
    from pathlib import Path

    import yaml

    spec = yaml.safe_load((Path(__file__).parents[2] / "codebuild-buildspec.yml").read_text())
    (script,) = [c for c in spec["phases"]["build"]["commands"] if "modelbuild " in c]
    # bash runs the build command as CodeBuild would, with `modelbuild` standing for a printer of its argv.
    script = "modelbuild() { printf '%s\\0' \"$@\"; }\n" + script
    out = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"], **environment},
                         capture_output=True, text=True, check=True).stdout
    return out.split("\0")[:-1]


def test_the_buildspec_runs_the_reference_pipeline_on_sagemaker_and_waits(start, clients):
    argv = buildspec_argv({
        "SAGEMAKER_PROJECT_NAME": "abalone", "SAGEMAKER_PROJECT_ID": "p-123", "ARTIFACT_BUCKET": "artifacts",
        "SAGEMAKER_PIPELINE_ROLE_ARN": ROLE, "AWS_REGION": "eu-west-1", "CODEBUILD_BUILD_NUMBER": "7",
    })
    with watching(finished("Succeeded")) as watch:
        result = runner.invoke(app, argv)

    assert result.exit_code == ExitCode.OK, result.output
    (module, kwargs, role), options = start.call_args
    assert (module, role) == (None, ROLE)  # the module setup.cfg names
    assert kwargs == {
        "region": "eu-west-1", "role": ROLE, "default_bucket": "artifacts", "pipeline_name": "abalone-p-123",
        "model_package_group_name": "abalone-p-123", "base_job_prefix": "abalone-p-123",
        "sagemaker_project_name": "abalone",
    }
    assert options["tags"] == ({"Key": "sagemaker:project-name", "Value": "abalone"},
                               {"Key": "sagemaker:project-id", "Value": "p-123"})
    watch.assert_called_once()
