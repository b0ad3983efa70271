"""Evaluate a trained XGBoost regression model on the abalone test set.

Runs unchanged as a SageMaker Processing script, under modelbuild's local engine and on a laptop:

    python evaluate.py --model-dir model/ --test-dir test/ --output-dir evaluation/

`--model-dir` holds the training job's `model.tar.gz` (containing `xgboost-model`); `--test-dir`
holds headerless CSV files with the label first. The model is loaded with
`xgboost.Booster.load_model` (never unpickled). Writes `--output-dir/evaluation.json`:

    {"regression_metrics": {"mse": {"value": ..., "standard_deviation": ...}}}
"""

from __future__ import annotations

import argparse
import json
import logging
import tarfile
from pathlib import Path

import numpy as np
import xgboost

logger = logging.getLogger(__name__)

MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model"  # the name SageMaker's built-in XGBoost algorithm saves under
REPORT_FILE = "evaluation.json"


def load_booster(model_dir: Path) -> xgboost.Booster:
    """Load the booster from the model archive in `model_dir`, reading the one member in memory.

    Reading the member instead of extracting the archive leaves no path in the archive any say
    over where files land, on every Python version the containers run.
    """
    with tarfile.open(model_dir / MODEL_ARCHIVE) as archive:
        member = archive.extractfile(MODEL_FILE)
        if member is None:
            raise SystemExit(f"{MODEL_FILE} in {model_dir / MODEL_ARCHIVE} is not a regular file")
        raw_model = bytearray(member.read())
    booster = xgboost.Booster()
    booster.load_model(raw_model)
    return booster


def read_test_set(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (labels, features) read from every headerless CSV file in `test_dir`."""
    files = sorted(test_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"no *.csv file in {test_dir}")
    rows = np.concatenate([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return rows[:, 0], rows[:, 1:]


def regression_report(labels: np.ndarray, predictions: np.ndarray) -> dict:
    """Return the evaluation report: mean squared error and the standard deviation of the errors."""
    errors = labels - predictions
    return {
        "regression_metrics": {
            "mse": {"value": float(np.mean(errors**2)), "standard_deviation": float(np.std(errors))},
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, score the model on the test set and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    booster = load_booster(args.model_dir)
    labels, features = read_test_set(args.test_dir)
    report = regression_report(labels, booster.predict(xgboost.DMatrix(features)))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    logger.info("Test MSE %.4f over %d rows", report["regression_metrics"]["mse"]["value"], len(labels))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    main()
