"""Stopping a run: SIGINT and SIGTERM stop it cleanly, SIGKILL of modelbuild leaves no job behind, and
--resume then completes it with the same results as a run that was never interrupted.

Each test runs `modelbuild run --local` as a process, waits until its slow step's job has written its
pid (and that of a child it started), signals modelbuild, and looks at the process table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelbuild.errors import ExitCode
from modelbuild.local.records import FAILED, STOPPED, SUCCEEDED, get_execution, list_executions
from tests.local.conftest import BUCKET, code_uri, definition, output_of, processing, statuses, step_output

# Sleeps while the hold file exists (the test removes it before resuming), after starting a child of
# its own: stopping a job must stop what it started.
SLOW = """
import os, pathlib, subprocess, sys, time
out, hold, pids = sys.argv[2], pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) if hold.exists() else None
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


@pytest.fixture(params=["Processing", "Training"])
def slow_pipeline(request, workspace, tmp_path):
    """Slow (the given step type, held) -> After (Processing); returns (definition file, hold, pids)."""
    workspace.put(code_uri("slow"), SLOW)
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.write_text("")
    if request.param == "Processing":
        slow = processing("Slow", "slow", args=[str(hold), str(pids)], CacheConfig={"Enabled": False})
        after = processing("After", "add_one", {"slow": output_of("Slow")})
    else:
        slow = training("Slow", hold, pids)
        after = processing("After", "write", depends_on=["Slow"])
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(definition(slow, after)))
    return path, hold, pids


def start(workspace, definition_file: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-c", "from modelbuild.cli.app import main; main()", "run", "--local", "--json",
               "--definition", str(definition_file), "--state-dir", str(workspace.root), *extra]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def finish(process: subprocess.Popen) -> int:
    """Wait for a run; its exit code (its output shown when it is not 0)."""
    stdout, stderr = process.communicate(timeout=120)
    if process.returncode:
        print(stdout, stderr)
    return process.returncode


def job_pids(pids: Path, timeout: float = 60) -> list[int]:
    """The job's pid and its child's, once the job has written them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        words = pids.read_text().split() if pids.exists() else []
        if len(words) == 2:
            return [int(word) for word in words]
        time.sleep(0.05)
    raise AssertionError("the job never started")


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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process table in /proc")
class TestStopping:
    @pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, ExitCode.TERMINATED),
                                                  (signal.SIGINT, ExitCode.INTERRUPTED)])
    def test_a_signal_stops_the_jobs_marks_the_execution_stopped_and_resume_completes_it(
            self, workspace, slow_pipeline, signum, code):
        definition_file, hold, pids = slow_pipeline
        run = start(workspace, definition_file)
        job, child = job_pids(pids)

        run.send_signal(signum)
        _, stderr = run.communicate(timeout=60)

        assert run.returncode == code, stderr
        assert gone(job) and gone(child), "a job process outlived the stop"
        [record] = list_executions(workspace.root)
        assert (record.status, record.failure_reason) == (STOPPED, f"stopped by {signum.name}")
        assert statuses(get_execution(record.id, workspace.root)) == {"Slow": STOPPED}
        assert f"Error: execution {record.id} stopped by {signum.name}" in stderr
        assert f"Resume with: modelbuild run --local --resume {record.id}" in stderr
        assert len(stderr.strip().splitlines()) == 2, stderr  # the error and the hint, no traceback

        hold.unlink()
        resumed = start(workspace, definition_file, "--resume", record.id)
        assert finish(resumed) == 0
        self.assert_same_results_as_an_uninterrupted_run(workspace, definition_file)

    def test_sigkill_of_modelbuild_leaves_no_job_running_and_resume_completes_it(self, workspace, slow_pipeline):
        definition_file, hold, pids = slow_pipeline
        run = start(workspace, definition_file)
        job, child = job_pids(pids)

        run.kill()
        run.communicate(timeout=60)

        assert gone(job), "the job outlived modelbuild"
        assert gone(child), "a process the job started outlived modelbuild"
        [record] = list_executions(workspace.root)  # the dead run's lock is free: marked Failed
        assert (record.status, record.failure_reason.startswith("interrupted")) == (FAILED, True)
        hold.unlink()
        resumed = start(workspace, definition_file, "--resume", record.id)
        assert finish(resumed) == 0
        self.assert_same_results_as_an_uninterrupted_run(workspace, definition_file)

    @staticmethod
    def assert_same_results_as_an_uninterrupted_run(workspace, definition_file: Path) -> None:
        resumed = get_execution(list_executions(workspace.root)[0].id, workspace.root)
        fresh = start(workspace, definition_file, "--no-cache")
        assert finish(fresh) == 0
        uninterrupted = get_execution(list_executions(workspace.root)[0].id, workspace.root)
        assert statuses(resumed) == statuses(uninterrupted) == {"Slow": SUCCEEDED, "After": SUCCEEDED}
        assert step_output(workspace, resumed, "After") == step_output(workspace, uninterrupted, "After")


def test_a_stopped_run_never_retries_the_interrupted_job(workspace, tmp_path):
    """A RetryPolicy for killed jobs must not relaunch a job that the stop killed (parallel scheduler)."""
    workspace.put(code_uri("slow"), SLOW)
    hold, pids = tmp_path / "hold", tmp_path / "pids"
    hold.write_text("")
    step = processing("Slow", "slow", args=[str(hold), str(pids)], CacheConfig={"Enabled": False},
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
