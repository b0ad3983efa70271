"""A generated project depends on modelbuild, installs with it, and passes its own tests.

modelbuild is not on a package index here, so it is installed from a wheel built from this checkout,
and the project from its own directory, into a fresh venv with pip resolving every other dependency
for real (no --no-deps, nothing reused from this environment). Then the project's own tests,
`modelbuild get-definition` and `modelbuild run --local` run there, in the project directory, as a
user would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench._wheel import build_wheel
from modelbuild.scaffold.sources import PACKAGE_DIR, bundled_template_dir, reference_project_dir
from tests.scaffold.conftest import CUSTOM

pytestmark = pytest.mark.slow
CHECKOUT = PACKAGE_DIR.parent


def run(argv, cwd: Path, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env={**environment, **(env or {})})
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """modelbuild's wheel, built from a copy of this checkout's sources (nothing written into the checkout)."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel):
    """(project_dir, venv bin dir): the custom-named project and the modelbuild wheel, in a fresh venv."""
    from modelbuild.scaffold.new import new_project

    root = tmp_path_factory.mktemp("generated")
    project = new_project(root / "src", CUSTOM, no_input=True).path
    run([sys.executable, "-m", "venv", str(root / "venv")], cwd=root)
    bin_dir = root / "venv" / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel), f"{project}[test]"], cwd=root)
    return project, bin_dir


def test_the_wheel_ships_the_template_and_the_reference_project_but_no_pipelines_package(wheel):
    shipped = set(zipfile.ZipFile(wheel).namelist())

    template = {
        "modelbuild/scaffold/template/" + path.relative_to(bundled_template_dir()).as_posix()
        for path in bundled_template_dir().rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert template <= shipped
    assert "modelbuild/scaffold/reference/abalone/data/abalone.csv" in shipped
    assert "modelbuild/scaffold/reference/abalone/pipeline.py" in shipped
    # Installing modelbuild must never put a `pipelines` package on a project's path.
    assert not any(name.startswith("pipelines/") for name in shipped)
    assert reference_project_dir() == CHECKOUT / "pipelines"  # this checkout's, in the dev install


def test_the_project_declares_modelbuild_and_gets_its_console_scripts_from_it(installed):
    project, bin_dir = installed

    result = run([str(bin_dir / "python"), "-m", "pip", "show", "-f", "churn-model"], cwd=project)

    requires = next(line for line in result.stdout.splitlines() if line.startswith("Requires:"))
    assert "modelbuild" in requires.replace(",", " ").split()
    assert "modelbuild.dist-info" not in result.stdout and "bin/modelbuild" not in result.stdout
    for script in ("modelbuild", "get-pipeline-definition", "run-pipeline"):
        assert (bin_dir / script).is_file()


def test_the_installed_project_passes_its_own_tests(installed):
    project, bin_dir = installed

    result = run([str(bin_dir / "python"), "-m", "pytest", "-rA", "-p", "no:cacheprovider"], cwd=project)

    assert "PASSED tests/test_local_run.py::test_local_run_succeeds" in result.stdout  # `run --local` works
    assert "SKIPPED" not in result.stdout


def test_get_definition_and_run_local_in_the_project_need_no_module_name(installed, tmp_path):
    project, bin_dir = installed
    state = {"MODELBUILD_HOME": str(tmp_path / "state"), "AWS_DEFAULT_REGION": "eu-west-1"}

    definition = run([str(bin_dir / "modelbuild"), "get-definition", "--no-stage"], cwd=project, env=state)
    executed = run([str(bin_dir / "modelbuild"), "run", "--local", "--json"], cwd=project, env=state)

    assert "TrainChurnRiskModel" in {step["Name"] for step in json.loads(definition.stdout)["Steps"]}
    assert "Building pipelines.churn_risk.pipeline from pipelines/churn_risk/pipeline.py" in definition.stderr
    summary = json.loads(executed.stdout.splitlines()[-1])
    assert summary["execution"]["status"] == "Succeeded"
    assert summary["module_file"] == str(project / "pipelines" / "churn_risk" / "pipeline.py")


def test_update_runs_in_the_projects_environment(installed):
    project, bin_dir = installed

    result = run([str(bin_dir / "modelbuild"), "update", "--json"], cwd=project)

    assert json.loads(result.stdout)["changes"] == []
