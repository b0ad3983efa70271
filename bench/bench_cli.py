"""Start-up and get-definition overhead of the CLI, as ratios measured in one run.

    python bench/bench_cli.py [--runs N]

Targets (issue 2): `modelbuild --help` <= 1.5x `python -c "import typer"`; `modelbuild get-definition`
<= 1.10x a bare script that builds the same definition with the same offline settings and prints it
(the floor: the SDK's own cost). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys

from _timing import VENV_BIN, compare, report

BARE_GET_DEFINITION = """
from modelbuild.definition.offline import offline_environment, offline_session, placeholder_bucket, PLACEHOLDER_ROLE
region = "us-east-1"
with offline_environment(region):
    from pipelines.abalone.pipeline import get_pipeline
    session = offline_session(region, placeholder_bucket(region))
    print(get_pipeline(region=region, role=PLACEHOLDER_ROLE, default_bucket=placeholder_bucket(region),
                       sagemaker_session=session).definition())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    env = {"AWS_REGION": "us-east-1"}
    ok = report(
        "modelbuild --help vs python -c 'import typer'",
        *compare([str(VENV_BIN / "modelbuild"), "--help"], [sys.executable, "-c", "import typer"], runs=runs * 3),
        target=1.5,
    )
    ok &= report(
        "modelbuild get-definition vs bare build script",
        *compare([str(VENV_BIN / "modelbuild"), "get-definition"], [sys.executable, "-c", BARE_GET_DEFINITION],
                 runs=runs, env=env),
        target=1.10,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
