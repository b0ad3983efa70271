"""Lambda steps: the function's script runs locally with the step's Arguments as the event; its result
becomes OutputParameters (types checked); a function known only by ARN is refused unless stubbed."""

from __future__ import annotations

import io
import json
import socket
import textwrap
import zipfile

import pytest

from modelbuild.definition.dsl import parse_definition
from modelbuild.local.engine import PipelineSource, run_pipeline
from modelbuild.local.records import FAILED, SKIPPED, STUBBED, SUCCEEDED
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.steps.lambda_step import known_functions
from modelbuild.local.support import EMULATED, local_support
from tests.local.conftest import condition, definition, fail, parameter, statuses

ARN = "arn:aws:lambda:us-east-1:123456789012:function:count-rows"
FUNCTION = """
    import os

    def handler(event, context):
        if event.get("explode"):
            raise ValueError("the table is missing")
        return {"row_count": event["rows"] * 2, "label": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                "left": context.get_remaining_time_in_millis() > 0}
"""


def lambda_step(arguments: dict, outputs: list[tuple[str, str]], arn: str = ARN) -> dict:
    """A Lambda step as the SDK's LambdaStep writes it."""
    return {"Name": "CountRows", "Type": "Lambda", "Arguments": arguments, "FunctionArn": arn,
            "OutputParameters": [{"OutputName": name, "OutputType": kind} for name, kind in outputs]}


def stage_function(workspace, source: str = FUNCTION, arn: str = ARN) -> None:
    """What the offline build records for Lambda(function_name="count-rows", script="count.py", ...)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("count.py", textwrap.dedent(source))
    workspace.store.put_bytes("s3://bucket/lambda/count-rows/code", archive.getvalue())
    workspace.put("s3://bucket/lambda/count-rows/function.json", json.dumps({
        "FunctionName": "count-rows", "FunctionArn": arn, "Handler": "count.handler", "Timeout": 30,
        "CodeUri": "s3://bucket/lambda/count-rows/code"}))


def gated(step: dict, threshold: int = 100) -> dict:
    """The Lambda step's row_count decides whether the pipeline goes on."""
    check = condition("EnoughRows", [{"Type": "GreaterThanOrEqualTo", "RightValue": threshold,
                                      "LeftValue": {"Get": "Steps.CountRows.OutputParameters['row_count']"}}],
                      else_steps=[fail("TooFew", "too few rows")])
    return definition(step, check, parameters=[parameter("Rows", "Integer", 240)])


def test_the_function_runs_with_the_arguments_as_event_and_its_output_feeds_a_condition(workspace):
    stage_function(workspace)
    step = lambda_step({"rows": {"Get": "Parameters.Rows"}}, [("row_count", "Integer"), ("label", "String"),
                                                               ("left", "Boolean")])

    passed = workspace.run(gated(step))
    stopped = workspace.run(gated(step), {"Rows": "10"})

    assert passed.status == SUCCEEDED, passed.failure_reason
    assert passed.steps[0].properties["OutputParameters"] == [
        {"Name": "row_count", "Value": 480}, {"Name": "label", "Value": "count-rows"}, {"Name": "left", "Value": True}]
    assert statuses(passed)["TooFew"] == SKIPPED
    assert stopped.status == FAILED and stopped.failure_reason.endswith("too few rows")


def test_an_output_of_another_type_fails_the_step(workspace):
    stage_function(workspace)

    record = workspace.run(definition(lambda_step({"rows": 3}, [("row_count", "String")])))

    assert record.status == FAILED
    assert "output 'row_count' is declared String, but the function returned 6" in record.failure_reason


def test_a_missing_output_fails_the_step_naming_what_was_returned(workspace):
    stage_function(workspace)

    record = workspace.run(definition(lambda_step({"rows": 3}, [("rows_seen", "Integer")])))

    assert "no output 'rows_seen'" in record.failure_reason and "'row_count'" in record.failure_reason


def test_an_exception_in_the_function_fails_the_step_with_its_message(workspace):
    stage_function(workspace)

    record = workspace.run(definition(lambda_step({"rows": 3, "explode": True}, [("row_count", "Integer")])))

    assert record.status == FAILED
    assert "raised ValueError: the table is missing" in record.failure_reason


