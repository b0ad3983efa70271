"""Isolation modes: in `namespace` a job sees its own directory at /opt/ml (for every program); in `paths`
container paths in its command, arguments and environment are mapped; the mode is chosen, forced and logged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modelbuild.local import isolation
from modelbuild.local.isolation import IsolationUnavailableError
from modelbuild.local.steps import UnsupportedStepError

from .conftest import definition, processing, statuses, step_output

needs_namespace = pytest.mark.skipif(isolation.namespace_problem() is not None,
                                     reason=f"no mount namespace here: {isolation.namespace_problem()}")

HARD_CODED = """
import os, pathlib
base = "/opt/ml/processing"
rows = pathlib.Path(f"{base}/input/data/raw/rows.csv").read_text().splitlines()
pathlib.Path(f"{base}/output/value.txt").write_text(str(len(rows)))
pathlib.Path(f"{base}/output/opt.json").write_text(__import__("json").dumps(sorted(os.listdir("/opt"))))
"""


@pytest.fixture
def namespace_mode(monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "namespace")


@needs_namespace
def test_a_script_with_hard_coded_container_paths_runs_unchanged(workspace, namespace_mode):
    workspace.put("s3://bucket/code/hard_coded.py", HARD_CODED)
    workspace.put("s3://bucket/data/rows.csv", "1\n2\n3\n")

    record = workspace.run(definition(processing("HardCoded", "hard_coded", {"raw": "s3://bucket/data/"})))

    assert record.status == "Succeeded", record.failure_reason
    assert step_output(workspace, record, "HardCoded") == "3"
    # The rest of the host's /opt is still there for the job, and the host's /opt did not change.
    seen = json.loads(step_output(workspace, record, "HardCoded", "opt.json"))
    assert seen == sorted({*os.listdir("/opt"), "ml"})
    assert not Path("/opt/ml").exists() or "ml" in os.listdir("/opt")


@needs_namespace
def test_bash_and_every_other_program_see_the_job_directory(workspace, namespace_mode):
    step = processing("Bash", "write")
    step["Arguments"]["AppSpecification"] = {
        "ImageUri": "img", "ContainerEntrypoint": ["/bin/bash", "-c"],
        "ContainerArguments": ["cd /opt/ml/processing/input/code && ls > /opt/ml/processing/output/value.txt"]}

    record = workspace.run(definition(step))

    assert step_output(workspace, record, "Bash") == "write.py\n"


@needs_namespace
def test_parallel_jobs_each_see_their_own_opt_ml(workspace, namespace_mode):
    workspace.put("s3://bucket/code/who.py", """
import pathlib, sys, time
mine = pathlib.Path("/opt/ml/who")
mine.write_text(sys.argv[3])
time.sleep(0.5)  # both jobs are running now
listing = sorted(p.name for p in pathlib.Path("/opt/ml/processing/input/code").iterdir())
pathlib.Path("/opt/ml/processing/output/value.txt").write_text(mine.read_text() + " " + ",".join(listing))
""")
    steps = [processing(name, "who", args=[name]) for name in ("Left", "Right")]

    record = workspace.run(definition(*steps), max_parallel=2)

    assert statuses(record) == {"Left": "Succeeded", "Right": "Succeeded"}
    assert step_output(workspace, record, "Left") == "Left who.py"
    assert step_output(workspace, record, "Right") == "Right who.py"
    started = sorted(step.started for step in record.steps)
    ended = sorted(step.ended for step in record.steps)
    assert started[1] < ended[0], "the two jobs did not overlap, so the test proved nothing"


@needs_namespace
def test_the_log_says_which_mode_ran(workspace, namespace_mode):
    record = workspace.run(definition(processing("Write", "write")))

    assert "isolation: namespace" in Path(record.steps[0].log_path).read_text()


def test_the_paths_mode_log_says_what_it_cannot_cover(workspace, monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")

    record = workspace.run(definition(processing("Write", "write")))

    log = Path(record.steps[0].log_path).read_text()
    assert "isolation: paths" in log and "paths written in a program's source" in log
    assert step_output(workspace, record, "Write") == "1"


def test_auto_falls_back_to_paths_where_namespaces_are_unavailable(workspace, monkeypatch):
    monkeypatch.setattr(isolation, "namespace_problem", lambda: "user namespaces are disabled")
    workspace.put("s3://bucket/code/hard_coded.py", HARD_CODED)

    record = workspace.run(definition(processing("HardCoded", "hard_coded")))

    assert "user namespaces are disabled" in Path(record.steps[0].log_path).read_text()
    assert "cannot map without a private mount namespace" in record.failure_reason


def test_forcing_namespace_where_there_is_none_fails_before_any_step(workspace, monkeypatch, namespace_mode):
    monkeypatch.setattr(isolation, "namespace_problem", lambda: "user namespaces are disabled")

    with pytest.raises(IsolationUnavailableError, match="user namespaces are disabled"):
        workspace.run(definition(processing("Write", "write")))
    assert not (workspace.root / "jobs").exists()


def test_an_unknown_mode_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "docker")

    with pytest.raises(IsolationUnavailableError, match="auto, namespace, paths"):
        isolation.choose()


def test_the_sdks_shell_drivers_are_refused_before_the_run_without_a_namespace(workspace, monkeypatch):
    monkeypatch.setenv("MODELBUILD_ISOLATION", "paths")
    step = processing("FrameworkProcessor", "write")
    step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = [
        "/bin/bash", "/opt/ml/processing/input/entrypoint/runproc.sh"]

    with pytest.raises(UnsupportedStepError, match="runs /opt/ml/processing/input/entrypoint/runproc.sh with bash"):
        workspace.run(definition(step))
    assert not (workspace.root / "jobs").exists()


def test_a_program_of_the_image_is_refused_before_the_run(workspace):
    step = processing("ImageProgram", "write")
    step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = ["/usr/local/bin/serve-the-model"]

    with pytest.raises(UnsupportedStepError, match="a program inside the image"):
        workspace.run(definition(step))
