"""Start, list, show and model packages against the moto server; steps and stop with botocore's Stubber."""

from __future__ import annotations

from datetime import datetime, timezone

from botocore.stub import Stubber

from modelbuild.sagemaker_target.executions import (
    console_url,
    describe_execution,
    list_executions,
    list_model_packages,
    list_pipeline_names,
    list_steps,
    start_execution,
    stop_execution,
)
from modelbuild.sagemaker_target.upsert import upsert_pipeline
from tests.sagemaker_target.conftest import ROLE_ARN

EXECUTION_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/testpipeline/execution/abc123"


def test_parameter_overrides_reach_start_pipeline_execution(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)

    arn = start_execution(clients, "TestPipeline", {"InstanceCount": 2, "ModelApprovalStatus": "Approved"})

    assert dict(describe_execution(clients, arn).parameters) == {
        "InstanceCount": "2",
        "ModelApprovalStatus": "Approved",
    }


def test_execution_name_and_description_reach_the_execution(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)

    arn = start_execution(clients, "TestPipeline", execution_name="nightly", description="from CI")

    shown = describe_execution(clients, arn)
    assert (shown.display_name, shown.description) == ("nightly", "from CI")


def test_list_shows_every_execution_of_the_pipeline(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)
    arns = {start_execution(clients, "TestPipeline") for _ in range(2)}

    listed = list_executions(clients, "TestPipeline")

    assert {summary.arn for summary in listed} == arns


def test_show_reports_the_status(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)
    arn = start_execution(clients, "TestPipeline")

    assert describe_execution(clients, arn).status == "Succeeded"  # moto finishes at once


def test_model_packages_of_a_group_are_listed(clients):
    clients.sagemaker.create_model_package_group(ModelPackageGroupName="AbalonePackageGroup")
    clients.sagemaker.create_model_package(
        ModelPackageGroupName="AbalonePackageGroup", ModelApprovalStatus="PendingManualApproval"
    )

    packages = list_model_packages(clients, "AbalonePackageGroup")

    assert [(p["version"], p["approval"]) for p in packages] == [(1, "PendingManualApproval")]


def test_steps_carry_status_duration_cache_hit_and_job_arn(clients):
    stub = Stubber(clients.sagemaker)
    start = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    end = datetime(2026, 1, 1, 12, 1, 30, tzinfo=timezone.utc)
    job_arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/train-1"
    stub.add_response(
        "list_pipeline_execution_steps",
        {
            "PipelineExecutionSteps": [
                {
                    "StepName": "Train",
                    "StepStatus": "Succeeded",
                    "StartTime": start,
                    "EndTime": end,
                    "CacheHitResult": {"SourcePipelineExecutionArn": EXECUTION_ARN},
                    "Metadata": {"TrainingJob": {"Arn": job_arn}},
                }
            ]
        },
        {"PipelineExecutionArn": EXECUTION_ARN, "SortOrder": "Ascending"},
    )
    with stub:
        (step,) = list_steps(clients, EXECUTION_ARN)

    assert (step.status, step.seconds, step.cache_source, step.job_arn) == (
        "Succeeded",
        90.0,
        EXECUTION_ARN,
        job_arn,
    )


def test_stop_asks_sagemaker_to_stop_the_execution(clients):
    stub = Stubber(clients.sagemaker)
    stub.add_response(
        "stop_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION_ARN},
        {"PipelineExecutionArn": EXECUTION_ARN},
    )
    with stub:
        stop_execution(clients, EXECUTION_ARN)
    stub.assert_no_pending_responses()


def test_console_url_names_region_pipeline_and_execution():
    assert console_url(EXECUTION_ARN) == (
        "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
        "#/pipelines/testpipeline/executions/abc123"
    )



def test_list_follows_pages_up_to_the_limit(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)
    arns = [start_execution(clients, "TestPipeline") for _ in range(3)]

    listed = list_executions(clients, "TestPipeline", limit=2)

    assert len(listed) == 2 and {summary.arn for summary in listed} <= set(arns)


def test_pipeline_names_are_listed(clients, built):
    upsert_pipeline(clients, built, ROLE_ARN)

    assert list_pipeline_names(clients) == ["TestPipeline"]
