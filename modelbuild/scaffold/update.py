"""`modelbuild update`: re-render a project's template with its recorded answers and merge the result.

A file the template owns is rewritten only when the user has not changed it since it was last
written (its digest still matches the record); the ones the user changed are listed and left
alone unless forced. The user's code (the pipeline module and `tests/`) is never part of it.
"""

from __future__ import annotations

import difflib
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modelbuild.__version__ import __version__
from modelbuild._utils import atomic_write
from modelbuild.errors import UsageError
from modelbuild.scaffold.record import (
    ProjectRecord,
    digest,
    project_files,
    read_record,
    template_owned,
    write_record,
)
from modelbuild.scaffold.render import normalize_template, render
from modelbuild.scaffold.sources import BUNDLED

ADD, UPDATE, REMOVE = "add", "update", "remove"


@dataclass(frozen=True)
class FileChange:
    """One template-owned file that differs from what the current template renders.

    Attributes:
        path: project-relative path.
        action: "add", "update" or "remove".
        user_changed: the user changed or deleted the file since it was last generated.
        content: the new content (None for "remove").
        diff: a unified diff from the project's file to the new one.
    """

    path: str
    action: str
    user_changed: bool
    content: bytes | None
    diff: str

    def to_json(self) -> dict[str, Any]:
        """The change as JSON-ready data (without the content)."""
        return {
            "path": self.path,
            "action": self.action,
            "user_changed": self.user_changed,
            "diff": self.diff,
        }


@dataclass(frozen=True)
class UpdatePlan:
    """What `update` would do to a project.

    Attributes:
        project_dir: the project.
        record: the record to write after applying (the changes' digests not yet in it).
        changes: the files that differ, sorted by path.
    """

    project_dir: Path
    record: ProjectRecord
    changes: tuple[FileChange, ...]

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-ready data."""
        return {
            "project_dir": str(self.project_dir),
            "changes": [change.to_json() for change in self.changes],
        }


@dataclass(frozen=True)
class UpdateResult:
    """What `update --apply` did: files written or removed, and user-changed files left alone."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {"written": list(self.written), "removed": list(self.removed), "kept": list(self.kept)}


def _diff(path: str, old: bytes | None, new: bytes | None) -> str:
    try:
        old_lines = (old or b"").decode("utf-8").splitlines(keepends=True)
        new_lines = (new or b"").decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return f"Binary files a/{path} and b/{path} differ\n"
    from_file = f"a/{path}" if old is not None else "/dev/null"
    to_file = f"b/{path}" if new is not None else "/dev/null"
    return "".join(difflib.unified_diff(old_lines, new_lines, from_file, to_file))


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


class UntrustedTemplateError(UsageError):
    """Raised when `update` would run the hooks of a template other than modelbuild's own without consent."""


def update_template(project_dir: Path, template: str | None = None) -> str:
    """The template `plan_update` would render: `template`, else the one the project's record names.

    Raises:
        ScaffoldError: when the project has no record.
    """
    return normalize_template(template) if template else read_record(project_dir).template


def plan_update(project_dir: Path, template: str | None = None, checkout: str | None = None,
                trust_template: bool = False) -> UpdatePlan:
    """Render the project's template again with its recorded answers and compare.

    Rendering runs the template's hooks: Python scripts, with the user's environment (AWS credentials
    included). modelbuild's bundled template is its own code; any other needs `trust_template`, as a
    record edited by anyone with write access to the project could name any template.

    Args:
        project_dir: a project made by `modelbuild new` (it has a record).
        template: render this template instead of the recorded one (it is recorded from now on).
        checkout: the branch, tag or commit of a git template (default: its default branch).
        trust_template: the user agreed to run the hooks of a template that is not the bundled one.

    Raises:
        ScaffoldError: when the project has no record, or the template cannot be rendered.
        UntrustedTemplateError: the template is not the bundled one and `trust_template` is False.
        UsageError: when the recorded answers are no longer valid names.
    """
    old = read_record(project_dir)
    template = normalize_template(template) if template else old.template
    if template != BUNDLED and not trust_template:
        raise UntrustedTemplateError(
            f"updating renders the template {template}, whose hooks would run as you",
            hint="Review that template, then run again with --trust-template (or pass --template bundled).",
        )
    with tempfile.TemporaryDirectory(prefix="modelbuild-update-") as staging:
        rendered = render(
            template, Path(staging), old.answers, no_input=True, checkout=checkout, drop_unknown=True
        )
        new_files = template_owned(project_files(rendered.project_dir), rendered.answers)

    digests: dict[str, str] = {}
    changes = []
    for relative in sorted(set(new_files) | set(old.files)):
        current = _read(project_dir / relative)
        new = new_files.get(relative)
        recorded = old.files.get(relative)
        if current == new:
            if new is not None:
                digests[relative] = digest(new)
            continue
        if current is None and new is None:
            continue
        if new is None:
            action = REMOVE
        else:
            action = ADD if current is None else UPDATE
        user_changed = (digest(current) if current is not None else None) != recorded
        if user_changed and recorded is not None:
            digests[relative] = recorded  # until written, it stays known as the user's
        changes.append(FileChange(relative, action, user_changed, new, _diff(relative, current, new)))
    record = ProjectRecord(
        template=template,
        template_version=__version__ if template == BUNDLED else checkout,
        modelbuild_version=__version__,
        answers=rendered.answers,
        files=digests,
    )
    return UpdatePlan(project_dir=project_dir, record=record, changes=tuple(changes))


def apply_update(plan: UpdatePlan, force: bool = False) -> UpdateResult:
    """Write the plan's changes to files the user has not changed (all of them with `force`).

    Each file is written atomically, and the record last, so an interrupted update leaves files
    that `update` can still tell apart.

    Args:
        plan: from `plan_update`.
        force: also overwrite (or remove) the files the user changed.
    """
    written, removed, kept = [], [], []
    digests = dict(plan.record.files)
    for change in plan.changes:
        if change.user_changed and not force:
            kept.append(change.path)
            continue
        path = plan.project_dir / change.path
        if change.content is None:
            path.unlink(missing_ok=True)
            digests.pop(change.path, None)
            removed.append(change.path)
        else:
            mode = path.stat().st_mode if path.exists() else 0o644
            with atomic_write(path, "wb") as handle:
                handle.write(change.content)
            path.chmod(mode)
            digests[change.path] = digest(change.content)
            written.append(change.path)
    write_record(plan.project_dir, replace(plan.record, files=digests))
    return UpdateResult(written=tuple(written), removed=tuple(removed), kept=tuple(kept))
