"""Every expression and condition type of the DSL evaluates as SageMaker evaluates it."""

from __future__ import annotations

import json

import pytest

from modelbuild.definition.references import parse_property_path
from modelbuild.local.expressions import ExpressionError, Resolver
from modelbuild.local.records import SKIPPED, SUCCEEDED
from tests.local.conftest import condition, definition, parameter, processing, statuses

REPORT_URI = "s3://bucket/eval/report.json"
PROPERTIES = {
    "Evaluate": {
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": "evaluation", "S3Output": {"S3Uri": "s3://bucket/eval"}},
            {"OutputName": "other", "S3Output": {"S3Uri": "s3://bucket/other"}},
        ]},
    },
    "Train": {
        "ModelArtifacts": {"S3ModelArtifacts": "s3://bucket/model.tar.gz"},
        "FinalMetricDataList": [{"MetricName": "validation:rmse", "Value": 2.5}],
    },
}
PROPERTY_FILES = {"Evaluate": [{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "report.json"}]}
REPORT = {"metrics": {"mse": {"value": 4.0}}, "labels": ["a", "b"]}


@pytest.fixture
def resolver() -> Resolver:
    objects = {REPORT_URI: json.dumps(REPORT).encode()}
    return Resolver({"Threshold": 5.0, "Name": "abc", "Count": 3, "Flag": True},
                    {"PipelineExecutionId": "exec1", "PipelineName": "P"}, PROPERTIES, PROPERTY_FILES,
                    objects.__getitem__)


def json_get(path: str) -> dict:
    return {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": path}}


@pytest.mark.parametrize(("expression", "value"), [
    ({"Get": "Parameters.Threshold"}, 5.0),
    ({"Get": "Execution.PipelineExecutionId"}, "exec1"),
    ({"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "s3://bucket/eval"),
    ({"Get": 'Steps.Evaluate.ProcessingOutputConfig.Outputs["other"].S3Output.S3Uri'}, "s3://bucket/other"),
    ({"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs[1].S3Output.S3Uri"}, "s3://bucket/other"),
    ({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "s3://bucket/model.tar.gz"),
    ({"Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"}, 2.5),
    ({"Std:Join": {"On": "/", "Values": ["s3:/", "b", {"Get": "Execution.PipelineName"}, 3]}}, "s3://b/P/3"),
    ({"Std:Join": {"On": ",", "Values": [{"Get": "Parameters.Flag"}, 1.5]}}, "true,1.5"),
    (json_get("metrics.mse.value"), 4.0),
    (json_get("labels[1]"), "b"),
    ({"Std:JsonGet": {"S3Uri": {"Std:Join": {"On": "/", "Values": [
        {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "report.json"]}},
        "Path": "metrics.mse.value"}}, 4.0),
    ({"Nested": [{"Get": "Parameters.Name"}]}, {"Nested": ["abc"]}),
])
def test_expressions_evaluate(resolver, expression, value):
    assert resolver.resolve(expression) == value


def test_symbolic_execution_variables_stay_symbolic():
    assert Resolver({}, None, {}, {}, bytes).resolve({"Get": "Execution.PipelineExecutionId"}) == \
        "{Execution.PipelineExecutionId}"


@pytest.mark.parametrize(("expression", "message"), [
    ({"Get": "Steps.Train.ModelArtifacts.Missing"}, "no property 'Missing'"),
    ({"Get": "Steps.Later.ModelArtifacts"}, "no properties yet"),
    ({"Get": "Execution.Unknown"}, "unknown execution variable"),
    (json_get("metrics.rmse"), "no property 'rmse'"),
])
def test_unevaluable_expressions_name_what_is_missing(resolver, expression, message):
    with pytest.raises(ExpressionError, match=message):
        resolver.resolve(expression)


def test_property_paths_split_names_quotes_and_indexes():
    assert parse_property_path("Outputs['train'].S3Output.List[0]") == ("Outputs", "train", "S3Output", "List", 0)


def compare(kind: str, left, right) -> dict:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(("condition_json", "expected"), [
    (compare("Equals", {"Get": "Parameters.Name"}, "abc"), True),
    (compare("Equals", {"Get": "Parameters.Count"}, 4), False),
    (compare("GreaterThan", json_get("metrics.mse.value"), 3), True),
    (compare("GreaterThan", 4, json_get("metrics.mse.value")), False),
    (compare("GreaterThanOrEqualTo", json_get("metrics.mse.value"), 4), True),
    (compare("LessThan", json_get("metrics.mse.value"), {"Get": "Parameters.Threshold"}), True),
    (compare("LessThanOrEqualTo", {"Get": "Parameters.Threshold"}, 4.9), False),
    (compare("LessThanOrEqualTo", "4.0", json_get("metrics.mse.value")), True),
    ({"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["x", "abc"]}, True),
    ({"Type": "In", "QueryValue": {"Get": "Parameters.Count"}, "Values": [1, 2]}, False),
    ({"Type": "Not", "Expression": compare("Equals", 1, 1)}, False),
    ({"Type": "Not", "Condition": compare("Equals", 1, 2)}, True),  # as SDK v3 writes it
    ({"Type": "Or", "Conditions": [compare("Equals", 1, 2), compare("Equals", 2, 2)]}, True),
    ({"Type": "Or", "Conditions": [compare("Equals", 1, 2), {"Type": "Not", "Expression": compare("Equals", 1, 1)}]},
     False),
])
def test_conditions_evaluate(resolver, condition_json, expected):
    assert resolver.condition(condition_json) is expected


def test_comparing_incomparable_values_is_an_error(resolver):
    with pytest.raises(ExpressionError, match="cannot compare"):
        resolver.condition(compare("GreaterThan", "abc", 1))


@pytest.mark.parametrize(("conditions", "branch"), [
    ([compare("GreaterThan", {"Get": "Parameters.Score"}, 0.5)], "Then"),
    ([compare("GreaterThan", {"Get": "Parameters.Score"}, 0.5), compare("Equals", 1, 2)], "Otherwise"),
    ([{"Type": "In", "QueryValue": {"Get": "Parameters.Mode"}, "Values": ["fast", "full"]}], "Then"),
    ([{"Type": "Not", "Expression": compare("Equals", {"Get": "Parameters.Mode"}, "full")}], "Otherwise"),
    ([{"Type": "Or", "Conditions": [compare("LessThan", {"Get": "Parameters.Score"}, 0.1),
                                    compare("GreaterThanOrEqualTo", {"Get": "Parameters.Score"}, 0.9)]}], "Then"),
])
def test_a_condition_step_runs_the_branch_its_conditions_choose(workspace, conditions, branch):
    pipeline = definition(
        condition("Check", conditions, if_steps=[processing("Then", "write")],
                  else_steps=[processing("Otherwise", "write")]),
        parameters=[parameter("Score", "Float", 0.95), parameter("Mode", "String", "full")],
    )

    record = workspace.run(pipeline)

    other = {"Then": "Otherwise", "Otherwise": "Then"}[branch]
    assert (statuses(record)[branch], statuses(record)[other]) == (SUCCEEDED, SKIPPED)
