"""Start-up and get-definition cost of the CLI, as ratios measured in one run.

    python bench/bench_cli.py [--runs N]

Targets: `modelbuild --help` <= 1.5x `python -c "import typer"`; `modelbuild get-definition --rebuild` of
the reference pipeline (a real build: the definition cache is not read, the new build is kept in it)
<= 1.6x `python -c "import sagemaker.mlops.workflow.pipeline"`.
The floor of get-definition is the SDK's import, which any build of an SDK pipeline pays; it shares
none of modelbuild's code, so waste in our build path (or the SDK work we drive) shows in the ratio.
Run from the repository root (the reference project). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys

from _timing import VENV_BIN, compare, report

SDK_IMPORT = "import sagemaker.mlops.workflow.pipeline"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    env = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}  # importing the SDK needs a region
    ok = report(
        "modelbuild --help vs python -c 'import typer'",
        *compare([str(VENV_BIN / "modelbuild"), "--help"], [sys.executable, "-c", "import typer"], runs=runs * 3),
        target=1.5,
    )
    ok &= report(
        "modelbuild get-definition vs importing the SDK",
        *compare([str(VENV_BIN / "modelbuild"), "get-definition", "--no-stage", "--rebuild"],
                 [sys.executable, "-c", SDK_IMPORT], runs=runs, env=env),
        target=1.6,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
