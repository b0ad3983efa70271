"""`validate_definition`: one failing fixture per rule, each problem naming its step and JSON path."""

from __future__ import annotations

import re

import pytest

from modelbuild.definition.offline import PLACEHOLDER_ROLE
from modelbuild.definition.validate import Problem, raise_for_problems, validate_definition
from modelbuild.errors import DefinitionError, ExitCode
from tests.definition.conftest import ROLE_ARN


def steps(definition: dict) -> dict:
    """Every step of a definition by name, condition branches included."""
    found = {}
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop()
        found[step["Name"]] = step
        pending += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])
    return found


def condition(definition: dict) -> dict:
    return steps(definition)["CheckMse"]["Arguments"]["Conditions"][0]


def only_problem(definition: dict, **options) -> Problem:
    problems = validate_definition(definition, **options)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_fixture_itself_is_valid_for_both_targets(gated_evaluation):
    assert validate_definition(gated_evaluation) == []
    assert validate_definition(gated_evaluation, target="sagemaker", role_arn=ROLE_ARN) == []


def test_the_reference_pipeline_is_valid(reference):
    assert validate_definition(reference.definition) == []


# Each case breaks the valid fixture in one way: (mutation, step, path, message pattern).
def _rename(d, old, new):
    steps(d)[old]["Name"] = new


def _set_cluster(d, field, value):
    steps(d)["Evaluate"]["Arguments"]["ProcessingResources"]["ClusterConfig"][field] = value


