"""Building a definition offline: what SageMaker accepts, pinned, repeatable, and without the network."""

from __future__ import annotations

import difflib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.offline import DEFAULT_REGION, PLACEHOLDER_ROLE, placeholder_bucket, resolve_region
from modelbuild.definition.service_model import JOB_APIS, argument_problems, property_problem
from modelbuild.errors import DefinitionError, ModuleLoadError, UsageError

GOLDEN = Path(__file__).parent / "golden" / "abalone-us-east-1.json"
UPDATE_GOLDEN_ENV = "MODELBUILD_UPDATE_GOLDEN"
STEP_TYPES_IN_ORDER = [
    "Processing", "Training", "Processing", "Condition", "RegisterModel", "Model", "Transform", "Fail",
]


def all_steps(steps):
    """Every step, condition branches included, in definition order."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from all_steps(step["Arguments"].get("IfSteps", []))
            yield from all_steps(step["Arguments"].get("ElseSteps", []))


def gets(value):
    """Every `Get` path in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Get":
                yield item
            else:
                yield from gets(item)
    elif isinstance(value, list):
        for item in value:
            yield from gets(item)


def test_reference_pipeline_has_the_steps_of_the_brief(abalone):
    steps = list(all_steps(abalone.definition["Steps"]))
    assert [s["Name"] for s in steps] == [
        "PreprocessAbaloneData", "TrainAbaloneModel", "EvaluateAbaloneModel", "CheckMSEAbaloneEvaluation",
        "RegisterAbaloneModel", "CreateAbaloneModel", "TransformAbaloneTest", "MSEAbaloneThresholdExceeded",
    ]
    assert [s["Type"] for s in steps] == STEP_TYPES_IN_ORDER


def test_every_step_fits_the_request_of_its_job_api(abalone):
    checked = {}
    for step in all_steps(abalone.definition["Steps"]):
        if step["Type"] in JOB_APIS:
            problems = argument_problems(step["Type"], step["Arguments"])
            checked[step["Name"]] = [f"{p.path}: {p.message}" for p in problems]
    assert len(checked) == 6
    assert checked == {name: [] for name in checked}


def test_every_property_reference_exists_in_the_describe_response(abalone):
    types = {s["Name"]: s["Type"] for s in all_steps(abalone.definition["Steps"])}
    references = [path for path in gets(abalone.definition["Steps"]) if path.startswith("Steps.")]
    assert len(references) >= 8
    problems = {}
    for path in references:
        step, _, rest = path.removeprefix("Steps.").partition(".")
        problems[path] = property_problem(types[step], rest)
    assert problems == {path: None for path in references}


def test_shape_check_catches_a_misspelled_field_and_a_bad_instance_type():
    # The check the two tests above rely on must be able to fail.
    problems = argument_problems("Training", {
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "x"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarg", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "OutputDataConfig": {"S3OutputPath": "s3://b/k"}, "RoleArn": PLACEHOLDER_ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 60}, "HyperParameter": {},
    })
    assert [p.path for p in problems] == ["Arguments.ResourceConfig.InstanceType", "Arguments.HyperParameter"]
    assert "Did you mean 'ml.m5.xlarge'?" in problems[0].message
    assert property_problem("Training", "ModelArtifact.S3ModelArtifacts") == (
        "Training has no property 'ModelArtifact'; Did you mean 'ModelArtifacts'?"
    )


def test_training_follows_the_brief(abalone):
    train = next(s for s in abalone.definition["Steps"] if s["Name"] == "TrainAbaloneModel")["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:1.7-1")
    assert train["HyperParameters"] == {
        "objective": "reg:squarederror", "num_round": "50", "max_depth": "5", "eta": "0.2",
        "gamma": "4", "min_child_weight": "6", "subsample": "0.7",
    }
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_parameters_and_their_defaults(abalone):
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in abalone.definition["Parameters"]}
    assert parameters == {
        "ProcessingInstanceCount": ("Integer", 1),
        "ModelApprovalStatus": ("String", "PendingManualApproval"),
        "InputDataUrl": ("String", f"s3://{placeholder_bucket('us-east-1')}/Abalone/data/abalone.csv"),
        "MseThreshold": ("Float", 6.0),
    }


def test_code_and_sample_data_are_recorded_at_the_uris_the_definition_names(abalone):
    text = abalone.text
    assert set(abalone.uploads) == {uri for uri in abalone.uploads if uri in text}
    names = sorted(uri.rsplit("/", 1)[1] for uri in abalone.uploads)
    assert names == ["abalone.csv", "evaluate.py", "preprocess.py"]
    preprocess = next(uri for uri in abalone.uploads if uri.endswith("/preprocess.py"))
    assert abalone.uploads[preprocess] == Path("pipelines/abalone/preprocess.py").read_bytes()


def test_definition_matches_the_golden_file(abalone):
    """SDK drift shows up here as a readable diff. Regenerate with MODELBUILD_UPDATE_GOLDEN=1 after review."""
    rendered = json.dumps(abalone.definition, indent=2) + "\n"
    if os.environ.get(UPDATE_GOLDEN_ENV):
        GOLDEN.write_text(rendered)
    expected = GOLDEN.read_text()
    diff = "".join(difflib.unified_diff(
        expected.splitlines(True), rendered.splitlines(True), "golden", "built now", n=2
    ))
    assert not diff, f"definition differs from {GOLDEN.name}:\n{diff}"


