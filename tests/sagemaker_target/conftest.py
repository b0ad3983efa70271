"""Fakes and fixtures of the SageMaker target's tests (the moto server itself is in tests/conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import BUCKET, REGION, ROLE_ARN  # noqa: F401 (tests import them from here)

REPO = Path(__file__).resolve().parents[2]


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
    """build_definition, memoised for the session for the repository's reference pipeline (it takes
    ~8 s to build); a test's own module, or one built in another project, is built every time."""
    from modelbuild.definition import build

    real = _BUILDS.setdefault("real", build.build_definition)

    def cached(module_name=None, kwargs=None, project=None):
        if not (module_name or "").startswith("pipelines.") or project is not None or Path.cwd() != REPO:
            return real(module_name, kwargs, project)
        key = (module_name, json.dumps(kwargs or {}, sort_keys=True))
        if key not in _BUILDS:
            _BUILDS[key] = real(module_name, kwargs)
        return _BUILDS[key]

    monkeypatch.setattr(build, "build_definition", cached)
    return cached
