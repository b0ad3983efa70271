"""`run --target sagemaker`: build, validate, check overrides, upload, upsert and start, in that order.

Nothing reaches AWS before the definition validated offline and every --parameter override matched
a declared parameter of the right type. `diff_with_deployed` builds the definition the same way and
compares it with the deployed one.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbuild.errors import BadParameterValueError, UsageError
from modelbuild.sagemaker_target.aws import AwsClients, make_clients, translate_aws_errors
from modelbuild.sagemaker_target.executions import console_url, start_execution
from modelbuild.sagemaker_target.upsert import upsert_pipeline

_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/")


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
    module_file: str = ""

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
            "module_file": self.module_file,
            "warnings": list(self.warnings),
        }


def sagemaker_kwargs(module_name: str | None, kwargs: Mapping[str, Any] | None, role_arn: str | None,
                     region: str | None = None) -> dict[str, Any]:
    """The kwargs to build with for SageMaker: the user's, plus `region`, `role` and `default_bucket` when absent.

    The offline build would otherwise write a placeholder role and bucket into the definition, and
    take the region from the environment only (not from the AWS profile the clients use). When
    `get_pipeline` accepts them and the user gave none, `region` is `region` (the clients'),
    `role` is the pipeline's role (as the AWS seed's buildspec passes it twice) and `default_bucket`
    the SDK's default bucket, `sagemaker-{region}-{account}`, with the account read from the role's
    ARN: no AWS call.

    Raises:
        ModuleLoadError: the module cannot be imported.
    """
    from modelbuild.definition.loader import load_pipeline_module
    from modelbuild.definition.offline import region_environment, resolve_region

    result = dict(kwargs or {})
    # A module that imports the SDK at module level needs a region botocore sees (AWS_DEFAULT_REGION)
    # to be imported at all, even when the region came from --kwargs or AWS_REGION alone.
    with region_environment(result.get("region") or region or resolve_region(result)):
        parameters = inspect.signature(load_pipeline_module(module_name).factory).parameters
    match = _ROLE_ACCOUNT.match(role_arn or "")
    if "region" in parameters and result.get("region") is None and region:
        result["region"] = region
    if "role" in parameters and result.get("role") is None and role_arn:
        result["role"] = role_arn
    if "default_bucket" in parameters and result.get("default_bucket") is None and match:
        bucket_region = result.get("region") or region or resolve_region(result)
        result["default_bucket"] = f"sagemaker-{bucket_region}-{match.group(1)}"
    return result


def ensure_bucket(clients: AwsClients, bucket: str) -> bool:
    """Create the SDK's default bucket when it does not exist, as the SDK does; True when created."""
    import botocore.exceptions

    with translate_aws_errors(f"checking bucket {bucket!r}"):
        try:
            clients.s3.head_bucket(Bucket=bucket)
            return False
        except botocore.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket", "NotFound"):
                raise
        location = {} if clients.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": clients.region}
        }
        clients.s3.create_bucket(Bucket=bucket, **location)
        return True


