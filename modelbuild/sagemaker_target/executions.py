"""Starting, describing, listing and stopping pipeline executions, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelbuild.sagemaker_target.aws import AwsClients, translate_aws_errors

TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "Stopped", "CompletedWithFailures"})


@dataclass(frozen=True)
class StepState:
    """One step of an execution as ListPipelineExecutionSteps reports it.

    Attributes:
        name: the step's name.
        status: Starting, Executing, Stopping, Stopped, Failed or Succeeded.
        started / ended: timestamps, None until known.
        cache_source: the execution ARN whose result was reused (a cache hit), else None.
        failure_reason: why it failed, else None.
        job_arn: the ARN of the job/model/package the step made (from its metadata), else None.
        attempts: how many times it ran.
    """

    name: str
    status: str
    started: datetime | None = None
    ended: datetime | None = None
    cache_source: str | None = None
    failure_reason: str | None = None
    job_arn: str | None = None
    attempts: int | None = None

    @property
    def seconds(self) -> float | None:
        """How long the step ran, None until it ended."""
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """The state as JSON-ready data."""
        return {
            "step": self.name,
            "status": self.status,
            "started": self.started.isoformat() if self.started else None,
            "ended": self.ended.isoformat() if self.ended else None,
            "seconds": self.seconds,
            "cache_source": self.cache_source,
            "failure_reason": self.failure_reason,
            "job_arn": self.job_arn,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class ExecutionSummary:
    """One execution: its ARN, status, times and (when described) parameters."""

    arn: str
    status: str
    started: datetime | None = None
    display_name: str | None = None
    description: str | None = None
    failure_reason: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "arn": self.arn,
            "status": self.status,
            "started": self.started.isoformat() if self.started else None,
            "display_name": self.display_name,
            "description": self.description,
            "failure_reason": self.failure_reason,
            "parameters": dict(self.parameters),
        }


def console_url(execution_arn: str) -> str:
    """The AWS console page of an execution (arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID)."""
    parts = execution_arn.split(":", 5)
    region = parts[3] if len(parts) > 3 else ""
    resource = parts[5] if len(parts) > 5 else ""
    _, name, _, execution_id = ([*resource.split("/"), "", "", "", ""])[:4]
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/pipelines/{name}/executions/{execution_id}"
    )


def start_execution(
    clients: AwsClients,
    pipeline_name: str,
    parameters: Mapping[str, Any] | None = None,
    execution_name: str | None = None,
    description: str | None = None,
) -> str:
    """Start an execution and return its ARN.

    Args:
        clients: from `make_clients`.
        pipeline_name: the (upserted) pipeline.
        parameters: overrides NAME -> value, already checked against the definition.
        execution_name: the execution's display name.
        description: the execution's description.

    Raises:
        AwsError: the call failed.
    """
    request: dict[str, Any] = {"PipelineName": pipeline_name}
    if parameters:
        request["PipelineParameters"] = [
            {"Name": name, "Value": parameter_text(value)} for name, value in parameters.items()
        ]
    if execution_name:
        request["PipelineExecutionDisplayName"] = execution_name
    if description:
        request["PipelineExecutionDescription"] = description
    with translate_aws_errors(f"starting pipeline {pipeline_name!r}"):
        return clients.sagemaker.start_pipeline_execution(**request)["PipelineExecutionArn"]


def parameter_text(value: Any) -> str:
    """A parameter value as StartPipelineExecution wants it: text, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_steps(clients: AwsClients, execution_arn: str) -> list[StepState]:
    """The execution's steps, oldest first."""
    with translate_aws_errors(f"listing the steps of {execution_arn}"):
        paginator = clients.sagemaker.get_paginator("list_pipeline_execution_steps")
        raw = [
            step
            for page in paginator.paginate(PipelineExecutionArn=execution_arn, SortOrder="Ascending")
            for step in page.get("PipelineExecutionSteps", [])
        ]
    return [step_state(step) for step in raw]


