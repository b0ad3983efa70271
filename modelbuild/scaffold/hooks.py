"""The work of the template's hooks, kept here so that the template carries no logic of its own.

Cookiecutter runs the hooks in a subprocess of the same Python, with the generated project as
the working directory; each hook is two lines calling a function of this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelbuild.scaffold.names import validate_answers
from modelbuild.scaffold.sources import project_package_files

# Files each CI flavour owns; the others are removed after rendering.
CI_FILES = {
    "codebuild": ("codebuild-buildspec.yml",),
    "github": (".github/workflows/modelbuild.yml",),
}


def pre_gen_project(answers: Mapping[str, Any]) -> None:
    """Validate the answers (raises UsageError) before anything is rendered."""
    validate_answers(answers)


def post_gen_project(answers: Mapping[str, Any]) -> None:
    """Write the project's `pipelines/` package (the reference pipeline, renamed) into the rendered
    project (the working directory) and drop the CI files of the flavours not chosen."""
    root = Path.cwd()
    for relative, content in project_package_files(str(answers["pipeline_name"])).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    chosen = answers.get("ci", "both")
    for flavour, files in CI_FILES.items():
        if chosen not in (flavour, "both"):
            for relative in files:
                (root / relative).unlink(missing_ok=True)
    workflows = root / ".github" / "workflows"
    if workflows.is_dir() and not any(workflows.iterdir()):
        os.removedirs(workflows)
