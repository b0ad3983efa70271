"""Installing a generated project as its CodeBuild buildspec does: pip against uv, side by side.

Each run starts from a fresh venv and times the buildspec's install phase, bootstrap then install:

    pip:  pip install --upgrade pip  &&  pip install WHEEL PROJECT        (the buildspec before uv)
    uv:   pip install uv             &&  uv pip install --python VENV/bin/python WHEEL PROJECT

(The buildspec's `uv pip install --system` installs into CodeBuild's Python; here it goes into the venv.)
PROJECT is `modelbuild new bench-project --no-input` (the SageMaker SDK pins: about 140 packages, 1 GB).
modelbuild is not on the package index here, so its wheel is built once from this checkout and named on
both command lines alike. Everything else comes from PyPI for both tools: the machine's pip configuration
(extra indexes, find-links, constraints) is switched off for the runs (PIP_CONFIG_FILE=/dev/null), as on
CodeBuild, because uv does not read it.

Two cache states, each tool with its own cache directory (PIP_CACHE_DIR, UV_CACHE_DIR):
  warm: the cache kept from a first, untimed install (CodeBuild's cache on those directories);
  cold: an empty cache for every run (a build without a cache).

Target: uv's install phase takes at most 0.3x pip's, warm and cold. Also printed: the install step alone,
and the install phase plus the first `modelbuild get-definition` in the project (pip compiles bytecode
at install time and uv does not, so uv's first command compiles what it imports).

    python bench/bench_install.py [--runs 3] [--cold-runs 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import VENV_BIN, report, wall_time
from _wheel import build_wheel

TARGET = 0.3
CHECKOUT = Path(__file__).resolve().parent.parent


def clean_environment(work: Path) -> dict[str, str]:
    """This environment without pip's or uv's settings, and with pip's configuration files switched off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_")) and k != "VIRTUAL_ENV"}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "TMPDIR": str(work)}


class Side:
    """One tool's bootstrap and install commands, run in a fresh venv with its own cache directory."""

    def __init__(self, tool: str, work: Path, wheel: Path, project: Path) -> None:
        self.venv, self.project, self.state = work / f"venv-{tool}", project, work / f"state-{tool}"
        python, pip = str(self.venv / "bin" / "python"), str(self.venv / "bin" / "pip")
        if tool == "pip":
            self.bootstrap = [pip, "install", "--quiet", "--upgrade", "pip"]
            self.install = [pip, "install", "--quiet", str(wheel), str(project)]
        else:
            self.bootstrap = [pip, "install", "--quiet", "uv"]
            self.install = [str(self.venv / "bin" / "uv"), "pip", "install", "--quiet", "--python", python,
                            str(wheel), str(project)]
        self.cache = work / f"cache-{tool}"

    def run(self, env: dict[str, str], cold: bool) -> tuple[float, float, float]:
        """(bootstrap, install, first get-definition) seconds in a fresh venv; cold: from empty caches."""
        for path in (self.venv, self.state):
            shutil.rmtree(path, ignore_errors=True)
        wall_time([sys.executable, "-m", "venv", str(self.venv)])
        if cold:
            shutil.rmtree(self.cache, ignore_errors=True)
        # Both sides bootstrap with pip, so each has a pip cache (the uv side's holds the uv wheel) and a uv cache.
        env = {**env, "PIP_CACHE_DIR": str(self.cache / "pip"), "UV_CACHE_DIR": str(self.cache / "uv")}
        bootstrap, install = wall_time(self.bootstrap, env), wall_time(self.install, env)
        # A state dir of its own, so no earlier build is reused.
        first = wall_time([str(self.venv / "bin" / "modelbuild"), "get-definition", "--no-stage"],
                          {**env, "MODELBUILD_HOME": str(self.state)}, cwd=str(self.project))
        return bootstrap, install, first


def measure(sides: tuple[Side, Side], env: dict[str, str], runs: int, cold: bool) -> list[tuple[float, ...]]:
    """Per side: the median (bootstrap + install, install, bootstrap + install + first get-definition)
    seconds over interleaved runs."""
    if not cold:
        for side in sides:
            side.run(env, cold=False)  # warms the cache
    times: list[list[tuple[float, float, float]]] = [[], []]
    for _ in range(runs):
        for index, side in enumerate(sides):
            times[index].append(side.run(env, cold))
    return [(statistics.median(b + i for b, i, _ in side), statistics.median(i for _, i, _ in side),
             statistics.median(b + i + f for b, i, f in side)) for side in times]


def note(name: str, ours: float, floor: float) -> None:
    """Print one result line that has no target of its own (report's format, without the verdict)."""
    print(f"{name:<58} {ours:8.3f}s vs {floor:8.3f}s  ratio {ours / floor:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side with warm caches")
    parser.add_argument("--cold-runs", type=int, default=1, help="timed runs per side with cold caches (0: none)")
    args = parser.parse_args()

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work)
        wall_time([str(VENV_BIN / "modelbuild"), "new", "bench-project", "--no-input", "-o", str(work)])
        project = work / "bench-project"
        env = clean_environment(work)
        sides = (Side("uv", work, wheel, project), Side("pip", work, wheel, project))
        for state, runs in (("warm", args.runs), ("cold", args.cold_runs)):
            if runs <= 0:
                continue
            (uv_phase, uv_install, uv_first), (pip_phase, pip_install, pip_first) = measure(
                sides, env, runs, cold=state == "cold")
            ok &= report(f"{state} cache: uv vs pip, install phase (bootstrap + install)", uv_phase, pip_phase,
                         uv_phase / pip_phase, TARGET)
            note(f"{state} cache: uv vs pip, install step alone", uv_install, pip_install)
            note(f"{state} cache: uv vs pip, install + first get-definition", uv_first, pip_first)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
