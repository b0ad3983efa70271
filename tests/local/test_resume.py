"""A failing step's log and reason, resuming after it, selective runs, killed runs and concurrent runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modelbuild.errors import UsageError
from modelbuild.local.engine import ExecutionBusyError
from modelbuild.local.locks import ExecutionLock
from modelbuild.local.records import FAILED, REUSED, SUCCEEDED, ExecutionLog, get_execution, list_executions
from modelbuild.local.registry import list_model_packages
from tests.local.conftest import code_uri, definition, output_of, processing, statuses, step_output


@pytest.fixture
def broken_middle_step() -> dict:
    """First -> Middle (runs the `crash` script until it is fixed) -> Last."""
    return definition(
        processing("First", "write"),
        processing("Middle", "flaky_script", {"first": output_of("First")}),
        processing("Last", "add_one", {"middle": output_of("Middle")}),
    )


@pytest.fixture
def broken(workspace):
    workspace.put(code_uri("flaky_script"), workspace.read(code_uri("crash")))
    return workspace


def fix_script(workspace) -> None:
    workspace.put(code_uri("flaky_script"), workspace.read(code_uri("add_one")))


def test_a_failing_step_records_its_exit_code_log_and_reason(broken, broken_middle_step):
    record = broken.run(broken_middle_step)

    middle = next(step for step in record.steps if step.name == "Middle")
    assert record.status == FAILED
    assert "exit code 3" in middle.failure_reason and "something went wrong" in middle.failure_reason
    assert "something went wrong" in Path(middle.log_path).read_text()
    assert statuses(record) == {"First": SUCCEEDED, "Middle": FAILED}


def test_resume_reruns_only_what_did_not_succeed(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)
    fix_script(broken)

    resumed = broken.run(broken_middle_step, resume=failed.id, cache_by_default=False)

    assert statuses(resumed) == {"First": REUSED, "Middle": SUCCEEDED, "Last": SUCCEEDED}
    assert resumed.source_execution == failed.id
    assert step_output(broken, resumed, "Last") == "3"


def test_resume_keeps_the_resumed_executions_parameters(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)

    with pytest.raises(UsageError, match="parameters of the resumed execution"):
        broken.run(broken_middle_step, {"X": "1"}, resume=failed.id)


def test_resume_of_another_pipeline_is_refused(broken, broken_middle_step):
    failed = broken.run(broken_middle_step, name="One")

    with pytest.raises(UsageError, match="ran pipeline 'One'"):
        broken.run(broken_middle_step, resume=failed.id, name="Other")


def test_selected_steps_reuse_the_outputs_of_the_steps_they_need(workspace):
    pipeline = definition(
        processing("First", "write"),
        processing("Second", "add_one", {"first": output_of("First")}),
        processing("Unrelated", "write"),
    )
    workspace.run(pipeline)

    selected = workspace.run(pipeline, steps=["Second"], cache_by_default=False)

    assert statuses(selected) == {"First": REUSED, "Second": SUCCEEDED}


def test_selected_steps_need_a_run_where_their_inputs_succeeded(broken, broken_middle_step):
    broken.run(broken_middle_step)

    with pytest.raises(UsageError, match="Middle"):
        broken.run(broken_middle_step, steps=["Last"])


def test_an_execution_whose_process_died_is_marked_failed_on_the_next_start(workspace):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state = workspace.state()
    log = ExecutionLog(state)
    log.start("killed", "Synthetic", {}, "{}")
    with state.transaction() as db:
        db.execute("UPDATE executions SET pid=?, host=? WHERE id=?", (int(dead.stdout), socket.gethostname(), "killed"))
    state.close()

    workspace.run(definition(processing("Write", "write")))

    record = get_execution("killed", workspace.root)
    assert (record.status, record.failure_reason.startswith("interrupted")) == (FAILED, True)


def test_a_running_execution_whose_lock_is_held_is_left_alone(workspace):
    state = workspace.state()
    lock = ExecutionLock(state.root, "running")
    assert lock.acquire()
    ExecutionLog(state).start("running", "Synthetic", {}, "{}")
    state.close()

    workspace.run(definition(processing("Write", "write")))

    assert get_execution("running", workspace.root).status == "Executing"
    lock.release()


def test_liveness_is_the_lock_not_the_pid(workspace):
    """A row naming this very (live) process, with no lock held, was left by a dead run: pids are reused."""
    state = workspace.state()
    ExecutionLog(state).start("stale", "Synthetic", {}, "{}")  # pid = this process, alive
    state.close()

    workspace.run(definition(processing("Write", "write")))

    assert get_execution("stale", workspace.root).status == FAILED


def test_resume_refuses_an_execution_that_another_process_runs(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)
    other_process = ExecutionLock(broken.root, failed.id)
    assert other_process.acquire()

    with pytest.raises(ExecutionBusyError, match=f"execution {failed.id} is running"):
        broken.run(broken_middle_step, resume=failed.id)
    other_process.release()


def test_resume_reruns_a_step_whose_definition_changed_and_says_why(broken, broken_middle_step, caplog):
    failed = broken.run(broken_middle_step)
    fix_script(broken)
    changed = json.loads(json.dumps(broken_middle_step))
    changed["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"].append("5")

    resumed = broken.run(changed, resume=failed.id, cache_by_default=False)

    assert statuses(resumed) == {"First": SUCCEEDED, "Middle": SUCCEEDED, "Last": SUCCEEDED}
    assert step_output(broken, resumed, "Last") == "7"
    assert "step 'First' runs again" in caplog.text and "resolved arguments differ" in caplog.text


def test_resume_reruns_a_step_whose_input_content_changed(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)
    fix_script(broken)
    broken.put(code_uri("write"), broken.read(code_uri("write")).replace('"1"', '"10"'))

    resumed = broken.run(broken_middle_step, resume=failed.id, cache_by_default=False)

    assert statuses(resumed)["First"] == SUCCEEDED
    assert step_output(broken, resumed, "Last") == "12"


def test_selected_steps_rerun_a_needed_step_whose_arguments_changed(workspace):
    pipeline = definition(processing("First", "write"), processing("Second", "add_one", {"first": output_of("First")}))
    workspace.run(pipeline)
    pipeline["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"].append("5")

    selected = workspace.run(pipeline, steps=["Second"], cache_by_default=False)

    assert statuses(selected) == {"First": SUCCEEDED, "Second": SUCCEEDED}
    assert step_output(workspace, selected, "Second") == "6"


def test_resume_reuses_a_step_recorded_without_a_digest_only_by_running_it_again(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)
    fix_script(broken)
    state = broken.state()
    with state.transaction() as db:  # as an older modelbuild recorded it
        db.execute("UPDATE steps SET arguments_digest=NULL WHERE execution_id=?", (failed.id,))
    state.close()

    resumed = broken.run(broken_middle_step, resume=failed.id, cache_by_default=False)

    assert statuses(resumed)["First"] == SUCCEEDED


REGISTERING = definition(
    processing("Work", "busy", args=["1.0"], CacheConfig={"Enabled": False}),
    {"Name": "Register", "Type": "RegisterModel", "DependsOn": ["Work"],
     "Arguments": {"ModelPackageGroupName": "Shared", "InferenceSpecification": {"Containers": []}}},
)


def test_two_runs_at_once_share_one_state_dir(workspace, tmp_path):
    definition_file = tmp_path / "registering.json"
    definition_file.write_text(json.dumps(REGISTERING))
    command = [sys.executable, "-c", "from modelbuild.cli.app import main; main()", "run", "--local", "--json",
               "--definition", str(definition_file), "--state-dir", str(workspace.root)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    first, second = list_executions(workspace.root)
    assert (first.status, second.status) == (SUCCEEDED, SUCCEEDED)
    assert max(first.started, second.started) < min(first.ended, second.ended), "the runs did not overlap"
    assert sorted(package.version for package in list_model_packages(workspace.root, "Shared")) == [1, 2]


def test_reused_steps_name_the_execution_they_come_from(broken, broken_middle_step):
    failed = broken.run(broken_middle_step)
    fix_script(broken)

    resumed = broken.run(broken_middle_step, resume=failed.id)

    assert next(s.cached_from for s in resumed.steps if s.name == "First") == failed.id


def test_malformed_step_arguments_fail_the_step_with_the_cause_in_its_log(workspace):
    step = processing("Odd", "write")
    del step["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"]

    record = workspace.run(definition(step))

    assert record.steps[0].failure_reason.startswith("KeyError: 'LocalPath'")
    assert "Traceback" in Path(record.steps[0].log_path).read_text()


def test_a_killed_run_publishes_no_output_and_is_marked_failed_on_the_next_start(workspace, tmp_path):
    definition_file = tmp_path / "slow.json"
    definition_file.write_text(json.dumps(definition(processing("Slow", "write_then_wait", args=["2"]))))
    workspace.put(code_uri("write_then_wait"), "import pathlib, sys, time\n"
                  "pathlib.Path(sys.argv[2], 'value.txt').write_text('1')\ntime.sleep(float(sys.argv[3]))\n")
    command = [sys.executable, "-c", "from modelbuild.cli.app import main; main()", "run", "--local", "--json",
               "--definition", str(definition_file), "--state-dir", str(workspace.root)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True) as run:
        for line in run.stdout:
            event = json.loads(line)
            if event["step"] == "Slow" and event["status"] == "Executing":
                break
        run.kill()

    [record] = list_executions(workspace.root)

    assert (record.status, record.failure_reason.startswith("interrupted")) == (FAILED, True)
    assert get_execution(record.id, workspace.root).steps[0].status == FAILED
    assert not workspace.store.exists(f"s3://bucket/runs/{record.id}")