def step_state(step: Mapping[str, Any]) -> StepState:
    """A StepState from one ListPipelineExecutionSteps entry."""
    return StepState(
        name=step["StepName"],
        status=step.get("StepStatus", "Starting"),
        started=step.get("StartTime"),
        ended=step.get("EndTime"),
        cache_source=(step.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn"),
        failure_reason=step.get("FailureReason"),
        job_arn=metadata_arn(step.get("Metadata") or {}),
        attempts=step.get("AttemptCount"),
    )


def metadata_arn(metadata: Mapping[str, Any]) -> str | None:
    """The ARN a step made, from its Metadata ({"TrainingJob": {"Arn": ...}} and alike)."""
    for value in metadata.values():
        if isinstance(value, Mapping) and isinstance(value.get("Arn"), str):
            return value["Arn"]
    return None


def describe_execution(clients: AwsClients, execution_arn: str) -> ExecutionSummary:
    """The execution's status, times and parameters."""
    with translate_aws_errors(f"describing {execution_arn}"):
        described = clients.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        parameters = clients.sagemaker.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=execution_arn
        ).get("PipelineParameters", [])
    return ExecutionSummary(
        arn=execution_arn,
        status=described["PipelineExecutionStatus"],
        started=described.get("CreationTime"),
        display_name=described.get("PipelineExecutionDisplayName"),
        description=described.get("PipelineExecutionDescription"),
        failure_reason=described.get("FailureReason") or None,
        parameters=tuple((p["Name"], p["Value"]) for p in parameters),
    )


def list_executions(clients: AwsClients, pipeline_name: str, limit: int = 20) -> list[ExecutionSummary]:
    """The pipeline's most recent executions, newest first."""
    # The API returns at most 100 per call; the paginator follows NextToken up to `limit`.
    with translate_aws_errors(f"listing the executions of {pipeline_name!r}"):
        paginator = clients.sagemaker.get_paginator("list_pipeline_executions")
        pages = paginator.paginate(
            PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Descending",
            PaginationConfig={"MaxItems": limit, "PageSize": min(limit, 100)},
        )
        summaries = [summary for page in pages for summary in page.get("PipelineExecutionSummaries", [])]
    return [
        ExecutionSummary(
            arn=summary["PipelineExecutionArn"],
            status=summary.get("PipelineExecutionStatus", "Unknown"),
            started=summary.get("StartTime"),
            display_name=summary.get("PipelineExecutionDisplayName"),
            description=summary.get("PipelineExecutionDescription"),
            failure_reason=summary.get("PipelineExecutionFailureReason") or None,
        )
        for summary in summaries[:limit]
    ]


def stop_execution(clients: AwsClients, execution_arn: str) -> None:
    """Ask SageMaker to stop an execution (it goes Stopping, then Stopped)."""
    with translate_aws_errors(f"stopping {execution_arn}"):
        clients.sagemaker.stop_pipeline_execution(PipelineExecutionArn=execution_arn)


def list_model_packages(clients: AwsClients, group_name: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest model packages of a model package group (what RegisterModel steps produced)."""
    with translate_aws_errors(f"listing model packages of {group_name!r}"):
        response = clients.sagemaker.list_model_packages(
            ModelPackageGroupName=group_name, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
        )
    return [
        {
            "arn": package["ModelPackageArn"],
            "version": package.get("ModelPackageVersion"),
            "status": package.get("ModelPackageStatus"),
            "approval": package.get("ModelApprovalStatus"),
            "created": package["CreationTime"].isoformat() if package.get("CreationTime") else None,
        }
        for package in response.get("ModelPackageSummaryList", [])
    ]


def list_pipeline_names(clients: AwsClients, limit: int = 50) -> list[str]:
    """The names of the region's pipelines, most recently created first."""
    with translate_aws_errors("listing pipelines"):
        response = clients.sagemaker.list_pipelines(SortBy="CreationTime", SortOrder="Descending", MaxResults=limit)
    return [summary["PipelineName"] for summary in response.get("PipelineSummaries", [])]
