"""The state database: its schema version and migrations from every earlier schema."""

from __future__ import annotations

import errno
import json
import pathlib
import shutil
import sqlite3
import time

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode, StateError
from modelbuild.local.records import FAILED, get_execution
from modelbuild.local.state import _SCHEMA_V1, SCHEMA_VERSION, StateDir
from tests.local.conftest import code_uri, definition, processing


def test_a_new_state_dir_is_at_the_current_schema_version(tmp_path):
    state = StateDir(tmp_path)
    [[version]] = state.query("PRAGMA user_version")
    state.close()

    assert version == SCHEMA_VERSION


def test_a_state_dir_of_the_first_schema_is_migrated_with_its_rows_kept(tmp_path):
    """State dirs made before the schema had a version (user_version 0) keep working."""
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.executescript(_SCHEMA_V1)
    db.execute("INSERT INTO executions (id, pipeline_name, status, parameters, definition, started, ended)"
               " VALUES ('old', 'P', 'Succeeded', '{}', '{}', 1.0, 2.0)")
    db.execute("INSERT INTO steps (execution_id, name, type, status) VALUES ('old', 'S', 'Processing', 'Succeeded')")
    db.commit()
    db.close()

    record = get_execution("old", tmp_path)

    assert (record.status, record.steps[0].arguments_digest, record.steps[0].outputs) == ("Succeeded", None, None)
    state = StateDir(tmp_path)
    assert state.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    state.close()


def test_a_state_dir_of_a_newer_modelbuild_is_refused(tmp_path):
    StateDir(tmp_path).close()
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()

    with pytest.raises(StateError, match="newer than this modelbuild"):
        StateDir(tmp_path)


# -- a state directory that cannot be used: one line naming the file and the fix, exit code LOCAL_STATE --


def test_a_state_dir_that_is_a_file_is_named(tmp_path):
    (tmp_path / "state").write_text("")

    with pytest.raises(StateError, match="is a file, not a directory") as raised:
        StateDir(tmp_path / "state")
    assert raised.value.exit_code == ExitCode.LOCAL_STATE and "--state-dir" in raised.value.hint


def test_a_read_only_state_dir_is_named(tmp_path, monkeypatch):
    # Tests may run as root, whom permissions do not stop: what the OS answers is simulated.
    monkeypatch.setattr("modelbuild.local.state.os.access", lambda path, mode: False)

    with pytest.raises(StateError, match="is read-only") as raised:
        StateDir(tmp_path)
    assert "chmod u+w" in raised.value.hint


def test_a_garbage_database_is_named_corrupt_with_the_command_to_move_it_aside(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not SQLite" * 100)

    with pytest.raises(StateError, match="state.sqlite3 is corrupt") as raised:
        StateDir(tmp_path)
    assert f"mv {tmp_path / 'state.sqlite3'} {tmp_path / 'state.sqlite3'}.corrupt" in raised.value.hint


def test_a_database_that_is_a_directory_is_named(tmp_path):
    (tmp_path / "state.sqlite3").mkdir()

    with pytest.raises(StateError, match="is a directory, not the state database"):
        StateDir(tmp_path)


def test_a_database_locked_by_another_process_is_waited_for_then_named(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("modelbuild.local.state.LOCK_WAIT_SECONDS", 2)
    StateDir(tmp_path).close()
    other = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process writing, and not letting go
    state = StateDir(tmp_path)
    started = time.monotonic()

    with pytest.raises(StateError, match="stayed locked by another process"):
        with state.transaction() as db:
            db.execute("DELETE FROM executions")

    assert 2 <= time.monotonic() - started < 10
    assert "another process holds its write lock" in caplog.text
    other.execute("ROLLBACK")
    other.close()
    state.close()


def test_list_executions_of_a_corrupt_state_dir_is_one_line_from_the_cli(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"\0garbage" * 64)

    result = CliRunner().invoke(app, ["executions", "list", "--state-dir", str(tmp_path)])

    assert result.exit_code == ExitCode.LOCAL_STATE, result.output
    assert "is corrupt" in result.stderr and "Traceback" not in result.output


def test_a_full_disk_publishes_nothing_leaves_no_staging_and_records_the_cause(workspace, monkeypatch):
    workspace.put(code_uri("two_files"), "import pathlib, sys\n"
                  "for name in ('a.txt', 'b.txt'):\n    pathlib.Path(sys.argv[2], name).write_text(name)\n")
    copied = []

    def copy_until_full(source, target, *args, **kwargs):
        if copied:  # the second file finds the disk full, half written
            pathlib.Path(target).write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
        copied.append(shutil.copyfile(source, target))
        return target

    copytree = shutil.copytree
    monkeypatch.setattr("modelbuild.local.store.shutil.copytree",
                        lambda source, target, **_: copytree(source, target, copy_function=copy_until_full))

    record = workspace.run(definition(processing("Write", "two_files")))

    assert record.status == FAILED
    assert "No space left on device" in record.failure_reason and "s3://bucket/runs/" in record.failure_reason
    assert not workspace.store.exists(f"s3://bucket/runs/{record.id}/Write")
    assert not [path for path in workspace.store.root.rglob("*") if path.name.startswith(".staging-")]


def test_a_definition_is_stored_once_however_many_executions_run_it(workspace):
    pipeline = definition(processing("Write", "write"))
    first, second = workspace.run(pipeline), workspace.run(pipeline)

    state = workspace.state()
    [[stored]] = state.query("SELECT COUNT(*) FROM definitions")
    state.close()

    assert stored == 1
    assert get_execution(first.id, workspace.root).definition == get_execution(second.id, workspace.root).definition
    assert json.loads(get_execution(second.id, workspace.root).definition) == pipeline
