"""The built-in XGBoost algorithm's batch inference, emulated with the xgboost package.

Run as `python -m modelbuild.local.algorithms.xgboost_transform MODEL_TAR INPUT_DIR OUTPUT_DIR`. Every
file below INPUT_DIR is read as headerless CSV records, one per line (ContentType text/csv, SplitType
Line), and its predictions are written one per line to OUTPUT_DIR/<same relative path>.out, as the
batch transform of SageMaker writes them. Files are streamed a block at a time (see `blocks`), so memory
does not grow with the input.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path

from modelbuild.local.algorithms.blocks import csv_blocks

MODEL_FILE = "xgboost-model"
PICKLE_PROTOCOL_2_OR_LATER = b"\x80"  # a pickle's first byte; neither JSON ('{') nor UBJSON ('{') starts so


def load_booster(archive_path: Path):
    """The booster saved as `xgboost-model` inside the model.tar.gz, in either format the algorithm images
    write: save_model's (1.3-1 and later), or a pickled Booster (0.90-1 to 1.2-2), which their serving
    containers unpickle too, so an artifact the real transform job would load loads here."""
    import xgboost

    with tarfile.open(archive_path) as archive:
        member = archive.extractfile(MODEL_FILE)
        if member is None:
            raise SystemExit(f"{archive_path} has no {MODEL_FILE}")
        raw = bytearray(member.read())
    if raw[:1] == PICKLE_PROTOCOL_2_OR_LATER:
        import pickle

        booster = pickle.loads(raw)
        if not isinstance(booster, xgboost.Booster):
            raise SystemExit(f"{MODEL_FILE} in {archive_path} is a pickled {type(booster).__name__}, not a Booster")
        return booster
    booster = xgboost.Booster()
    booster.load_model(raw)
    return booster


def predict_file(booster, source: Path, target: Path) -> int:
    """Write one prediction per input record of `source` to `target`; returns the number of records."""
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with target.open("w", encoding="utf-8") as output:
        for block in csv_blocks(source):
            output.write(prediction_lines(booster.inplace_predict(block)))
            count += len(block)
    return count


def prediction_lines(predictions) -> str:
    """One line per record: a value, or comma-separated values for a multi-output model."""
    if predictions.ndim == 1:
        return "".join(f"{value}\n" for value in predictions.tolist())
    return "".join(",".join(str(value) for value in row) + "\n" for row in predictions.tolist())


def main(model: Path, inputs: Path, outputs: Path) -> None:
    """Predict every input file."""
    booster = load_booster(model)
    for source in sorted(p for p in inputs.rglob("*") if p.is_file()):
        relative = source.relative_to(inputs)
        count = predict_file(booster, source, outputs / f"{relative.as_posix()}.out")
        sys.stdout.write(f"{relative}: {count} records\n")  # the job's log


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
