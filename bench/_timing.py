"""Shared timing for the bench scripts: interleaved runs of whole commands, median wall time.

Ratios, not absolute times, are the point: both sides of a ratio are measured in the same run,
interleaved, so a noisy shared machine slows both alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def wall_time(argv: Sequence[str], env: dict[str, str] | None = None, cwd: str | None = None) -> float:
    """Seconds one run of `argv` takes; raises if it fails (a failing command times nothing)."""
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-1000:]}")
    return time.perf_counter() - start


def compare(
    ours: Sequence[str], floor: Sequence[str], runs: int = 7, env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float, float]:
    """Median seconds of `ours` and `floor` over interleaved runs (after one warm-up each), and their ratio."""
    env = {**os.environ, **(env or {})}
    wall_time(ours, env, cwd), wall_time(floor, env, cwd)
    ours_times, floor_times = [], []
    for _ in range(runs):
        ours_times.append(wall_time(ours, env, cwd))
        floor_times.append(wall_time(floor, env, cwd))
    a, b = statistics.median(ours_times), statistics.median(floor_times)
    return a, b, a / b


def report(name: str, ours: float, floor: float, ratio: float, target: float) -> bool:
    """Print one result line and return whether the ratio meets its target."""
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(f"{name:<58} {ours:8.3f}s vs {floor:8.3f}s  ratio {ratio:5.2f} (target <= {target:.2f}) {verdict}")
    return ratio <= target
