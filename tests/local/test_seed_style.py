"""Scripts written as AWS's seed writes them run unchanged: hard-coded /opt/ml paths, the input downloaded
with the job's own boto3 from the InputDataUrl parameter, and an evaluate script that pickle-loads the
model of the XGBoost 1.0-1 image; the model's format follows the image version, and batch transform reads
both formats."""

from __future__ import annotations

import json
import pickle

import pytest

from modelbuild.local import isolation
from modelbuild.local.algorithms.xgboost_train import PICKLE, SAVE_MODEL, model_format
from tests.local.conftest import definition, parameter, statuses
from tests.local.test_steps import model, model_member, training, transform

pytestmark = pytest.mark.skipif(isolation.namespace_problem() is not None,
                                reason="hard-coded container paths need a private mount namespace")

IMAGE_1_0 = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.0-1-cpu-py3"
CODE = "/opt/ml/processing/input/code"

# The seed's preprocess.py, reduced to what matters here (its own words where they are).
PREPROCESS = '''
import argparse, os, pathlib
import boto3
import numpy as np
import pandas as pd

if __name__ == "__main__":
    base_dir = "/opt/ml/processing"
    pathlib.Path(f"{base_dir}/data").mkdir(parents=True, exist_ok=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-data", type=str, required=True)
    args = parser.parse_args()
    input_data = args.input_data
    bucket = input_data.split("/")[2]
    key = "/".join(input_data.split("/")[3:])
    fn = f"{base_dir}/data/abalone-dataset.csv"
    s3 = boto3.resource("s3")
    s3.Bucket(bucket).download_file(key, fn)
    df = pd.read_csv(fn, header=None)
    os.unlink(fn)
    y = df.pop(0)
    X = np.concatenate((y.to_numpy().reshape(len(y), 1), df.to_numpy()), axis=1)
    np.random.seed(0)
    np.random.shuffle(X)
    train, validation, test = np.split(X, [int(0.7 * len(X)), int(0.85 * len(X))])
    for name, rows in (("train", train), ("validation", validation), ("test", test)):
        pd.DataFrame(rows).to_csv(f"{base_dir}/{name}/{name}.csv", header=False, index=False)
'''

# The seed's evaluate.py, as it is: the model of image 1.0-1 is a pickled Booster.
EVALUATE = '''
import json, pathlib, pickle, tarfile
import numpy as np
import pandas as pd
import xgboost

if __name__ == "__main__":
    model_path = "/opt/ml/processing/model/model.tar.gz"
    with tarfile.open(model_path) as tar:
        tar.extractall(path=".")
    model = pickle.load(open("xgboost-model", "rb"))
    test_path = "/opt/ml/processing/test/test.csv"
    df = pd.read_csv(test_path, header=None)
    y_test = df.iloc[:, 0].to_numpy()
    df.drop(df.columns[0], axis=1, inplace=True)
    X_test = xgboost.DMatrix(df.values)
    predictions = model.predict(X_test)
    mse = float(np.mean((y_test - predictions) ** 2))
    std = float(np.std(y_test - predictions))
    report_dict = {"regression_metrics": {"mse": {"value": mse, "standard_deviation": std}}}
    output_dir = "/opt/ml/processing/evaluation"
    pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)
    with open(f"{output_dir}/evaluation.json", "w") as f:
        f.write(json.dumps(report_dict))
'''


def seed_processing(name: str, script: str, inputs: dict, outputs: list[str], arguments: list) -> dict:
    return {"Name": name, "Type": "Processing", "Arguments": {
        "AppSpecification": {"ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1",
                             "ContainerEntrypoint": ["python3", f"{CODE}/{script}"], "ContainerArguments": arguments},
        "ProcessingInputs": [
            {"InputName": input_name, "S3Input": {"S3Uri": uri, "LocalPath": path, "S3DataType": "S3Prefix"}}
            for input_name, (uri, path) in {**inputs, "code": (f"s3://bucket/code/{script}", CODE)}.items()],
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": out, "S3Output": {"LocalPath": f"/opt/ml/processing/{out}", "S3Uri": {"Std:Join": {
                "On": "/", "Values": ["s3://bucket/runs", {"Get": "Execution.PipelineExecutionId"}, name, out]}}}}
            for out in outputs]},
    }}


def output(step: str, name: str) -> dict:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}


