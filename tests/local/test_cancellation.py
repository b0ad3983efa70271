"""Stopping a run: SIGINT and SIGTERM stop it cleanly, SIGKILL of modelbuild leaves no job behind, and
--resume then completes it with the same results as a run that was never interrupted.

Each test runs `modelbuild run --local` as a process, waits until its slow step's job has written its
pid (and that of a child it started), signals modelbuild, and looks at the process table.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modelbuild.errors import ExitCode
from modelbuild.local import processes
from modelbuild.local.callbacks import callbacks_dir
from modelbuild.local.isolation import ENV_VAR as ISOLATION_ENV
from modelbuild.local.isolation import NAMESPACE, PATHS, namespace_problem
from modelbuild.local.processes import Cancellation, stop_on_signals, terminate_all
from modelbuild.local.records import FAILED, REUSED, STOPPED, SUCCEEDED, get_execution, list_executions
from tests.local.conftest import (
    BUCKET,
    code_uri,
    definition,
    output_of,
    processing,
    source_tarball,
    statuses,
    step_output,
)
from tests.local.test_steps import XGBOOST_IMAGE

# Sleeps while the hold file exists (the test removes it before resuming), after starting a child of
# its own: stopping a job must stop what it started. With a fifth argument the child leaves the job's
# process group (a session of its own, as a daemon does).
SLOW = """
import os, pathlib, subprocess, sys, time
out, hold, pids = sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=len(sys.argv) > 5) if hold.exists() else None
pids.write_text(f"{os.getpid()} {child.pid if child else ''}")
while hold.exists():
    time.sleep(0.05)
pathlib.Path(out, "value.txt").write_text("1")
"""


def training(name: str, hold: Path, pids: Path) -> dict:
    """A Training step whose ContainerEntrypoint runs the slow script (the same launch path as Transform)."""
    return {"Name": name, "Type": "Training", "Arguments": {
        "AlgorithmSpecification": {
            "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/slow.py"],
            "ContainerArguments": ["unused", "/opt/ml/model", str(hold), str(pids)],
        },
        "InputDataConfig": [{"ChannelName": "code", "DataSource": {"S3DataSource": {
            "S3Uri": code_uri("slow"), "S3DataType": "S3Prefix"}}}],
        "OutputDataConfig": {"S3OutputPath": f"{BUCKET}/models"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }}


@dataclass
class Held:
    """A pipeline `Slow -> After` whose Slow step holds mid-run until the test removes `hold`.

    Each of Slow's `jobs` (Processing, Training, the tuning job's children, the Lambda handler) writes its pid
    and its own child's to a file in `pids`; a Callback step has no job: it is held by its unanswered token.
    `answers` are what a later run needs to get through Slow (a Callback's answer given up front).
    """

    definition: Path
    hold: Path
    pids: Path
    jobs: int = 1
    answers: tuple[str, ...] = ()
    before: dict[str, str] = field(default_factory=dict)  # steps ahead of Slow, and how they end
    pythonpath: tuple[str, ...] = ()  # for the runs' jobs (a Transform's hold)

    def wait_until_held(self, workspace) -> None:
        """Block until Slow is running (its jobs have started their children)."""
        if self.jobs:
            job_pids(self.pids, self.jobs)
            return
        directory = callbacks_dir(workspace.root)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(not p.name.endswith(".answer.json") for p in directory.glob("*.json")):
                return
            time.sleep(0.05)
        raise AssertionError("the Callback step never started waiting")


def joined(expression: dict) -> dict:
    """An expression as a string argument (ContainerArguments are strings)."""
    return {"Std:Join": {"On": "", "Values": [expression]}}


# A child of the tuning job: a script-mode training job that holds like SLOW, then reports its objective.
TUNE = """
import argparse, os, pathlib, subprocess, sys, time
parser = argparse.ArgumentParser()
for name in ("--alpha", "--hold", "--pids"):
    parser.add_argument(name)
args, _ = parser.parse_known_args()
hold, pids = pathlib.Path(args.hold), pathlib.Path(args.pids, args.alpha)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) if hold.exists() else None
pids.write_text(f"{os.getpid()} {child.pid if child else ''}")
while hold.exists():
    time.sleep(0.05)
