"""`plan_update` / `apply_update`: re-render with the recorded answers; write only what the user left alone."""

from __future__ import annotations

import json

import pytest

from modelbuild.errors import ScaffoldError
from modelbuild.scaffold.record import RECORD_FILE, digest
from modelbuild.scaffold.update import ADD, REMOVE, UPDATE, apply_update, plan_update

OWNED_FILE = "setup.cfg"  # a file the template owns


def record_of(project_dir):
    return json.loads((project_dir / RECORD_FILE).read_text())


def changed_paths(project_dir) -> set[str]:
    # Only the paths a test is about.
    return {change.path for change in plan_update(project_dir, trust_template=True).changes}


def set_recorded(project_dir, relative, content: bytes) -> None:
    """Make `relative` look as an older modelbuild generated it: that content, and its digest recorded."""
    (project_dir / relative).write_bytes(content)
    record = record_of(project_dir)
    record["files"][relative] = digest(content)
    (project_dir / RECORD_FILE).write_text(json.dumps(record))


@pytest.fixture
def project_from_copy(bake, template_copy):
    """A project baked from `template_copy` (edit the copy, then plan an update)."""
    return bake(template=str(template_copy), pipeline_name="churn").path


def test_an_untouched_project_has_nothing_to_update(default_project):
    plan = plan_update(default_project.path)

    assert plan.changes == ()


def test_applying_an_empty_plan_writes_no_file(default_project):
    before = {path: path.read_bytes() for path in default_project.path.rglob("*") if path.is_file()}

    result = apply_update(plan_update(default_project.path))

    assert result.written == result.removed == result.kept == ()
    assert {path: path.read_bytes() for path in default_project.path.rglob("*") if path.is_file()} == before


def test_a_template_file_from_an_older_version_is_updated(default_project):
    project = default_project.path
    current = (project / OWNED_FILE).read_bytes()
    set_recorded(project, OWNED_FILE, b"[old]\nkey = value\n")

    plan = plan_update(project)
    result = apply_update(plan)

    assert [(change.path, change.action, change.user_changed) for change in plan.changes] == [
        (OWNED_FILE, UPDATE, False)
    ]
    assert "-[old]" in plan.changes[0].diff
    assert result.written == (OWNED_FILE,)
    assert (project / OWNED_FILE).read_bytes() == current
    assert record_of(project)["files"][OWNED_FILE] == digest(current)


def test_a_template_file_the_user_changed_is_listed_and_left_alone(default_project):
    project = default_project.path
    mine = (project / OWNED_FILE).read_text() + "\n[mine]\nkey = 1\n"
    (project / OWNED_FILE).write_text(mine)

    plan = plan_update(project)
    result = apply_update(plan)

    assert [(change.path, change.user_changed) for change in plan.changes] == [(OWNED_FILE, True)]
    assert result.kept == (OWNED_FILE,) and result.written == ()
    assert (project / OWNED_FILE).read_text() == mine
    assert plan_update(project).changes == plan.changes  # still known as the user's


def test_force_overwrites_a_file_the_user_changed(default_project):
    project = default_project.path
    original = (project / OWNED_FILE).read_bytes()
    (project / OWNED_FILE).write_text("[mine]\nkey = 1\n")

    result = apply_update(plan_update(project), force=True)

    assert result.written == (OWNED_FILE,)
    assert (project / OWNED_FILE).read_bytes() == original
    assert OWNED_FILE not in changed_paths(project)


def test_a_deleted_template_file_counts_as_a_user_change(default_project):
    (default_project.path / "tox.ini").unlink()

    plan = plan_update(default_project.path)

    assert [(change.path, change.action, change.user_changed) for change in plan.changes] == [
        ("tox.ini", ADD, True)
    ]


def test_a_template_change_is_shown_as_a_diff_and_applied(project_from_copy, template_copy):
    readme = template_copy / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line from a newer template.\n")

    plan = plan_update(project_from_copy, trust_template=True)
    result = apply_update(plan)

    assert [(change.path, change.action) for change in plan.changes] == [("README.md", UPDATE)]
    assert "+A line from a newer template." in plan.changes[0].diff
    assert result.written == ("README.md",)
    assert (project_from_copy / "README.md").read_text().endswith("A line from a newer template.\n")
    assert "README.md" not in changed_paths(project_from_copy)


def test_a_file_new_in_the_template_is_added(project_from_copy, template_copy):
    (template_copy / "{{cookiecutter.project_slug}}" / "Makefile").write_text("lint:\n\ttox -e lint\n")

    result = apply_update(plan_update(project_from_copy, trust_template=True))

    assert result.written == ("Makefile",)
    assert (project_from_copy / "Makefile").read_text() == "lint:\n\ttox -e lint\n"


def test_a_file_dropped_by_the_template_is_removed_unless_the_user_changed_it(project_from_copy, template_copy):
    (template_copy / "{{cookiecutter.project_slug}}" / "tox.ini").unlink()
    (template_copy / "{{cookiecutter.project_slug}}" / "setup.cfg").unlink()
    (project_from_copy / "setup.cfg").write_text("[mine]\n")

    plan = plan_update(project_from_copy, trust_template=True)
    result = apply_update(plan)

    assert {(change.path, change.action, change.user_changed) for change in plan.changes} == {
        ("tox.ini", REMOVE, False),
        ("setup.cfg", REMOVE, True),
    }
    assert result.removed == ("tox.ini",) and result.kept == ("setup.cfg",)
    assert not (project_from_copy / "tox.ini").exists()
    assert "tox.ini" not in record_of(project_from_copy)["files"]


def test_user_code_is_never_part_of_an_update(project_from_copy, template_copy):
    tests = template_copy / "{{cookiecutter.project_slug}}" / "tests" / "test_pipeline.py"
    tests.write_text(tests.read_text() + "\n# newer template\n")
    (project_from_copy / "pipelines" / "churn" / "pipeline.py").write_text("# my pipeline\n")
    (project_from_copy / "tests" / "test_mine.py").write_text("def test_mine():\n    pass\n")

    plan = plan_update(project_from_copy, trust_template=True)

    assert plan.changes == ()
    assert (project_from_copy / "pipelines" / "churn" / "pipeline.py").read_text() == "# my pipeline\n"


def test_template_option_switches_the_recorded_template(default_project, template_copy):
    apply_update(plan_update(default_project.path, template=str(template_copy), trust_template=True))

    assert record_of(default_project.path)["template"] == str(template_copy)


def test_a_directory_without_a_record_is_refused(tmp_path):
    with pytest.raises(ScaffoldError, match=RECORD_FILE):
        plan_update(tmp_path)
