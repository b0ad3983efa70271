"""Training step: the built-in XGBoost algorithm image (emulated with the xgboost package) or script mode.

The job directory gets SageMaker's training layout: /opt/ml/input/data/<channel>, /opt/ml/input/config/
{hyperparameters,inputdataconfig,resourceconfig}.json, /opt/ml/model, /opt/ml/output. The model directory
is published as <S3OutputPath>/<TrainingJobName>/output/model.tar.gz, where SageMaker puts it.
"""

from __future__ import annotations

import gzip
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild.local.container import Job, entrypoint_problem, max_runtime
from modelbuild.local.isolation import choose
from modelbuild.local.steps import StepContext, StepFailed, StepResult

XGBOOST_ALGORITHM = "modelbuild.local.algorithms.xgboost_train"
SM_DRIVERS = "/opt/ml/input/data/sm_drivers/"  # SDK v3 ModelTrainer's driver scripts


def input_uris(arguments: Mapping[str, Any]) -> list[str]:
    """The channels' data and, in script mode, the submitted source directory."""
    uris = [c["DataSource"]["S3DataSource"]["S3Uri"] for c in arguments.get("InputDataConfig") or []]
    submit = (arguments.get("HyperParameters") or {}).get("sagemaker_submit_directory")
    return uris + ([json.loads(submit)] if submit and submit.startswith('"') else [submit] if submit else [])


def is_xgboost_image(image: str) -> bool:
    """True for the built-in XGBoost algorithm image (any region, any version)."""
    return "xgboost" in image.rpartition("/")[2].partition(":")[0]


def runs_builtin_algorithm(spec: Mapping[str, Any], hyperparameters: Mapping[str, str]) -> bool:
    """True when the job runs the engine's XGBoost emulation, not user code (script mode, an entrypoint)."""
    image = spec.get("TrainingImage") or spec.get("AlgorithmName") or ""
    user_code = hyperparameters.get("sagemaker_program") or spec.get("ContainerEntrypoint")
    return not user_code and is_xgboost_image(image)


def run(ctx: StepContext) -> StepResult:
    """Train, then publish model.tar.gz (and output.tar.gz when the job wrote output data)."""
    args = ctx.arguments
    job = Job(ctx.job_dir, ctx.log_path, ctx.job_environment)
    hyperparameters = {k: str(v) for k, v in (args.get("HyperParameters") or {}).items()}
    spec = args.get("AlgorithmSpecification") or {}
    read_only = runs_builtin_algorithm(spec, hyperparameters)  # no user code touches the channels
    channels = {}
    for channel in args.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        ctx.store.download(channel["DataSource"]["S3DataSource"]["S3Uri"], job.local(f"/opt/ml/input/data/{name}"),
                           may_share=read_only)
        channels[name] = {
            "TrainingInputMode": channel.get("InputMode") or spec.get("TrainingInputMode") or "File",
            "S3DistributionType": channel["DataSource"]["S3DataSource"].get("S3DataDistributionType")
            or "FullyReplicated", "RecordWrapperType": channel.get("RecordWrapperType") or "None",
            **({"ContentType": channel["ContentType"]} if channel.get("ContentType") else {}),
        }
    config = job.local("/opt/ml/input/config")
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "inputdataconfig.json").write_text(json.dumps(channels))
    (config / "resourceconfig.json").write_text(json.dumps(_resource_config(args)))
    for folder in ("/opt/ml/model", "/opt/ml/output/data", "/opt/ml/code"):
        job.local(folder).mkdir(parents=True, exist_ok=True)
    environment = {**_sm_environment(hyperparameters, channels), **(args.get("Environment") or {}),
                   "TRAINING_JOB_NAME": ctx.job_name, "TRAINING_JOB_ARN": _arn(ctx)}
    job.run(_command(ctx, job, spec, hyperparameters), environment, max_runtime(args))
    output_path = args["OutputDataConfig"]["S3OutputPath"].rstrip("/") + f"/{ctx.job_name}/output"
    _publish_tar(ctx, job.local("/opt/ml/model"), f"{output_path}/model.tar.gz")
    if any(job.local("/opt/ml/output/data").iterdir()):
        _publish_tar(ctx, job.local("/opt/ml/output/data"), f"{output_path}/output.tar.gz")
    return StepResult({
        **args,
        "TrainingJobName": ctx.job_name,
        "TrainingJobArn": _arn(ctx),
        "TrainingJobStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": f"{output_path}/model.tar.gz"},
        "FinalMetricDataList": _final_metrics(job),
    })


