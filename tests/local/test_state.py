"""The state database: its schema version and migrations from every earlier schema."""

from __future__ import annotations

import sqlite3

import pytest

from modelbuild.errors import StateError
from modelbuild.local.records import get_execution
from modelbuild.local.state import _SCHEMA_V1, SCHEMA_VERSION, StateDir


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
