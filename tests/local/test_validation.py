"""Everything wrong with a definition or its arguments is reported before any step runs."""

from __future__ import annotations

import pytest

from modelbuild.errors import BadParameterValueError, DefinitionError, ExitCode, UnknownStepError
from modelbuild.local.engine import MissingInputError
from modelbuild.local.records import list_executions
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.store import ObjectStore, StorePathError
from tests.local.conftest import definition, output_of, parameter, processing


@pytest.fixture
def two_steps_in_a_cycle() -> dict:
    return definition(
        processing("Train", "add_one", {"x": output_of("Evaluate")}),
        processing("Evaluate", "add_one", {"x": output_of("Train")}),
    )


def test_a_cycle_is_rejected_naming_its_steps(workspace, two_steps_in_a_cycle):
    with pytest.raises(DefinitionError, match="cycle: (Train -> Evaluate|Evaluate -> Train)"):
        workspace.run(two_steps_in_a_cycle)

    assert list_executions(workspace.root) == []


def test_a_dangling_reference_is_rejected_with_a_suggestion(workspace):
    pipeline = definition(processing("Train", "write"), processing("Evaluate", "add_one", {"x": output_of("Trian")}))

    with pytest.raises(DefinitionError, match="Trian") as raised:
        workspace.run(pipeline)

    assert raised.value.hint == "Did you mean 'Train'?"


def test_a_dangling_depends_on_is_rejected(workspace):
    with pytest.raises(DefinitionError, match="'Nowhere'"):
        workspace.run(definition(processing("Train", "write", depends_on=["Nowhere"])))


def test_unsupported_step_types_are_all_named_in_one_error(workspace):
    pipeline = definition(
        processing("Prepare", "write"),
        {"Name": "Spark", "Type": "EMR", "Arguments": {}},
        {"Name": "Auto", "Type": "AutoML", "Arguments": {}},
    )

    with pytest.raises(UnsupportedStepError, match="'Spark' \\(EMR\\), 'Auto' \\(AutoML\\)") as raised:
        workspace.run(pipeline)

    assert raised.value.exit_code is ExitCode.DEFINITION_INVALID
    assert "Processing step" in raised.value.hint
    assert list_executions(workspace.root) == []


def test_an_unknown_parameter_is_rejected_with_the_valid_names(workspace):
    pipeline = definition(processing("Write", "write"), parameters=[parameter("Threshold", "Float", 1.0)])

    with pytest.raises(BadParameterValueError, match="no parameter 'Treshold'") as raised:
        workspace.run(pipeline, {"Treshold": "2"})

    assert raised.value.hint.startswith("Did you mean 'Threshold'?")


def test_an_unknown_selected_step_is_rejected_with_a_suggestion(workspace):
    with pytest.raises(UnknownStepError, match="'Wirte'") as raised:
        workspace.run(definition(processing("Write", "write")), steps=["Wirte"])

    assert raised.value.hint == "Did you mean 'Write'?"


def test_a_missing_code_object_names_the_uri_and_the_fix(workspace):
    pipeline = definition(processing("Write", "not_staged"))

    with pytest.raises(MissingInputError, match="s3://bucket/code/not_staged.py") as raised:
        workspace.run(pipeline)

    assert "modelbuild s3 cp ./not_staged.py s3://bucket/code/not_staged.py (" in raised.value.hint
    assert raised.value.exit_code is ExitCode.USAGE


def test_an_input_key_escaping_the_store_is_refused_before_running(workspace):
    pipeline = definition(processing("Write", "add_one", {"data": "s3://bucket/../../etc/passwd"}))

    with pytest.raises(StorePathError, match="escape"):
        workspace.run(pipeline)

    assert list_executions(workspace.root) == []


@pytest.mark.parametrize("uri", [
    "s3://bucket/a/../../b", "s3://bucket/./x", "s3://bucket//etc/passwd", "s3://../x", "s3://bucket/a\\..\\b",
    "file:///etc/passwd", "/etc/passwd",
])
def test_store_paths_never_leave_the_store(tmp_path, uri):
    with pytest.raises(StorePathError):
        ObjectStore(tmp_path / "s3").path(uri)


def test_an_output_uri_escaping_the_store_fails_its_step(workspace):
    step = processing("Write", "write")
    step["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://bucket/../outside"

    record = workspace.run(definition(step))

    assert "escape" in record.steps[0].failure_reason
    assert not (workspace.root / "outside").exists()


def test_a_processing_job_without_entrypoint_is_named_before_running(workspace):
    step = processing("Spark", "write")
    del step["Arguments"]["AppSpecification"]["ContainerEntrypoint"]

    with pytest.raises(UnsupportedStepError, match="'Spark'.*runs its own entrypoint"):
        workspace.run(definition(step))
