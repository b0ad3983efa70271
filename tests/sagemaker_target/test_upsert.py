"""Upsert against the moto server: create, update, tags, uploads, and the S3 route for big definitions."""

from __future__ import annotations

import json

import pytest

from modelbuild.errors import DefinitionError
from modelbuild.sagemaker_target import upsert as upsert_module
from modelbuild.sagemaker_target.upsert import merge_tags, upsert_pipeline
from tests.sagemaker_target.conftest import BUCKET, ROLE_ARN, FakeBuilt, two_step_definition

TAGS = [{"Key": "team", "Value": "ml"}]


def test_first_upsert_creates_the_pipeline(clients, built):
    result = upsert_pipeline(clients, built, ROLE_ARN, description="first", tags=TAGS)

    described = clients.sagemaker.describe_pipeline(PipelineName="TestPipeline")
    assert result.created is True
    assert described["PipelineArn"] == result.pipeline_arn
    assert described["RoleArn"] == ROLE_ARN
    assert described["PipelineDescription"] == "first"
    assert json.loads(described["PipelineDefinition"]) == built.definition


def test_second_upsert_updates_the_pipeline(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)
    changed = FakeBuilt(two_step_definition(code_uri=f"s3://{BUCKET}/code/v2.py"), built.uploads)

    result = upsert_pipeline(clients, changed, ROLE_ARN, description="second")

    described = clients.sagemaker.describe_pipeline(PipelineName="TestPipeline")
    assert result.created is False
    assert json.loads(described["PipelineDefinition"]) == changed.definition
    assert described["PipelineDescription"] == "second"


def test_upsert_puts_tags_on_the_pipeline(clients, built):
    result = upsert_pipeline(clients, built, ROLE_ARN, tags=TAGS)

    assert clients.sagemaker.list_tags(ResourceArn=result.pipeline_arn)["Tags"] == TAGS


def test_update_adds_new_tags_to_existing_ones(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN, tags=TAGS)

    result = upsert_pipeline(clients, built, ROLE_ARN, tags=[{"Key": "stage", "Value": "dev"}])

    tags = clients.sagemaker.list_tags(ResourceArn=result.pipeline_arn)["Tags"]
    assert {tag["Key"] for tag in tags} == {"team", "stage"}


def test_upsert_uploads_files_before_creating(clients, built):
    result = upsert_pipeline(clients, built, ROLE_ARN)

    body = clients.s3.get_object(Bucket=BUCKET, Key="code/preprocess.py")["Body"].read()
    assert body == b"print('hi')\n"
    assert result.uploaded == (f"s3://{BUCKET}/code/preprocess.py",)


def test_upsert_sets_parallelism(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN, max_parallel_steps=3)

    described = clients.sagemaker.describe_pipeline(PipelineName="TestPipeline")
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 3}


def test_definition_over_the_inline_limit_goes_through_s3(clients, built, monkeypatch):
    monkeypatch.setattr(upsert_module, "inline_definition_limit", lambda: 100)

    result = upsert_pipeline(clients, built, ROLE_ARN)

    bucket, _, key = result.definition_s3_uri[5:].partition("/")
    assert bucket == BUCKET
    assert json.loads(clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == built.definition


def test_definition_over_the_limit_without_a_bucket_is_an_error(clients, monkeypatch):
    monkeypatch.setattr(upsert_module, "inline_definition_limit", lambda: 100)

    with pytest.raises(DefinitionError, match="inline limit"):
        upsert_pipeline(clients, FakeBuilt(two_step_definition()), ROLE_ARN)


def test_unreadable_project_tags_are_a_warning_not_an_error(clients):
    from botocore.stub import Stubber

    stub = Stubber(clients.sagemaker)
    stub.add_client_error("describe_project", "AccessDeniedException", "not allowed")
    with stub:
        tags, warning = upsert_module.project_tags(clients, "p")

    assert tags == []
    assert "'p'" in warning and "AccessDeniedException" in warning


def test_upsert_reports_the_project_tag_warning(clients, built, monkeypatch):
    monkeypatch.setattr(upsert_module, "project_tags", lambda clients, name: ([], f"no tags for {name}"))

    result = upsert_pipeline(clients, built, ROLE_ARN, tags=TAGS, project_name="p")

    assert result.created is True
    assert result.warnings == ("no tags for p",)


def test_project_tags_are_added_to_the_users_tags(clients, built):
    from botocore.stub import Stubber

    stub = Stubber(clients.sagemaker)
    project_arn = "arn:aws:sagemaker:us-east-1:123456789012:project/p"
    stub.add_response("describe_project", {"ProjectArn": project_arn, "ProjectName": "p", "ProjectId": "p-1",
                                           "ProjectStatus": "CreateCompleted", "CreationTime": 0},
                      {"ProjectName": "p"})
    stub.add_response("list_tags", {"Tags": [{"Key": "sagemaker:project-id", "Value": "p-1"}]},
                      {"ResourceArn": project_arn})
    with stub:
        tags, warning = upsert_module.project_tags(clients, "p")

    assert warning is None
    assert merge_tags(TAGS, tags) == TAGS + [{"Key": "sagemaker:project-id", "Value": "p-1"}]


def test_users_tag_wins_over_the_projects_tag_of_the_same_key():
    assert merge_tags([{"Key": "a", "Value": "mine"}], [{"Key": "a", "Value": "project"}]) == [
        {"Key": "a", "Value": "mine"}
    ]


def test_a_lambda_defined_from_a_script_is_refused_before_anything_is_uploaded(clients):
    uploads = {f"s3://{BUCKET}/lambda/count-rows/code": b"zip", f"s3://{BUCKET}/lambda/count-rows/function.json": b"{}"}

    with pytest.raises(DefinitionError, match="Lambda function\\(s\\) count-rows from a script"):
        upsert_pipeline(clients, FakeBuilt(two_step_definition(), uploads), ROLE_ARN)

    assert clients.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