print(f"loss={float(args.alpha) / 10}")
pathlib.Path(os.environ["SM_MODEL_DIR"], "alpha.txt").write_text(args.alpha)
"""

# The Lambda handler holds like SLOW (in the runner's process), then returns its output.
HANDLER = """
import os, pathlib, subprocess, sys, time

def handler(event, context):
    hold, pids = pathlib.Path(event["hold"]), pathlib.Path(event["pids"], "handler")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) if hold.exists() else None
    pids.write_text(f"{os.getpid()} {child.pid if child else ''}")
    while hold.exists():
        time.sleep(0.05)
    return {"value": event["rows"] * 2}
"""
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:slow"


def tuning_step(workspace, hold: Path, pids: Path) -> dict:
    """A Grid tuning job of three script-mode training jobs, two at once: stopping it must start no third."""
    workspace.put("s3://bucket/data/train/train.csv", "1,2\n")
    workspace.store.put_bytes("s3://bucket/code/tune.tar.gz", source_tarball(TUNE))
    return {"Name": "Slow", "Type": "Tuning", "Arguments": {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Grid", "ResourceLimits": {"MaxParallelTrainingJobs": 2},
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
            "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "alpha", "Values": ["3", "1", "2"]}]},
            "TrainingJobEarlyStoppingType": "Off"},
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
                "TrainingInputMode": "File", "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}]},
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "OutputDataConfig": {"S3OutputPath": f"{BUCKET}/tuning"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "StaticHyperParameters": {"sagemaker_program": '"train.py"',
                                      "sagemaker_submit_directory": '"s3://bucket/code/tune.tar.gz"',
                                      "hold": json.dumps(str(hold)), "pids": json.dumps(str(pids))},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"{BUCKET}/data/train"}}}],
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
    }}


def lambda_step(workspace, hold: Path, pids: Path) -> dict:
    """A Lambda step whose function (recorded as the offline build records a script's) is the slow handler."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("slow.py", HANDLER)
    workspace.store.put_bytes("s3://bucket/lambda/slow/code", archive.getvalue())
    workspace.put("s3://bucket/lambda/slow/function.json", json.dumps({
        "FunctionName": "slow", "FunctionArn": LAMBDA_ARN, "Handler": "slow.handler", "Timeout": 300,
        "CodeUri": "s3://bucket/lambda/slow/code"}))
    return {"Name": "Slow", "Type": "Lambda", "FunctionArn": LAMBDA_ARN,
            "Arguments": {"rows": 21, "hold": str(hold), "pids": str(pids)},
            "OutputParameters": [{"OutputName": "value", "OutputType": "Integer"}]}


# The Transform job runs the engine's own module (no user code to hold in), so the hold goes where Python
# itself looks when the job's interpreter starts: a sitecustomize module on the PYTHONPATH the job inherits.
# It acts in the transform job's process only (not in modelbuild, which imports it too).
TRANSFORM_HOLD = """
import os, pathlib, subprocess, sys, time
if any("xgboost_transform" in arg for arg in sys.orig_argv):
    hold, pids = pathlib.Path({hold!r}), pathlib.Path({pids!r})
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) if hold.exists() else None
    pids.write_text(f"{{os.getpid()}} {{child.pid if child else ''}}")
    while hold.exists():
        time.sleep(0.05)
"""

# Reads the transform's predictions (`*.out` files), in order, into value.txt.
PREDICTIONS = """
import pathlib, sys
found = sorted(pathlib.Path(sys.argv[1]).rglob("*.out"))
pathlib.Path(sys.argv[2], "value.txt").write_text("".join(p.read_text() for p in found))
"""


def transform_steps(workspace, hold: Path, pids: Path, tmp_path: Path) -> tuple[dict, dict, str]:
    """Model (an XGBoost model trained here) and Slow, its batch transform; and the held job's PYTHONPATH."""
    import xgboost

    rows = [(2 * a + b, a, b) for a in range(10) for b in range(5)]
    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix([r[1:] for r in rows], label=[r[0] for r in rows]), 3)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as model:
        raw = bytes(booster.save_raw("json"))
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        model.addfile(info, io.BytesIO(raw))
    workspace.store.put_bytes(f"{BUCKET}/model/model.tar.gz", archive.getvalue())
    workspace.put(f"{BUCKET}/batch/a.csv", "".join(f"{a},{b}\n" for _, a, b in rows))
    workspace.put(code_uri("predictions"), PREDICTIONS)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(TRANSFORM_HOLD.format(hold=str(hold), pids=str(pids / "transform")))
    model = {"Name": "Model", "Type": "Model", "Arguments": {"PrimaryContainer": {
        "Image": XGBOOST_IMAGE, "ModelDataUrl": f"{BUCKET}/model/model.tar.gz"}}}
    slow = {"Name": "Slow", "Type": "Transform", "Arguments": {
        "ModelName": {"Get": "Steps.Model.ModelName"},
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{BUCKET}/batch"}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": {"Std:Join": {"On": "/", "Values": [
            f"{BUCKET}/predictions", {"Get": "Execution.PipelineExecutionId"}]}}, "AssembleWith": "Line"}}}
    return model, slow, str(site)


