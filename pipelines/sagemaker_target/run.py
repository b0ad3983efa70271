"""`run --target sagemaker`: build, validate, check overrides, upload, upsert and start, in that order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from pipelines.sagemaker_target.aws import make_clients
from pipelines.sagemaker_target.executions import console_url, start_execution
from pipelines.sagemaker_target.upsert import upsert_pipeline


@dataclass(frozen=True)
class StartedExecution:
    """A started execution, for the CLI to print and (with --wait) watch."""

    execution_arn: str
    pipeline_arn: str
    pipeline_name: str
    region: str
    created: bool
    console_url: str
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The start as JSON-ready data."""
        return {
            "event": "started",
            "execution_arn": self.execution_arn,
            "pipeline_arn": self.pipeline_arn,
            "pipeline_name": self.pipeline_name,
            "region": self.region,
            "created": self.created,
            "console_url": self.console_url,
            "warnings": list(self.warnings),
        }


def run_on_sagemaker(
    module_name: str,
    kwargs: Mapping[str, Any] | None,
    role_arn: str | None,
    description: str | None = None,
    tags: Sequence[Mapping[str, str]] = (),
    parameters: Mapping[str, str] | None = None,
    execution_name: str | None = None,
    execution_description: str | None = None,
    max_parallel_steps: int | None = None,
) -> StartedExecution:
    """Build a pipeline module's definition, check it offline, then upsert it and start an execution.

    Nothing reaches AWS before the definition validated and every `parameters` override matched a
    declared parameter of the right type. The SageMaker project's tags are added when `kwargs`
    names a `sagemaker_project_name` (as the AWS seed does).

    Args:
        module_name: pipeline module with get_pipeline(**kwargs).
        kwargs: keyword arguments for get_pipeline.
        role_arn: the IAM role the pipeline runs as.
        description: the pipeline's description.
        tags: tags for the pipeline.
        parameters: raw NAME -> text overrides for this execution.
        execution_name: the execution's display name.
        execution_description: the execution's description.
        max_parallel_steps: the pipeline's ParallelismConfiguration.

    Raises:
        DefinitionError: the definition has problems (all are listed).
        BadParameterValueError: an override names no parameter or has a bad value.
        AwsError: an AWS call failed.
    """
    from pipelines.definition.build import build_definition
    from pipelines.definition.dsl import parse_definition, resolve_parameters
    from pipelines.definition.validate import raise_for_problems, validate_definition

    built = build_definition(module_name, dict(kwargs or {}))
    raise_for_problems(validate_definition(built.definition, target="sagemaker", role_arn=role_arn))
    typed = resolve_parameters(parse_definition(built.definition), parameters)
    overrides = {name: typed[name] for name in parameters or {}}
    clients = make_clients(built.region)
    upserted = upsert_pipeline(
        clients,
        built,
        role_arn=str(role_arn),
        description=description,
        tags=tags,
        project_name=(kwargs or {}).get("sagemaker_project_name"),
        max_parallel_steps=max_parallel_steps,
    )
    execution_arn = start_execution(
        clients, built.pipeline_name, overrides, execution_name, execution_description
    )
    return StartedExecution(
        execution_arn=execution_arn,
        pipeline_arn=upserted.pipeline_arn,
        pipeline_name=built.pipeline_name,
        region=clients.region,
        created=upserted.created,
        console_url=console_url(execution_arn),
        warnings=upserted.warnings,
    )
