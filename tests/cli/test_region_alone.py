"""AWS_REGION alone, or --kwargs' region alone, is enough for a module that imports the SDK at module level.

botocore reads only AWS_DEFAULT_REGION, and importing SDK v3's `sagemaker.mlops` needs a region: the module
must be imported with the region the command found. Each case runs in a fresh `modelbuild` process (in
this one the SDK is imported already) against the moto server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.conftest import ROLE_ARN

MODULE_LEVEL_IMPORTS = '''
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.pipeline import Pipeline


def get_pipeline(region, role=None, default_bucket=None, pipeline_name="RegionAlone", sagemaker_session=None):
    return Pipeline(name=pipeline_name, steps=[FailStep(name="Stop", error_message=region)],
                    sagemaker_session=sagemaker_session)
'''


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "__init__.py").write_text("")
    (root / "flows" / "pipeline.py").write_text(MODULE_LEVEL_IMPORTS)
    (root / "setup.cfg").write_text("[tool:modelbuild]\npipeline = flows.pipeline\n")
    return root


@pytest.mark.parametrize("region_from", ["AWS_REGION", "--kwargs"])
def test_run_on_sagemaker_with_the_region_given_once(project, moto_endpoint, region_from):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    name = f"RegionFrom{region_from.strip('-').title().replace('_', '')}"
    kwargs = {"pipeline_name": name}
    if region_from == "AWS_REGION":
        env["AWS_REGION"] = "eu-west-2"
    else:
        kwargs["region"] = "eu-west-2"
    modelbuild = Path(sys.executable).parent / "modelbuild"
    result = subprocess.run([str(modelbuild), "run", "--target", "sagemaker", "--role-arn", ROLE_ARN,
                             "--kwargs", json.dumps(kwargs)], cwd=project, env=env, capture_output=True, text=True,
                            timeout=600, check=False)

    assert result.returncode == 0, result.stderr[-2000:]
    sagemaker = boto3.client("sagemaker", region_name="eu-west-2", endpoint_url=moto_endpoint,
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    definition = json.loads(sagemaker.describe_pipeline(PipelineName=name)["PipelineDefinition"])
    assert definition["Steps"][0]["Arguments"]["ErrorMessage"] == "eu-west-2"
