"""`new_project`: what a baked project contains, and what `new` refuses before writing anything."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import yaml

from modelbuild.__version__ import __version__
from modelbuild.errors import ScaffoldError, UsageError
from modelbuild.scaffold.record import RECORD_FILE, digest
from modelbuild.scaffold.sources import PACKAGE_DIR, compatible_range, project_package_files, reference_project_dir
from tests.scaffold.conftest import CUSTOM, text_files

# What the template itself renders (pipelines/ is the reference pipeline, renamed).
TEMPLATE_FILES = {
    ".gitignore",
    "README.md",
    "codebuild-buildspec.yml",
    "ruff.toml",
    "setup.cfg",
    "setup.py",
    "tox.ini",
    "tests/conftest.py",
    "tests/test_local_run.py",
    "tests/test_pipeline.py",
    "tests/test_steps.py",
}
WORKFLOW = ".github/workflows/modelbuild.yml"
BUILDSPEC = "codebuild-buildspec.yml"
# The seed's layout, which every project must have.
SEED_LAYOUT = [
    "pipelines/__init__.py",
    "pipelines/{name}/__init__.py",
    "pipelines/{name}/pipeline.py",
    "pipelines/{name}/preprocess.py",
    "pipelines/{name}/evaluate.py",
]
PROJECT_VARIABLES = ["SAGEMAKER_PROJECT_NAME", "SAGEMAKER_PROJECT_ID", "ARTIFACT_BUCKET", "SAGEMAKER_PIPELINE_ROLE_ARN"]


def files_of(project_dir: Path) -> set[str]:
    return {path.relative_to(project_dir).as_posix() for path in project_dir.rglob("*") if path.is_file()}


def setup_list(project_dir: Path, name: str) -> list:
    """The value of the list literal assigned to `name` in the project's setup.py."""
    tree = ast.parse((project_dir / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"setup.py assigns no {name}")


class TestDefaultProject:
    def test_has_exactly_the_template_files_the_runtime_and_the_record(self, default_project):
        expected = TEMPLATE_FILES | set(project_package_files("abalone")) | {RECORD_FILE}

        assert files_of(default_project.path) == expected

    @pytest.mark.parametrize("path", [entry.format(name="abalone") for entry in SEED_LAYOUT])
    def test_has_the_seed_layout(self, default_project, path):
        assert (default_project.path / path).is_file()

    def test_is_the_projects_own_files_and_nothing_of_modelbuild(self, default_project):
        assert files_of(default_project.path) == {
            ".gitignore", ".modelbuild-project.json", "README.md", "codebuild-buildspec.yml", "ruff.toml",
            "setup.cfg", "setup.py", "tox.ini",
            "pipelines/__init__.py", "pipelines/abalone/__init__.py", "pipelines/abalone/data/abalone.csv",
            "pipelines/abalone/evaluate.py", "pipelines/abalone/pipeline.py", "pipelines/abalone/preprocess.py",
            "tests/conftest.py", "tests/test_local_run.py", "tests/test_pipeline.py", "tests/test_steps.py",
        }

    def test_no_file_is_a_copy_of_a_modelbuild_module(self, default_project):
        tool_sources = {path.read_bytes() for path in PACKAGE_DIR.rglob("*.py") if path.stat().st_size > 200}

        for path in default_project.path.rglob("*.py"):
            assert path.read_bytes() not in tool_sources, path

    def test_pipeline_package_is_a_byte_exact_copy_of_the_reference(self, default_project):
        reference, package = reference_project_dir(), default_project.path / "pipelines"
        for path in package.rglob("*"):
            if path.is_file():
                assert path.read_bytes() == (reference / path.relative_to(package)).read_bytes(), path

    def test_leaves_no_template_syntax_in_rendered_files(self, default_project):
        # The runtime's Python legitimately holds "{{" in f-strings: only what the template rendered counts.
        for relative, text in text_files(default_project.path).items():
            if not relative.startswith("pipelines/"):
                assert "{{" not in text and "{%" not in text, relative

    def test_buildspec_runs_the_pipeline_on_sagemaker_with_the_project_variables(self, default_project):
        buildspec = yaml.safe_load((default_project.path / BUILDSPEC).read_text())
        command = buildspec["phases"]["build"]["commands"][0]

        assert buildspec["phases"]["install"]["runtime-versions"]["python"] == "3.11"
        install = buildspec["phases"]["install"]["commands"]
        assert install[:2] == ["pip install --quiet uv", "uv pip install --system ."]
        assert "pyenv rehash" in install[2]  # CodeBuild's pyenv: `modelbuild` gets its shim
        assert "modelbuild run --target sagemaker" in command
        assert "--module-name" not in command  # setup.cfg names the module
        for variable in [*PROJECT_VARIABLES, "AWS_REGION"]:
            assert "${" + variable + "}" in command, variable

    def test_only_the_codebuild_ci_by_default(self, default_project):
        assert not (default_project.path / ".github").exists()

    def test_setup_requires_a_compatible_modelbuild_and_its_exact_sdk_pins(self, default_project):
        # modelbuild itself accepts a range (SDK v2 or v3); a new project pins the v3 release modelbuild's tests pin.
        sdk_pins = [r.partition(";")[0].strip() for r in importlib.metadata.requires("modelbuild")
                    if r.startswith("sagemaker") and 'extra == "test"' in r]

        assert setup_list(default_project.path, "required_packages") == [
            f"modelbuild>={__version__},<{compatible_range(__version__).rpartition('<')[2]}", *sdk_pins
        ]
        assert sdk_pins and all("==" in pin for pin in sdk_pins)

    def test_setup_declares_no_console_script(self, default_project):
        # modelbuild's own scripts come from the modelbuild distribution; two owners would clash.
        assert "entry_points" not in (default_project.path / "setup.py").read_text()

    def test_setup_cfg_names_the_pipeline_module_for_every_command(self, default_project):
        config = configparser.ConfigParser()
        config.read(default_project.path / "setup.cfg")

        assert config.get("tool:modelbuild", "pipeline") == "pipelines.abalone.pipeline"

    def test_record_holds_the_version_the_answers_and_the_digests_of_template_owned_files(self, default_project):
        record = json.loads((default_project.path / RECORD_FILE).read_text())
        project = default_project.path

        assert record["template"] == "bundled"
        assert record["template_version"] == record["modelbuild_version"] == __version__
        assert record["answers"]["pipeline_name"] == "abalone"
        assert record["files"] == {
            relative: digest((project / relative).read_bytes())
            for relative in files_of(project) - {RECORD_FILE}
            if not relative.startswith(("tests/", "pipelines/abalone/"))
        }

    def test_lints_clean_with_its_own_ruff_settings(self, default_project):
        ruff = Path(sys.executable).parent / "ruff"
        result = subprocess.run(
            [str(ruff), "check", "pipelines/abalone", "tests"], cwd=default_project.path, capture_output=True, text=True
        )

        assert result.returncode == 0, result.stdout + result.stderr


class TestCustomNames:
    def test_pipeline_module_is_renamed(self, custom_project):
        name = CUSTOM["pipeline_name"]
        expected = TEMPLATE_FILES | {WORKFLOW} | set(project_package_files(name)) | {RECORD_FILE}

        assert custom_project.path.name == CUSTOM["project_slug"]
        assert files_of(custom_project.path) == expected

    @pytest.mark.parametrize("path", [entry.format(name=CUSTOM["pipeline_name"]) for entry in SEED_LAYOUT])
    def test_has_the_seed_layout(self, custom_project, path):
        assert (custom_project.path / path).is_file()

    def test_no_trace_of_the_reference_pipeline_is_left(self, custom_project):
        for relative, text in text_files(custom_project.path).items():
            assert "abalone" not in text.lower(), relative

    def test_step_names_take_the_camel_case_name(self, custom_project):
        pipeline = (custom_project.path / "pipelines" / "churn_risk" / "pipeline.py").read_text()

        assert '"TrainChurnRiskModel"' in pipeline

    def test_setup_cfg_names_the_renamed_pipeline_module(self, custom_project):
        config = configparser.ConfigParser()
        config.read(custom_project.path / "setup.cfg")

        assert config.get("tool:modelbuild", "pipeline") == "pipelines.churn_risk.pipeline"

    def test_region_reaches_the_workflow(self, custom_project):
        workflow = yaml.safe_load((custom_project.path / WORKFLOW).read_text())

        assert workflow["jobs"]["build"]["env"]["AWS_REGION"] == "eu-west-1"

    def test_workflow_assumes_a_role_through_oidc_and_runs_the_same_command(self, custom_project):
        workflow = yaml.safe_load((custom_project.path / WORKFLOW).read_text())
        steps = workflow["jobs"]["build"]["steps"]
        credentials = next(step for step in steps if "configure-aws-credentials" in step.get("uses", ""))
        buildspec = yaml.safe_load((custom_project.path / BUILDSPEC).read_text())

        assert workflow["permissions"]["id-token"] == "write"
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert steps[-2]["run"] == " && ".join(buildspec["phases"]["install"]["commands"][:2])  # as CodeBuild does
        assert steps[-1]["run"] == buildspec["phases"]["build"]["commands"][0]
        for variable in PROJECT_VARIABLES:
            assert variable in workflow["jobs"]["build"]["env"]


@pytest.mark.parametrize(
    ("ci", "present", "absent"),
    [("codebuild", [BUILDSPEC], [WORKFLOW]), ("github", [WORKFLOW], [BUILDSPEC]), ("both", [BUILDSPEC, WORKFLOW], [])],
)
def test_ci_flavour_decides_the_ci_files(bake, ci, present, absent):
    project = bake(ci=ci)

    assert all((project.path / path).is_file() for path in present)
    assert not any((project.path / path).exists() for path in absent)


@pytest.mark.parametrize("slug", ["../evil", "/tmp/abs", "a/b", "..", "1abc", "has space", "-x"])
def test_refuses_a_slug_that_is_not_a_plain_directory_name_before_writing(bake, tmp_path, slug):
    with pytest.raises(UsageError, match="project slug"):
        bake(project_slug=slug)

    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["Churn", "churn-model", "class", "9lives", "../x", "a/b"])
