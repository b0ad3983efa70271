"""modelbuild's wheel, built from this checkout: what a project installs where no index carries modelbuild.

Shared by bench/bench_install.py and tests/scaffold/test_generated_project.py, so both install the same thing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
# What a source distribution of modelbuild holds: the package, the template, the reference project.
SOURCES = ("modelbuild", "template", "pipelines", "setup.py", "setup.cfg", "README.md", "LICENSE")


def build_wheel(work: Path) -> Path:
    """Build modelbuild's wheel into `work`/dist from a copy of the checkout's sources (nothing is written
    into the checkout); returns the wheel's path. Raises CalledProcessError when pip fails."""
    source = work / "modelbuild-src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".modelbuild")
    for name in SOURCES:
        path = CHECKOUT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy(path, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(work / "dist")]
    subprocess.run(pip_wheel, check=True, capture_output=True, text=True)
    (wheel,) = (work / "dist").glob("modelbuild-*.whl")
    return wheel
