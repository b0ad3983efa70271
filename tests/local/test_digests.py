"""Input digests are remembered by (path, device, inode, size, mtime) and read again whenever those change,
or when the file was too fresh to trust its mtime (the "racy git" rule)."""

from __future__ import annotations

import os
import time

import pytest

from modelbuild.local import digests
from modelbuild.local.digests import DigestMemo
from modelbuild.local.state import StateDir
from modelbuild.local.store import ObjectStore

DATA = "s3://bucket/data/train.csv"
AN_HOUR = 3600 * 10**9


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files whose content is read for a digest, in order."""
    calls: list[str] = []
    read = digests.sha256_file

    def counting(path):
        calls.append(path.name)
        return read(path)

    monkeypatch.setattr(digests, "sha256_file", counting)
    return calls


@pytest.fixture
def state(tmp_path):
    state = StateDir(tmp_path / "state")
    yield state
    state.close()


def store_of(state: StateDir) -> ObjectStore:
    """The store as a run opens it: with the state directory's digest memo."""
    return ObjectStore(state.store_dir, DigestMemo(state, state.store_dir))


@pytest.fixture
def store(state) -> ObjectStore:
    return store_of(state)


def put_settled(store: ObjectStore, uri: str, data: bytes) -> int:
    """Write an object last modified a minute ago (so its mtime can be trusted); returns that mtime."""
    store.put_bytes(uri, data)
    mtime = time.time_ns() - 60 * 10**9
    os.utime(store.path(uri), ns=(mtime, mtime))
    return mtime


def replace_keeping_mtime(store: ObjectStore, uri: str, data: bytes, mtime: int) -> None:
    """Write new content by a rename (a new inode, as every store write does) and force the old mtime back."""
    path = store.path(uri)
    temp = path.with_name(".replacement")
    temp.write_bytes(data)
    os.replace(temp, path)
    os.utime(path, ns=(mtime, mtime))


def test_an_unchanged_file_is_read_once_across_runs(state, store, hashed):
    put_settled(store, DATA, b"1,2,3\n")
    first = store.digest(DATA)

    again = store_of(state).digest(DATA)  # a later run opens the store anew

    assert again == first
    assert hashed == ["train.csv"]


def test_the_remembered_digest_is_the_one_reading_gives(state, store):
    put_settled(store, DATA, b"1,2,3\n")

    assert store.digest(DATA) == store.digest(DATA) == ObjectStore(state.store_dir).digest(DATA)


def test_new_content_of_the_same_size_and_mtime_in_a_new_inode_is_read_again(store, hashed):
    mtime = put_settled(store, DATA, b"1,2,3\n")
    before = store.digest(DATA)

    replace_keeping_mtime(store, DATA, b"4,5,6\n", mtime)

    assert store.digest(DATA) != before
    assert hashed == ["train.csv", "train.csv"]


def test_an_edit_in_place_that_moves_the_mtime_is_read_again(store, hashed):
    mtime = put_settled(store, DATA, b"1,2,3\n")
    before = store.digest(DATA)
    path = store.path(DATA)

    with path.open("r+b") as stream:  # same inode, same size
        stream.write(b"9")
    os.utime(path, ns=(mtime + 1, mtime + 1))

    assert store.digest(DATA) != before
    assert len(hashed) == 2


def test_the_memo_trusts_the_stat_tuple_as_git_and_make_do(store, hashed):
    """The one change it cannot see: same inode, same size, and the mtime put back to the nanosecond."""
    mtime = put_settled(store, DATA, b"1,2,3\n")
    before = store.digest(DATA)
    path = store.path(DATA)

    with path.open("r+b") as stream:
        stream.write(b"9")
    os.utime(path, ns=(mtime, mtime))

    assert store.digest(DATA) == before
    assert hashed == ["train.csv"]


def test_a_file_modified_no_earlier_than_the_filesystem_clock_is_not_trusted(store, hashed):
    store.put_bytes(DATA, b"1,2,3\n")
    fresh = time.time_ns() + AN_HOUR  # as a write in the same timestamp tick as the read would look
    os.utime(store.path(DATA), ns=(fresh, fresh))

    store.digest(DATA)
    store.digest(DATA)

    assert hashed == ["train.csv", "train.csv"]


def test_a_file_added_to_a_prefix_is_the_only_one_read(store, hashed):
    put_settled(store, "s3://bucket/data/a.csv", b"1\n")
    put_settled(store, "s3://bucket/data/b.csv", b"2\n")
    before = store.digest("s3://bucket/data")

    put_settled(store, "s3://bucket/data/c.csv", b"3\n")

    assert store.digest("s3://bucket/data") != before
    assert hashed == ["a.csv", "b.csv", "c.csv"]


def test_a_renamed_file_in_a_prefix_changes_its_digest(store):
    put_settled(store, "s3://bucket/data/a.csv", b"1\n")
    before = store.digest("s3://bucket/data")

    os.rename(store.path("s3://bucket/data/a.csv"), store.path("s3://bucket/data/b.csv"))

    assert store.digest("s3://bucket/data") != before


def test_without_a_memo_every_digest_reads_the_file(state, monkeypatch):
    calls = []
    monkeypatch.setattr("modelbuild.local.store.sha256_file", lambda path: calls.append(path) or "x")
    store = ObjectStore(state.store_dir)
    put_settled(store, DATA, b"1\n")

    store.digest(DATA)
    store.digest(DATA)

    assert len(calls) == 2
