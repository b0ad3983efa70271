"""Each step type on a small synthetic pipeline: Processing, Training (XGBoost and script mode), Model,
Transform, RegisterModel, Condition and Fail."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from modelbuild.errors import BadParameterValueError
from modelbuild.local.records import FAILED, SUCCEEDED
from modelbuild.local.registry import get_model_package, list_model_packages, set_approval_status
from modelbuild.local.scheduler import job_name
from modelbuild.local.steps import UnsupportedStepError
from tests.local.conftest import definition, parameter, processing, source_tarball, statuses

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
MODELS = "s3://bucket/models"
TRAIN_ROWS = [(2 * a + b, a, b) for a in range(10) for b in range(5)]


def training(name: str = "Train", channels: dict | None = None, hyperparameters: dict | None = None,
             image: str = XGBOOST_IMAGE, content_type: str = "text/csv") -> dict:
    channels = channels or {"train": "s3://bucket/data/train", "validation": "s3://bucket/data/validation"}
    return {"Name": name, "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters or {"objective": "reg:linear", "num_round": "5", "max_depth": "3"},
        "InputDataConfig": [
            {"ChannelName": channel, "ContentType": content_type,
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
            for channel, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": MODELS},
    }}


def model(name: str = "CreateModel", image: str = XGBOOST_IMAGE) -> dict:
    return {"Name": name, "Type": "Model", "Arguments": {"PrimaryContainer": {
        "Image": image, "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}}


def transform(data: str = "s3://bucket/batch") -> dict:
    return {"Name": "Transform", "Type": "Transform", "Arguments": {
        "ModelName": {"Get": "Steps.CreateModel.ModelName"},
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": data}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": {"Std:Join": {"On": "/", "Values": [
            "s3://bucket/predictions", {"Get": "Execution.PipelineExecutionId"}]}}, "AssembleWith": "Line"},
    }}


def register(group: str = "Group", model_data: object = None) -> dict:
    model_data = model_data or {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    return {"Name": "Register", "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": {"Get": "Parameters.Approval"},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m"}}},
        "InferenceSpecification": {"Containers": [{
            "Image": XGBOOST_IMAGE, "ModelDataUrl": model_data}]},
    }}


def csv(rows) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows)


@pytest.fixture
def with_training_data(workspace):
    workspace.put("s3://bucket/data/train/train.csv", csv(TRAIN_ROWS))
    workspace.put("s3://bucket/data/validation/validation.csv", csv(TRAIN_ROWS[::3]))
    return workspace


def model_member(workspace, uri: str, member: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(workspace.store.read_bytes(uri))) as archive:
        return archive.extractfile(member).read()


class TestXGBoostTraining:
    def test_the_model_lands_where_sagemaker_puts_it(self, with_training_data):
        record = with_training_data.run(definition(training()))

        artifact = f"{MODELS}/{job_name(record.id, 'Train')}/output/model.tar.gz"
        assert record.steps[0].properties["ModelArtifacts"]["S3ModelArtifacts"] == artifact
        assert model_member(with_training_data, artifact, "xgboost-model")

    def test_the_validation_metric_is_logged_and_reported(self, with_training_data):
        record = with_training_data.run(definition(training()))

        step = record.steps[0]
        assert "validation-rmse:" in Path(step.log_path).read_text()
        assert [m["MetricName"] for m in step.properties["FinalMetricDataList"]] == ["train:rmse", "validation:rmse"]

    def test_libsvm_channels_are_read(self, workspace):
        workspace.put("s3://bucket/svm/train/data.libsvm",
                      "".join(f"{2 * a + b} 1:{a} 2:{b}\n" for a, b in [(1, 2), (3, 4), (5, 1), (0, 3)] * 5))
        pipeline = definition(training(channels={"train": "s3://bucket/svm/train"}, content_type="text/libsvm"))

        assert workspace.run(pipeline).status == SUCCEEDED

    def test_an_unknown_hyperparameter_value_fails_with_the_algorithms_message(self, with_training_data):
        pipeline = definition(training(hyperparameters={"objective": "reg:nonsense", "num_round": "2"}))

        record = with_training_data.run(pipeline)

        assert record.status == FAILED
        assert "reg:nonsense" in Path(record.steps[0].log_path).read_text()

    def test_an_image_the_engine_cannot_emulate_is_named_before_running(self, with_training_data):
        pipeline = definition(training(image="123.dkr.ecr.us-east-1.amazonaws.com/my-own-trainer:1"))

        with pytest.raises(UnsupportedStepError, match="my-own-trainer"):
            with_training_data.run(pipeline)


SCRIPT = """
    import json, os, pathlib, sys
    rows = sum(len(p.read_text().splitlines()) for p in pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]).iterdir())
    model_dir = pathlib.Path(os.environ["SM_MODEL_DIR"])
    (model_dir / "model.json").write_text(json.dumps({
        "rows": rows, "argv": sys.argv[1:], "hps": json.loads(os.environ["SM_HPS"]),
        "channels": json.loads(os.environ["SM_CHANNELS"]), "output": os.path.isdir(os.environ["SM_OUTPUT_DATA_DIR"])}))
