"""A generated project installs with `pip install .` (as CodeBuild does) and passes its own tests.

The fresh venv reuses this environment's packages (a `.pth` line pointing at our site-packages)
instead of downloading them, and gets its own pip and setuptools from virtualenv's bundled wheels,
so nothing touches the network. `pipelines` itself is not visible through that line (modelbuild
is installed here in editable mode, through a finder the venv does not load): the project's own
copy is what runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from pipelines.errors import ExitCode
from tests.scaffold.conftest import CUSTOM

pytestmark = pytest.mark.slow


def run(argv, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory) -> Path:
    """The bin directory of a fresh venv that sees this environment's packages but not `pipelines`."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "virtualenv", "--quiet", "--no-periodic-update", str(venv)], cwd=venv)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (purelib / "zz_reuse_parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def pip_offline(bin_dir: Path, *args: str, cwd: Path) -> None:
    run([str(bin_dir / "python"), "-m", "pip", *args, "--quiet", "--no-deps", "--no-build-isolation"], cwd=cwd)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, venv_bin):
    """(project_dir, venv bin dir): the custom-named project, installed non-editable into a fresh venv."""
    from pipelines.scaffold.new import new_project

    root = tmp_path_factory.mktemp("generated")
    project = new_project(root / "src", CUSTOM, no_input=True).path
    pip_offline(venv_bin, "install", str(project), cwd=root)
    return project, venv_bin


def test_installed_project_prints_its_definition_offline(installed, tmp_path):
    _, bin_dir = installed

    result = run([str(bin_dir / "modelbuild"), "get-definition"], cwd=tmp_path)  # away from the source tree

    steps = {step["Name"] for step in json.loads(result.stdout)["Steps"]}
    assert "TrainChurnRiskModel" in steps


def test_installed_project_passes_its_own_tests(installed):
    project, bin_dir = installed

    # -P: import `pipelines` from the installed package, not from the source tree in the cwd.
    result = run([str(bin_dir / "python"), "-P", "-m", "pytest", "-rA", "-p", "no:cacheprovider"], cwd=project)

    assert "PASSED tests/test_local_run.py::test_local_run_succeeds" in result.stdout  # `run --local` works
    assert "SKIPPED" not in result.stdout


def test_modelbuild_wheel_ships_the_template_and_the_sample_data(venv_bin, tmp_path):
    from pipelines.scaffold.sources import PACKAGE_DIR, bundled_template_dir

    source = tmp_path / "modelbuild"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(PACKAGE_DIR, source / "pipelines", ignore=ignore)
    shutil.copytree(bundled_template_dir(), source / "template", ignore=ignore)
    for name in ("setup.py", "setup.cfg", "README.md", "LICENSE"):
        shutil.copy(PACKAGE_DIR.parent / name, source)

    pip_offline(venv_bin, "wheel", str(source), "-w", str(tmp_path / "dist"), cwd=tmp_path)

    (wheel,) = (tmp_path / "dist").glob("modelbuild-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    template = {
        "pipelines/scaffold/template/" + path.relative_to(bundled_template_dir()).as_posix()
        for path in bundled_template_dir().rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert template <= shipped
    assert "pipelines/abalone/data/abalone.csv" in shipped


def test_installed_project_points_new_to_a_separate_modelbuild(installed, tmp_path):
    _, bin_dir = installed

    result = subprocess.run([str(bin_dir / "modelbuild"), "new", "x", "--no-input"], cwd=tmp_path,
                            capture_output=True, text=True)

    assert result.returncode == ExitCode.FAILURE
    assert "separate installation" in result.stderr