def test_refuses_a_pipeline_name_that_is_not_a_lowercase_python_identifier_before_writing(bake, tmp_path, name):
    with pytest.raises(UsageError, match="--pipeline-name"):
        bake(pipeline_name=name)

    assert not (tmp_path / "out").exists()


def test_refuses_an_unknown_variable_and_suggests_the_closest(bake):
    with pytest.raises(UsageError, match="no variable 'pipeline_nam'") as raised:
        bake(pipeline_nam="churn")

    assert raised.value.hint == "Did you mean 'pipeline_name'?"


def test_refuses_a_value_outside_a_choice_variable(bake):
    with pytest.raises(UsageError, match="jenkins"):
        bake(ci="jenkins")


def test_refuses_an_existing_non_empty_target(bake, tmp_path):
    target = tmp_path / "out" / "mine"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("keep")

    with pytest.raises(ScaffoldError, match="already exists"):
        bake(project_slug="mine")

    assert files_of(target) == {"notes.txt"}


def test_fills_an_existing_empty_target(bake, tmp_path):
    (tmp_path / "out" / "mine").mkdir(parents=True)

    project = bake(project_slug="mine")

    assert (project.path / "setup.py").is_file()


def test_overwrite_rewrites_the_template_files_and_leaves_the_others(tmp_path):
    from modelbuild.scaffold.new import new_project

    target = tmp_path / "out" / "mine"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("keep")
    (target / "setup.py").write_text("old")

    project = new_project(tmp_path / "out", {"project_slug": "mine"}, no_input=True, overwrite=True)

    assert (target / "notes.txt").read_text() == "keep"
    assert (target / "setup.py").read_text() != "old"
    assert files_of(target) == set(project.files) | {"notes.txt", RECORD_FILE}


