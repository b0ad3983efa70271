"""A project made from AWS's seed, on the SDK v2 it pins, works with modelbuild installed beside it.

The project is `tests/seed_project` (written for these tests in the seed's shape: its own sessions, the role
looked up, the SDK imported at module level, `sagemaker==2.93.0` pinned). For the seed's pin and for the last
2.x release, a venv gets the project and modelbuild's wheel, resolved for real; the SDK pin must not move.
Then, in the project directory, as its buildspec and its users would: the definition builds with every socket
refusing to connect (and no attempt made), twice byte-identical; `validate` is clean; `graph` draws it;
`run --target sagemaker` upserts and starts it on the moto server, with the seed's buildspec kwargs too, and
`diff` then finds nothing to change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench._wheel import build_wheel
from tests.conftest import ROLE_ARN
from tests.definition.test_build import run_without_network

pytestmark = pytest.mark.slow
SEED_PROJECT = Path(__file__).resolve().parents[1] / "seed_project"
SEED_PIN = "sagemaker==2.93.0"
SDK_V2_RELEASES = ["2.93.0", "2.257.7"]  # the seed's pin, and the last 2.x release when this was written
MODULE = "pipelines.churn.pipeline"
STEPS = ["PrepareChurnData", "TrainChurnModel", "EvaluateChurnModel", "CheckChurnLogLoss", "ChurnLogLossTooHigh"]


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without the venv's, AWS's or pip's settings, plus `extra`."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PIP_", "UV_", "AWS_", "MODELBUILD_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=1200,
                            env=env or clean_environment())
    if check:
        assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module", params=SDK_V2_RELEASES)
def seed(request, tmp_path_factory, wheel):
    """(project directory, venv bin directory, SDK version): the seed project pinned to one SDK v2 release,
    installed with modelbuild's wheel in a venv of its own."""
    version = request.param
    root = tmp_path_factory.mktemp(f"sdk-{version}")
    project = root / "project"
    shutil.copytree(SEED_PROJECT, project)
    setup = project / "setup.py"
    setup.write_text(setup.read_text().replace(SEED_PIN, f"sagemaker=={version}"))
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        run([uv, "venv", "--quiet", "--python", sys.executable, str(root / "venv")], cwd=root)
        install = [uv, "pip", "install", "--quiet", "--python", str(root / "venv" / "bin" / "python")]
    else:
        run([sys.executable, "-m", "venv", str(root / "venv")], cwd=root)
        install = [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*install, str(wheel), str(project)], cwd=root)
    return project, root / "venv" / "bin", version


def modelbuild(seed, *args: str, env: dict[str, str] | None = None, check: bool = True):
    project, bin_dir, _ = seed
    return run([str(bin_dir / "modelbuild"), *args], cwd=project, env=env, check=check)


def test_modelbuild_installs_beside_the_pinned_sdk_without_moving_it(seed):
    project, bin_dir, version = seed
    installed = run([str(bin_dir / "python"), "-c", "import importlib.metadata as m; print(m.version('sagemaker'))"],
                    cwd=project)
    assert installed.stdout.strip() == version


def test_the_definition_builds_with_no_connection_attempted(seed):
    project, bin_dir, _ = seed
    body = (
        "from modelbuild.definition.build import build_definition\n"
        "built = build_definition(None, {'region': 'eu-west-1', 'role': None, 'default_bucket': None})"
    )
    assert run_without_network(body, project, python=str(bin_dir / "python")) == {"attempts": [], "steps": 4}


def test_two_builds_are_byte_identical_and_stage_the_code(seed, tmp_path):
    state = ["--state-dir", str(tmp_path / "state")]
    first = modelbuild(seed, "get-definition", "--rebuild", "--kwargs", '{"region": "eu-west-1"}', *state)
    # A buildspec renders unset variables as null: the same as not given.
    second = modelbuild(seed, "get-definition", "--rebuild", *state,
                        "--kwargs", '{"region": "eu-west-1", "role": null, "default_bucket": null}')

    assert first.stdout == second.stdout
    definition = json.loads(first.stdout)
    assert definition["Parameters"][0] == {"Name": "ProcessingInstanceCount", "Type": "Integer", "DefaultValue": 1}
    staged = sorted(path.name for path in (tmp_path / "state" / "s3").rglob("*.py"))
    assert set(staged) == {"preprocess.py", "evaluate.py"}
    project = seed[0]
    for path in (tmp_path / "state" / "s3").rglob("preprocess.py"):
        assert path.read_bytes() == (project / "pipelines" / "churn" / "preprocess.py").read_bytes()
        assert str(path.relative_to(tmp_path / "state" / "s3")) in first.stdout  # where the definition reads it


def test_validate_is_clean_for_both_targets(seed):
    kwargs = ["--kwargs", json.dumps({"region": "us-east-1", "role": ROLE_ARN})]
    local = modelbuild(seed, "validate", *kwargs)
    remote = modelbuild(seed, "validate", "--target", "sagemaker", "--role-arn", ROLE_ARN, *kwargs)

    assert "no problems found" in local.stdout and "no problems found" in remote.stdout


def test_graph_draws_the_seed_pipeline(seed):
    drawn = modelbuild(seed, "graph", "--kwargs", '{"region": "us-east-1"}').stdout
    assert all(step in drawn for step in STEPS), drawn


def test_upsert_and_start_on_sagemaker_with_aws_region_alone(seed, moto_endpoint):
    import boto3

    env = clean_environment(AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing",
                            AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="eu-west-1")
    name = f"Churn-{seed[2].replace('.', '-')}"
    modelbuild(seed, "run", "--target", "sagemaker", "--role-arn", ROLE_ARN, "--kwargs",
               json.dumps({"pipeline_name": name}), env=env)

    sagemaker = boto3.client("sagemaker", region_name="eu-west-1", endpoint_url=moto_endpoint,
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    described = sagemaker.describe_pipeline(PipelineName=name)
    steps = [step["Name"] for step in json.loads(described["PipelineDefinition"])["Steps"]]
    assert steps == STEPS[:4] and described["RoleArn"] == ROLE_ARN
    assert len(sagemaker.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]) == 1
    unchanged = modelbuild(seed, "diff", "--role-arn", ROLE_ARN, "--kwargs", json.dumps({"pipeline_name": name}),
                           "--exit-code", env=env)
    assert name in unchanged.stdout


def test_the_seeds_buildspec_kwargs_upsert_and_start(seed, moto_endpoint):
    """The kwargs the seed's buildspec passes (an unset project ARN rendered as null), the bucket given."""
    import boto3

    env = clean_environment(AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing",
                            AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="artifact-bucket")
    name = f"seed-{seed[2].replace('.', '-')}-churn"
    kwargs = {"region": "us-east-1", "sagemaker_project_arn": None, "role": ROLE_ARN,
              "default_bucket": "artifact-bucket", "pipeline_name": name, "model_package_group_name": name,
              "base_job_prefix": "seed"}
    # (`run-pipeline`, the seed's own command, also waits for the execution: moto cannot list its steps.)
    modelbuild(seed, "run", "--target", "sagemaker", "--module-name", MODULE, "--role-arn", ROLE_ARN,
               "--tags", '[{"Key": "sagemaker:project-name", "Value": "seed"}]', "--kwargs", json.dumps(kwargs),
               env=env)

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="artifact-bucket")["Contents"]]
    assert any(key.endswith("/preprocess.py") for key in keys) and any(key.endswith("/evaluate.py") for key in keys)
