"""The project's record of where it came from: `.modelbuild-project.json`, read by `update`.

It holds the template (and its version), the modelbuild version that last
rendered it, the answers, and a digest of every file the template owns as it was last written, so
`update` can tell the files the user changed from those they did not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modelbuild._utils import write_text_atomic
from modelbuild.errors import ScaffoldError

RECORD_FILE = ".modelbuild-project.json"
# User code: rendered once by `new`, never touched by `update`.
USER_DIRS = ("tests/",)


@dataclass(frozen=True)
class ProjectRecord:
    """What `new` recorded and `update` reads.

    Attributes:
        template: "bundled" (modelbuild's own template), a template path, or a git URL.
        template_version: the modelbuild version for the bundled template, else the git checkout or None.
        modelbuild_version: the modelbuild version that last rendered the project.
        answers: the template variables.
        files: project-relative path -> sha256 of every template-owned file as last written.
    """

    template: str
    template_version: str | None
    modelbuild_version: str
    answers: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)


def digest(content: bytes) -> str:
    """The sha256 hex digest of `content`."""
    return hashlib.sha256(content).hexdigest()


def is_user_owned(relative: str, answers: Mapping[str, Any]) -> bool:
    """True for the user's code: the pipeline module and the tests."""
    pipeline_dir = (f"pipelines/{answers['pipeline_name']}/",) if answers.get("pipeline_name") else ()
    return relative.startswith(USER_DIRS + pipeline_dir)


def project_files(project_dir: Path) -> dict[str, bytes]:
    """Every file of a freshly rendered project but the record: relative path -> content."""
    return {
        path.relative_to(project_dir).as_posix(): path.read_bytes()
        for path in sorted(project_dir.rglob("*"))
        if path.is_file() and path.name != RECORD_FILE and "__pycache__" not in path.parts
    }


def template_owned(files: Mapping[str, bytes], answers: Mapping[str, Any]) -> dict[str, bytes]:
    """The files of a rendering that `update` manages: all but the user's code."""
    return {relative: content for relative, content in files.items() if not is_user_owned(relative, answers)}


def read_record(project_dir: Path) -> ProjectRecord:
    """Read the record of the project in `project_dir`.

    Raises:
        ScaffoldError: when there is none, or it is not a record.
    """
    path = project_dir / RECORD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ProjectRecord(**data)
    except FileNotFoundError as exc:
        raise ScaffoldError(
            f"{project_dir} has no {RECORD_FILE}",
            hint="Run this in a project made by `modelbuild new` (or pass --project-dir).",
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ScaffoldError(f"{path} is not a modelbuild project record: {exc}") from exc


def write_record(project_dir: Path, record: ProjectRecord) -> None:
    """Write `record` into `project_dir` atomically (readable by all, like the files beside it)."""
    path = project_dir / RECORD_FILE
    write_text_atomic(path, json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    path.chmod(0o644)
