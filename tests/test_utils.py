"""atomic_write: nobody ever sees a half-written file."""

import pytest

from modelbuild._utils import atomic_write, write_text_atomic


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


def test_new_file_gets_the_mode_open_would_give_and_an_old_file_keeps_its_mode(tmp_path):

    from modelbuild import _utils

    umask = _utils._UMASK
    _utils._UMASK = 0o022
    try:
        fresh = tmp_path / "fresh.json"
        write_text_atomic(fresh, "{}")
        assert fresh.stat().st_mode & 0o777 == 0o644
        script = tmp_path / "run.sh"
        script.write_text("old")
        script.chmod(0o755)
        write_text_atomic(script, "new")
        assert script.stat().st_mode & 0o777 == 0o755
    finally:
        _utils._UMASK = umask