def callback_step() -> dict:
    return {"Name": "Slow", "Type": "Callback", "Arguments": {"model": f"{BUCKET}/model.tar.gz"},
            "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
            "OutputParameters": [{"OutputName": "value", "OutputType": "String"}]}


def held_pipeline(kind: str, workspace, tmp_path: Path) -> Held:
    """Slow (a `kind` step, held) -> After (Processing, writing what it got from Slow)."""
    workspace.put(code_uri("slow"), SLOW)
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.write_text("")
    pids.mkdir()
    jobs, answers, before, pythonpath, steps = 1, (), {}, (), []
    if kind == "Processing":
        slow = processing("Slow", "slow", args=[str(hold), str(pids / "job")], CacheConfig={"Enabled": False})
        after = processing("After", "add_one", {"slow": output_of("Slow")})
    elif kind == "Training":
        slow = training("Slow", hold, pids / "job")
        after = processing("After", "write", depends_on=["Slow"])
    elif kind == "Tuning":
        slow, jobs = tuning_step(workspace, hold, pids), 2
        after = processing("After", "write", args=[joined(
            {"Get": "Steps.Slow.BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value"})])
    elif kind == "Lambda":
        slow = lambda_step(workspace, hold, pids)
        after = processing("After", "write", args=[joined({"Get": "Steps.Slow.OutputParameters['value']"})])
    elif kind == "Transform":
        model, slow, site = transform_steps(workspace, hold, pids, tmp_path)
        steps, before, pythonpath = [model], {"Model": SUCCEEDED}, (site,)
        after = processing("After", "predictions", {"predictions": {"Get": "Steps.Slow.TransformOutput.S3OutputPath"}})
    else:
        slow, jobs, answers = callback_step(), 0, ("--callback", "Slow=success:value=approved")
        after = processing("After", "write", args=[joined({"Get": "Steps.Slow.OutputParameters['value']"})])
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(definition(*steps, slow, after)))
    return Held(path, hold, pids, jobs, answers, before, pythonpath)


STEP_TYPES = ["Processing", "Training", "Tuning", "Lambda", "Callback", "Transform"]
FAST = {"Processing", "Training", "Callback"}  # the others take the same paths (job processes) again


def step_types() -> list:
    return [pytest.param(kind, marks=() if kind in FAST else pytest.mark.slow) for kind in STEP_TYPES]


@pytest.fixture(params=step_types())
def held(request, workspace, tmp_path) -> Held:
    return held_pipeline(request.param, workspace, tmp_path)


