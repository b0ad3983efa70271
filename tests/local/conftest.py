"""Synthetic definitions as plain dicts, and a state directory with their scripts in the local store.

Steps are built by small helpers (`processing`, `condition`, ...) so each fixture reads as the shape of
its pipeline. Processing scripts are staged at `s3://bucket/code/<name>.py`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from modelbuild.local.engine import PipelineSource, run_pipeline
from modelbuild.local.state import StateDir
from modelbuild.local.store import ObjectStore

BUCKET = "s3://bucket"
CODE_DIR = "/opt/ml/processing/input/code"
OUT_DIR = "/opt/ml/processing/output"
IN_DIR = "/opt/ml/processing/input/data"


def code_uri(script: str) -> str:
    return f"{BUCKET}/code/{script}.py"


def output_uri(step: str) -> dict:
    """Where a step's output goes: per execution, as the SDK writes it."""
    return {"Std:Join": {"On": "/", "Values": [BUCKET, "runs", {"Get": "Execution.PipelineExecutionId"}, step]}}


def output_of(step: str, name: str = "out") -> dict:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}


def processing(name: str, script: str, inputs: dict[str, Any] | None = None, *, args: list | None = None,
               depends_on: list[str] | None = None, **extra: Any) -> dict:
    """A Processing step running code_uri(script) with `inputs` (name -> S3 URI expression) and one output."""
    step_inputs = [
        {"InputName": key, "S3Input": {"S3Uri": uri, "LocalPath": f"{IN_DIR}/{key}", "S3DataType": "S3Prefix"}}
        for key, uri in (inputs or {}).items()
    ]
    step_inputs.append(
        {"InputName": "code", "S3Input": {"S3Uri": code_uri(script), "LocalPath": CODE_DIR, "S3DataType": "S3Prefix"}}
    )
    step = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
                "ContainerEntrypoint": ["python3", f"{CODE_DIR}/{script}.py"],
                "ContainerArguments": [IN_DIR, OUT_DIR, *(args or [])],
            },
            "ProcessingInputs": step_inputs,
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": "out", "S3Output": {"S3Uri": output_uri(name), "LocalPath": OUT_DIR}}
            ]},
        },
        **extra,
    }
    if depends_on:
        step["DependsOn"] = depends_on
    return step


def condition(name: str, conditions: list, if_steps: list | None = None, else_steps: list | None = None,
              **extra: Any) -> dict:
    return {"Name": name, "Type": "Condition",
            "Arguments": {"Conditions": conditions, "IfSteps": if_steps or [], "ElseSteps": else_steps or []}, **extra}


def fail(name: str, message: Any = "stop") -> dict:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}}


def definition(*steps: dict, parameters: list[dict] | None = None) -> dict:
    return {"Version": "2020-12-01", "Parameters": parameters or [], "Steps": list(steps)}


def parameter(name: str, kind: str, default: Any) -> dict:
    return {"Name": name, "Type": kind, "DefaultValue": default}


# Scripts get the input and output directories as their first two arguments (container paths, mapped
# by the engine), then the step's own arguments; each writes what it read, so data flow is observable.
SCRIPTS = {
    "write": """
        import pathlib, sys
        pathlib.Path(sys.argv[2], "value.txt").write_text(sys.argv[3] if len(sys.argv) > 3 else "1")
    """,
    "add_one": """
        import pathlib, sys
        total = sum(int(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).rglob("value.txt")))
        pathlib.Path(sys.argv[2], "value.txt").write_text(str(total + 1))
    """,
    "report": """
        import json, pathlib, sys
        report = {"metrics": {"mse": {"value": float(sys.argv[3])}, "names": ["a", "b"]}}
        pathlib.Path(sys.argv[2], "report.json").write_text(json.dumps(report))
    """,
    "crash": """
        import sys
        print("something went wrong", file=sys.stderr)
        sys.exit(3)
    """,
    "killed_once": """
        import os, pathlib, signal, sys
        marker = pathlib.Path(sys.argv[3])
        if not marker.exists():
            marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        pathlib.Path(sys.argv[2], "value.txt").write_text("1")
    """,
    "busy": """
        import pathlib, sys, time
        end = time.perf_counter() + float(sys.argv[3])
        while time.perf_counter() < end:
            pass
        pathlib.Path(sys.argv[2], "value.txt").write_text("1")
    """,
    "env": """
        import json, os, pathlib, sys
        pathlib.Path(sys.argv[2], "env.json").write_text(json.dumps(dict(os.environ)))
    """,
}


class Workspace:
    """A state directory with the test scripts staged, and a `run` that uses it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = ObjectStore(root / "s3")
        for name, text in SCRIPTS.items():
            self.put(code_uri(name), textwrap.dedent(text))

    def put(self, uri: str, text: str) -> None:
        self.store.put_bytes(uri, text.encode())

    def read(self, uri: str) -> str:
        return self.store.read_bytes(uri).decode()

    def run(self, pipeline: dict, parameters: dict | None = None, **kwargs: Any):
        kwargs.setdefault("max_parallel", 1)
        source = PipelineSource(json.dumps(pipeline), kwargs.pop("name", "Synthetic"))
        return run_pipeline(source, parameters, state_dir=self.root, **kwargs)

    def state(self) -> StateDir:
        return StateDir(self.root)


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace(tmp_path / "state")


def statuses(record) -> dict[str, str]:
    return {step.name: step.status for step in record.steps}


def step_output(workspace: Workspace, record, step: str, file: str = "value.txt") -> str:
    properties = next(s.properties for s in record.steps if s.name == step)
    uri = properties["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    return workspace.read(f"{uri}/{file}")


def source_tarball(script: str, name: str = "train.py") -> bytes:
    """A training job's submitted source directory (sourcedir.tar.gz) holding one script."""
    import io
    import tarfile

    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as sources:
        body = textwrap.dedent(script).encode()
        info = tarfile.TarInfo(name)
        info.size = len(body)
        sources.addfile(info, io.BytesIO(body))
    return archive.getvalue()


@pytest.fixture
def write_package(tmp_path, monkeypatch):
    """Write a package of modules on sys.path: (package, {module: source}) -> None; forgotten afterwards."""
    import sys

    written = []

    def write(package: str, modules: dict[str, str]) -> None:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        for module, source in modules.items():
            (tmp_path / package / f"{module}.py").write_text(source)
        written.append(package)

    monkeypatch.syspath_prepend(str(tmp_path))
    yield write
    for name in [m for m in sys.modules if m.split(".")[0] in written]:
        del sys.modules[name]
