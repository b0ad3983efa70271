"""`diff_definitions`: what differs between a deployed definition and a local one, grouped by step."""

from __future__ import annotations

import copy

from modelbuild.definition.diff import FieldChange, diff_definitions
from tests.definition.conftest import ROLE_ARN


def test_identical_definitions_have_no_changes(gated_evaluation):
    diff = diff_definitions(copy.deepcopy(gated_evaluation), gated_evaluation)

    assert not diff.changed
    assert diff.lines() == ["No changes: the deployed pipeline matches the local definition."]


def test_nothing_deployed_means_every_step_is_added(gated_evaluation):
    diff = diff_definitions(None, gated_evaluation)

    assert diff.changed and not diff.deployed
    assert [(step.name, step.kind) for step in diff.steps] == [
        ("Evaluate", "added"), ("CheckMse", "added"), ("Publish", "added"), ("MseTooHigh", "added"),
    ]


def test_a_changed_field_is_reported_under_its_step_with_old_and_new(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    gated_evaluation["Steps"][0]["Arguments"]["AppSpecification"]["ImageUri"] = "new-image"

    diff = diff_definitions(deployed, gated_evaluation)

    (step,) = diff.steps
    assert (step.name, step.kind) == ("Evaluate", "changed")
    old = deployed["Steps"][0]["Arguments"]["AppSpecification"]["ImageUri"]
    assert step.changes == (FieldChange("Arguments.AppSpecification.ImageUri", old, "new-image"),)
    assert "~ step Evaluate [Processing]" in diff.lines()


def test_a_change_inside_a_condition_branch_names_the_branch_step(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    gated_evaluation["Steps"][1]["Arguments"]["ElseSteps"][0]["Arguments"]["ErrorMessage"] = "too high"

    diff = diff_definitions(deployed, gated_evaluation)

    assert [(step.name, [c.path for c in step.changes]) for step in diff.steps] == [
        ("MseTooHigh", ["Arguments.ErrorMessage"])
    ]


def test_added_and_removed_steps(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    gated_evaluation["Steps"][1]["Arguments"]["ElseSteps"][0]["Name"] = "MseAboveThreshold"

    diff = diff_definitions(deployed, gated_evaluation)

    assert [(step.name, step.kind) for step in diff.steps] == [
        ("MseAboveThreshold", "added"), ("MseTooHigh", "removed"),
    ]
    assert "- step MseTooHigh [Fail] (removed)" in diff.lines()


def test_a_step_moved_to_the_other_branch_is_changed(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    arguments = gated_evaluation["Steps"][1]["Arguments"]
    arguments["IfSteps"], arguments["ElseSteps"] = arguments["ElseSteps"], arguments["IfSteps"]

    diff = diff_definitions(deployed, gated_evaluation)

    moved = {step.name: step.changes for step in diff.steps}
    assert moved["Publish"] == (FieldChange("Branch", "CheckMse if true", "CheckMse if false"),)


def test_parameter_changes_are_pipeline_changes_by_name(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    gated_evaluation["Parameters"][1]["DefaultValue"] = 5.0
    gated_evaluation["Parameters"].reverse()  # order alone is no change

    diff = diff_definitions(deployed, gated_evaluation)

    assert diff.pipeline == (FieldChange("Parameters['MseThreshold'].DefaultValue", 6.0, 5.0),)
    assert diff.steps == ()


def test_a_different_role_is_a_pipeline_change(gated_evaluation):
    other = ROLE_ARN.replace("PipelineRole", "OtherRole")

    diff = diff_definitions(copy.deepcopy(gated_evaluation), gated_evaluation, ROLE_ARN, other)

    assert diff.pipeline == (FieldChange("RoleArn", ROLE_ARN, other),)


def test_json_groups_changes_by_step(gated_evaluation):
    deployed = copy.deepcopy(gated_evaluation)
    del gated_evaluation["Steps"][0]["PropertyFiles"]

    data = diff_definitions(deployed, gated_evaluation).to_json()

    assert data["changed"] is True
    assert data["steps"][0]["step"] == "Evaluate"
    assert data["steps"][0]["changes"][0]["path"] == "PropertyFiles"
    assert data["steps"][0]["changes"][0]["new"] is None
