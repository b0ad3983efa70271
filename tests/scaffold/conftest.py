"""Fixtures for baking the template: projects with default and custom names, and a template to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelbuild.scaffold.new import new_project
from modelbuild.scaffold.sources import bundled_template_dir

CUSTOM = {"project_slug": "churn-model", "pipeline_name": "churn_risk", "aws_region": "eu-west-1", "ci": "both"}


@pytest.fixture
def bake(tmp_path):
    """bake(**overrides) -> NewProject: the bundled template rendered without prompts into tmp_path/out."""

    def _bake(template: str = "bundled", **overrides):
        return new_project(tmp_path / "out", overrides, template=template, no_input=True)

    return _bake


@pytest.fixture
def default_project(bake):
    """A project baked with every default (pipeline `abalone`, CodeBuild)."""
    return bake()


@pytest.fixture
def custom_project(bake):
    """A project baked with custom names and both CI flavours."""
    return bake(**CUSTOM)


@pytest.fixture
def template_copy(tmp_path) -> Path:
    """A copy of the bundled template that a test may edit (a "newer template")."""
    return Path(shutil.copytree(bundled_template_dir(), tmp_path / "template"))


@pytest.fixture
def failing_template(template_copy) -> Path:
    """The template with a post-generation hook that fails after the project is rendered."""
    hook = template_copy / "hooks" / "post_gen_project.py"
    hook.write_text("import sys\nsys.exit('the hook failed on purpose')\n")
    return template_copy


def text_files(project_dir: Path) -> dict[str, str]:
    """Relative path -> text of every UTF-8 file of a project (the sample data and binaries excluded)."""
    found = {}
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and path.suffix != ".csv":
            try:
                found[path.relative_to(project_dir).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return found