def start(workspace, definition_file: Path, *extra: str, isolation: str | None = None,
          pythonpath: tuple[str, ...] = ()) -> subprocess.Popen:
    command = [sys.executable, "-c", "from modelbuild.cli.app import main; main()", "run", "--local", "--json",
               "--definition", str(definition_file), "--state-dir", str(workspace.root), *extra]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*pythonpath, *sys.path])}
    if isolation:
        env[ISOLATION_ENV] = isolation
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def finish(process: subprocess.Popen) -> int:
    """Wait for a run; its exit code (its output shown when it is not 0)."""
    stdout, stderr = process.communicate(timeout=120)
    if process.returncode:
        print(stdout, stderr)
    return process.returncode


def job_pids(pids: Path, jobs: int = 1, timeout: float = 60) -> list[int]:
    """The pids of `jobs` jobs and of their children, once the jobs have written them to files in `pids`.

    In a PID namespace these are the namespace's numbers: the tests look for processes as
    `descendants` of modelbuild instead.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        written = [file.read_text().split() for file in pids.iterdir()]
        if len(written) == jobs and all(len(words) == 2 for words in written):
            return [int(word) for words in written for word in words]
        time.sleep(0.05)
    raise AssertionError("the jobs never started")


def descendants(pid: int) -> set[int]:
    """Every process below `pid` in the process table now (children, their children, ...)."""
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def gone(pid: int, timeout: float = 10) -> bool:
    """True when `pid` is no longer a live process (a zombie counts as gone) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def survivors(pids: set[int]) -> dict[int, str]:
    """Those of `pids` still alive (after a grace of a few seconds), with their command lines."""
    alive = {}
    for pid in sorted(pids):
        if not gone(pid):
            alive[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return alive


def stop_and_check(workspace, held: Held, signum: signal.Signals, code: ExitCode, isolation: str | None = None):
    """Run `held`, signal modelbuild while Slow holds; check the stop, nothing left running, and the resume."""
    run = start(workspace, held.definition, isolation=isolation, pythonpath=held.pythonpath)
    held.wait_until_held(workspace)
    processes = descendants(run.pid)  # the jobs, their children, the watchdog, the namespace launcher...
    assert len(processes) >= 2 * held.jobs

    run.send_signal(signum)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == code, stderr
    assert not survivors(processes), "processes outlived the stop"
    assert len(list(held.pids.iterdir())) == held.jobs, "a job started after the stop"
    [record] = list_executions(workspace.root)
    assert (record.status, record.failure_reason) == (STOPPED, f"stopped by {signum.name}")
    assert statuses(get_execution(record.id, workspace.root)) == {**held.before, "Slow": STOPPED}
    assert f"Error: execution {record.id} stopped by {signum.name}" in stderr
    assert f"Resume with: modelbuild run --local --resume {record.id}" in stderr
    assert len(stderr.strip().splitlines()) == 2, stderr  # the error and the hint, no traceback

    held.hold.unlink()
    resumed = start(workspace, held.definition, "--resume", record.id, *held.answers, isolation=isolation,
                    pythonpath=held.pythonpath)
    assert finish(resumed) == 0
    assert_same_results_as_an_uninterrupted_run(workspace, held)


def assert_same_results_as_an_uninterrupted_run(workspace, held: Held) -> None:
    resumed = get_execution(list_executions(workspace.root)[0].id, workspace.root)
    fresh = start(workspace, held.definition, "--no-cache", *held.answers, pythonpath=held.pythonpath)
    assert finish(fresh) == 0
    uninterrupted = get_execution(list_executions(workspace.root)[0].id, workspace.root)
    assert statuses(uninterrupted) == {**held.before, "Slow": SUCCEEDED, "After": SUCCEEDED}
    assert statuses(resumed) == {**dict.fromkeys(held.before, REUSED), "Slow": SUCCEEDED, "After": SUCCEEDED}
    assert step_output(workspace, resumed, "After") == step_output(workspace, uninterrupted, "After")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table in /proc")
class TestStopping:
    @pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, ExitCode.TERMINATED),
                                                  (signal.SIGINT, ExitCode.INTERRUPTED)])
    def test_a_signal_stops_the_jobs_marks_the_execution_stopped_and_resume_completes_it(
            self, workspace, held, signum, code):
        stop_and_check(workspace, held, signum, code)

    def test_sigkill_of_modelbuild_leaves_no_job_running_and_resume_completes_it(self, workspace, held):
        run = start(workspace, held.definition, pythonpath=held.pythonpath)
        held.wait_until_held(workspace)
        processes = descendants(run.pid)
        assert len(processes) >= 2 * held.jobs

        run.kill()
        run.communicate(timeout=60)

        assert not survivors(processes), "processes outlived modelbuild"
        [record] = list_executions(workspace.root)  # the dead run's lock is free: marked Failed
        assert (record.status, record.failure_reason.startswith("interrupted")) == (FAILED, True)
        held.hold.unlink()
        resumed = start(workspace, held.definition, "--resume", record.id, *held.answers, pythonpath=held.pythonpath)
        assert finish(resumed) == 0
        assert_same_results_as_an_uninterrupted_run(workspace, held)

    @pytest.mark.slow
    @pytest.mark.parametrize("isolation", [NAMESPACE, PATHS])
    def test_sigterm_leaves_nothing_behind_in_each_isolation_mode(self, workspace, tmp_path, isolation):
        if isolation == NAMESPACE and namespace_problem():
            pytest.skip(f"no private mount namespace here: {namespace_problem()}")
        held = held_pipeline("Processing", workspace, tmp_path)
        stop_and_check(workspace, held, signal.SIGTERM, ExitCode.TERMINATED, isolation)

    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
    def test_in_a_pid_namespace_even_a_process_that_left_the_jobs_group_is_stopped(self, workspace, tmp_path,
                                                                                    signum):
        """As stopping a container stops a daemon it started (in `paths` isolation such a process escapes)."""
        if namespace_problem():
            pytest.skip(f"no private mount namespace here: {namespace_problem()}")
        workspace.put(code_uri("slow"), SLOW)
        hold, pids = tmp_path / "hold", tmp_path / "pids"
        hold.write_text("")
        pids.mkdir()
        path = tmp_path / "detached.json"
        path.write_text(json.dumps(definition(processing("Slow", "slow", args=[str(hold), str(pids / "job"), "detach"],
                                                         CacheConfig={"Enabled": False}))))
        run = start(workspace, path, isolation=NAMESPACE)
        job_pids(pids)
        processes = descendants(run.pid)

        run.send_signal(signum)
        run.communicate(timeout=60)

        assert not survivors(processes), "a process that left the job's group outlived the stop"