def _publish_input(d, reference):
    steps(d)["Publish"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = {"Get": reference}


def _parameter(d, index, **changes):
    d["Parameters"][index].update(changes)


def _instance_type_parameter(d, default="ml.m5.xxlarge"):
    d["Parameters"].append({"Name": "InstanceType", "Type": "String", "DefaultValue": default})
    _set_cluster(d, "InstanceType", {"Get": "Parameters.InstanceType"})


def _cycle(d):
    steps(d)["Evaluate"]["DependsOn"] = ["CheckMse"]


CLUSTER = "Arguments.ProcessingResources.ClusterConfig"
CASES = {
    "invalid step name": (
        lambda d: _rename(d, "MseTooHigh", "Mse too high"), "Mse too high", "Name", "does not match",
    ),
    "duplicate step name": (lambda d: _rename(d, "MseTooHigh", "Publish"), "Publish", "Name", "two steps"),
    "DependsOn an unknown step": (
        lambda d: steps(d)["Evaluate"].update(DependsOn=["Evaluat"]),
        "Evaluate", "DependsOn[0]", "'Evaluat'.*Did you mean 'Evaluate'",
    ),
    "DependsOn itself": (
        lambda d: steps(d)["Evaluate"].update(DependsOn=["Evaluate"]), "Evaluate", "DependsOn[0]", "itself",
    ),
    "reference to an unknown step": (
        lambda d: _publish_input(d, "Steps.Evaluat.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"),
        "Publish", "Arguments.ProcessingInputs[0].S3Input.S3Uri", "step 'Evaluat'",
    ),
    "property the step type does not have": (
        lambda d: _publish_input(d, "Steps.Evaluate.ModelArtifacts.S3ModelArtifacts"),
        "Publish", "Arguments.ProcessingInputs[0].S3Input.S3Uri", "no property 'ModelArtifacts'",
    ),
    "reference to an undeclared parameter": (
        lambda d: condition(d).update(RightValue={"Get": "Parameters.MseTreshold"}),
        "CheckMse", "Arguments.Conditions[0].RightValue", "'MseTreshold'.*Did you mean 'MseThreshold'",
    ),
    "unknown execution variable": (
        lambda d: steps(d)["MseTooHigh"]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"].append(
            {"Get": "Execution.PipelineExecutionID"}
        ),
        "MseTooHigh", "Arguments.ErrorMessage.Std:Join.Values[2]", "Did you mean 'PipelineExecutionId'",
    ),
    "reference that is neither step, parameter nor execution": (
        lambda d: _publish_input(d, "Step.Evaluate.ProcessingOutputConfig"),
        "Publish", "Arguments.ProcessingInputs[0].S3Input.S3Uri", "cannot resolve",
    ),
    "JsonGet on an undeclared PropertyFile": (
        lambda d: condition(d)["LeftValue"]["Std:JsonGet"].update(
            PropertyFile={"Get": "Steps.Evaluate.PropertyFiles.Reprot"}
        ),
        "CheckMse", "Arguments.Conditions[0].LeftValue.Std:JsonGet.PropertyFile", "no PropertyFile 'Reprot'",
    ),
    "JsonGet on something other than a PropertyFile": (
        lambda d: condition(d)["LeftValue"]["Std:JsonGet"].update(PropertyFile={"Get": "Parameters.Stage"}),
        "CheckMse", "Arguments.Conditions[0].LeftValue.Std:JsonGet.PropertyFile", "reads a PropertyFile",
    ),
    "PropertyFile on an output the step lacks": (
        lambda d: steps(d)["Evaluate"]["PropertyFiles"][0].update(OutputName="evaluations"),
        "Evaluate", "PropertyFiles[0].OutputName", "output 'evaluations'",
    ),
    "PropertyFiles on a step that is not Processing": (
        lambda d: steps(d)["MseTooHigh"].update(PropertyFiles=[{"PropertyFileName": "X", "OutputName": "o"}]),
        "MseTooHigh", "PropertyFiles", "only Processing steps",
    ),
    "parameter of unknown type": (
        lambda d: _parameter(d, 1, Type="Double"), None, "Parameters[1].Type", "unknown type 'Double'",
    ),
    "parameter default of the wrong type": (
        lambda d: _parameter(d, 0, DefaultValue="one"), None, "Parameters[0].DefaultValue", "is Integer",
    ),
    "parameter default outside its EnumValues": (
        lambda d: _parameter(d, 2, DefaultValue="test"), None, "Parameters[2].DefaultValue", "EnumValues",
    ),
    "two parameters with one name": (
        lambda d: _parameter(d, 2, Name="MseThreshold", Type="Float", DefaultValue=1.0, EnumValues=None),
        None, "Parameters[2].Name", "two parameters",
    ),
    "invalid parameter name": (
        lambda d: d["Parameters"].append({"Name": "bad name", "Type": "String"}),
        None, "Parameters[3].Name", "does not match",
    ),
    "String parameter in an integer field": (
        lambda d: steps(d)["Publish"]["Arguments"]["ProcessingResources"]["ClusterConfig"].update(
            InstanceCount={"Get": "Parameters.Stage"}
        ),
        "Publish", f"{CLUSTER}.InstanceCount", "takes a number",
    ),
    "parameter default that is no instance type": (
        _instance_type_parameter, "Evaluate", f"{CLUSTER}.InstanceType",
        "parameter 'InstanceType' has the value 'ml.m5.xxlarge': not a valid ProcessingInstanceType",
    ),
    "parameter default below the field's minimum": (
        lambda d: _parameter(d, 0, DefaultValue=0), "Publish", f"{CLUSTER}.InstanceCount", "below the minimum 1",
    ),
    "cycle": (_cycle, "Evaluate", "DependsOn", "cycle: .*Evaluate -> CheckMse -> Evaluate|cycle: CheckMse"),
    "unknown condition type": (
        lambda d: condition(d).update(Type="LessThanOrEqual"),
        "CheckMse", "Arguments.Conditions[0].Type", "Did you mean 'LessThanOrEqualTo'",
    ),
    "condition comparing a string with a number": (
        lambda d: condition(d).update(LeftValue={"Get": "Parameters.Stage"}),
        "CheckMse", "Arguments.Conditions[0]", "compares a string .* with a number",
    ),
    "ordering booleans": (
        lambda d: condition(d).update(LeftValue=True, RightValue=False),
        "CheckMse", "Arguments.Conditions[0]", "cannot order booleans",
    ),
    "In with values of another type": (
        lambda d: condition(d).update(Type="In", QueryValue={"Get": "Parameters.Stage"}, Values=["dev", 3]),
        "CheckMse", "Arguments.Conditions[0].Values[1]", "compares a string with a number",
    ),
    "instance type SageMaker does not have": (
        lambda d: _set_cluster(d, "InstanceType", "ml.m5.xxlarge"),
        "Evaluate", f"{CLUSTER}.InstanceType", "not a valid ProcessingInstanceType",
    ),
    "argument the job API does not have": (
        lambda d: _set_cluster(d, "InstanceCont", 1),
        "Evaluate", f"{CLUSTER}.InstanceCont", "Did you mean 'InstanceCount'",
    ),
    "argument the job API requires, missing": (
        lambda d: steps(d)["Evaluate"]["Arguments"].pop("AppSpecification"),
        "Evaluate", "Arguments.AppSpecification", "requires 'AppSpecification'",
    ),
}


