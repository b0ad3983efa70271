"""A moto server on 127.0.0.1 for the whole session; each test gets fresh state and fake credentials."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field

import pytest

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/PipelineRole"
BUCKET = "modelbuild-test-bucket"


@pytest.fixture(scope="session")
def moto_endpoint():
    """The URL of a moto server started for this test session (nothing reaches the internet)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Point every boto3 client at the moto server with fake credentials, on a reset backend."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    return moto_endpoint


@pytest.fixture
def clients(aws):
    """SageMaker and S3 clients on the moto server, with the test bucket created."""
    from pipelines.sagemaker_target.aws import make_clients

    made = make_clients()
    made.s3.create_bucket(Bucket=BUCKET)
    return made


@dataclass(frozen=True)
class FakeBuilt:
    """Stands in for BuiltDefinition: the same five attributes."""

    definition: dict
    uploads: dict = field(default_factory=dict)
    pipeline_name: str = "TestPipeline"
    region: str = REGION

    @property
    def text(self) -> str:
        return json.dumps(self.definition)


def processing_step(name: str, code_uri: str = f"s3://{BUCKET}/code/preprocess.py") -> dict:
    """A minimal ProcessingStep as the SDK writes it."""
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.2-1",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
            },
            "RoleArn": ROLE_ARN,
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "AppManaged": False,
                    "S3Input": {
                        "S3Uri": code_uri,
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
            ],
        },
    }


def two_step_definition(code_uri: str = f"s3://{BUCKET}/code/preprocess.py") -> dict:
    """Two processing steps, the second after the first, and two parameters."""
    second = processing_step("Second")
    second["DependsOn"] = ["First"]
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "InstanceCount", "Type": "Integer", "DefaultValue": 1},
            {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"},
        ],
        "PipelineExperimentConfig": {},
        "Steps": [processing_step("First", code_uri), second],
    }


@pytest.fixture
def built():
    """A small built definition with one upload."""
    return FakeBuilt(two_step_definition(), {f"s3://{BUCKET}/code/preprocess.py": b"print('hi')\n"})


ACCOUNT_BUCKET = "sagemaker-us-east-1-123456789012"  # the SDK's default bucket for ROLE_ARN's account
_BUILDS: dict = {}


@pytest.fixture
def cached_builds(monkeypatch):
    """build_definition, memoised for the session for modules of the package (the reference pipeline
    takes ~8 s to build); a test's own module is built every time, so it can change between builds."""
    from pipelines.definition import build

    real = _BUILDS.setdefault("real", build.build_definition)

    def cached(module_name, kwargs=None):
        if not module_name.startswith("pipelines."):
            return real(module_name, kwargs)
        key = (module_name, json.dumps(kwargs or {}, sort_keys=True))
        if key not in _BUILDS:
            _BUILDS[key] = real(module_name, kwargs)
        return _BUILDS[key]

    monkeypatch.setattr(build, "build_definition", cached)
    return cached
