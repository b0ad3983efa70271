"""What a job's private mount namespace costs per step, against the same job started as a plain process.

    python bench/bench_isolation.py [--runs N]

Both sides start the same trivial job (`python -c pass`, the shortest a Processing script can be), so
the difference is what isolation adds to every job step: the launcher's interpreter start (-I -S), the
unshare, the tmpfs over /opt with its entries bound back, and the bind of the job directory. Target:
under 50 ms per step. Also shown: the one-off probe that `auto` runs per process. Exits 1 when the
target is missed, 2 when this machine has no mount namespaces to measure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _timing import compare

from modelbuild.local import isolation

TARGET_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    start = time.perf_counter()
    problem = isolation.namespace_problem()
    probe_ms = (time.perf_counter() - start) * 1000
    if problem:
        print(f"no mount namespace on this machine ({problem}); nothing to measure")
        return 2
    job = [sys.executable, "-c", "pass"]
    with tempfile.TemporaryDirectory() as folder:
        job_opt_ml = Path(folder, "opt", "ml")
        job_opt_ml.mkdir(parents=True)
        isolated = isolation.Isolation(isolation.NAMESPACE, "").wrap(job, job_opt_ml)
        ours, floor, ratio = compare(isolated, job, runs=runs)
    overhead_ms = (ours - floor) * 1000
    verdict = "ok" if overhead_ms < TARGET_MS else "OVER TARGET"
    print(f"job in its own mount namespace {ours * 1000:7.1f} ms vs plain process {floor * 1000:7.1f} ms "
          f"(median of {runs}, interleaved): ratio {ratio:4.2f}")
    print(f"isolation overhead per step {overhead_ms:6.1f} ms (target < {TARGET_MS:.0f} ms) {verdict}")
    print(f"one-off probe per process (auto mode) {probe_ms:6.1f} ms")
    return 0 if overhead_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