def test_a_function_known_only_by_arn_is_refused_unless_stubbed(workspace, tmp_path):
    other = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"
    pipeline = definition(lambda_step({}, [("row_count", "Integer")], arn=other))
    stub = tmp_path / "lambda.json"
    stub.write_text(json.dumps({"OutputParameters": [{"Name": "row_count", "Value": 240}]}))

    with pytest.raises(UnsupportedStepError, match="known here only by its ARN") as raised:
        workspace.run(pipeline)
    record = workspace.run(pipeline, stubs={"CountRows": stub})

    assert "--stub" in raised.value.hint
    assert record.steps[0].status == STUBBED
    assert record.steps[0].properties == {"OutputParameters": [{"Name": "row_count", "Value": 240}]}


MODULE = '''
from pathlib import Path

HERE = Path(__file__).resolve().parent


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    rows = ParameterInteger(name="Rows", default_value=240)
    function = Lambda(function_name="count-rows", execution_role_arn="arn:aws:iam::123456789012:role/lambda",
                      script=str(HERE / "count.py"), handler="count.handler", session=sagemaker_session)
    count = LambdaStep(name="CountRows", lambda_func=function, inputs={"rows": rows},
                       outputs=[LambdaOutput("row_count", LambdaOutputTypeEnum.Integer)])
    check = ConditionStep(name="EnoughRows", conditions=[ConditionGreaterThanOrEqualTo(
        left=count.properties.Outputs["row_count"], right=100)], if_steps=[],
        else_steps=[FailStep(name="TooFew", error_message="too few rows")])
    return Pipeline(name="Counting", parameters=[rows], steps=[count, check], sagemaker_session=sagemaker_session)
'''


@pytest.fixture
def lambda_module(write_package):
    write_package("lambda_pipelines", {"counting": MODULE, "count": textwrap.dedent(FUNCTION)})
    return "lambda_pipelines.counting"


@pytest.mark.slow  # imports the SDK to build the pipeline
def test_an_sdk_lambda_from_a_script_builds_offline_and_runs_locally(lambda_module, tmp_path, monkeypatch):
    from modelbuild.definition.build import build_definition

    def no_network(self, address):
        raise AssertionError(f"the build tried to connect to {address}")

    with monkeypatch.context() as offline:
        offline.setattr(socket.socket, "connect", no_network)
        built = build_definition(lambda_module)

    step = json.loads(built.text)["Steps"][0]
    assert step["FunctionArn"] == ARN
    support = local_support(parse_definition(built.text), functions=known_functions(built.uploads, None))
    assert [s.how for s in support][:1] == [EMULATED]
    source = PipelineSource(built.text, built.pipeline_name, built.region, built.uploads)
    passed = run_pipeline(source, state_dir=tmp_path / "state")
    stopped = run_pipeline(source, {"Rows": "10"}, state_dir=tmp_path / "state")
    assert passed.status == SUCCEEDED, passed.failure_reason
    assert passed.steps[0].properties["OutputParameters"] == [{"Name": "row_count", "Value": 480}]
    assert stopped.status == FAILED and "too few rows" in stopped.failure_reason


def test_a_function_known_only_by_arn_runs_the_local_code_it_is_mapped_to(workspace, tmp_path):
    other = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"
    (tmp_path / "count.py").write_text(textwrap.dedent(FUNCTION))
    pipeline = definition(lambda_step({"rows": 5}, [("row_count", "Integer")], arn=other))

    by_name = workspace.run(pipeline, lambda_code={"someone-elses": f"{tmp_path / 'count.py'}:count.handler"})
    by_arn = workspace.run(pipeline, lambda_code={other: f"{tmp_path}:count.handler"})

    for record in (by_name, by_arn):
        assert record.status == SUCCEEDED, record.failure_reason
        assert record.steps[0].properties == {"OutputParameters": [{"Name": "row_count", "Value": 10}]}


def test_a_mapping_for_a_function_no_step_calls_is_refused(workspace, tmp_path):
    from modelbuild.errors import UsageError

    stage_function(workspace)
    with pytest.raises(UsageError, match="--lambda names function 'nobody'"):
        workspace.run(definition(lambda_step({}, [])), lambda_code={"nobody": f"{tmp_path}:count.handler"})
