"""Job steps are served from the cache when their arguments and the *content* of their inputs are unchanged."""

from __future__ import annotations

import pytest

from modelbuild.definition.dsl import StepSpec
from modelbuild.errors import DefinitionError
from modelbuild.local.cache import max_age, parse_duration
from modelbuild.local.records import CACHED, SUCCEEDED
from tests.local.conftest import code_uri, definition, output_of, parameter, processing, statuses, step_output

DATA = "s3://bucket/data/value.txt"


@pytest.fixture
def reads_data_then_adds() -> dict:
    """First reads the dataset a parameter points to; Second reads First's output."""
    return definition(
        processing("First", "add_one", {"data": {"Get": "Parameters.Data"}}),
        processing("Second", "add_one", {"first": output_of("First")}),
        parameters=[parameter("Data", "String", DATA), parameter("Unused", "Integer", 1)],
    )


@pytest.fixture
def with_data(workspace):
    workspace.put(DATA, "10")
    return workspace


def test_an_unchanged_rerun_is_served_from_the_cache(with_data, reads_data_then_adds):
    first = with_data.run(reads_data_then_adds)

    second = with_data.run(reads_data_then_adds)

    assert statuses(second) == {"First": CACHED, "Second": CACHED}
    assert {step.cached_from for step in second.steps} == {first.id}
    assert step_output(with_data, second, "Second") == "12"


def test_a_changed_script_reruns_its_step(with_data, reads_data_then_adds):
    with_data.run(reads_data_then_adds)
    with_data.put(code_uri("add_one"), with_data.read(code_uri("add_one")) + "\n# changed\n")

    second = with_data.run(reads_data_then_adds)

    assert statuses(second) == {"First": SUCCEEDED, "Second": SUCCEEDED}


def test_changed_data_reruns_and_downstream_sees_the_new_value(with_data, reads_data_then_adds):
    with_data.run(reads_data_then_adds)
    with_data.put(DATA, "20")

    second = with_data.run(reads_data_then_adds)

    assert statuses(second) == {"First": SUCCEEDED, "Second": SUCCEEDED}
    assert step_output(with_data, second, "Second") == "22"


def test_a_changed_parameter_reruns_the_steps_that_use_it(with_data):
    pipeline = definition(
        processing("Write", "write", args=[{"Get": "Parameters.Value"}]),
        processing("Add", "add_one", {"written": output_of("Write")}),
        parameters=[parameter("Value", "Integer", 1)],
    )
    with_data.run(pipeline)

    second = with_data.run(pipeline, {"Value": "2"})

    assert statuses(second) == {"Write": SUCCEEDED, "Add": SUCCEEDED}
    assert step_output(with_data, second, "Add") == "3"


def test_inputs_are_keyed_by_content_not_by_name(with_data, reads_data_then_adds):
    with_data.put("s3://bucket/copy/value.txt", "10")
    with_data.run(reads_data_then_adds)

    second = with_data.run(reads_data_then_adds, {"Data": "s3://bucket/copy/value.txt"})

    assert statuses(second) == {"First": CACHED, "Second": CACHED}


def test_a_parameter_no_step_uses_changes_nothing(with_data, reads_data_then_adds):
    with_data.run(reads_data_then_adds)

    second = with_data.run(reads_data_then_adds, {"Unused": "2"})

    assert statuses(second) == {"First": CACHED, "Second": CACHED}


def test_cache_config_disabled_always_reruns(with_data):
    pipeline = definition(processing("Write", "write", CacheConfig={"Enabled": False}))
    with_data.run(pipeline)

    assert statuses(with_data.run(pipeline)) == {"Write": SUCCEEDED}


def test_an_expired_cache_entry_reruns(with_data):
    pipeline = definition(processing("Write", "write", CacheConfig={"Enabled": True, "ExpireAfter": "PT0S"}))
    with_data.run(pipeline)

    assert statuses(with_data.run(pipeline)) == {"Write": SUCCEEDED}


def test_without_the_local_default_a_step_without_cache_config_reruns(with_data):
    pipeline = definition(processing("Write", "write"))
    with_data.run(pipeline)

    assert statuses(with_data.run(pipeline, cache_by_default=False)) == {"Write": SUCCEEDED}


