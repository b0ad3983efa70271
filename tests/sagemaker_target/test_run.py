"""`run_on_sagemaker` with the reference pipeline against the moto server: nothing reaches AWS before the
definition and the overrides are checked; then code uploads, upsert and start."""

from __future__ import annotations

import pytest

from modelbuild.errors import AwsError, BadParameterValueError, DefinitionError, UsageError
from modelbuild.sagemaker_target.executions import describe_execution
from modelbuild.sagemaker_target.run import run_on_sagemaker, sagemaker_kwargs
from tests.sagemaker_target.conftest import ACCOUNT_BUCKET, ROLE_ARN

MODULE = "pipelines.abalone.pipeline"


def pipeline_names(clients):
    return [p["PipelineName"] for p in clients.sagemaker.list_pipelines()["PipelineSummaries"]]


def test_run_uploads_upserts_and_starts_with_the_overrides(clients, cached_builds):
    started = run_on_sagemaker(MODULE, {}, ROLE_ARN, tags=[{"Key": "team", "Value": "ml"}],
                               parameters={"ModelApprovalStatus": "Approved", "MseThreshold": "5.5"})

    assert started.created and started.pipeline_name == "AbalonePipeline"
    assert dict(describe_execution(clients, started.execution_arn).parameters) == {
        "ModelApprovalStatus": "Approved", "MseThreshold": "5.5",
    }
    assert clients.sagemaker.list_tags(ResourceArn=started.pipeline_arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert started.console_url.startswith("https://us-east-1.console.aws.amazon.com/sagemaker/")


def test_run_puts_the_code_in_the_accounts_default_bucket_creating_it(clients, cached_builds):
    started = run_on_sagemaker(MODULE, {}, ROLE_ARN)

    keys = [o["Key"] for o in clients.s3.list_objects_v2(Bucket=ACCOUNT_BUCKET)["Contents"]]
    assert any(key.endswith("/preprocess.py") for key in keys) and any(key.endswith("/evaluate.py") for key in keys)
    assert any(ACCOUNT_BUCKET in warning for warning in started.warnings)


def test_a_second_run_updates_the_pipeline(clients, cached_builds):
    run_on_sagemaker(MODULE, {}, ROLE_ARN)

    assert run_on_sagemaker(MODULE, {}, ROLE_ARN).created is False
    assert pipeline_names(clients) == ["AbalonePipeline"]


def test_an_unknown_parameter_fails_before_any_aws_call(clients, cached_builds):
    with pytest.raises(BadParameterValueError, match="MseTreshold") as raised:
        run_on_sagemaker(MODULE, {}, ROLE_ARN, parameters={"MseTreshold": "5"})

    assert "Did you mean 'MseThreshold'" in raised.value.hint
    assert pipeline_names(clients) == []


def test_a_parameter_value_of_the_wrong_type_fails_before_any_aws_call(clients, cached_builds):
    with pytest.raises(BadParameterValueError, match="Float"):
        run_on_sagemaker(MODULE, {}, ROLE_ARN, parameters={"MseThreshold": "low"})

    assert pipeline_names(clients) == []


def test_an_invalid_definition_fails_before_anything_is_uploaded(clients, cached_builds):
    with pytest.raises(DefinitionError, match="ml.m5.xxlarge"):
        run_on_sagemaker(MODULE, {"training_instance_type": "ml.m5.xxlarge"}, ROLE_ARN)

    assert pipeline_names(clients) == []
    assert ACCOUNT_BUCKET not in [b["Name"] for b in clients.s3.list_buckets()["Buckets"]]


def test_no_role_is_a_usage_error_before_building(monkeypatch):
    monkeypatch.setattr("modelbuild.definition.build.build_definition", pytest.fail)

    with pytest.raises(UsageError, match="IAM role") as raised:
        run_on_sagemaker(MODULE, {}, None)

    assert "--role-arn" in raised.value.hint


def test_no_region_is_an_aws_error_before_building(monkeypatch):
    monkeypatch.setattr("modelbuild.definition.build.build_definition", pytest.fail)

    with pytest.raises(AwsError, match="No AWS region"):
        run_on_sagemaker(MODULE, {}, ROLE_ARN)


def test_role_and_bucket_are_filled_in_from_the_role():
    assert sagemaker_kwargs(MODULE, {"region": "eu-west-1"}, ROLE_ARN) == {
        "region": "eu-west-1", "role": ROLE_ARN, "default_bucket": "sagemaker-eu-west-1-123456789012",
    }


def test_the_clients_region_is_the_builds_region():
    assert sagemaker_kwargs(MODULE, {}, ROLE_ARN, region="ap-south-1") == {
        "region": "ap-south-1", "role": ROLE_ARN, "default_bucket": "sagemaker-ap-south-1-123456789012",
    }


def test_the_users_role_and_bucket_win():
    kwargs = {"role": "arn:aws:iam::999999999999:role/Jobs", "default_bucket": "mine"}

    assert sagemaker_kwargs(MODULE, kwargs, ROLE_ARN) == kwargs


def test_an_override_sagemaker_would_refuse_fails_before_any_aws_call(clients, cached_builds):
    with pytest.raises(BadParameterValueError, match="ProcessingInstanceCount.*below the minimum 1"):
        run_on_sagemaker(MODULE, {}, ROLE_ARN, parameters={"ProcessingInstanceCount": "0"})

    assert pipeline_names(clients) == []