def _command(ctx: StepContext, job: Job, spec: Mapping[str, Any], hyperparameters: Mapping[str, str]) -> list[str]:
    program = hyperparameters.get("sagemaker_program", "").strip('"')
    if program:  # script mode: the submitted source directory, run with the hyperparameters as arguments
        submit = hyperparameters.get("sagemaker_submit_directory", "").strip('"')
        code = job.local("/opt/ml/code")
        if submit.startswith("s3://"):
            archive = ctx.store.path(submit)
            with tarfile.open(archive) as sources:
                sources.extractall(code, filter="data")
        return ["python3", str(code / program), *_user_args(hyperparameters)]
    if spec.get("ContainerEntrypoint"):
        return [*spec["ContainerEntrypoint"], *(spec.get("ContainerArguments") or [])]
    image = spec.get("TrainingImage") or spec.get("AlgorithmName") or ""
    if is_xgboost_image(image):
        return ["python3", "-m", XGBOOST_ALGORITHM, str(job.dir / "opt" / "ml"), str(image)]
    raise StepFailed(f"the local engine cannot emulate training image {image!r}")


def unsupported(arguments: Mapping[str, Any]) -> str | None:
    """Why the engine cannot run this training job (an image it cannot emulate), or None."""
    spec = arguments.get("AlgorithmSpecification") or {}
    image = spec.get("TrainingImage") or spec.get("AlgorithmName") or ""
    if any(SM_DRIVERS in str(word) for word in spec.get("ContainerArguments") or []):
        mode = choose()
        if not mode.real_container_paths:  # the drivers are bash scripts that read and cd into /opt/ml
            return (f"SDK v3 ModelTrainer source code runs the SDK's sm_drivers scripts, which need /opt/ml itself; "
                    f"jobs here run in isolation mode {mode.note.partition(':')[0]}")
        return None
    if spec.get("ContainerEntrypoint"):
        return entrypoint_problem([*spec["ContainerEntrypoint"], *(spec.get("ContainerArguments") or [])])
    if "sagemaker_program" in (arguments.get("HyperParameters") or {}):
        return None
    if isinstance(image, str) and not is_xgboost_image(image):
        return (f"training image {image!r} is not emulated (the built-in XGBoost algorithm and script mode "
                "with sagemaker_program are)")
    return None


def _arn(ctx: StepContext) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:000000000000:training-job/{ctx.job_name}"


def _resource_config(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """resourceconfig.json as SageMaker writes it for a one-instance job (the SDK's drivers read all of it)."""
    instance_type = (arguments.get("ResourceConfig") or {}).get("InstanceType") or "ml.m5.large"
    return {"current_host": "algo-1", "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster", "hosts": ["algo-1"],
            "instance_groups": [{"instance_group_name": "homogeneousCluster", "instance_type": instance_type,
                                 "hosts": ["algo-1"]}],
            "network_interface_name": "eth0"}


def _sm_environment(hyperparameters: Mapping[str, str], channels: Mapping[str, Any]) -> dict[str, str]:
    """The SM_* environment contract of SageMaker's training toolkit."""
    user = {k: _maybe_json(v) for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    env = {
        "SM_MODEL_DIR": "/opt/ml/model", "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_OUTPUT_DIR": "/opt/ml/output", "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config", "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(user), "SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1",
        "SM_NUM_GPUS": "0", "SM_NUM_CPUS": str(os.cpu_count() or 1), "SM_MODULE_DIR": "/opt/ml/code",
        "SM_USER_ARGS": json.dumps(_user_args(hyperparameters)),
        "SM_TRAINING_ENV": json.dumps({"hyperparameters": user, "channel_input_dirs": {
            c: f"/opt/ml/input/data/{c}" for c in channels}, "model_dir": "/opt/ml/model"}),
    }
    env.update({f"SM_CHANNEL_{c.upper()}": f"/opt/ml/input/data/{c}" for c in channels})
    env.update({f"SM_HP_{k.upper()}": str(v) if not isinstance(v, str) else v for k, v in user.items()})
    return env


def _user_args(hyperparameters: Mapping[str, str]) -> list[str]:
    """The script's arguments as the training toolkit builds them: --name value, per user hyperparameter."""
    words = []
    for key, text in hyperparameters.items():
        if not key.startswith("sagemaker_"):
            value = _maybe_json(text)
            words += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return words


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _publish_tar(ctx: StepContext, folder: Path, uri: str) -> None:
    fd, temp = tempfile.mkstemp(suffix=".tar.gz", dir=ctx.job_dir)
    os.close(fd)
    # Fixed timestamps: the same model gives the same bytes, so downstream cache keys see "unchanged".
    with gzip.GzipFile(temp, "wb", compresslevel=1, mtime=0) as raw, tarfile.open(fileobj=raw, mode="w") as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = archive.gettarinfo(path, arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as stream:
                archive.addfile(info, stream)
    ctx.store.upload_file(Path(temp), uri)


def _final_metrics(job: Job) -> list[dict[str, Any]]:
    metrics = job.local("/opt/ml/output/metrics.json")
    if not metrics.is_file():
        return []
    return [{"MetricName": k, "Value": v} for k, v in json.loads(metrics.read_text()).items()]
