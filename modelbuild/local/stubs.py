"""Stubbed steps: a step's properties taken from a file instead of running it (`run --local --stub STEP=FILE`).

A stub file holds the step's properties as SageMaker reports them, e.g. for a Lambda or Callback step
`{"OutputParameters": [{"Name": "row_count", "Value": 240}]}`, for an EMR step `{"Id": "s-1"}`.
Values may be pipeline expressions (`{"Get": "Execution.PipelineExecutionId"}`, `{"Std:Join": ...}`),
evaluated when the step would run. The one key that is not a property, `LocalFiles`, lists local
files or directories (relative to the stub file) to place at S3 URIs, so steps downstream find
the outputs the stubbed step would have written:

    {"Id": "s-LOCAL",
     "LocalFiles": [{"S3Uri": "s3://bucket/emr/output", "LocalPath": "emr-output"}]}

Stubbed steps end with status Stubbed: never cached, never reused by --resume or --steps as if
they had run, and shown as Stubbed wherever steps are listed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbuild.definition import service_model
from modelbuild.definition.dsl import PipelineSpec
from modelbuild.errors import UnknownStepError, UsageError, did_you_mean

LOCAL_FILES = "LocalFiles"
class StubError(UsageError):
    """Raised when a --stub names no step of the pipeline, or its file is unreadable or not shaped as properties."""


@dataclass(frozen=True)
class Stub:
    """A step's stub: its properties (possibly expressions) and the local files to place in the store."""

    step: str
    path: Path
    properties: Mapping[str, Any]
    local_files: tuple[Mapping[str, Any], ...] = ()

    def apply(self, resolve: Any, store: Any) -> dict[str, Any]:
        """Place the local files at their (resolved) URIs and return the resolved properties."""
        for item in self.local_files:
            uri, local = resolve(item["S3Uri"]), self.path.parent / item["LocalPath"]
            if local.is_dir():
                store.upload_dir(local, uri)
            elif local.is_file():
                store.upload_file(local, uri)
            else:
                raise StubError(f"stub {self.path} of step {self.step!r}: LocalPath {str(local)!r} does not exist")
        return resolve(dict(self.properties))


def load_stubs(files: Mapping[str, str | os.PathLike[str]], spec: PipelineSpec) -> dict[str, Stub]:
    """Read and check the stub files of a run, before anything runs.

    Args:
        files: step name -> stub file.
        spec: the parsed definition.

    Raises:
        UnknownStepError: a stub names no step of the definition.
        StubError: a file cannot be read, is not a JSON object, or names properties the step type does not have.
    """
    stubs = {}
    for step_name, file in files.items():
        if step_name not in spec.steps:
            raise UnknownStepError(f"--stub names step {step_name!r}, which is not in the pipeline",
                                   hint=did_you_mean(step_name, spec.steps) or "Steps: " + ", ".join(spec.steps))
        path = Path(file)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise StubError(f"cannot read stub file {str(path)!r} of step {step_name!r}: {exc.strerror}") from exc
        except ValueError as exc:
            raise StubError(f"stub file {str(path)!r} of step {step_name!r} is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise StubError(f"stub file {str(path)!r} should hold a JSON object of the step's properties")
        local_files = document.pop(LOCAL_FILES, None) or []
        if not isinstance(local_files, list) or not all(
                isinstance(i, Mapping) and "S3Uri" in i and "LocalPath" in i for i in local_files):
            raise StubError(f"stub file {str(path)!r}: {LOCAL_FILES} should be a list of "
                            '{"S3Uri": ..., "LocalPath": ...} objects')
        step_type = spec.steps[step_name].type
        for name in document:
            problem = service_model.property_problem(step_type, (name,))
            if problem:
                raise StubError(f"stub file {str(path)!r} of step {step_name!r}: {problem}",
                                hint="A stub holds the step's properties as SageMaker reports them.")
        stubs[step_name] = Stub(step_name, path.resolve(), document, tuple(local_files))
    return stubs
