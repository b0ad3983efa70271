"""Upserting a built definition: upload its files to S3, then create or update the pipeline."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelbuild.errors import DefinitionError
from modelbuild.sagemaker_target.aws import AwsClients, error_code, translate_aws_errors


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did.

    Attributes:
        pipeline_arn: the pipeline's ARN.
        created: True when the pipeline did not exist before.
        definition_s3_uri: where the definition went when it was too big to send inline, else None.
        uploaded: the S3 URIs written before the upsert.
        warnings: things that went wrong softly (e.g. the project's tags could not be read).
    """

    pipeline_arn: str
    created: bool
    definition_s3_uri: str | None = None
    uploaded: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key") of "s3://bucket/key"; DefinitionError for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise DefinitionError(f"Not an S3 object URI: {uri!r}", hint="Uploads must look like s3://bucket/key.")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def inline_definition_limit() -> int:
    """The longest definition CreatePipeline accepts inline, from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return int(model.shape_for("PipelineDefinition").metadata["max"])


def upload_files(clients: AwsClients, uploads: Mapping[str, bytes]) -> tuple[str, ...]:
    """Put every upload (S3 URI -> bytes) into S3; returns the URIs in the order written."""
    for uri, body in sorted(uploads.items()):
        bucket, key = split_s3_uri(uri)
        with translate_aws_errors(f"uploading {uri}"):
            clients.s3.put_object(Bucket=bucket, Key=key, Body=body)
    return tuple(sorted(uploads))


def project_tags(clients: AwsClients, project_name: str) -> tuple[list[dict[str, str]], str | None]:
    """The SageMaker project's tags (as the seed adds them), failing soft.

    Returns:
        (tags, warning): the tags, or ([], a one-line warning) when they cannot be read.
    """
    import botocore.exceptions

    try:
        project_arn = clients.sagemaker.describe_project(ProjectName=project_name)["ProjectArn"]
        return list(clients.sagemaker.list_tags(ResourceArn=project_arn)["Tags"]), None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        return [], f"Could not read the tags of SageMaker project {project_name!r}; upserting without them: {exc}"


def merge_tags(*tag_lists: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Tags from all lists, one per key, later lists losing to earlier ones (the user's tags win)."""
    merged: dict[str, str] = {}
    for tags in tag_lists:
        for tag in tags:
            merged.setdefault(tag["Key"], str(tag["Value"]))
    return [{"Key": key, "Value": value} for key, value in merged.items()]


def definition_argument(
    clients: AwsClients, text: str, pipeline_name: str, bucket: str | None
) -> tuple[dict[str, Any], str | None]:
    """The Create/UpdatePipeline argument carrying the definition: inline, or via S3 when too long.

    Returns:
        (argument, s3_uri): {"PipelineDefinition": text} and None, or the S3 location and its URI.
    """
    if len(text) <= inline_definition_limit():
        return {"PipelineDefinition": text}, None
    if not bucket:
        raise DefinitionError(
            f"The definition of {pipeline_name!r} is {len(text)} characters, over SageMaker's inline limit, "
            "and no S3 bucket is known to put it in.",
            hint="""Pass --kwargs '{"default_bucket": "my-bucket"}'.""",
        )
    key = f"{pipeline_name}/definitions/{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    with translate_aws_errors(f"uploading the definition to s3://{bucket}/{key}"):
        clients.s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
    return {"PipelineDefinitionS3Location": {"Bucket": bucket, "ObjectKey": key}}, f"s3://{bucket}/{key}"


def upsert_pipeline(
    clients: AwsClients,
    built: Any,
    role_arn: str,
    description: str | None = None,
    tags: Sequence[Mapping[str, str]] = (),
    project_name: str | None = None,
    max_parallel_steps: int | None = None,
) -> UpsertResult:
    """Upload a built definition's files, then create the pipeline or update it if it exists.

    Args:
        clients: from `make_clients`.
        built: a `modelbuild.definition.build.BuiltDefinition`.
        role_arn: the IAM role the pipeline runs as.
        description: the pipeline's description.
        tags: tags to put on the pipeline (added to an existing pipeline's tags).
        project_name: a SageMaker project whose tags are added too; failing to read them is a warning.
        max_parallel_steps: the pipeline's ParallelismConfiguration, None for the service default.

    Raises:
        AwsError: an AWS call failed.
        DefinitionError: an upload URI is malformed, or a too-long definition has nowhere to go.
    """
    functions = sorted(uri.rsplit("/", 2)[-2] for uri in built.uploads
                       if uri.endswith("/function.json") and "/lambda/" in uri)
    if functions:  # recorded offline for the local engine: nothing has created them on AWS
        raise DefinitionError(
            f"the pipeline defines Lambda function(s) {', '.join(functions)} from a script, which the SageMaker "
            "target does not create yet",
            hint="Create the function in AWS Lambda and give the step Lambda(function_arn=...), or run locally.",
        )
    warnings: list[str] = []
    all_tags = merge_tags(tags)
    if project_name:
        extra, warning = project_tags(clients, project_name)
        all_tags = merge_tags(all_tags, extra)
        warnings += [warning] if warning else []
    uploaded = upload_files(clients, built.uploads)
    buckets = sorted({split_s3_uri(uri)[0] for uri in built.uploads})
    definition, definition_uri = definition_argument(
        clients, built.text, built.pipeline_name, buckets[0] if buckets else None
    )
    common: dict[str, Any] = {"PipelineName": built.pipeline_name, "RoleArn": role_arn, **definition}
    if description:
        common["PipelineDescription"] = description
    if max_parallel_steps:
        common["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": max_parallel_steps}
    import botocore.exceptions

    with translate_aws_errors(f"upserting pipeline {built.pipeline_name!r}"):
        try:
            arn = clients.sagemaker.create_pipeline(**common, Tags=all_tags)["PipelineArn"]
            created = True
        except botocore.exceptions.ClientError as exc:
            if not already_exists(exc):
                raise
            arn = clients.sagemaker.update_pipeline(**common)["PipelineArn"]
            created = False
            if all_tags:
                clients.sagemaker.add_tags(ResourceArn=arn, Tags=all_tags)
    return UpsertResult(arn, created, definition_uri, uploaded, tuple(warnings))


def already_exists(exc: Any) -> bool:
    """True when a CreatePipeline ClientError says the pipeline exists (as the SDK's upsert decides)."""
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return code == "ResourceInUse" or (code == "ValidationException" and "already exists" in message)


def describe_deployed(clients: AwsClients, pipeline_name: str) -> tuple[dict[str, Any], str | None] | None:
    """The deployed pipeline's definition (loaded) and role, or None when no such pipeline exists.

    Raises:
        AwsError: DescribePipeline failed for another reason.
    """
    import json

    import botocore.exceptions

    with translate_aws_errors(f"describing pipeline {pipeline_name!r}"):
        try:
            described = clients.sagemaker.describe_pipeline(PipelineName=pipeline_name)
        except botocore.exceptions.ClientError as exc:
            if not_found(exc):
                return None
            raise
    return json.loads(described["PipelineDefinition"]), described.get("RoleArn")


def not_found(exc: Any) -> bool:
    """True when a Describe* ClientError says the resource does not exist."""
    code, message = error_code(exc), str(exc.response.get("Error", {}).get("Message", ""))
    # SageMaker says ResourceNotFound; moto says ValidationException "Could not find pipeline".
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("Could not find" in message or "does not exist" in message)
    )
