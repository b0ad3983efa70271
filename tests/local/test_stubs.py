"""Stubbed steps: properties from a file, local files placed at output URIs, never cached or reused."""

from __future__ import annotations

import json

import pytest

from modelbuild.errors import UnknownStepError
from modelbuild.local.records import FAILED, STUBBED, SUCCEEDED
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.stubs import StubError
from tests.local.conftest import definition, processing, statuses, step_output

EMR_OUTPUT = "s3://bucket/emr/output"


def emr_step() -> dict:
    """An EMR step as the SDK's EMRStep writes it."""
    return {"Name": "SparkPrep", "Type": "EMR", "Arguments": {
        "ClusterId": "j-1ABCDEFGHIJ",
        "StepConfig": {"HadoopJarStep": {"Jar": "command-runner.jar",
                                          "Args": ["spark-submit", "s3://bucket/code/prep.py", EMR_OUTPUT]}}}}


def emr_then_count() -> dict:
    """EMR writes values, a Processing step that waits for it adds one to their sum."""
    return definition(emr_step(), processing("Count", "add_one", {"data": EMR_OUTPUT}, depends_on=["SparkPrep"]))


@pytest.fixture
def emr_stub(tmp_path):
    (tmp_path / "emr-output").mkdir()
    (tmp_path / "emr-output" / "value.txt").write_text("41")
    path = tmp_path / "emr.json"
    path.write_text(json.dumps({"Id": "j-LOCAL",
                                "LocalFiles": [{"S3Uri": EMR_OUTPUT, "LocalPath": "emr-output"}]}))
    return path


def test_an_emr_step_runs_with_a_stub_and_its_files_feed_the_next_step(workspace, emr_stub):
    record = workspace.run(emr_then_count(), stubs={"SparkPrep": emr_stub})

    assert record.status == SUCCEEDED, record.failure_reason
    assert statuses(record) == {"SparkPrep": STUBBED, "Count": SUCCEEDED}
    assert record.steps[0].properties == {"Id": "j-LOCAL"}
    assert step_output(workspace, record, "Count") == "42"


def test_without_a_stub_the_emr_step_is_refused_with_the_stub_option_named(workspace):
    with pytest.raises(UnsupportedStepError, match="'SparkPrep' \\(EMR\\)") as raised:
        workspace.run(emr_then_count())

    assert "--stub" in raised.value.hint


def test_stubbed_steps_are_never_cached_and_resume_does_not_reuse_them(workspace, emr_stub):
    first = workspace.run(definition(emr_step()), stubs={"SparkPrep": emr_stub})
    second = workspace.run(definition(emr_step()), stubs={"SparkPrep": emr_stub})

    assert statuses(second) == {"SparkPrep": STUBBED}
    assert second.steps[0].cached_from is None and second.steps[0].cache_key is None
    with pytest.raises(UnsupportedStepError):
        workspace.run(definition(emr_step()), resume=first.id)


def test_stub_values_may_be_expressions(workspace, tmp_path):
    path = tmp_path / "stub.json"
    path.write_text(json.dumps({"Id": {"Std:Join": {"On": "-", "Values": [
        "j", {"Get": "Execution.PipelineExecutionId"}]}}}))

    record = workspace.run(definition(emr_step()), stubs={"SparkPrep": path})

    assert record.steps[0].properties == {"Id": f"j-{record.id}"}


def test_a_stub_may_stand_in_for_a_step_the_engine_could_run(workspace, tmp_path):
    path = tmp_path / "count.json"
    path.write_text(json.dumps({"ProcessingJobName": "stubbed", "ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "out", "S3Output": {"S3Uri": "s3://bucket/fixed", "LocalPath": "/opt/ml/processing/output"}}]}}))
    workspace.put("s3://bucket/fixed/value.txt", "7")
    pipeline = definition(processing("Count", "crash"), processing("Next", "add_one", {
        "data": {"Get": "Steps.Count.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}}))

    record = workspace.run(pipeline, stubs={"Count": path})

    assert statuses(record) == {"Count": STUBBED, "Next": SUCCEEDED}
    assert step_output(workspace, record, "Next") == "8"


def test_a_stub_for_an_unknown_step_suggests_the_name(workspace, emr_stub):
    with pytest.raises(UnknownStepError, match="SparkPre'") as raised:
        workspace.run(emr_then_count(), stubs={"SparkPre": emr_stub})

    assert "SparkPrep" in raised.value.hint


def test_a_stub_with_a_property_the_step_type_lacks_is_refused(workspace, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"ClusterID": "j-1"}))

    with pytest.raises(StubError, match="no property 'ClusterID'"):
        workspace.run(emr_then_count(), stubs={"SparkPrep": path})


def test_a_stub_whose_local_file_is_missing_fails_the_step(workspace, tmp_path):
    path = tmp_path / "stub.json"
    path.write_text(json.dumps({"LocalFiles": [{"S3Uri": EMR_OUTPUT, "LocalPath": "nowhere"}]}))

    record = workspace.run(definition(emr_step()), stubs={"SparkPrep": path})

    assert record.status == FAILED
    assert "nowhere" in record.steps[0].failure_reason


def quality_check() -> dict:
    """A QualityCheck step as the SDK's QualityCheckStep writes it (abridged)."""
    return {"Name": "DataQuality", "Type": "QualityCheck", "Arguments": {
        "CheckType": "DATA_QUALITY", "ModelPackageGroupName": "Group", "SkipCheck": False,
        "RegisterNewBaseline": False, "ProcessingResources": {"ClusterConfig": {
            "InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}}}}


def test_a_quality_check_stub_feeds_the_baselines_downstream(workspace, tmp_path):
    baselines = {
        "CalculatedBaselineStatistics": "s3://bucket/baseline/statistics.json",
        "CalculatedBaselineConstraints": "s3://bucket/baseline/constraints.json",
        "BaselineUsedForDriftCheckStatistics": "s3://bucket/baseline/statistics.json",
        "BaselineUsedForDriftCheckConstraints": "s3://bucket/baseline/constraints.json",
    }
    path = tmp_path / "quality.json"
    path.write_text(json.dumps(baselines))
    pipeline = definition(quality_check(), processing("UseBaseline", "write", args=[
        {"Get": "Steps.DataQuality.CalculatedBaselineConstraints"}]))

    record = workspace.run(pipeline, stubs={"DataQuality": path})

    assert statuses(record) == {"DataQuality": STUBBED, "UseBaseline": SUCCEEDED}
    assert step_output(workspace, record, "UseBaseline") == "s3://bucket/baseline/constraints.json"


@pytest.mark.parametrize(("step_type", "wrong", "expected"), [
    ("QualityCheck", "CalculatedBaselineStatistic", "CalculatedBaselineStatistics"),
    ("ClarifyCheck", "CalculatedBaselineStatistics", "CalculatedBaselineConstraints"),
])
def test_check_stubs_must_use_the_check_steps_property_names(workspace, tmp_path, step_type, wrong, expected):
    path = tmp_path / "check.json"
    path.write_text(json.dumps({wrong: "s3://bucket/x.json"}))
    pipeline = definition({"Name": "Check", "Type": step_type, "Arguments": {}})

    with pytest.raises(StubError, match=expected):
        workspace.run(pipeline, stubs={"Check": path})
