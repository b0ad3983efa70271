"""The one model of a definition: what `read_definition` makes of the JSON, which everything else reads."""

from __future__ import annotations

import re

import pytest

from modelbuild.definition.dsl import Problem, parse_definition, read_definition
from modelbuild.definition.references import format_path, parse_property_path, parse_reference
from modelbuild.errors import DefinitionError


def _fail(name: str, message=None, **extra) -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message or name}, **extra}


def _equals(left, right) -> dict:
    return {"Type": "Equals", "LeftValue": left, "RightValue": right}


@pytest.fixture
def condition_with_nested_branches() -> dict:
    """Check (Not around Equals, the SDK's spelling; Not with "Expression", the older one) -> Inner | Stop."""
    inner = {"Name": "Inner", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Or", "Conditions": [
            {"Type": "Not", "Expression": _equals({"Get": "Parameters.Stage"}, "prod")},
            {"Type": "In", "QueryValue": {"Get": "Parameters.Stage"}, "Values": ["dev"]},
        ]}],
        "IfSteps": [_fail("Deep", {"Std:Join": {"On": " ", "Values": [
            {"Get": "Execution.PipelineExecutionId"}, {"Get": "Steps.Check.Outcome"}]}})],
        "ElseSteps": [],
    }}
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Stage", "Type": "String", "DefaultValue": "dev"}],
        "Steps": [{"Name": "Check", "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "Not", "Condition": _equals({"Get": "Parameters.Stage"}, "test")}],
            "IfSteps": [inner],
            "ElseSteps": [_fail("Stop", {"Std:JsonGet": {"S3Uri": "s3://b/k.json", "Path": "a.b[0]"}})],
        }}],
    }


def test_branch_steps_are_flattened_with_their_json_path_and_branch(condition_with_nested_branches):
    spec = read_definition(condition_with_nested_branches)

    assert spec.problems == ()
    assert {name: (step.path, step.branch_of) for name, step in spec.steps.items()} == {
        "Check": ("Steps[0]", None),
        "Inner": ("Steps[0].Arguments.IfSteps[0]", ("Check", True)),
        "Deep": ("Steps[0].Arguments.IfSteps[0].Arguments.IfSteps[0]", ("Inner", True)),
        "Stop": ("Steps[0].Arguments.ElseSteps[0]", ("Check", False)),
    }
    assert "IfSteps" not in spec.steps["Check"].arguments
    assert spec.order.index("Check") < spec.order.index("Inner") < spec.order.index("Deep")


def test_references_say_where_they_sit_and_what_they_read(condition_with_nested_branches):
    deep = read_definition(condition_with_nested_branches).steps["Deep"]

    assert [(r.where, r.root, r.name, r.property_path, r.in_function) for r in deep.references] == [
        ("Arguments.ErrorMessage.Std:Join.Values[0]", "Execution", "PipelineExecutionId", (), True),
        ("Arguments.ErrorMessage.Std:Join.Values[1]", "Steps", "Check", ("Outcome",), True),
    ]
    assert deep.data_dependencies == ("Check",)


def test_not_is_read_under_condition_or_expression_and_nested_conditions_are_walked(condition_with_nested_branches):
    steps = read_definition(condition_with_nested_branches).steps

    assert [(format_path(where), c["Type"]) for where, c in steps["Check"].conditions] == [
        ("Arguments.Conditions[0]", "Not"),
        ("Arguments.Conditions[0].Condition", "Equals"),
    ]
    assert [format_path(where) for where, _ in steps["Inner"].conditions] == [
        "Arguments.Conditions[0]",
        "Arguments.Conditions[0].Conditions[0]",
        "Arguments.Conditions[0].Conditions[0].Expression",
        "Arguments.Conditions[0].Conditions[1]",
    ]


def test_both_json_get_forms_are_read():
    by_file = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "mse"}}
    by_uri = {"Std:JsonGet": {"S3Uri": {"Get": "Parameters.Report"}, "Path": "mse"}}
    definition = {"Parameters": [{"Name": "Report", "Type": "String"}], "Steps": [
        {"Name": "Evaluate", "Type": "Processing", "Arguments": {}},
        _fail("Stop", {"Std:Join": {"On": " ", "Values": [by_file, by_uri]}}),
    ]}

    file_form, uri_form = read_definition(definition).steps["Stop"].json_gets

    assert file_form.property_file.property_path == ("PropertyFiles", "Report")
    assert uri_form.property_file is None and uri_form.s3_uri == {"Get": "Parameters.Report"}
    assert format_path(uri_form.location) == "Arguments.ErrorMessage.Std:Join.Values[1].Std:JsonGet"


def test_one_property_path_grammar():
    assert parse_property_path(".Outputs['train'].S3Output[0]") == ("Outputs", "train", "S3Output", 0)
    assert parse_property_path('FinalMetricDataList["validation:rmse"].Value') == (
        "FinalMetricDataList", "validation:rmse", "Value")
    assert parse_reference("Steps.Train.ModelArtifacts.S3ModelArtifacts").property_path == (
        "ModelArtifacts", "S3ModelArtifacts")
    assert parse_reference("Steps.Train.Outputs[").path_error.startswith("cannot read property path")
    with pytest.raises(DefinitionError, match="cannot read property path"):
        parse_property_path("a.b[0")


def test_structural_problems_are_recorded_with_step_and_path_not_raised():
    first, second = _fail("A", DependsOn=["B"]), _fail("B", DependsOn=["A"])
    third = _fail("C", {"Get": "Steps.Nowhere.Outcome"})

    spec = read_definition({"Steps": [first, second, third, {"Type": "Fail"}]})

    nameless, dangling, cycle = spec.problems  # read order: steps, then references, then the graph
    assert (dangling.step, dangling.path) == ("C", "Arguments.ErrorMessage")
    assert (nameless.step, nameless.path) == (None, "Steps[3]")
    assert cycle.path == "DependsOn" and cycle.step in ("A", "B")
    assert re.search("cycle: (A -> B -> A|B -> A -> B)", cycle.message)
    with pytest.raises(DefinitionError, match="3 problems"):
        parse_definition({"Steps": [first, second, third, {"Type": "Fail"}]})


def test_one_problem_raises_with_its_suggestion_as_the_hint():
    definition = {"Steps": [_fail("Train"), _fail("Report", {"Get": "Steps.Trian.Outcome"})]}

    with pytest.raises(DefinitionError, match="'Trian'") as raised:
        parse_definition(definition)

    assert raised.value.hint == "Did you mean 'Train'?"
    assert read_definition(definition).problems == (
        Problem("Report", "Arguments.ErrorMessage",
                "refers to step 'Trian', which is not in the definition; Did you mean 'Train'?"),
    )