def run_on_sagemaker(
    module_name: str | None,
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
    names a `sagemaker_project_name` (as the AWS seed does); failing to read them is a warning.

    Args:
        module_name: pipeline module with get_pipeline(**kwargs); None for the project's default.
        kwargs: keyword arguments for get_pipeline (`role` and `default_bucket` are filled in
            when absent, see `sagemaker_kwargs`).
        role_arn: the IAM role the pipeline runs as.
        description: the pipeline's description.
        tags: tags for the pipeline.
        parameters: raw NAME -> text overrides for this execution.
        execution_name: the execution's display name.
        execution_description: the execution's description.
        max_parallel_steps: the pipeline's ParallelismConfiguration.

    Raises:
        UsageError: no role was given.
        DefinitionError: the definition has problems (all are listed).
        BadParameterValueError: an override names no parameter or has a bad value.
        AwsError: no region is configured (checked before building), or an AWS call failed.
    """
    from modelbuild.definition.build import build_definition
    from modelbuild.definition.dsl import parse_definition, resolve_parameters
    from modelbuild.definition.validate import raise_for_problems, validate_definition

    require_role(role_arn)
    # No AWS call yet: this reads the region from --kwargs, AWS_REGION / AWS_DEFAULT_REGION or the profile.
    clients = make_clients((kwargs or {}).get("region"))
    build_kwargs = sagemaker_kwargs(module_name, kwargs, role_arn, clients.region)
    built = build_definition(module_name, build_kwargs)
    raise_for_problems(validate_definition(built.definition, target="sagemaker", role_arn=role_arn))
    typed = resolve_parameters(parse_definition(built.definition), parameters)
    overrides = {name: typed[name] for name in parameters or {}}
    # e.g. --parameter ProcessingInstanceType=ml.m5.xxlarge is a fine String but no instance type.
    refused = overrides and validate_definition(built.definition, "sagemaker", role_arn, parameter_values=overrides)
    if refused:
        raise BadParameterValueError(
            "SageMaker would refuse these --parameter values: " + "; ".join(map(str, refused)),
            hint="Use a value the field accepts (the message names it).",
        )
    warnings: list[str] = []
    if build_kwargs.get("default_bucket") and not (kwargs or {}).get("default_bucket"):
        if ensure_bucket(clients, build_kwargs["default_bucket"]):
            warnings.append(f"Created the SageMaker default bucket {build_kwargs['default_bucket']!r}.")
    upserted = upsert_pipeline(
        clients,
        built,
        role_arn=str(role_arn),
        description=description,
        tags=tags,
        project_name=build_kwargs.get("sagemaker_project_name"),
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
        warnings=(*warnings, *upserted.warnings),
        module_file=built.module_file,
    )


def require_role(role_arn: str | None) -> None:
    """UsageError unless a role was given: SageMaker runs a pipeline as an IAM role."""
    if not role_arn:
        raise UsageError(
            "the SageMaker target needs the IAM role the pipeline runs as",
            hint="Pass --role-arn arn:aws:iam::ACCOUNT:role/NAME (in CodeBuild: $SAGEMAKER_PIPELINE_ROLE_ARN).",
        )


def diff_with_deployed(module_name: str | None, kwargs: Mapping[str, Any] | None, role_arn: str | None,
                       pipeline_name: str | None = None,
                       definition_file: str | os.PathLike[str] | None = None) -> tuple[str, Any, str | None]:
    """Build the definition as `run_on_sagemaker` would and compare it with the deployed pipeline.

    Args:
        module_name: pipeline module with get_pipeline(**kwargs); None for the project's default.
        kwargs: keyword arguments for get_pipeline.
        role_arn: the role an upsert would set (also fills in `role` / `default_bucket`).
        pipeline_name: the deployed pipeline to compare with; the built definition's name when None.
        definition_file: compare this definition file instead of building the module (the file's
            name without .json is the pipeline's unless `pipeline_name`).

    Returns:
        (pipeline name, `modelbuild.definition.diff.DefinitionDiff`, the file the module was built from
        or None).

    Raises:
        UsageError, DefinitionError: the definition file cannot be read, or the definition is invalid
            (as `validate`, `graph` and `run` report them), before any AWS call.
        AwsError: DescribePipeline failed for another reason than the pipeline not existing.
    """
    from modelbuild.definition.diff import diff_definitions
    from modelbuild.definition.dsl import parse_definition, read_definition_file
    from modelbuild.sagemaker_target.upsert import describe_deployed

    if definition_file is not None:
        local, name, module_file = read_definition_file(definition_file)[1], Path(definition_file).stem, None
        parse_definition(local)  # an invalid file fails as in validate, graph and run, before any AWS call
    clients = make_clients((kwargs or {}).get("region"))
    if definition_file is None:
        from modelbuild.definition.build import build_definition

        built = build_definition(module_name, sagemaker_kwargs(module_name, kwargs, role_arn, clients.region))
        local, name, module_file = built.definition, built.pipeline_name, built.module_file
        parse_definition(local)
    name = pipeline_name or name
    deployed = describe_deployed(clients, name)
    if deployed is None:
        return name, diff_definitions(None, local), module_file
    definition, deployed_role = deployed
    return name, diff_definitions(definition, local, deployed_role, role_arn), module_file
