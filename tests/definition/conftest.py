"""Definitions for the definition-layer tests: small dicts built here, and the reference pipeline's."""

from __future__ import annotations

import copy
import functools
import sys
from pathlib import Path

import pytest

ROLE_ARN = "arn:aws:iam::123456789012:role/PipelineRole"
S3_URI = "S3Output.S3Uri"
EXECUTION_ID = "Execution.PipelineExecutionId"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.2-1"


@functools.cache
def _reference():
    from modelbuild.definition.build import build_definition

    return build_definition("pipelines.abalone.pipeline", {"region": "us-east-1"})


def reference_built():
    """The reference (abalone) pipeline's BuiltDefinition, built once per test session (~8 s)."""
    return _reference()


@pytest.fixture(scope="session")
def reference():
    """The reference pipeline's definition, as a fresh copy for each test."""
    return reference_built()


@pytest.fixture(scope="session")
def abalone():
    """The reference pipeline's BuiltDefinition (us-east-1), built once per session."""
    return reference_built()


@pytest.fixture
def write_module(tmp_path, monkeypatch):
    """Write a module into a fresh package on sys.path; returns a function (name, source) -> dotted name."""
    import sys

    package = f"modules_{tmp_path.name.replace('-', '_')}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> str:
        (tmp_path / package / f"{name}.py").write_text(source)
        return f"{package}.{name}"

    yield write
    for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[module]


TINY_MODULE = """
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.pipeline import Pipeline


def get_pipeline(region, role=None, default_bucket=None, pipeline_name="Tiny", sagemaker_session=None):
    return Pipeline(name=pipeline_name, steps=[FailStep(name="Stop", error_message=region)],
                    sagemaker_session=sagemaker_session)
"""


@pytest.fixture
def tiny_module(write_module):
    """A module whose pipeline "Tiny" is one Fail step carrying the region it was built for."""
    return write_module("tiny", TINY_MODULE)


PROJECT_MODULE = "flows.tiny.pipeline"
PROJECT_PIPELINE = '''"""A tiny pipeline that reads what real ones do: a data file it uploads, a file beside the
project, an environment variable. It runs locally: its one Condition step passes."""

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None, least=1):
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    data = sagemaker_session.upload_data(str(HERE / "data" / "sample.csv"), bucket=default_bucket, key_prefix="tiny")
    name = json.loads((HERE.parents[1] / "settings.json").read_text())["name"] + os.environ.get("TINY_SUFFIX", "")
    count = ParameterInteger(name="Count", default_value=1)
    check = ConditionStep(name="Check", conditions=[ConditionGreaterThanOrEqualTo(left=count, right=least)],
                          if_steps=[], else_steps=[FailStep(name="TooFew", error_message="Count is too low")])
    return Pipeline(name=name, parameters=[count, ParameterString(name="Data", default_value=data)], steps=[check],
                    sagemaker_session=sagemaker_session)
'''


def write_project(root: Path) -> Path:
    """Write a project whose setup.cfg names `flows.tiny.pipeline` (PROJECT_PIPELINE) into `root`:

        setup.cfg  settings.json  flows/__init__.py  flows/tiny/{__init__.py, pipeline.py, data/sample.csv}
    """
    package = root / "flows" / "tiny"
    (package / "data").mkdir(parents=True)
    (root / "setup.cfg").write_text(f"[tool:modelbuild]\npipeline = {PROJECT_MODULE}\n")
    (root / "settings.json").write_text('{"name": "Tiny"}')
    (root / "flows" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "pipeline.py").write_text(PROJECT_PIPELINE)
    (package / "data" / "sample.csv").write_text("1,2\n3,4\n")
    return root


def forget_project_modules() -> None:
    """Drop `flows` and its modules from sys.modules, as a new process starts without them."""
    for name in [name for name in sys.modules if name == "flows" or name.startswith("flows.")]:
        del sys.modules[name]


@pytest.fixture
def tiny_project(tmp_path):
    """A project holding PROJECT_PIPELINE (see `write_project`), its modules not imported yet."""
    forget_project_modules()
    yield write_project(tmp_path / "project")
    forget_project_modules()


def processing(name: str, outputs: tuple[str, ...] = ("evaluation",), **extra) -> dict:
    """A Processing step as the SDK writes it, with the given output names."""
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {"ImageUri": IMAGE},
            "RoleArn": ROLE_ARN,
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": output,
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": f"s3://bucket/{output}",
                            "LocalPath": f"/opt/ml/processing/{output}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for output in outputs
                ]
            },
        },
        **extra,
    }


def _gated_pipeline() -> dict:
    evaluate = processing(
        "Evaluate",
        PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "report.json"}],
    )
    publish = processing("Publish", outputs=("published",))
    publish["Arguments"]["ProcessingInputs"] = [
        {
            "InputName": "report",
            "AppManaged": False,
            "S3Input": {
                "S3Uri": {"Get": f"Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].{S3_URI}"},
                "LocalPath": "/opt/ml/processing/input",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
            },
        }
    ]
    publish["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = {
        "Get": "Parameters.InstanceCount"
    }
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "InstanceCount", "Type": "Integer", "DefaultValue": 1},
            {"Name": "MseThreshold", "Type": "Float", "DefaultValue": 6.0},
            {"Name": "Stage", "Type": "String", "DefaultValue": "dev", "EnumValues": ["dev", "prod"]},
        ],
        "PipelineExperimentConfig": {},
        "Steps": [
            evaluate,
            {
                "Name": "CheckMse",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "LessThanOrEqualTo",
                            "LeftValue": {
                                "Std:JsonGet": {
                                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"},
                                    "Path": "mse",
                                }
                            },
                            "RightValue": {"Get": "Parameters.MseThreshold"},
                        }
                    ],
                    "IfSteps": [publish],
                    "ElseSteps": [
                        {
                            "Name": "MseTooHigh",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {"On": " ", "Values": ["run", {"Get": EXECUTION_ID}]}
                                }
                            },
                        }
                    ],
                },
            },
        ],
    }


@pytest.fixture
def gated_evaluation():
    """Evaluate -> CheckMse (JsonGet on Evaluate's report <= MseThreshold) -> Publish | MseTooHigh (Fail)."""
    return copy.deepcopy(_gated_pipeline())