def test_a_failed_step_is_never_served_from_the_cache(with_data):
    pipeline = definition(processing("Broken", "crash"))
    with_data.run(pipeline)

    assert with_data.run(pipeline).steps[0].attempts == 1


@pytest.mark.parametrize(("text", "seconds"), [("P30D", 30 * 86400), ("PT1H30M", 5400), ("P1W", 604800),
                                                ("PT0.5S", 0.5), ("P1DT1S", 86401)])
def test_expire_after_reads_iso_8601_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30D", "P", "PT", "P1H", "soon"])
def test_expire_after_rejects_other_text(text):
    with pytest.raises(DefinitionError, match="ISO 8601"):
        parse_duration(text)


@pytest.mark.parametrize("kind", ["Condition", "Fail", "Model", "RegisterModel"])
def test_only_job_steps_are_cached(kind):
    assert max_age(StepSpec("S", kind, {}, raw={"CacheConfig": {"Enabled": True}}), cache_by_default=True) is None


def test_a_changed_script_mode_source_directory_reruns_its_training_step(workspace):
    from tests.local.conftest import source_tarball
    from tests.local.test_steps import training

    workspace.put("s3://bucket/data/train/train.csv", "1,2\n")
    workspace.store.put_bytes("s3://bucket/code/sourcedir.tar.gz", source_tarball("print('first')\n"))
    hyperparameters = {"sagemaker_program": '"train.py"',  # JSON strings, as the SDK writes them
                       "sagemaker_submit_directory": '"s3://bucket/code/sourcedir.tar.gz"'}
    pipeline = definition(training(image="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
                                   hyperparameters=hyperparameters, channels={"train": "s3://bucket/data/train"}))

    first = workspace.run(pipeline)
    workspace.store.put_bytes("s3://bucket/code/sourcedir.tar.gz", source_tarball("print('second')\n"))
    second = workspace.run(pipeline)
    third = workspace.run(pipeline)

    assert [r.steps[0].status for r in (first, second, third)] == [SUCCEEDED, SUCCEEDED, CACHED]


def output_path(workspace, record, step: str):
    properties = next(s.properties for s in record.steps if s.name == step)
    return workspace.store.path(properties["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"])


def test_a_hit_whose_output_was_deleted_is_a_miss_said_in_one_line(with_data, reads_data_then_adds, caplog):
    first = with_data.run(reads_data_then_adds)
    (output_path(with_data, first, "First") / "value.txt").unlink()

    second = with_data.run(reads_data_then_adds)

    assert statuses(second) == {"First": SUCCEEDED, "Second": CACHED}  # Second's input content is unchanged
    assert step_output(with_data, second, "Second") == "12"
    [warning] = [r.getMessage() for r in caplog.records if "cached result" in r.getMessage()]
    assert f"step 'First' runs instead of using the cached result of execution {first.id}" in warning
    assert "is missing" in warning


def test_a_hit_whose_output_was_overwritten_is_a_miss(with_data, reads_data_then_adds, caplog):
    first = with_data.run(reads_data_then_adds)
    (output_path(with_data, first, "Second") / "value.txt").write_text("999")

    second = with_data.run(reads_data_then_adds)

    assert statuses(second) == {"First": CACHED, "Second": SUCCEEDED}
    assert step_output(with_data, second, "Second") == "12"
    assert "is changed" in caplog.text


def test_resume_reruns_a_reused_step_whose_output_is_gone(workspace):
    workspace.put(code_uri("flaky"), workspace.read(code_uri("crash")))
    pipeline = definition(processing("First", "write"), processing("Second", "flaky", {"first": output_of("First")}))
    failed = workspace.run(pipeline)
    (output_path(workspace, failed, "First") / "value.txt").unlink()
    workspace.put(code_uri("flaky"), workspace.read(code_uri("add_one")))

    resumed = workspace.run(pipeline, resume=failed.id, cache_by_default=False)

    assert statuses(resumed) == {"First": SUCCEEDED, "Second": SUCCEEDED}
    assert step_output(workspace, resumed, "Second") == "2"
