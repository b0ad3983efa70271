"""Transform step: batch transform with a model the engine can serve (the built-in XGBoost image).

Supports what the built-in algorithm's batch transform does with CSV: ContentType text/csv, SplitType
Line, one `<input>.out` per input file under TransformOutput.S3OutputPath, keeping the input's path
relative to its prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelbuild.local.container import Job
from modelbuild.local.steps import StepContext, StepFailed, StepResult
from modelbuild.local.steps.training import is_xgboost_image

XGBOOST_TRANSFORM = "modelbuild.local.algorithms.xgboost_transform"
CSV = "text/csv"


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """The data to transform and (after `cache_arguments`) the model artifact."""
    source = ((arguments.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource") or {}
    model = arguments.get("ModelName")
    uris = [source.get("S3Uri")]
    if isinstance(model, Mapping):
        uris.append(model.get("ModelDataUrl"))
    return uris


def cache_arguments(arguments: Mapping[str, Any], registry: Any) -> dict[str, Any]:
    """The arguments with ModelName replaced by what the model is (a new name per execution must not miss)."""
    return {**arguments, "ModelName": registry.model(arguments.get("ModelName")) or arguments.get("ModelName")}


def run(ctx: StepContext) -> StepResult:
    """Run the batch transform job."""
    args = ctx.arguments
    model = ctx.registry.model(args.get("ModelName"))
    if model is None:
        raise StepFailed(f"no model named {args.get('ModelName')!r} was created locally (add a Model step)")
    if not is_xgboost_image(model.get("Image") or ""):
        raise StepFailed(f"the local engine cannot serve image {model.get('Image')!r} (only built-in XGBoost)")
    transform_input = args.get("TransformInput") or {}
    content_type = transform_input.get("ContentType") or CSV
    split_type = transform_input.get("SplitType") or "None"
    if content_type != CSV or split_type != "Line":
        raise StepFailed(f"local batch transform needs ContentType {CSV} and SplitType Line, "
                         f"got {content_type} and {split_type}")
    job = Job(ctx.job_dir, ctx.log_path, ctx.job_environment)
    data_uri = transform_input["DataSource"]["S3DataSource"]["S3Uri"]
    # The engine's own transform only reads its inputs, so they may be links to the store's files.
    ctx.store.download(data_uri, job.local("/opt/ml/transform/input"), may_share=True)
    ctx.store.download(model["ModelDataUrl"], job.local("/opt/ml/model"), may_share=True)
    job.local("/opt/ml/transform/output").mkdir(parents=True)
    archive = job.local("/opt/ml/model") / model["ModelDataUrl"].rstrip("/").rpartition("/")[2]
    job.run(["python3", "-m", XGBOOST_TRANSFORM, str(archive), "/opt/ml/transform/input", "/opt/ml/transform/output"])
    output = args["TransformOutput"]["S3OutputPath"]
    job.collect(ctx.store, "/opt/ml/transform/output", output)
    return StepResult({
        **args,
        "TransformJobName": ctx.job_name,
        "TransformJobArn": f"arn:aws:sagemaker:{ctx.region}:000000000000:transform-job/{ctx.job_name.lower()}",
        "TransformJobStatus": "Completed",
    })