@pytest.mark.parametrize("mutate, step, path, message", CASES.values(), ids=CASES.keys())
def test_each_rule_reports_the_step_and_path(gated_evaluation, mutate, step, path, message):
    mutate(gated_evaluation)

    problem = only_problem(gated_evaluation)

    assert (problem.step, problem.path) == (step, path), problem
    assert re.search(message, problem.message), problem.message


def test_the_sagemaker_target_needs_a_role(gated_evaluation):
    problem = only_problem(gated_evaluation, target="sagemaker")

    assert (problem.step, problem.path) == (None, "RoleArn")
    assert "--role-arn" in problem.message


def test_the_local_target_needs_no_role(gated_evaluation):
    assert validate_definition(gated_evaluation, target="local") == []


def test_a_role_that_is_not_an_iam_role_arn_is_reported(gated_evaluation):
    problem = only_problem(gated_evaluation, target="sagemaker", role_arn="PipelineRole")

    assert problem.path == "RoleArn" and "does not match" in problem.message


def test_a_step_running_as_the_placeholder_role_is_reported_for_sagemaker(gated_evaluation):
    steps(gated_evaluation)["Evaluate"]["Arguments"]["RoleArn"] = PLACEHOLDER_ROLE

    problem = only_problem(gated_evaluation, target="sagemaker", role_arn=ROLE_ARN)

    assert (problem.step, problem.path) == ("Evaluate", "Arguments.RoleArn")
    assert '"role"' in problem.message


def test_every_problem_is_reported_not_just_the_first(gated_evaluation):
    _set_cluster(gated_evaluation, "InstanceType", "ml.m5.xxlarge")
    _parameter(gated_evaluation, 0, DefaultValue="one")
    _cycle(gated_evaluation)

    assert len(validate_definition(gated_evaluation)) == 3


def test_a_definition_without_steps_is_one_problem():
    expected = Problem(None, "Steps", "the definition has no 'Steps' list")

    assert validate_definition({"Version": "2020-12-01"}) == [expected]


def test_a_step_without_name_or_type_is_reported(gated_evaluation):
    gated_evaluation["Steps"].append({"Type": "Fail", "Arguments": {}})

    problem = only_problem(gated_evaluation)

    assert (problem.step, problem.path) == (None, "Steps[2]")


def test_raise_for_problems_lists_them_all():
    problems = [Problem("A", "Name", "first"), Problem(None, "RoleArn", "second")]

    with pytest.raises(DefinitionError, match="2 problems") as raised:
        raise_for_problems(problems)

    assert "step 'A' at Name: first" in raised.value.message
    assert "pipeline at RoleArn: second" in raised.value.message
    assert raised.value.exit_code is ExitCode.DEFINITION_INVALID


def test_raise_for_problems_is_quiet_without_problems():
    raise_for_problems([])


def test_parameter_values_of_an_execution_are_checked_like_defaults(gated_evaluation):
    _instance_type_parameter(gated_evaluation, default="ml.m5.xlarge")

    (problem,) = validate_definition(gated_evaluation, parameter_values={"InstanceType": "ml.m5.xxlarge"})

    assert (problem.step, problem.path) == ("Evaluate", f"{CLUSTER}.InstanceType")
    assert "Did you mean 'ml.m5.xlarge'" in problem.message


def test_a_reference_to_an_unknown_step_suggests_only_a_step_that_has_the_property(gated_evaluation):
    _publish_input(gated_evaluation, "Steps.Evaluat.ModelArtifacts.S3ModelArtifacts")

    problem = only_problem(gated_evaluation)

    # 'Evaluate' is the closest name, but a Processing step has no ModelArtifacts: no suggestion.
    assert "refers to step 'Evaluat'" in problem.message
    assert "Did you mean" not in problem.message
