"""A job's outputs become store objects without a copy on the same filesystem, atomically, and never by
linking a file from outside the job directory into the store."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from modelbuild.local import placement
from modelbuild.local.placement import COPY, HARD_LINK, publish
from modelbuild.local.store import ObjectStore, StoreWriteError


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    return ObjectStore(tmp_path / "s3")


@pytest.fixture
def output(tmp_path) -> Path:
    """A job's output directory, as a job leaves it: files in nested folders."""
    folder = tmp_path / "job" / "opt/ml/processing/train"
    (folder / "part").mkdir(parents=True)
    (folder / "train.csv").write_text("1,2\n")
    (folder / "part" / "more.csv").write_text("3,4\n")
    return folder


def cross_device(*args, **kwargs):
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def test_an_output_directory_is_published_by_links_on_the_same_filesystem(store, output):
    store.upload_dir(output, "s3://bucket/train")

    assert {name: path.read_text() for name, path in store.files("s3://bucket/train")} == {
        "train.csv": "1,2\n", "part/more.csv": "3,4\n"}
    assert os.path.samefile(store.path("s3://bucket/train/train.csv"), output / "train.csv")
    assert os.path.samefile(store.path("s3://bucket/train/part/more.csv"), output / "part" / "more.csv")


def test_an_output_file_is_published_by_a_link_and_survives_its_job_directory(store, output, tmp_path):
    store.upload_file(output / "train.csv", "s3://bucket/model/model.tar.gz")
    assert os.path.samefile(store.path("s3://bucket/model/model.tar.gz"), output / "train.csv")

    (output / "train.csv").unlink()  # the engine removes the job directory once the step succeeded

    assert store.read_bytes("s3://bucket/model/model.tar.gz") == b"1,2\n"
    assert [path.name for path in store.path("s3://bucket/model").iterdir()] == ["model.tar.gz"]


def test_across_filesystems_outputs_are_copied(store, output, monkeypatch):
    monkeypatch.setattr(placement.os, "link", cross_device)

    store.upload_dir(output, "s3://bucket/train")
    store.upload_file(output / "train.csv", "s3://bucket/one.csv")

    assert store.read_bytes("s3://bucket/train/part/more.csv") == b"3,4\n"
    assert not os.path.samefile(store.path("s3://bucket/train/train.csv"), output / "train.csv")
    assert not os.path.samefile(store.path("s3://bucket/one.csv"), output / "train.csv")


def test_no_file_from_outside_the_job_becomes_a_store_object(store, output, tmp_path):
    """A job may leave a hard link of any file it can reach (say the user's own data): linking that into
    the store would let a later edit of the user's file change the store. (A symlink out of the job is
    refused outright: tests/local/test_confinement.py.)"""
    users_file = tmp_path / "users-data.csv"
    users_file.write_text("mine\n")
    os.link(users_file, output / "via-link.csv")

    store.upload_dir(output, "s3://bucket/train")
    users_file.write_text("edited\n")

    assert store.read_bytes("s3://bucket/train/via-link.csv") == b"mine\n"


def test_a_copied_output_keeps_the_mode_and_times_a_link_would_show(store, output, monkeypatch):
    script = output / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    os.utime(script, ns=(10**18, 10**18))
    monkeypatch.setattr(placement.os, "link", cross_device)

    store.upload_dir(output, "s3://bucket/train")
    store.upload_file(script, "s3://bucket/run.sh")

    for published in (store.path("s3://bucket/train/run.sh"), store.path("s3://bucket/run.sh")):
        assert (published.stat().st_mode & 0o777, published.stat().st_mtime_ns) == (0o755, 10**18)


def test_publish_says_how(tmp_path, monkeypatch):
    (tmp_path / "out.csv").write_text("1\n")
    assert publish(tmp_path / "out.csv", tmp_path / "linked") == HARD_LINK
    assert publish(tmp_path / "out.csv", tmp_path / "copied") == COPY  # it has another name now

    monkeypatch.setattr(placement.os, "link", cross_device)
    (tmp_path / "alone.csv").write_text("2\n")
    assert publish(tmp_path / "alone.csv", tmp_path / "across") == COPY


def test_a_publication_that_fails_halfway_leaves_the_old_object_and_no_temporary_file(store, output, monkeypatch):
    store.upload_file(output / "part" / "more.csv", "s3://bucket/one.csv")

    def half_a_copy(source, target):
        Path(target).write_text("1,")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(placement.os, "link", cross_device)
    monkeypatch.setattr(placement.shutil, "copy2", half_a_copy)
    with pytest.raises(StoreWriteError, match="No space"):
        store.upload_file(output / "train.csv", "s3://bucket/one.csv")

    assert store.read_bytes("s3://bucket/one.csv") == b"3,4\n"
    assert [path.name for path in store.path("s3://bucket").iterdir()] == ["one.csv"]