def test_two_builds_are_byte_identical(abalone):
    again = build_definition("pipelines.abalone.pipeline", {"region": "us-east-1"})
    assert again.text == abalone.text
    assert again.uploads == abalone.uploads


def test_the_same_code_checked_out_elsewhere_gives_the_same_definition(abalone, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(Path("pipelines/abalone"), tmp_path / "elsewhere" / "abalone")
    monkeypatch.syspath_prepend(str(tmp_path / "elsewhere"))
    moved = build_definition("abalone.pipeline", {"region": "us-east-1"})
    assert moved.text == abalone.text


def test_changed_code_gets_a_new_code_uri(abalone, tmp_path, monkeypatch):
    import shutil

    shutil.copytree(Path("pipelines/abalone"), tmp_path / "changed" / "abalone_changed")
    script = tmp_path / "changed" / "abalone_changed" / "evaluate.py"
    script.write_text(script.read_text() + "# changed\n")
    monkeypatch.syspath_prepend(str(tmp_path / "changed"))
    changed = build_definition("abalone_changed.pipeline", {"region": "us-east-1"})
    old_uris, new_uris = set(abalone.uploads), set(changed.uploads)
    assert [uri.rsplit("/", 1)[1] for uri in sorted(new_uris - old_uris)] == ["evaluate.py"]


def test_region_comes_from_kwargs_then_aws_region_then_aws_default_region(monkeypatch):
    assert resolve_region({}) == DEFAULT_REGION
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert resolve_region({}) == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert resolve_region({}) == "eu-west-1"
    assert resolve_region({"region": "ap-south-1"}) == "ap-south-1"


def test_a_module_gets_the_region_and_placeholders(tiny_module, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    built = build_definition(tiny_module)
    assert built.region == "eu-west-1"
    assert built.definition["Steps"][0]["Arguments"]["ErrorMessage"] == "eu-west-1"
    assert built.pipeline_name == "Tiny"


def test_building_leaves_environment_and_logging_as_they_were(tiny_module):
    import boto3

    environ, session, handlers = dict(os.environ), boto3.DEFAULT_SESSION, logging.getLogger().handlers[:]
    build_definition(tiny_module, {"region": "eu-west-1"})
    assert dict(os.environ) == environ
    assert boto3.DEFAULT_SESSION is session
    assert logging.getLogger().handlers == handlers


NO_NETWORK = """
import json, socket, sys, threading, time
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network blocked by the test")
socket.socket.connect = socket.socket.connect_ex = lambda self, *a, **k: refuse(*a)
socket.create_connection = socket.getaddrinfo = refuse
BODY
for thread in threading.enumerate():  # background threads (telemetry) get their chance to call out
    if thread is not threading.current_thread():
        thread.join(timeout=2)
print(json.dumps({"attempts": attempts, "steps": len(built.definition["Steps"])}))
"""
BUILD = (
    "from modelbuild.definition.build import build_definition\n"
    "from modelbuild.definition.project import find_project\n"
    f"built = build_definition('pipelines.abalone.pipeline', {{}}, find_project({str(Path(__file__).parents[2])!r}))"
)


def run_without_network(body: str, cwd: Path, python: str = sys.executable) -> dict:
    """Run `body` in a fresh interpreter (`python`'s) whose sockets refuse to connect; return its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [python, "-c", NO_NETWORK.replace("BODY", body)], capture_output=True, text=True, env=env, cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_building_the_reference_pipeline_opens_no_connection(tmp_path):
    assert run_without_network(BUILD, tmp_path) == {"attempts": [], "steps": 4}


def test_the_network_guard_sees_an_attempt(tmp_path):
    body = (
        "import urllib.request, types\n"
        "try:\n    urllib.request.urlopen('http://127.0.0.1:9/', timeout=1)\nexcept OSError:\n    pass\n"
        "built = types.SimpleNamespace(definition={'Steps': []})"
    )
    assert run_without_network(body, tmp_path)["attempts"] != []


def test_unknown_module_suggests_a_close_name():
    with pytest.raises(ModuleLoadError, match="No module named 'pipelines.abalone.pipelin'") as info:
        build_definition("pipelines.abalone.pipelin")
    assert info.value.hint == "Did you mean 'pipelines.abalone.pipeline'?"


def test_module_without_get_pipeline(write_module):
    with pytest.raises(ModuleLoadError, match="has no get_pipeline"):
        build_definition(write_module("no_factory", "X = 1\n"))


def test_get_pipeline_raising_is_a_definition_error(write_module):
    name = write_module("raises", "def get_pipeline(region):\n    raise ValueError('bad bucket\\nsecond line')\n")
    with pytest.raises(DefinitionError, match=r"raises.get_pipeline\(\) failed: ValueError: bad bucket$"):
        build_definition(name)


def test_unknown_kwarg_lists_the_accepted_ones(tiny_module):
    with pytest.raises(UsageError, match="does not accept kwarg 'pipline_name'; it accepts: region, role, "
                                         "default_bucket, pipeline_name") as info:
        build_definition(tiny_module, {"pipline_name": "x"})
    assert info.value.hint == "Did you mean 'pipeline_name'?"
