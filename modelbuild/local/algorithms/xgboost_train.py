"""The built-in XGBoost algorithm's training, emulated with the xgboost package.

Run as `python -m modelbuild.local.algorithms.xgboost_train <container /opt/ml dir>`. Reads the channels
(CSV: label in column 0, no header; or libsvm) and hyperparameters as the algorithm image does, logs the
evaluation metrics per round as the image does, and saves `xgboost-model` in the model directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OBJECTIVE_ALIASES = {"reg:linear": "reg:squarederror"}  # names the algorithm image still accepts
NOT_BOOSTER_PARAMETERS = {"num_round", "early_stopping_rounds", "csv_weights", "_tuning_objective_metric",
                          "save_model_on_termination", "_kfold", "_num_cv_round", "silent"}


def load_channel(folder: Path, content_type: str):
    """A DMatrix of every file in a channel folder: CSV (label in column 0, no header) or libsvm."""
    import numpy as np
    import xgboost

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise SystemExit(f"channel {folder.name!r} is empty")
    if "libsvm" in content_type:
        combined = folder.parent / f".{folder.name}.libsvm"
        combined.write_bytes(b"".join(path.read_bytes().rstrip(b"\n") + b"\n" for path in files))
        return xgboost.DMatrix(f"{combined}?format=libsvm")
    if "csv" not in content_type:
        raise SystemExit(f"content type {content_type!r} of channel {folder.name!r} is not supported locally "
                         "(text/csv or text/libsvm)")
    rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return xgboost.DMatrix(rows[:, 1:], label=rows[:, 0])


def booster_parameters(hyperparameters: dict[str, str]) -> dict[str, object]:
    """Hyperparameters as xgboost.train parameters (numbers converted, objective aliases resolved)."""
    params: dict[str, object] = {}
    for key, value in hyperparameters.items():
        if key in NOT_BOOSTER_PARAMETERS or key.startswith("sagemaker_"):
            continue
        if key == "eval_metric" and "," in value:  # the image accepts a comma-separated list
            params[key] = value.split(",")
            continue
        try:
            params[key] = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            params[key] = OBJECTIVE_ALIASES.get(value, value)
    params.setdefault("verbosity", 1)
    return params


def main(root: Path) -> None:
    """Train with the job's channels and hyperparameters; save the model; write the final metrics."""
    import xgboost

    hyperparameters = json.loads((root / "input/config/hyperparameters.json").read_text())
    channels = json.loads((root / "input/config/inputdataconfig.json").read_text())
    if "train" not in channels:
        raise SystemExit("the XGBoost algorithm needs a 'train' channel")
    if "num_round" not in hyperparameters:
        raise SystemExit("the XGBoost algorithm needs the 'num_round' hyperparameter")
    data = {name: load_channel(root / "input/data" / name, spec.get("ContentType") or "text/csv")
            for name, spec in channels.items() if name in ("train", "validation")}
    history: dict[str, dict[str, list[float]]] = {}
    early = hyperparameters.get("early_stopping_rounds")
    booster = xgboost.train(
        booster_parameters(hyperparameters), data["train"], num_boost_round=int(hyperparameters["num_round"]),
        evals=[(matrix, name) for name, matrix in data.items()], evals_result=history,
        early_stopping_rounds=int(early) if early and "validation" in data else None, verbose_eval=False,
    )
    rounds = max((len(v) for metrics in history.values() for v in metrics.values()), default=0)
    for index in range(rounds):  # the image's log format: [i]<TAB>train-rmse:..<TAB>validation-rmse:..
        cells = [f"{name}-{metric}:{values[index]:.5f}" for name, metrics in history.items()
                 for metric, values in metrics.items()]
        sys.stdout.write(f"[{index}]\t" + "\t".join(cells) + "\n")  # the job's log, as the image writes it
    booster.save_model(str(root / "model" / "xgboost-model"))
    final = {f"{name}:{metric}": values[-1] for name, metrics in history.items() for metric, values in metrics.items()}
    (root / "output" / "metrics.json").write_text(json.dumps(final))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
