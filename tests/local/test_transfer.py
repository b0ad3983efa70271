"""`modelbuild s3 cp | ls | rm` on the local store: the AWS CLI's meaning of each argument."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode, UsageError
from modelbuild.local.store import ObjectStore, StorePathError
from modelbuild.local.transfer import copy, list_store, open_store, remove

runner = CliRunner()


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A working directory with data/a.csv and data/sub/b.csv; the state dir is $MODELBUILD_HOME."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("a\n")
    (tmp_path / "data" / "sub" / "b.csv").write_text("b\n")
    return tmp_path / "data"


def stored(uri: str) -> bytes:
    return open_store().read_bytes(uri)


def test_cp_puts_a_file_at_the_key_or_below_a_prefix(data):
    assert copy("data/a.csv", "s3://bkt/in/a-renamed.csv") == [("data/a.csv", "s3://bkt/in/a-renamed.csv")]
    copy("data/a.csv", "s3://bkt/prefix/")

    assert stored("s3://bkt/in/a-renamed.csv") == stored("s3://bkt/prefix/a.csv") == b"a\n"


def test_cp_recursive_copies_a_directory_in_and_out(data, tmp_path):
    copy("data", "s3://bkt/dir", recursive=True)
    copied = copy("s3://bkt/dir", str(tmp_path / "out"), recursive=True)

    out = tmp_path / "out"
    assert [target for _, target in copied] == [str(out / "a.csv"), str(out / "sub" / "b.csv")]
    assert (tmp_path / "out" / "sub" / "b.csv").read_text() == "b\n"


def test_cp_refuses_a_directory_without_recursive_and_two_local_paths(data):
    with pytest.raises(UsageError, match="is a directory"):
        copy("data", "s3://bkt/dir")
    with pytest.raises(UsageError, match="needs an s3:// URI"):
        copy("data/a.csv", "elsewhere.csv")
    with pytest.raises(StorePathError, match="nothing is stored at s3://bkt/none"):
        copy("s3://bkt/none", "x.csv")


def test_ls_lists_buckets_prefixes_and_objects(data):
    copy("data", "s3://bkt/dir", recursive=True)
    copy("data/a.csv", "s3://other/a.csv")

    assert [e.name for e in list_store()] == ["bkt/", "other/"]
    assert [(e.name, e.is_prefix) for e in list_store("s3://bkt/dir/")] == [("a.csv", False), ("sub/", True)]
    assert [e.name for e in list_store("s3://bkt", recursive=True)] == ["dir/a.csv", "dir/sub/b.csv"]
    assert [e.size for e in list_store("s3://bkt/dir/", recursive=True)] == [2, 2]


def test_rm_removes_an_object_or_a_prefix_and_leaves_no_empty_prefix(data):
    copy("data", "s3://bkt/dir", recursive=True)
    copy("data/a.csv", "s3://bkt/keep.csv")

    assert remove("s3://bkt/dir/sub/b.csv") == ["s3://bkt/dir/sub/b.csv"]
    with pytest.raises(UsageError, match="is a prefix"):
        remove("s3://bkt/dir")
    assert remove("s3://bkt/dir", recursive=True) == ["s3://bkt/dir/a.csv"]
    assert [e.name for e in list_store("s3://bkt/")] == ["keep.csv"]
    with pytest.raises(StorePathError, match="nothing is stored"):
        remove("s3://bkt/dir")


def test_a_missing_run_input_names_the_uri_and_the_command_that_stores_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = ObjectStore(tmp_path / "elsewhere" / "s3")

    with pytest.raises(StorePathError) as raised:
        store.download("s3://bkt/churn/data/churn.csv", tmp_path / "job")
    assert raised.value.message.endswith(
        f"put it there as into S3: modelbuild s3 cp ./churn.csv s3://bkt/churn/data/churn.csv "
        f"--state-dir {tmp_path / 'elsewhere'}"
    )


def test_the_named_command_does_store_it(data, monkeypatch):
    store = open_store()
    with pytest.raises(StorePathError) as raised:
        store.download("s3://bkt/churn/a.csv", data.parent / "job")
    command = raised.value.message.rpartition("put it there as into S3: ")[2]
    monkeypatch.chdir(data)

    result = runner.invoke(app, command.split()[1:])

    assert result.exit_code == 0, result.output
    assert store.download("s3://bkt/churn/a.csv", data.parent / "job") == 1


class TestCommands:
    """Each command parses its arguments and calls its one core function."""

    def test_cp(self):
        with mock.patch("modelbuild.local.transfer.copy", return_value=[("a.csv", "s3://b/a.csv")]) as core:
            result = runner.invoke(app, ["s3", "cp", "a.csv", "s3://b/a.csv", "--recursive", "--state-dir", "st"])
        assert result.exit_code == 0, result.output
        core.assert_called_once_with("a.csv", "s3://b/a.csv", True, Path("st"))
        assert result.output == "upload: a.csv to s3://b/a.csv\n"

    def test_ls_json(self):
        from modelbuild.local.transfer import Listed

        with mock.patch("modelbuild.local.transfer.list_store", return_value=[Listed("p/", is_prefix=True)]) as core:
            result = runner.invoke(app, ["s3", "ls", "s3://b/", "--json", "--state-dir", "st"])
        assert result.exit_code == 0, result.output
        core.assert_called_once_with("s3://b/", False, Path("st"))
        assert '"prefix": true' in result.output

    def test_rm_of_a_prefix_without_recursive_is_a_usage_error(self, data):
        copy("data", "s3://bkt/dir", recursive=True)
        result = runner.invoke(app, ["s3", "rm", "s3://bkt/dir"])
        assert result.exit_code == ExitCode.USAGE
        assert "Add --recursive" in result.output
