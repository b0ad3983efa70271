"""The repository is itself a ModelBuild project: its buildspec is what the template renders for it."""

from __future__ import annotations

from pathlib import Path

from modelbuild.scaffold.new import new_project

ROOT = Path(__file__).resolve().parents[2]
# The answers that describe this repository as a project of the template.
REPO_ANSWERS = {
    "project_slug": "modelbuild",
    "pipeline_name": "abalone",
    "sagemaker_pipeline_name": "AbalonePipeline",
    "model_package_group_name": "AbalonePackageGroup",
    "python_version": "3.11",
    "ci": "codebuild",
}


def test_the_repos_buildspec_is_rendered_from_the_template(tmp_path):
    """One source of truth: edit template/, then copy the rendered buildspec here (this test says so)."""
    project = new_project(tmp_path, REPO_ANSWERS, no_input=True)
    rendered = (project.path / "codebuild-buildspec.yml").read_text()
    assert (ROOT / "codebuild-buildspec.yml").read_text() == rendered, (
        "codebuild-buildspec.yml differs from the template's rendering; regenerate it from template/"
    )
