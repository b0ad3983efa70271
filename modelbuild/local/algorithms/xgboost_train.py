"""The built-in XGBoost algorithm's training, emulated with the xgboost package.

Run as `python -m modelbuild.local.algorithms.xgboost_train <container /opt/ml dir> [IMAGE_URI]`. Reads the
channels (CSV: label in column 0, no header; or libsvm) and hyperparameters as the algorithm image does,
logs the evaluation metrics per round as the image does, and saves `xgboost-model` in the model directory
in the format of the image version (see `model_format`): users' evaluate scripts load it the way that
version's model needs (the AWS seed's evaluate does `pickle.load` on a 1.0-1 model).

Channels of any size, in bounded memory: each channel is parsed once, block by block (see `blocks`),
into a float32 spill in the job directory, and xgboost builds its matrix from the spill through a
`DataIter`. With the hist tree method (the default) that matrix is a QuantileDMatrix, which keeps only
the binned values (about one byte per value) and walks its input four times, hence the spill: the text
is parsed once and the spill read back cheaply. Other tree methods and gblinear need the raw values and
get a plain DMatrix from the same iterator.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild.local.algorithms.blocks import csv_blocks, libsvm_blocks

OBJECTIVE_ALIASES = {"reg:linear": "reg:squarederror"}  # names the algorithm image still accepts
NOT_BOOSTER_PARAMETERS = {"num_round", "early_stopping_rounds", "csv_weights", "_tuning_objective_metric",
                          "save_model_on_termination", "_kfold", "_num_cv_round", "silent"}
EVALUATED_CHANNELS = ("train", "validation")
PICKLE, SAVE_MODEL = "pickle", "save_model"
LAST_PICKLING_VERSION = (1, 2)  # images 0.90-1 through 1.2-2 pickled the Booster; 1.3-1 on call save_model


def model_format(image: str) -> str:
    """How the algorithm image of `image` (a URI whose tag starts with the version) saves xgboost-model.

    An image without a readable version tag gets today's format (save_model).
    """
    tag = image.rpartition("/")[2].partition(":")[2]
    release = tag.partition("-")[0].split(".")
    try:
        version = tuple(int(part) for part in release[:2])
    except ValueError:
        return SAVE_MODEL
    return PICKLE if len(version) == 2 and version <= LAST_PICKLING_VERSION else SAVE_MODEL


def save_booster(booster: Any, path: Path, fmt: str) -> None:
    """Write the model as the image version would: pickled Booster, or Booster.save_model."""
    if fmt == PICKLE:
        import pickle

        with path.open("wb") as stream:
            pickle.dump(booster, stream)
    else:
        booster.save_model(str(path))


class Spill:
    """A channel parsed once into float32 arrays on disk, read back as often as xgboost asks."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.blocks: list[dict[str, Path]] = []
        self.columns = 0  # features (CSV: every block has them; libsvm: the widest block's)

    def add_csv(self, block: Any, source: Path) -> None:
        """A CSV block: label in column 0, features after it."""
        import numpy as np

        if self.blocks and block.shape[1] - 1 != self.columns:
            raise SystemExit(f"{source.name} has {block.shape[1]} columns, the channel's other records "
                             f"{self.columns + 1}: every record needs the label and the same features")
        self.columns = block.shape[1] - 1
        self._save(data=np.ascontiguousarray(block[:, 1:]), label=np.ascontiguousarray(block[:, 0]))

    def add_libsvm(self, features: Any, labels: Any) -> None:
        """A libsvm block: a CSR matrix (any width up to the channel's) and its labels."""
        self.columns = max(self.columns, features.shape[1])
        self._save(values=features.data, indices=features.indices, indptr=features.indptr, label=labels)

    def batch(self, index: int) -> dict[str, Any]:
        """Block `index` as keyword arguments of xgboost's DataIter input callback (memory-mapped)."""
        import numpy as np

        arrays = {name: np.load(path, mmap_mode="r") for name, path in self.blocks[index].items()}
        if "data" in arrays:
            return arrays
        from scipy.sparse import csr_matrix

        rows = len(arrays["indptr"]) - 1
        features = csr_matrix((arrays["values"], arrays["indices"], arrays["indptr"]), shape=(rows, self.columns))
        return {"data": features, "label": arrays["label"]}

    def _save(self, **arrays: Any) -> None:
        import numpy as np

        paths = {name: self.folder / f"{len(self.blocks):06d}-{name}.npy" for name in arrays}
        for name, array in arrays.items():
            np.save(paths[name], array)
        self.blocks.append(paths)


