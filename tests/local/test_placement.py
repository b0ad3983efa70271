"""Job inputs are placed without copying where that is safe, and no job can change the store's objects
through them: user code gets a reflink or a copy, only the engine's own read-only algorithms a hard link."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from modelbuild.local import placement
from modelbuild.local.placement import COPY, HARD_LINK, REFLINK, place
from modelbuild.local.records import FAILED, SUCCEEDED
from modelbuild.local.steps.training import runs_builtin_algorithm
from tests.local.conftest import definition, processing
from tests.local.test_steps import XGBOOST_IMAGE, csv, training

DATA = b"1,2,3\n4,5,6\n"


@pytest.fixture
def stored(tmp_path) -> Path:
    """A store object, and an empty job directory beside it."""
    source = tmp_path / "store" / "data.csv"
    source.parent.mkdir()
    source.write_bytes(DATA)
    (tmp_path / "job").mkdir()
    return source


def write_through(path: Path) -> None:
    """What a careless job does to its input: overwrite it in place."""
    with path.open("r+b") as stream:
        stream.write(b"0")


def test_user_code_never_shares_the_store_objects_inode(stored, tmp_path):
    target = tmp_path / "job" / "data.csv"

    how = place(stored, target, may_share=False)

    assert how in (REFLINK, COPY)
    write_through(target)
    assert stored.read_bytes() == DATA


def test_a_read_only_job_gets_the_store_objects_file_without_a_copy(stored, tmp_path):
    target = tmp_path / "job" / "data.csv"

    how = place(stored, target, may_share=True)

    assert how in (REFLINK, HARD_LINK)  # a copy only across filesystems
    assert target.read_bytes() == DATA
    assert os.path.samefile(stored, target) == (how == HARD_LINK)


def test_across_filesystems_the_input_is_copied(stored, tmp_path, monkeypatch):
    def cross_device(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(placement, "_reflink", lambda source, target: False)
    monkeypatch.setattr(placement.os, "link", cross_device)

    how = place(stored, tmp_path / "job" / "data.csv", may_share=True)

    assert how == COPY
    assert (tmp_path / "job" / "data.csv").read_bytes() == DATA


def test_placing_over_a_linked_file_does_not_write_through_it(stored, tmp_path):
    other = stored.with_name("other.csv")
    other.write_bytes(b"other\n")
    target = tmp_path / "job" / "data.csv"
    place(stored, target, may_share=True)

    place(other, target, may_share=False)

    assert stored.read_bytes() == DATA
    assert target.read_bytes() == b"other\n"


@pytest.mark.parametrize(("spec", "hyperparameters", "builtin"), [
    ({"TrainingImage": XGBOOST_IMAGE}, {"num_round": "5"}, True),
    ({"TrainingImage": XGBOOST_IMAGE}, {"sagemaker_program": '"train.py"'}, False),
    ({"TrainingImage": XGBOOST_IMAGE, "ContainerEntrypoint": ["python3", "x.py"]}, {}, False),
    ({"TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1"}, {}, False),
])
def test_only_the_builtin_algorithm_counts_as_a_read_only_job(spec, hyperparameters, builtin):
    assert runs_builtin_algorithm(spec, hyperparameters) is builtin


VANDAL = """
    import pathlib, sys
    inputs = sorted(pathlib.Path(sys.argv[1]).rglob("*.csv"))
    inputs[0].write_text("overwritten\\n")
    with inputs[1].open("r+") as stream:
        stream.truncate(0)
    inputs[2].unlink()
    pathlib.Path(sys.argv[2], "value.txt").write_text("done")
"""


@pytest.mark.slow
def test_a_job_that_writes_truncates_and_deletes_its_inputs_leaves_the_store_unchanged(workspace):
    files = {f"s3://bucket/data/{name}.csv": f"{name},1,2\n" for name in ("a", "b", "c")}
    for uri, text in files.items():
        workspace.put(uri, text)
    workspace.put("s3://bucket/code/vandal.py", VANDAL.replace("\n    ", "\n"))

    record = workspace.run(definition(processing("Vandal", "vandal", {"data": "s3://bucket/data"})))

    assert record.status == SUCCEEDED, record.failure_reason
    assert {uri: workspace.read(uri) for uri in files} == files


@pytest.mark.slow
def test_builtin_training_reads_its_channels_in_place(workspace, tmp_path):
    """Seen in the job directory kept by a failed job: its channel is the store's file, not a copy."""
    probe = tmp_path / "probe.csv"
    probe.write_bytes(DATA)
    expected = place(probe, tmp_path / "probe-placed.csv", may_share=True)  # what this filesystem offers
    workspace.put("s3://bucket/data/train/train.csv", csv([(1, 2), (3, 4)]))
    failing = training(channels={"train": "s3://bucket/data/train"},
                       hyperparameters={"objective": "reg:nonsense", "num_round": "2"})

    record = workspace.run(definition(failing))

    assert record.status == FAILED
    placed = workspace.root / "jobs" / record.id / "Train" / "opt/ml/input/data/train/train.csv"
    stored = workspace.store.path("s3://bucket/data/train/train.csv")
    assert os.path.samefile(placed, stored) == (expected == HARD_LINK)
    assert placed.read_bytes() == stored.read_bytes()