"""


def test_script_mode_runs_the_submitted_script_with_the_sm_environment(with_training_data):
    with_training_data.store.put_bytes("s3://bucket/code/sourcedir.tar.gz", source_tarball(SCRIPT))
    hyperparameters = {"epochs": "3", "sagemaker_program": '"train.py"',
                       "sagemaker_submit_directory": '"s3://bucket/code/sourcedir.tar.gz"'}
    pipeline = definition(training(image="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
                                   hyperparameters=hyperparameters, channels={"train": "s3://bucket/data/train"}))

    record = with_training_data.run(pipeline)

    assert record.status == SUCCEEDED, record.failure_reason
    artifact = record.steps[0].properties["ModelArtifacts"]["S3ModelArtifacts"]
    assert json.loads(model_member(with_training_data, artifact, "model.json")) == {
        "rows": len(TRAIN_ROWS), "argv": ["--epochs", "3"], "hps": {"epochs": 3}, "channels": ["train"],
        "output": True}


def test_model_then_transform_writes_one_out_file_per_input(with_training_data):
    with_training_data.put("s3://bucket/batch/a.csv", csv(row[1:] for row in TRAIN_ROWS[:7]))
    with_training_data.put("s3://bucket/batch/more/b.csv", csv(row[1:] for row in TRAIN_ROWS[:3]))

    record = with_training_data.run(definition(training(), model(), transform()))

    assert record.status == SUCCEEDED, record.failure_reason
    predictions = f"s3://bucket/predictions/{record.id}"
    lines = [len(with_training_data.read(f"{predictions}/{name}").splitlines()) for name in ("a.csv.out",
                                                                                            "more/b.csv.out")]
    assert lines == [7, 3]
    assert all(float(value) for value in with_training_data.read(f"{predictions}/a.csv.out").split())


def test_transform_of_a_model_the_engine_cannot_serve_fails_naming_the_image(with_training_data):
    with_training_data.put("s3://bucket/batch/a.csv", "1,2\n")

    record = with_training_data.run(definition(training(), model(image="123.dkr.ecr/custom:1"), transform()))

    assert "custom:1" in record.failure_reason


def test_register_model_adds_numbered_versions_with_status_and_metrics(with_training_data):
    pipeline = definition(training(), register(), parameters=[parameter("Approval", "String", "Approved")])

    first = with_training_data.run(pipeline)
    second = with_training_data.run(pipeline, {"Approval": "PendingManualApproval"})

    packages = list_model_packages(with_training_data.root, "Group")
    assert [(p.version, p.status, p.execution_id) for p in packages] == [
        (2, "PendingManualApproval", second.id), (1, "Approved", first.id)]
    assert packages[0].model_metrics["ModelQuality"]["Statistics"]["S3Uri"] == "s3://m"
    assert statuses(second)["Register"] == SUCCEEDED
    assert second.steps[-1].properties["ModelPackageArn"].endswith(":model-package/Group/2")


@pytest.fixture
def register_only(workspace):
    """A RegisterModel step alone, for a model already in the store; its status comes from a parameter."""
    workspace.put("s3://bucket/model.tar.gz", "model")
    return definition(register(model_data="s3://bucket/model.tar.gz"),
                      parameters=[parameter("Approval", "String", "PendingManualApproval")])


def test_approving_and_rejecting_change_the_status(workspace, register_only):
    workspace.run(register_only)

    set_approval_status("Group/1", "Approved", workspace.root)

    assert get_model_package("Group/1", workspace.root).status == "Approved"
    assert list_model_packages(workspace.root, status="Rejected") == []


def test_an_invalid_approval_status_is_refused_before_the_run(workspace, register_only):
    with pytest.raises(BadParameterValueError, match="'Maybe': not a valid ModelApprovalStatus"):
        workspace.run(register_only, {"Approval": "Maybe"})


def test_an_invalid_approval_status_in_the_definition_fails_the_register_step(workspace, register_only):
    register_only["Parameters"][0]["DefaultValue"] = "Maybe"  # a definition's own problems are `validate`'s

    record = workspace.run(register_only)

    assert "Maybe" in record.failure_reason


def test_processing_environment_maps_container_paths_in_paths_isolation(workspace, monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")
    step = processing("Env", "env")
    step["Arguments"]["Environment"] = {"DATA_DIR": "/opt/ml/processing/input/data", "PLAIN": "x"}

    record = workspace.run(definition(step))

    uri = record.steps[0].properties["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    environment = json.loads(workspace.read(f"{uri}/env.json"))
    assert environment["PLAIN"] == "x"
    assert environment["DATA_DIR"].endswith("/jobs/" + record.id + "/Env/opt/ml/processing/input/data")


def test_sdk_v3_model_trainer_source_code_is_named_unsupported_before_running_without_a_namespace(
        with_training_data, monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")
    step = training(image="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1")
    step["Arguments"]["AlgorithmSpecification"].update({
        "ContainerEntrypoint": ["/bin/bash"],
        "ContainerArguments": ["-c", "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && "
                                     "/opt/ml/input/data/sm_drivers/sm_train.sh"]})

    with pytest.raises(UnsupportedStepError, match="sm_drivers"):
        with_training_data.run(definition(step))


def test_a_script_with_a_hard_coded_container_path_is_told_to_take_it_as_an_argument_in_paths_isolation(
        workspace, monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")
    workspace.put("s3://bucket/code/hard_coded.py", "open('/opt/ml/processing/input/data/x.csv')\n")

    record = workspace.run(definition(processing("HardCoded", "hard_coded")))

    assert "pass the path as an argument" in record.failure_reason
