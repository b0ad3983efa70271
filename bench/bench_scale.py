"""The local engine on a large CSV channel, against the same work done by hand, as ratios measured in one run.

    python bench/bench_scale.py [--mb 1000] [--rounds 20] [--runs 3]     (or MODELBUILD_BENCH_MB=200)

A CSV channel of about --mb megabytes (label in column 0, 20 float features, no header) is generated
into a temporary state directory's store, and a one-step pipeline (a Training step with the built-in
XGBoost image on that channel, the definition written by hand) is run with
`modelbuild run --local --definition FILE`. Targets:

1. Cold run (empty state: no cache, no remembered digests) <= 1.2x the floor: `xgboost.train` on the same
   file with the same hyperparameters in a plain python process (pandas.read_csv, DMatrix, train with
   the training set evaluated each round as the engine logs it, save the model).
2. Warm rerun (the step served from the cache) <= 2 s: the whole `modelbuild run` command.
3. Peak RSS of the engine process itself, its job processes excluded, <= 300 MB (getrusage RUSAGE_SELF
   of the `modelbuild` process; its jobs' peak is RUSAGE_CHILDREN, shown for scale).

The data repeats a few generated blocks of rows (generating a gigabyte of distinct random text would take
longer than the benchmark); parsing and training cost the same per row. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from modelbuild.local.algorithms.xgboost_train import booster_parameters
from modelbuild.local.digests import sha256_file
from modelbuild.local.store import ObjectStore

FEATURES = 20
DATA_URI = "s3://bench/data/train"
HYPERPARAMETERS = {"objective": "reg:squarederror", "max_depth": "6", "eta": "0.2"}
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# The engine's own process: `modelbuild` with its peak RSS, and its job processes', written at exit.
ENGINE = """
import atexit, json, resource, sys
report = sys.argv.pop(1)
def record():
    usage = {"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             "jobs": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}
    with open(report, "w") as out:
        json.dump(usage, out)
atexit.register(record)
from modelbuild.cli.app import main
main()
"""
BY_HAND = """
import json, sys, numpy, pandas, xgboost
path, params, rounds, model = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
frame = pandas.read_csv(path, header=None, dtype=numpy.float32)
train = xgboost.DMatrix(frame.iloc[:, 1:], label=frame[0])
del frame
booster = xgboost.train(params, train, rounds, evals=[(train, "train")], verbose_eval=False)
booster.save_model(model)
"""


def csv_block(rng: np.random.Generator, rows: int) -> bytes:
    """`rows` records: a label that depends on the features non-linearly, plus noise."""
    x = rng.random((rows, FEATURES), dtype=np.float32)
    y = 3 * x[:, 0] + x[:, 1] ** 2 + np.sin(6 * x[:, 2]) + rng.normal(0, 0.1, rows)
    text = io.BytesIO()
    np.savetxt(text, np.column_stack([y, x]), fmt="%.6g", delimiter=",")
    return text.getvalue()


def generate(path: Path, megabytes: float) -> int:
    """Write about `megabytes` MB of CSV to `path`; returns its size in bytes."""
    rng = np.random.default_rng(0)
    blocks = [csv_block(rng, 40_000) for _ in range(8)]
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as out:
        while written < megabytes * 1e6:
            block = blocks[(written // len(blocks[0])) % len(blocks)]
            out.write(block)
            written += len(block)
    return written


def definition(rounds: int) -> dict:
    """One Training step with the built-in XGBoost image on the generated channel."""
    return {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "Train", "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {**HYPERPARAMETERS, "num_round": str(rounds)},
        "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv",
                             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": DATA_URI}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://bench/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400}}}]}


def forget_everything_but_the_data(state: Path) -> None:
    """A cold start: no executions, no cache, no remembered digests, no earlier model."""
    for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
        (state / name).unlink(missing_ok=True)
    for folder in (state / "jobs", state / "logs", state / "s3" / "bench" / "models"):
        shutil.rmtree(folder, ignore_errors=True)


def run_engine(work: Path, definition_file: Path) -> tuple[float, dict]:
    """Seconds of one `modelbuild run --local --definition FILE`, and its peak RSS (KiB): self and jobs."""
    report = work / "rusage.json"
    argv = [sys.executable, "-c", ENGINE, str(report), "run", "--local", "--definition", str(definition_file)]
    env = {**os.environ, "MODELBUILD_HOME": str(work / "state")}
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"modelbuild run failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return seconds, json.loads(report.read_text())


def run_by_hand(work: Path, data: Path, rounds: int) -> tuple[float, int]:
    """Seconds of the same training in a plain python process, and its peak RSS (KiB)."""
    params = json.dumps(booster_parameters(HYPERPARAMETERS))
    argv = [sys.executable, "-c", BY_HAND, str(data), params, str(rounds), str(work / "by-hand.ubj")]
    before = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - before
    if status:
        raise RuntimeError(f"the by-hand training failed ({status})")
    return seconds, usage.ru_maxrss


def publication_seconds(work: Path, data: Path) -> tuple[float, float]:
    """Seconds to publish a job output of the channel's size into the store as the engine does (a hard link
    on one filesystem), and as it did before (a copy), both renamed into place."""
    output = work / "state" / "jobs" / "bench" / "output.csv"
    output.parent.mkdir(parents=True)
    shutil.copyfile(data, output)
    store = ObjectStore(work / "state" / "s3")
    start = time.perf_counter()
    store.upload_file(output, "s3://bench/published/linked.csv")
    linked = time.perf_counter() - start
    start = time.perf_counter()
    temp = store.path("s3://bench/published/.copied.csv.tmp")
    shutil.copyfile(output, temp)
    os.replace(temp, store.path("s3://bench/published/copied.csv"))
    return linked, time.perf_counter() - start


def megabytes(kib: int) -> float:
    """ru_maxrss in MB (KiB on Linux, bytes on macOS)."""
    return kib / 1024 / (1024 if sys.platform == "darwin" else 1)


def line(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "OVER TARGET")
    print(f"{name:<62} {value:>22} {target} {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=float(os.environ.get("MODELBUILD_BENCH_MB", 1000)))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("MODELBUILD_BENCH_TMP")) as temp:
        work = Path(temp)
        data = work / "state" / "s3" / "bench" / "data" / "train" / "train.csv"
        size = generate(data, options.mb)
        definition_file = work / "scale.json"
        definition_file.write_text(json.dumps(definition(options.rounds)))
        print(f"channel: {size / 1e6:.0f} MB of CSV, {FEATURES} features; {options.rounds} rounds; "
              f"{options.runs} interleaved runs each")
        cold, floor, engine_rss, jobs_rss, hand_rss = [], [], [], [], []
        for _ in range(options.runs):
            forget_everything_but_the_data(work / "state")
            seconds, usage = run_engine(work, definition_file)
            cold.append(seconds)
            engine_rss.append(usage["self"])
            jobs_rss.append(usage["jobs"])
            seconds, peak = run_by_hand(work, data, options.rounds)
            floor.append(seconds)
            hand_rss.append(peak)
        warm = [run_engine(work, definition_file) for _ in range(max(3, options.runs))]
        start = time.perf_counter()
        sha256_file(data)
        hashing = time.perf_counter() - start
        linked, copied = publication_seconds(work, data)
    ratio = statistics.median(cold) / statistics.median(floor)
    warm_seconds = statistics.median(seconds for seconds, _ in warm)
    peak = megabytes(max([*engine_rss, *(usage["self"] for _, usage in warm)]))
    line("cold run --local vs xgboost.train by hand", f"{statistics.median(cold):.1f}s vs "
         f"{statistics.median(floor):.1f}s = {ratio:.2f}x", "(target <= 1.20x)", ratio <= 1.2)
    line("warm rerun --local (step cached): engine overhead", f"{warm_seconds:.2f}s", "(target <= 2.00s)",
         warm_seconds <= 2.0)
    line("peak RSS of the engine process (its jobs excluded)", f"{peak:.0f} MB", "(target <= 300 MB)", peak <= 300)
    line("for scale, no target: peak RSS of the training job", f"{megabytes(max(jobs_rss)):.0f} MB")
    line("for scale, no target: peak RSS of the by-hand training", f"{megabytes(max(hand_rss)):.0f} MB")
    line("for scale, no target: sha256 of the channel (the memo skips it)", f"{hashing:.2f}s")
    line("for scale, no target: publishing a channel-sized job output",
         f"{linked * 1000:.1f} ms vs {copied:.2f}s copied")
    print(f"load average during the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0 if ratio <= 1.2 and warm_seconds <= 2.0 and peak <= 300 else 1


if __name__ == "__main__":
    sys.exit(main())
