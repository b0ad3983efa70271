"""The CLI's view of the step types added to the local engine: Tuning children, stubs, callbacks, Lambda."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from modelbuild.local.records import ExecutionLog, StepRecord
from modelbuild.local.state import StateDir

runner = CliRunner()


def summary(name: str, value: float, depth: str) -> dict:
    return {"TrainingJobName": name, "TrainingJobStatus": "Completed", "TunedHyperParameters": {"max_depth": depth},
            "FinalHyperParameterTuningJobObjectiveMetric": {"Type": "Minimize", "MetricName": "validation:rmse",
                                                            "Value": value}}


def test_executions_show_lists_a_tuning_steps_jobs_best_first(tmp_path):
    state = StateDir(tmp_path)
    log = ExecutionLog(state)
    log.start("e1", "P", {}, "{}")
    summaries = [summary("e1-Tune-001-aa", 0.5, "3"), summary("e1-Tune-002-bb", 0.9, "1")]
    log.save_step("e1", StepRecord("Tune", "Tuning", "Succeeded", 1.0, 2.0, 1,
                                   properties={"TrainingJobSummaries": summaries}))
    log.finish("e1", "Succeeded", None)
    state.close()

    result = runner.invoke(app, ["executions", "show", "e1", "--state-dir", str(tmp_path)], terminal_width=200)

    assert result.exit_code == ExitCode.OK, result.output
    assert "validation:rmse" in result.output
    first, second = result.output.index("e1-Tune-001-aa"), result.output.index("e1-Tune-002-bb")
    assert first < second
    assert "max_depth=3" in result.output and "0.5" in result.output


EMR_PIPELINE = {"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "SparkPrep", "Type": "EMR", "Arguments": {"ClusterId": "j-1", "StepConfig": {
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit", "s3://bucket/prep.py"]}}}},
    {"Name": "Check", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.SparkPrep.Id"}, "RightValue": "j-LOCAL"}],
        "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "wrong cluster"}}]}}]}


def test_run_with_a_stub_shows_the_step_stubbed(tmp_path):
    definition = tmp_path / "emr.json"
    definition.write_text(json.dumps(EMR_PIPELINE))
    stub = tmp_path / "stub.json"
    stub.write_text(json.dumps({"Id": "j-LOCAL"}))

    result = runner.invoke(app, ["run", "--local", "--definition", str(definition), "--stub", f"SparkPrep={stub}",
                                 "--state-dir", str(tmp_path / "state"), "--json"])

    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])["execution"]
    assert {s["name"]: s["status"] for s in summary["steps"]} == {
        "SparkPrep": "Stubbed", "Check": "Succeeded", "Stop": "Skipped"}


def test_a_stub_option_without_a_file_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["run", "--local", "--definition", "x.json", "--stub", "SparkPrep"])

    assert result.exit_code == ExitCode.USAGE
    assert "--stub should look like NAME=VALUE" in result.output


def test_stub_is_refused_on_the_sagemaker_target():
    result = runner.invoke(app, ["run", "--target", "sagemaker", "--stub", "A=a.json", "--role-arn",
                                 "arn:aws:iam::123456789012:role/x"])

    assert result.exit_code == ExitCode.USAGE
    assert "--stub only apply to the local target" in result.output


def test_validate_for_the_local_target_says_which_steps_need_a_stub(tmp_path):
    definition = tmp_path / "emr.json"
    definition.write_text(json.dumps(EMR_PIPELINE))

    result = runner.invoke(app, ["validate", "--definition", str(definition)])

    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "SparkPrep (EMR): stub needed" in result.output
    assert "Check (Condition): emulated" in result.output
    assert "cannot run step(s) SparkPrep" in result.output


def test_validate_with_the_stub_given_passes_and_reports_it_stubbed(tmp_path):
    definition = tmp_path / "emr.json"
    definition.write_text(json.dumps(EMR_PIPELINE))

    result = runner.invoke(app, ["validate", "--definition", str(definition), "--stub", "SparkPrep=emr.json",
                                 "--json"])

    assert result.exit_code == ExitCode.OK, result.output
    support = {s["step"]: s["how"] for s in json.loads(result.output)["local_support"]}
    assert support == {"SparkPrep": "stubbed", "Check": "emulated", "Stop": "emulated"}


def test_executions_callback_needs_exactly_one_of_success_and_failure(tmp_path):
    both = runner.invoke(app, ["executions", "callback", "t", "--success", "--failure", "no", "--state-dir",
                               str(tmp_path)])
    neither = runner.invoke(app, ["executions", "callback", "t", "--state-dir", str(tmp_path)])

    assert both.exit_code == neither.exit_code == ExitCode.USAGE
    assert "exactly one of --success and --failure" in both.output


def test_run_callback_and_lambda_options_are_parsed_and_handed_to_the_engine(tmp_path):
    from types import SimpleNamespace
    from unittest import mock

    from modelbuild.local.callbacks import FAILURE, SUCCESS, Answer

    record = SimpleNamespace(id="e1", status="Succeeded", failure_reason=None, started=1.0, ended=2.0, steps=[],
                             to_json=lambda: {"id": "e1"})
    with mock.patch("modelbuild.local.engine.load_source", return_value=SimpleNamespace(module_file=None)), \
            mock.patch("modelbuild.local.engine.run_pipeline", return_value=record) as run:
        result = runner.invoke(app, ["run", "--local", "--definition", "d.json", "--callback",
                                     "Approve=success:approved=true,reviewer=ana", "--callback", "Check=failure:no",
                                     "--lambda", "notify=lambdas/notify.py:notify.handler"])

    assert result.exit_code == ExitCode.OK, result.output
    assert run.call_args.kwargs["callbacks"] == {
        "Approve": Answer(SUCCESS, {"approved": "true", "reviewer": "ana"}), "Check": Answer(FAILURE, reason="no")}
    assert run.call_args.kwargs["lambda_code"] == {"notify": "lambdas/notify.py:notify.handler"}


LAMBDA_PIPELINE = {"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "Notify", "Type": "Lambda", "Arguments": {}, "FunctionArn": "arn:aws:lambda:us-east-1:1:function:notify",
     "OutputParameters": []}]}


def test_validate_says_a_lambda_known_only_by_arn_needs_code_or_a_stub(tmp_path):
    definition = tmp_path / "lambda.json"
    definition.write_text(json.dumps(LAMBDA_PIPELINE))
    state = ["--state-dir", str(tmp_path / "state")]

    refused = runner.invoke(app, ["validate", "--definition", str(definition), *state])
    mapped = runner.invoke(app, ["validate", "--definition", str(definition), "--lambda", "notify=n.py:n.handler",
                                 *state])

    assert refused.exit_code == ExitCode.DEFINITION_INVALID
    assert "Notify (Lambda): stub needed - function arn:aws:lambda:us-east-1:1:function:notify" in refused.output
    assert mapped.exit_code == ExitCode.OK, mapped.output
    assert "Notify (Lambda): emulated" in mapped.output
