"""The engine runs steps in dependency order, passes data along and follows condition branches,
one step at a time or in parallel alike."""

from __future__ import annotations

import pytest

from modelbuild.local.records import FAILED, SKIPPED, SUCCEEDED
from tests.local.conftest import condition, definition, fail, output_of, parameter, processing, statuses, step_output


@pytest.fixture
def linear_three_steps() -> dict:
    return definition(
        processing("First", "write"),
        processing("Second", "add_one", {"previous": output_of("First")}),
        processing("Third", "add_one", {"previous": output_of("Second")}),
    )


@pytest.fixture
def fan_out_fan_in() -> dict:
    return definition(
        processing("Source", "write"),
        processing("Left", "add_one", {"source": output_of("Source")}),
        processing("Right", "add_one", {"source": output_of("Source")}),
        processing("Join", "add_one", {"left": output_of("Left"), "right": output_of("Right")}),
    )


@pytest.fixture
def condition_with_fail_branch() -> dict:
    mse = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"},
                           "Path": "metrics.mse.value"}}
    return definition(
        processing("Evaluate", "report", args=[{"Get": "Parameters.Mse"}],
                   PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "out", "FilePath": "report.json"}]),
        condition(
            "CheckMse",
            [{"Type": "LessThanOrEqualTo", "LeftValue": mse, "RightValue": {"Get": "Parameters.Threshold"}}],
            if_steps=[processing("Deploy", "write")],
            else_steps=[fail("TooHigh", {"Std:Join": {"On": " ", "Values": ["mse", mse, "is above",
                                                                              {"Get": "Parameters.Threshold"}]}})],
        ),
        parameters=[parameter("Mse", "Float", 1.5), parameter("Threshold", "Float", 2.0)],
    )


@pytest.fixture(params=[1, 4], ids=["sequential", "parallel"])
def max_parallel(request) -> int:
    return request.param


class TestRunsInDependencyOrder:
    def test_linear_three_steps_pass_data_along(self, workspace, linear_three_steps, max_parallel):
        record = workspace.run(linear_three_steps, max_parallel=max_parallel)

        assert record.status == SUCCEEDED, record.failure_reason
        assert step_output(workspace, record, "Third") == "3"

    def test_fan_out_fan_in_joins_both_branches(self, workspace, fan_out_fan_in, max_parallel):
        record = workspace.run(fan_out_fan_in, max_parallel=max_parallel)

        assert record.status == SUCCEEDED, record.failure_reason
        assert step_output(workspace, record, "Join") == "5"

    def test_fan_in_starts_after_both_branches_ended(self, workspace, fan_out_fan_in, max_parallel):
        record = workspace.run(fan_out_fan_in, max_parallel=max_parallel)

        steps = {step.name: step for step in record.steps}
        assert steps["Join"].started >= max(steps["Left"].ended, steps["Right"].ended)

    def test_depends_on_orders_steps_without_data(self, workspace, max_parallel):
        pipeline = definition(processing("Later", "write", depends_on=["Earlier"]), processing("Earlier", "write"))

        record = workspace.run(pipeline, max_parallel=max_parallel)

        steps = {step.name: step for step in record.steps}
        assert steps["Later"].started >= steps["Earlier"].ended

    def test_condition_true_runs_if_branch_and_skips_else(self, workspace, condition_with_fail_branch, max_parallel):
        record = workspace.run(condition_with_fail_branch, max_parallel=max_parallel)

        assert record.status == SUCCEEDED, record.failure_reason
        assert statuses(record) == {"Evaluate": SUCCEEDED, "CheckMse": SUCCEEDED, "Deploy": SUCCEEDED,
                                    "TooHigh": SKIPPED}

    def test_condition_false_fails_with_the_fail_steps_message(self, workspace, condition_with_fail_branch,
                                                               max_parallel):
        record = workspace.run(condition_with_fail_branch, {"Mse": "3.5"}, max_parallel=max_parallel)

        assert record.status == FAILED
        assert statuses(record)["Deploy"] == SKIPPED
        assert record.failure_reason == "step 'TooHigh' failed: mse 3.5 is above 2.0"

    def test_a_failing_step_stops_what_depends_on_it(self, workspace, max_parallel):
        pipeline = definition(processing("Broken", "crash"), processing("After", "add_one", {"x": output_of("Broken")}))

        record = workspace.run(pipeline, max_parallel=max_parallel)

        assert statuses(record) == {"Broken": FAILED}


def test_parameters_and_execution_variables_reach_the_job(workspace):
    pipeline = definition(
        processing("Write", "write", args=[{"Std:Join": {"On": "-", "Values": [
            {"Get": "Parameters.Label"}, {"Get": "Execution.PipelineName"}]}}]),
        parameters=[parameter("Label", "String", "default")],
    )

    record = workspace.run(pipeline, {"Label": "given"}, name="Named")

    assert step_output(workspace, record, "Write") == "given-Named"


def test_outputs_are_stored_under_the_execution_id(workspace, linear_three_steps):
    record = workspace.run(linear_three_steps)

    assert workspace.store.exists(f"s3://bucket/runs/{record.id}/First/value.txt")


def test_step_events_arrive_in_order_with_the_execution_around_them(workspace, linear_three_steps):
    events = []

    record = workspace.run(linear_three_steps, on_event=events.append)

    assert [(e.step, e.status) for e in events] == [
        (None, "Executing"),
        ("First", "Executing"), ("First", SUCCEEDED),
        ("Second", "Executing"), ("Second", SUCCEEDED),
        ("Third", "Executing"), ("Third", SUCCEEDED),
        (None, SUCCEEDED),
    ]
    assert {e.execution_id for e in events} == {record.id}
