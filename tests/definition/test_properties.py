"""What `Steps.<name>.<path>` may read, checked against the pinned SDK's own `Properties` objects.

`service_model.STEP_PROPERTIES` was read off the SDK's step classes; here the SDK says it again: for
every step of the SDK-built corpus and of the reference pipeline, every property path its `properties`
object offers (walked a few levels deep, lists by position) must validate, and the names a reference may
start with must be the SDK's (plus NotebookJobStep's for a Training step, and PropertyFiles).
"""

from __future__ import annotations

import functools
import gc
import warnings
from pathlib import Path
from unittest import mock

import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.dsl import StepSpec, read_definition
from modelbuild.definition.offline import offline_environment
from modelbuild.definition.project import Project, find_project
from modelbuild.definition.references import parse_reference
from modelbuild.definition.service_model import STEP_PROPERTIES, property_names, property_problem
from tests.definition.conftest import ROLE_ARN

CORPUS = Path(__file__).parent / "sdk_corpus"
NOTEBOOK_JOB_NAMES = set(STEP_PROPERTIES["Training"].extra)  # NotebookJobStep: a Training step with these
MAX_DEPTH = 5


@functools.cache
def sdk_steps(module: str) -> tuple[list, dict[str, StepSpec]]:
    """The SDK's step objects of a built pipeline module, and the model's steps of its definition."""
    with offline_environment("us-east-1"):  # the SDK's pipeline module cannot be imported without a region
        from sagemaker.mlops.workflow.pipeline import Pipeline
    project = Project(CORPUS) if module.startswith("corpus_") else find_project()
    with (
        mock.patch.object(Pipeline, "definition", autospec=True, side_effect=Pipeline.definition) as spy,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ResourceWarning)  # see test_sdk_corpus._built
        warnings.filterwarnings("ignore", "Lambda function won't be updated", UserWarning)
        built = build_definition(module, {"region": "us-east-1", "role": ROLE_ARN}, project=project)
        gc.collect()
    pipeline = spy.call_args.args[0]
    spec = read_definition(built.definition).steps
    steps = _flatten(pipeline.steps)
    assert {step.name for step in steps} == set(spec), "every step of the definition has its SDK object"
    return steps, spec


def _flatten(steps) -> list:
    found = []
    for step in steps:
        inner = getattr(step, "steps", None)  # a ModelStep's repack step, a StepCollection's steps
        if isinstance(inner, list):
            found += _flatten(inner)
        if not hasattr(type(step), "properties"):  # a @step function's DelayedReturn
            continue
        found.append(step)
        found += _flatten([*getattr(step, "if_steps", []), *getattr(step, "else_steps", [])])
    return found


def properties_of(step):
    """A step's SDK Properties; None for a Fail step, which has none (the SDK raises)."""
    try:
        return step.properties
    except RuntimeError:
        assert step.step_type.value == "Fail"
        return None


def sdk_paths(value, depth: int = 0):
    """Every `Get` path a Properties object offers, MAX_DEPTH levels deep, list items by position."""
    from sagemaker.core.workflow.properties import Properties, PropertiesList, PropertiesMap

    if isinstance(value, dict):  # LambdaStep / CallbackStep: properties.Outputs[name]
        for item in value.values():
            yield from sdk_paths(item, depth)
        return
    if not isinstance(value, Properties) or depth > MAX_DEPTH:
        return
    if value.path:
        yield value.expr["Get"]
    if isinstance(value, PropertiesList):
        yield from sdk_paths(value[0], depth + 1)
    elif isinstance(value, PropertiesMap):
        yield from sdk_paths(value["key"], depth + 1)
    for key, item in vars(value).items():
        if not key.startswith("_"):
            yield from sdk_paths(item, depth + 1)


MODULES = ["corpus_code", "corpus_tuning", "corpus_lambda_callback", "corpus_emr", "corpus_checks",
           "corpus_conditions", "pipelines.abalone.pipeline"]


@pytest.mark.parametrize("module", MODULES)
def test_every_property_path_the_sdk_offers_validates(module):
    steps, spec = sdk_steps(module)
    problems, count = {}, 0
    for step in steps:
        for path in sdk_paths(properties_of(step)):
            count += 1
            message = property_problem(spec[step.name], parse_reference(path).property_path)
            if message:
                problems[path] = message
    assert count > 0
    assert problems == {}


@pytest.mark.parametrize("module", MODULES)
def test_the_names_a_reference_may_start_with_are_the_sdks(module):
    steps, spec = sdk_steps(module)
    for step in steps:
        sdk_roots = {parse_reference(path).property_path[0] for path in sdk_paths(properties_of(step))}
        ours = set(property_names(spec[step.name]))
        notebook = NOTEBOOK_JOB_NAMES if step.step_type.value == "Training" else set()
        extra = ours - sdk_roots - {"PropertyFiles"} - notebook
        assert (sdk_roots - ours, extra) == (set(), set()), step.name


def _constructed(module: str, cls: str, **kwargs):
    """An SDK step built without step_args (its Properties come from its constructor alone)."""
    import importlib

    from sagemaker.core.helper.session_helper import Session

    step_module = importlib.import_module(f"sagemaker.mlops.workflow.{module}")
    with (
        # AutoMLStep checks its step_args came from Session.auto_ml, which SDK 3.27 no longer has.
        mock.patch.object(Session, "auto_ml", lambda *args, **kwargs: None, create=True),
        mock.patch.object(step_module, "validate_step_args_input", create=True),
    ):
        return getattr(step_module, cls)(name="S", **(kwargs or {"step_args": None}))


EMR_SERVERLESS = {"application_id": "00abc", "display_name": "S", "description": "S",
                  "job_config": mock.Mock(execution_role_arn="arn:aws:iam::123456789012:role/R")}


@pytest.mark.parametrize("module, cls, step_type, kwargs", [
    ("automl_step", "AutoMLStep", "AutoML", {}),
    ("steps", "JobStep", "Job", {}),
    ("endpoint_step", "EndpointConfigStep", "EndpointConfig", {}),
    ("endpoint_step", "EndpointStep", "Endpoint", {}),
    ("inference_component_step", "InferenceComponentStep", "InferenceComponent", {}),
    ("emr_serverless_step", "EMRServerlessStep", "EMRServerless", EMR_SERVERLESS),
])
def test_step_types_the_corpus_cannot_build_match_the_sdk_too(module, cls, step_type, kwargs):
    with offline_environment("us-east-1"):
        step = _constructed(module, cls, **kwargs)
    spec = StepSpec("S", step_type, {})
    paths = list(sdk_paths(properties_of(step)))

    assert {path: property_problem(spec, parse_reference(path).property_path) for path in paths} == \
        dict.fromkeys(paths)
    roots = {parse_reference(path).property_path[0] for path in paths}
    if step_type == "EMRServerless":
        # The SDK's PropertiesMeta loads only the sagemaker and emr models, so its EMRServerlessStep offers
        # no property at all; the step's properties are still the GetJobRun response, which is what we take.
        assert (roots, property_names(spec)) == (set(), ["jobRun"])
    else:
        assert roots == set(property_names(spec))
