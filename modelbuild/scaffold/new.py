"""`modelbuild new`: render a template into a staging directory, then move the project into place.

Nothing is written where the user looks until the whole project has rendered: cookiecutter and
its hooks work in a hidden staging directory beside the target, and the project arrives by one
directory rename (or, with --overwrite, one rename per file). A failure anywhere removes the
staging directory and any output directory `new` created, and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbuild.__version__ import __version__
from modelbuild.errors import ScaffoldError
from modelbuild.scaffold.names import validate_slug
from modelbuild.scaffold.record import ProjectRecord, digest, project_files, template_owned, write_record
from modelbuild.scaffold.render import normalize_template, render
from modelbuild.scaffold.sources import BUNDLED


@dataclass(frozen=True)
class NewProject:
    """A generated project: where it is, the answers, and the files written (relative paths)."""

    path: Path
    answers: dict[str, Any]
    files: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {"path": str(self.path), "answers": self.answers, "files": list(self.files)}


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} exists and is not a directory")
    if _is_nonempty_dir(target) and not overwrite:
        raise ScaffoldError(
            f"{target} already exists and is not empty",
            hint="Choose another name or --output-dir, or --overwrite to rewrite the template's files in it.",
        )


@contextlib.contextmanager
def _created_dirs(directory: Path) -> Iterator[None]:
    """Create `directory` (and parents); remove what was created if the block fails."""
    first_missing = None
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        first_missing = candidate
    directory.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if first_missing is not None:
            shutil.rmtree(first_missing, ignore_errors=True)
        raise


def _move_into_place(rendered: Path, target: Path) -> None:
    if not target.exists() or not any(target.iterdir()):
        os.replace(rendered, target)  # one rename: the project appears whole or not at all
        return
    for source in sorted(path for path in rendered.rglob("*") if path.is_file()):
        destination = target / source.relative_to(rendered)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)


def new_project(
    output_dir: Path,
    overrides: Mapping[str, Any],
    template: str = BUNDLED,
    no_input: bool = False,
    overwrite: bool = False,
    checkout: str | None = None,
) -> NewProject:
    """Generate a project from `template` in a new directory of `output_dir`.

    Args:
        output_dir: where the project directory goes (created if missing).
        overrides: template variables given on the command line (e.g. project_slug, pipeline_name).
        template: "bundled" (modelbuild's template), a template directory or a git URL.
        no_input: take defaults instead of prompting.
        overwrite: allow a non-empty target directory; only the template's files in it are rewritten.
        checkout: branch, tag or commit of a git template.

    Returns:
        The generated project.

    Raises:
        UsageError: for invalid names (before anything is written).
        ScaffoldError: when the target exists and is not empty (without `overwrite`), or rendering fails.
    """
    output_dir = output_dir.expanduser().resolve()
    template = normalize_template(template)
    if output_dir.exists() and not output_dir.is_dir():
        raise ScaffoldError(f"The output directory {output_dir} is a file")
    if "project_slug" in overrides:  # fail before any prompt when the name alone settles it
        validate_slug(str(overrides["project_slug"]))
        _refuse_existing(output_dir / str(overrides["project_slug"]), overwrite)
    with _created_dirs(output_dir):
        staging = Path(tempfile.mkdtemp(dir=output_dir, prefix=".modelbuild-new-"))
        try:
            rendered = render(template, staging, overrides, no_input, checkout)
            target = output_dir / rendered.project_dir.name
            _refuse_existing(target, overwrite)
            files = project_files(rendered.project_dir)
            owned = template_owned(files, rendered.answers)
            write_record(
                rendered.project_dir,
                ProjectRecord(
                    template=template,
                    template_version=__version__ if template == BUNDLED else checkout,
                    modelbuild_version=__version__,
                    answers=rendered.answers,
                    files={relative: digest(content) for relative, content in owned.items()},
                ),
            )
            _move_into_place(rendered.project_dir, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return NewProject(path=target, answers=rendered.answers, files=tuple(sorted(files)))
