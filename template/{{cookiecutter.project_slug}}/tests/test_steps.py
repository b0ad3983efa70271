"""The step scripts run on a small sample, as the pipeline's jobs run them."""

import io
import json
import tarfile

import numpy as np
import xgboost

from pipelines.{{ cookiecutter.pipeline_name }} import evaluate, preprocess
from pipelines.{{ cookiecutter.pipeline_name }}.pipeline import SAMPLE_DATA

SAMPLE_ROWS = 200


def write_sample(directory):
    """Write the first SAMPLE_ROWS rows of the bundled data into `directory`."""
    directory.mkdir(parents=True)
    rows = SAMPLE_DATA.read_text().splitlines()[:SAMPLE_ROWS]
    (directory / "sample.csv").write_text("\n".join(rows) + "\n")


def write_model(model_dir, train_csv):
    """Train a tiny booster on `train_csv` and pack it as the training job would."""
    rows = np.loadtxt(train_csv, delimiter=",", ndmin=2)
    booster = xgboost.train({"objective": "reg:squarederror"}, xgboost.DMatrix(rows[:, 1:], rows[:, 0]), 5)
    raw = bytes(booster.save_raw("json"))
    model_dir.mkdir(parents=True)
    with tarfile.open(model_dir / evaluate.MODEL_ARCHIVE, "w:gz") as archive:
        member = tarfile.TarInfo(evaluate.MODEL_FILE)
        member.size = len(raw)
        archive.addfile(member, io.BytesIO(raw))


def test_preprocess_writes_the_splits(tmp_path):
    write_sample(tmp_path / "input")

    preprocess.main(["--input-dir", str(tmp_path / "input"), "--output-dir", str(tmp_path / "output")])

    counts = {
        name: len((tmp_path / "output" / name / f"{name}.csv").read_text().splitlines())
        for name in preprocess.OUTPUT_SUBDIRS
    }
    assert sum(counts[name] for name in ("train", "validation", "test")) == SAMPLE_ROWS
    assert counts["test-features"] == counts["test"]


def test_evaluate_writes_the_mse_report(tmp_path):
    write_sample(tmp_path / "input")
    preprocess.main(["--input-dir", str(tmp_path / "input"), "--output-dir", str(tmp_path / "splits")])
    write_model(tmp_path / "model", tmp_path / "splits" / "train" / "train.csv")

    evaluate.main(
        [
            "--model-dir", str(tmp_path / "model"),
            "--test-dir", str(tmp_path / "splits" / "test"),
            "--output-dir", str(tmp_path / "evaluation"),
        ]
    )

    report = json.loads((tmp_path / "evaluation" / evaluate.REPORT_FILE).read_text())
    assert report["regression_metrics"]["mse"]["value"] >= 0
