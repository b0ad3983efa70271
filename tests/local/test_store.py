"""The local store writes each object whole, with the mode a plain open() would give it."""

from __future__ import annotations

import pytest

from modelbuild import _utils
from modelbuild.local.store import ObjectStore, StoreWriteError


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(_utils, "_UMASK", 0o022)
    return ObjectStore(tmp_path / "s3")


def test_put_and_upload_give_objects_an_ordinary_mode_not_mkstemps_0600(store, tmp_path):
    source = tmp_path / "model.tar.gz"
    source.write_bytes(b"model")

    store.put_bytes("s3://bucket/code/train.py", b"print(1)")
    store.upload_file(source, "s3://bucket/out/model.tar.gz")

    assert store.path("s3://bucket/code/train.py").stat().st_mode & 0o777 == 0o644
    assert store.path("s3://bucket/out/model.tar.gz").stat().st_mode & 0o777 == 0o644
    assert store.read_bytes("s3://bucket/out/model.tar.gz") == b"model"


def test_an_upload_that_fails_halfway_leaves_the_old_object_and_no_temp_file(store, tmp_path):
    store.put_bytes("s3://bucket/out/model.tar.gz", b"old")

    with pytest.raises(StoreWriteError, match="No such file"):
        store.upload_file(tmp_path / "missing", "s3://bucket/out/model.tar.gz")

    assert store.read_bytes("s3://bucket/out/model.tar.gz") == b"old"
    assert [p.name for p in store.path("s3://bucket/out").iterdir()] == ["model.tar.gz"]
