"""The reference abalone pipeline, end to end on the bundled data: both branches, then from the cache."""

from __future__ import annotations

import json

import pytest

from modelbuild.local.engine import load_source, run_pipeline
from modelbuild.local.model_metrics import list_model_versions
from modelbuild.local.records import CACHED, FAILED, SKIPPED, SUCCEEDED
from modelbuild.local.registry import list_model_packages

pytestmark = pytest.mark.slow  # runs the whole reference pipeline (about 10 s)


@pytest.fixture(scope="module")
def abalone():
    """The pipeline built offline once (building imports the SDK, which takes seconds)."""
    return load_source()


@pytest.fixture(scope="module")
def first_run(abalone, tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("abalone-state")
    return state_dir, run_pipeline(abalone, state_dir=state_dir)


def properties(record, step: str) -> dict:
    return next(s.properties for s in record.steps if s.name == step)


def store_path(state_dir, uri: str):
    return state_dir / "s3" / uri[len("s3://"):]


def test_the_pass_branch_trains_evaluates_registers_creates_and_transforms(first_run):
    state_dir, record = first_run

    assert record.status == SUCCEEDED, record.failure_reason
    assert {s.name: s.status for s in record.steps} == {
        "PreprocessAbaloneData": SUCCEEDED, "TrainAbaloneModel": SUCCEEDED, "EvaluateAbaloneModel": SUCCEEDED,
        "CheckMSEAbaloneEvaluation": SUCCEEDED, "RegisterAbaloneModel": SUCCEEDED, "CreateAbaloneModel": SUCCEEDED,
        "TransformAbaloneTest": SUCCEEDED, "MSEAbaloneThresholdExceeded": SKIPPED,
    }
    evaluation = properties(record, "EvaluateAbaloneModel")["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    report = json.loads(store_path(state_dir, evaluation["S3Uri"] + "/evaluation.json").read_text())
    assert report["regression_metrics"]["mse"]["value"] > 0
    assert [(p.group_name, p.version, p.execution_id) for p in list_model_packages(state_dir)] == [
        ("AbalonePackageGroup", 1, record.id)]
    (version,) = list_model_versions(state_dir)  # the metrics it was registered with: the report's MSE
    assert version.metrics == {"mse": report["regression_metrics"]["mse"]["value"]}
    assert version.metrics_source == evaluation["S3Uri"] + "/evaluation.json"


def test_batch_transform_predicts_every_test_row(first_run):
    state_dir, record = first_run

    features = properties(record, "PreprocessAbaloneData")["ProcessingOutputConfig"]["Outputs"][3]["S3Output"]
    output = properties(record, "TransformAbaloneTest")["TransformOutput"]["S3OutputPath"]
    rows = store_path(state_dir, features["S3Uri"] + "/test-features.csv").read_text().splitlines()
    predictions = store_path(state_dir, output + "/test-features.csv.out").read_text().splitlines()
    assert len(predictions) == len(rows) > 0


def test_a_second_identical_run_is_served_from_the_cache(abalone, first_run):
    state_dir, record = first_run

    again = run_pipeline(abalone, state_dir=state_dir)

    cached = {s.name for s in again.steps if s.status == CACHED}
    assert cached == {"PreprocessAbaloneData", "TrainAbaloneModel", "EvaluateAbaloneModel", "TransformAbaloneTest"}
    assert again.status == SUCCEEDED


def test_a_low_threshold_takes_the_fail_branch(abalone, first_run):
    state_dir, _ = first_run

    record = run_pipeline(abalone, {"MseThreshold": "0.5"}, state_dir=state_dir)

    assert record.status == FAILED
    assert record.failure_reason.startswith("step 'MSEAbaloneThresholdExceeded' failed: Execution failed: test MSE")
    assert record.failure_reason.endswith("is above the threshold 0.5")
    assert {s.name for s in record.steps if s.status == SKIPPED} == {
        "RegisterAbaloneModel", "CreateAbaloneModel", "TransformAbaloneTest"}