def output_uri(properties: dict, name: str) -> str:
    outputs = properties["ProcessingOutputConfig"]["Outputs"]
    return next(item["S3Output"]["S3Uri"] for item in outputs if item["OutputName"] == name)


@pytest.fixture
def seed_pipeline(workspace):
    workspace.put("s3://bucket/code/preprocess.py", PREPROCESS)
    workspace.put("s3://bucket/code/evaluate.py", EVALUATE)
    rows = [f"{2 * a + b + 1},{a / 10:.2f},{b / 10:.2f},{(a + b) / 20:.3f}" for a in range(12) for b in range(10)]
    workspace.put("s3://seed-bucket/dataset/abalone-dataset.csv", "\n".join(rows) + "\n")
    preprocess = seed_processing("PreprocessAbaloneData", "preprocess.py", {}, ["train", "validation", "test"],
                                 ["--input-data", {"Get": "Parameters.InputDataUrl"}])
    train = training(channels={"train": output("PreprocessAbaloneData", "train"),
                               "validation": output("PreprocessAbaloneData", "validation")}, image=IMAGE_1_0)
    evaluate = seed_processing("EvaluateAbaloneModel", "evaluate.py", {
        "model": ({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "/opt/ml/processing/model"),
        "test": (output("PreprocessAbaloneData", "test"), "/opt/ml/processing/test"),
    }, ["evaluation"], [])
    workspace.put("s3://bucket/batch/features.csv", "0.1,0.2,0.15\n0.5,0.3,0.4\n")
    return definition(preprocess, train, evaluate, model(image=IMAGE_1_0), transform(),
                      parameters=[parameter("InputDataUrl", "String",
                                            "s3://seed-bucket/dataset/abalone-dataset.csv")])


@pytest.mark.slow
def test_the_seeds_scripts_run_unchanged_with_a_1_0_1_model(workspace, seed_pipeline):
    record = workspace.run(seed_pipeline)

    assert set(statuses(record).values()) == {"Succeeded"}, record.failure_reason
    steps = {step.name: step.properties for step in record.steps}
    artifact = steps["Train"]["ModelArtifacts"]["S3ModelArtifacts"]
    import xgboost

    assert isinstance(pickle.loads(model_member(workspace, artifact, "xgboost-model")), xgboost.Booster)
    evaluation = steps["EvaluateAbaloneModel"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    mse = json.loads(workspace.read(f"{evaluation}/evaluation.json"))["regression_metrics"]["mse"]["value"]
    test_split = output_uri(steps["PreprocessAbaloneData"], "test")
    labels = [float(line.split(",")[0]) for line in workspace.read(f"{test_split}/test.csv").splitlines()]
    mean = sum(labels) / len(labels)
    assert 0 <= mse < sum((label - mean) ** 2 for label in labels) / len(labels)  # it learned something
    predictions = workspace.state().store_dir / "bucket" / "predictions" / record.id / "features.csv.out"
    assert len(predictions.read_text().splitlines()) == 2


@pytest.mark.parametrize(("image", "expected"), [
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-2-cpu-py3", PICKLE),
    (IMAGE_1_0, PICKLE),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.2-2", PICKLE),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.3-1", SAVE_MODEL),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", SAVE_MODEL),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5", SAVE_MODEL),
])
def test_the_model_format_follows_the_image_version(image, expected):
    assert model_format(image) == expected


@pytest.mark.parametrize("image", [IMAGE_1_0, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"])
def test_batch_transform_reads_the_model_of_either_format(workspace, image):
    from tests.local.test_steps import TRAIN_ROWS, csv

    workspace.put("s3://bucket/data/train/train.csv", csv(TRAIN_ROWS))
    workspace.put("s3://bucket/batch/features.csv", "1,2\n3,4\n")

    record = workspace.run(definition(training(channels={"train": "s3://bucket/data/train"}, image=image),
                                      model(image=image), transform()))

    assert set(statuses(record).values()) == {"Succeeded"}, record.failure_reason
    artifact = record.steps[0].properties["ModelArtifacts"]["S3ModelArtifacts"]
    raw = model_member(workspace, artifact, "xgboost-model")
    assert (raw[:1] == b"\x80") == (model_format(image) == PICKLE)
    predictions = workspace.state().store_dir / "bucket" / "predictions" / record.id / "features.csv.out"
    assert len(predictions.read_text().splitlines()) == 2