def test_a_failing_hook_removes_the_output_directory_it_created(bake, failing_template, tmp_path):
    with pytest.raises(ScaffoldError, match="hook"):
        bake(template=str(failing_template))

    assert not (tmp_path / "out").exists()


def test_a_failing_hook_leaves_an_existing_output_directory_as_it_was(bake, failing_template, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "other").write_text("keep")

    with pytest.raises(ScaffoldError, match="hook"):
        bake(template=str(failing_template))

    assert files_of(tmp_path / "out") == {"other"}


def test_renders_any_cookiecutter_template_and_records_it(bake, tmp_path):
    template = tmp_path / "plain"
    (template / "{{cookiecutter.name}}").mkdir(parents=True)
    (template / "cookiecutter.json").write_text(json.dumps({"name": "thing", "greeting": "hello"}))
    (template / "{{cookiecutter.name}}" / "hello.txt").write_text("{{ cookiecutter.greeting }}\n")

    project = bake(template=str(template), greeting="hi")

    assert (project.path / "hello.txt").read_text() == "hi\n"
    record = json.loads((project.path / RECORD_FILE).read_text())
    assert record["template"] == str(template) and record["answers"] == {"name": "thing", "greeting": "hi"}


def test_a_bare_cookiecutter_bake_makes_the_same_project(default_project, tmp_path, monkeypatch):
    from cookiecutter.main import cookiecutter

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where cookiecutter leaves its rendered hooks
    monkeypatch.setattr(tempfile, "tempdir", None)

    from modelbuild.scaffold.sources import bundled_template_dir

    bare = Path(cookiecutter(str(bundled_template_dir()), no_input=True, output_dir=str(tmp_path / "bare")))

    assert {path: (bare / path).read_bytes() for path in files_of(bare)} == {
        path: (default_project.path / path).read_bytes() for path in files_of(default_project.path) - {RECORD_FILE}
    }


def test_an_interrupted_new_leaves_no_staging_directory(bake, tmp_path):
    (tmp_path / "out").mkdir()

    with mock.patch("modelbuild.scaffold.new._move_into_place", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            bake(project_slug="interrupted")

    assert list((tmp_path / "out").iterdir()) == []


def test_a_local_template_is_recorded_as_an_absolute_path(bake, template_copy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    project = bake(template="template")

    assert json.loads((project.path / RECORD_FILE).read_text())["template"] == str(template_copy)


def test_a_bare_cookiecutter_bake_refuses_bad_names_too(tmp_path, monkeypatch):
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where cookiecutter leaves its rendered hooks
    monkeypatch.setattr(tempfile, "tempdir", None)

    from modelbuild.scaffold.sources import bundled_template_dir

    with pytest.raises(FailedHookException):
        cookiecutter(str(bundled_template_dir()), no_input=True, extra_context={"pipeline_name": "class"},
                     output_dir=str(tmp_path / "bare"))

    assert not any((tmp_path / "bare").rglob("*.py"))
