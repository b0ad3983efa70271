"""Processing step: inputs materialised under /opt/ml/processing, the entrypoint run, outputs uploaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelbuild.local.container import Job, entrypoint_problem, max_runtime
from modelbuild.local.steps import StepContext, StepFailed, StepResult


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """The S3 URIs of the job's inputs (code and data)."""
    return [item.get("S3Input", {}).get("S3Uri") for item in arguments.get("ProcessingInputs") or []]


def unsupported(arguments: Mapping[str, Any]) -> str | None:
    """A job without ContainerEntrypoint runs its image's own entrypoint, which cannot be emulated."""
    app = arguments.get("AppSpecification") or {}
    if not app.get("ContainerEntrypoint"):
        return (f"image {app.get('ImageUri')!r} runs its own entrypoint, which the local engine cannot emulate "
                "(give the job a ContainerEntrypoint, e.g. ['python3', '<script>'])")
    return entrypoint_problem([*app["ContainerEntrypoint"], *(app.get("ContainerArguments") or [])])


def run(ctx: StepContext) -> StepResult:
    """Run the processing job."""
    args = ctx.arguments
    job = Job(ctx.job_dir, ctx.log_path, ctx.job_environment)
    for item in args.get("ProcessingInputs") or []:
        source = item.get("S3Input")
        if not source:
            raise StepFailed(f"input {item.get('InputName')!r}: only S3Input is supported locally")
        if source.get("S3DataType") == "ManifestFile":
            raise StepFailed(f"input {item.get('InputName')!r}: ManifestFile inputs are not supported locally")
        ctx.store.download(source["S3Uri"], job.local(source["LocalPath"]))
    outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    for item in outputs:
        job.local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
    app = args.get("AppSpecification") or {}
    job.run([*(app.get("ContainerEntrypoint") or []), *(app.get("ContainerArguments") or [])],
            args.get("Environment"), max_runtime(args))
    for item in outputs:
        job.collect(ctx.store, item["S3Output"]["LocalPath"], item["S3Output"]["S3Uri"])
    return StepResult({
        **args,
        "ProcessingJobName": ctx.job_name,
        "ProcessingJobArn": f"arn:aws:sagemaker:{ctx.region}:000000000000:processing-job/{ctx.job_name}",
        "ProcessingJobStatus": "Completed",
    })