def test_a_stopped_run_never_retries_the_interrupted_job(workspace, tmp_path):
    """A RetryPolicy for killed jobs must not relaunch a job that the stop killed (parallel scheduler)."""
    workspace.put(code_uri("slow"), SLOW)
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.write_text("")
    pids.mkdir()
    step = processing("Slow", "slow", args=[str(hold), str(pids / "job")], CacheConfig={"Enabled": False},
                      RetryPolicies=[{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "MaxAttempts": 5,
                                      "IntervalSeconds": 1, "BackoffRate": 1.0}])
    path = tmp_path / "retrying.json"
    path.write_text(json.dumps(definition(step, processing("Other", "write"))))
    run = start(workspace, path, "--max-parallel", "2")
    job_pids(pids)

    run.send_signal(signal.SIGINT)
    run.communicate(timeout=60)

    [record] = list_executions(workspace.root)
    slow = next(s for s in get_execution(record.id, workspace.root).steps if s.name == "Slow")
    assert (run.returncode, slow.status, slow.attempts) == (ExitCode.INTERRUPTED, STOPPED, 1)


def test_no_job_starts_once_the_run_is_stopping():
    """A stop that comes while a step stages its inputs (after the scheduler looked) still starts no job."""
    with stop_on_signals(Cancellation()):
        terminate_all(0)
        assert processes.run([sys.executable, "-c", "pass"]) == -signal.SIGTERM
    assert processes.run([sys.executable, "-c", "pass"]) == 0  # the next run starts jobs again
