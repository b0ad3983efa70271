"""Feature-engineer the UCI Abalone data set into train, validation and test CSV files.

Runs unchanged as a SageMaker Processing script, under modelbuild's local engine and on a laptop:

    python preprocess.py --input-dir data/ --output-dir out/

Every `*.csv` file in `--input-dir` is read (headerless, columns as in the UCI data set). Numeric
columns are median-imputed and standardised, `sex` is one-hot encoded, and the rows are shuffled with
a fixed seed and split 70/15/15. Written under `--output-dir` (created as needed), without headers:

    train/train.csv, validation/validation.csv, test/test.csv   label (rings) first, then features
    test-features/test-features.csv                             features only, for batch transform
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger(__name__)

NUMERIC_COLUMNS = [
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
CATEGORICAL_COLUMNS = ["sex"]
LABEL_COLUMN = "rings"
COLUMNS = CATEGORICAL_COLUMNS + NUMERIC_COLUMNS + [LABEL_COLUMN]
SPLIT_FRACTIONS = (0.70, 0.15)  # train, validation; the test set takes the rest
DEFAULT_SEED = 42
# Subdirectories of --output-dir; pipeline.py maps one ProcessingOutput to each.
OUTPUT_SUBDIRS = ("train", "validation", "test", "test-features")


def read_input(input_dir: Path) -> pd.DataFrame:
    """Read and concatenate every headerless CSV file in `input_dir`, in name order."""
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"no *.csv file in {input_dir}")
    dtypes = {"sex": str, **{name: np.float64 for name in NUMERIC_COLUMNS + [LABEL_COLUMN]}}
    frames = [pd.read_csv(path, header=None, names=COLUMNS, dtype=dtypes) for path in files]
    return pd.concat(frames, ignore_index=True)


def transform_features(frame: pd.DataFrame) -> np.ndarray:
    """Return the label column followed by the imputed, scaled and one-hot encoded features."""
    features = ColumnTransformer(
        transformers=[
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC_COLUMNS),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="missing"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                CATEGORICAL_COLUMNS,
            ),
        ]
    ).fit_transform(frame.drop(columns=[LABEL_COLUMN]))
    label = frame[LABEL_COLUMN].to_numpy().reshape(-1, 1)
    return np.concatenate((label, features), axis=1)


def split_rows(rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle `rows` with `seed` and split them into train, validation and test sets."""
    shuffled = rows[np.random.default_rng(seed).permutation(len(rows))]
    train_end = int(SPLIT_FRACTIONS[0] * len(rows))
    validation_end = int(sum(SPLIT_FRACTIONS) * len(rows))
    return shuffled[:train_end], shuffled[train_end:validation_end], shuffled[validation_end:]


def write_csv(rows: np.ndarray, path: Path) -> None:
    """Write `rows` as a headerless CSV file, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, header=False, index=False)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, then read, transform, split and write the data set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    frame = read_input(args.input_dir)
    logger.info("Read %d rows from %s", len(frame), args.input_dir)
    train, validation, test = split_rows(transform_features(frame), args.seed)
    train_dir, validation_dir, test_dir, test_features_dir = (args.output_dir / name for name in OUTPUT_SUBDIRS)
    write_csv(train, train_dir / "train.csv")
    write_csv(validation, validation_dir / "validation.csv")
    write_csv(test, test_dir / "test.csv")
    write_csv(test[:, 1:], test_features_dir / "test-features.csv")
    logger.info("Wrote %d/%d/%d rows to %s", len(train), len(validation), len(test), args.output_dir)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    main()