def spill_channel(folder: Path, content_type: str, scratch: Path) -> Spill:
    """Every file of a channel folder parsed into a Spill below `scratch`."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise SystemExit(f"channel {folder.name!r} is empty")
    spill = Spill(scratch / folder.name)
    for path in files:
        if "libsvm" in content_type:
            for features, labels in libsvm_blocks(path):
                spill.add_libsvm(features, labels)
        elif "csv" in content_type:
            for block in csv_blocks(path):
                spill.add_csv(block, path)
        else:
            raise SystemExit(f"content type {content_type!r} of channel {folder.name!r} is not supported locally "
                             "(text/csv or text/libsvm)")
    if not spill.blocks:
        raise SystemExit(f"channel {folder.name!r} has no records")
    return spill


def spill_iterator(spill: Spill) -> Any:
    """An xgboost DataIter over the spill's blocks."""
    import xgboost

    class SpillIterator(xgboost.DataIter):
        def __init__(self) -> None:
            super().__init__(release_data=True)
            self.position = 0

        def next(self, input_data: Any) -> bool:
            if self.position == len(spill.blocks):
                return False
            input_data(**spill.batch(self.position))
            self.position += 1
            return True

        def reset(self) -> None:
            self.position = 0

    return SpillIterator()


def uses_binned_data(params: Mapping[str, Any]) -> bool:
    """True when training needs only binned values (the hist tree method), so a QuantileDMatrix serves."""
    return params.get("booster") != "gblinear" and params.get("tree_method", "hist") in ("auto", "hist", "gpu_hist")


def load_channel(folder: Path, content_type: str, scratch: Path, params: Mapping[str, Any], reference: Any = None):
    """A channel folder as an xgboost matrix; `reference`: the training matrix, whose bins it shares."""
    import xgboost

    iterator = spill_iterator(spill_channel(folder, content_type, scratch))
    if not uses_binned_data(params):
        return xgboost.DMatrix(iterator)
    max_bin = {"max_bin": int(params["max_bin"])} if "max_bin" in params else {}
    return xgboost.QuantileDMatrix(iterator, ref=reference, **max_bin)


def load_channels(root: Path, channels: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The train and validation channels as xgboost matrices, in the job's channel order."""
    names = [name for name in channels if name in EVALUATED_CHANNELS]
    matrices: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=".spill-", dir=root) as scratch:  # gone before training starts
        for name in sorted(names, key=lambda n: n != "train"):  # train first: validation is binned by its cuts
            content_type = channels[name].get("ContentType") or "text/csv"
            matrices[name] = load_channel(root / "input/data" / name, content_type, Path(scratch), params,
                                          matrices.get("train"))
    return {name: matrices[name] for name in names}


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
    tuned = hyperparameters.get("_tuning_objective_metric", "").partition(":")[2]
    if tuned:  # as the image: the tuning job's objective is evaluated, whatever eval_metric says
        metrics = params.get("eval_metric") or []
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        params["eval_metric"] = metrics + [tuned] if tuned not in metrics else metrics
    params.setdefault("verbosity", 1)
    return params


def main(root: Path, image: str = "") -> None:
    """Train with the job's channels and hyperparameters; save the model; write the final metrics."""
    import xgboost

    hyperparameters = json.loads((root / "input/config/hyperparameters.json").read_text())
    channels = json.loads((root / "input/config/inputdataconfig.json").read_text())
    if "train" not in channels:
        raise SystemExit("the XGBoost algorithm needs a 'train' channel")
    if "num_round" not in hyperparameters:
        raise SystemExit("the XGBoost algorithm needs the 'num_round' hyperparameter")
    params = booster_parameters(hyperparameters)
    data = load_channels(root, channels, params)
    history: dict[str, dict[str, list[float]]] = {}
    early = hyperparameters.get("early_stopping_rounds")
    booster = xgboost.train(
        params, data["train"], num_boost_round=int(hyperparameters["num_round"]),
        evals=[(matrix, name) for name, matrix in data.items()], evals_result=history,
        early_stopping_rounds=int(early) if early and "validation" in data else None, verbose_eval=False,
    )
    rounds = max((len(v) for metrics in history.values() for v in metrics.values()), default=0)
    for index in range(rounds):  # the image's log format: [i]<TAB>train-rmse:..<TAB>validation-rmse:..
        cells = [f"{name}-{metric}:{values[index]:.5f}" for name, metrics in history.items()
                 for metric, values in metrics.items()]
        sys.stdout.write(f"[{index}]\t" + "\t".join(cells) + "\n")  # the job's log, as the image writes it
    save_booster(booster, root / "model" / "xgboost-model", model_format(image))
    final = {f"{name}:{metric}": values[-1] for name, metrics in history.items() for metric, values in metrics.items()}
    (root / "output" / "metrics.json").write_text(json.dumps(final))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
