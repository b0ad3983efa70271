"""A rerun with nothing changed, against `modelbuild --help`, as ratios measured in one run.

    python bench/bench_rerun.py [--runs N]

Target: `modelbuild run --local` of the reference pipeline, rerun with nothing changed (its last build
reused from the definition cache, every job step a cache hit) <= 3x `modelbuild --help`. Also shown,
without a target: `modelbuild get-definition` rerun, and the same rerun of `run --local` given the
definition as a file (`--definition`, no build and no cache at all: what the definition cache costs is
the difference). Before timing, the reruns are checked to reuse the build and to import none of the
SDK, boto3, xgboost, pandas, scikit-learn or pydantic (`python -X importtime`). Run from the repository root
(the reference project). Exits 1 when the target is missed.

Both sides are measured as installed: the README's install compiles bytecode (`--compile-bytecode`, as
pip does by default). Without it, and with PYTHONDONTWRITEBYTECODE set, every import compiles its
source on every run, which costs the rerun (more modules) more than `--help`: the bench says so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import VENV_BIN, compare, report

# pydantic too: typer would import it for every command with options (see modelbuild/cli/coercion.py).
HEAVY = ("sagemaker", "boto3", "botocore", "xgboost", "pandas", "sklearn", "numpy", "pydantic")
RERUN = "from modelbuild.cli.app import main; import sys; sys.argv[0] = 'modelbuild'; main()"


def heavy_imports(argv: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    """stderr of `modelbuild ARGV` (without the import lines) and the heavy packages it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", RERUN, *argv], env=env, capture_output=True,
                          text=True, check=True)
    lines = done.stderr.splitlines()
    imported = {line.split("|")[-1].strip().partition(".")[0] for line in lines if line.startswith("import time:")}
    said = "\n".join(line for line in lines if not line.startswith("import time:"))
    return said, sorted(imported & set(HEAVY))


def bytecode_state() -> str:
    """Whether the imports the rerun needs have their bytecode compiled (as an install leaves them)."""
    import importlib.util

    import rich.console
    import typer

    from modelbuild.local import engine

    missing = [module.__name__ for module in (typer, rich.console, engine)
               if not os.path.exists(importlib.util.cache_from_source(module.__file__))]
    if not missing:
        return "compiled"
    return f"NOT compiled for {', '.join(missing)}: every import compiles its source (install with --compile-bytecode)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"bytecode: {bytecode_state()}")
    modelbuild = str(VENV_BIN / "modelbuild")
    with tempfile.TemporaryDirectory() as temp:
        env = {"MODELBUILD_HOME": str(Path(temp) / "state")}
        full_env = {**os.environ, **env}
        subprocess.run([modelbuild, "run", "--local"], env=full_env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for argv in (["run", "--local"], ["get-definition"]):
            # Twice: the first run under `python -c` has another sys.path than the console script, so builds.
            heavy_imports(argv, full_env)
            said, heavy = heavy_imports(argv, full_env)
            print(f"modelbuild {' '.join(argv)} rerun: {said.splitlines()[0]}; heavy imports: {heavy or 'none'}")
            if heavy or "Reusing the build" not in said:
                print("the rerun did not reuse the build, or imported heavy packages: no timing")
                return 1
        ok = report("rerun run --local (nothing changed) vs modelbuild --help",
                    *compare([modelbuild, "run", "--local"], [modelbuild, "--help"], runs=runs, env=env), target=3.0)
        show("for scale: rerun get-definition vs --help",
             *compare([modelbuild, "get-definition"], [modelbuild, "--help"], runs=runs, env=env))
        definition = str(Path(temp) / "definition.json")
        subprocess.run([modelbuild, "get-definition", "-f", definition], env=full_env, check=True,
                       stderr=subprocess.DEVNULL)
        show("for scale: rerun run --local --definition FILE vs --help",
             *compare([modelbuild, "run", "--local", "--definition", definition], [modelbuild, "--help"], runs=runs,
                      env=env))
    return 0 if ok else 1


def show(name: str, ours: float, floor: float, ratio: float) -> None:
    """Print a ratio that has no target (context for the line that has one)."""
    print(f"{name:<58} {ours:8.3f}s vs {floor:8.3f}s  ratio {ratio:5.2f}")


if __name__ == "__main__":
    sys.exit(main())
