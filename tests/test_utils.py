"""atomic_write: nobody ever sees a half-written file."""

import pytest

from pipelines._utils import atomic_write, write_text_atomic


def test_writer_interrupted_halfway_leaves_the_old_content_and_no_temp_file(tmp_path):
    target = tmp_path / "out" / "definition.json"
    target.parent.mkdir()
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write("half of the new")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["definition.json"]


def test_write_creates_missing_directories(tmp_path):
    target = tmp_path / "a" / "b.json"
    write_text_atomic(target, "{}")
    assert target.read_text() == "{}"
