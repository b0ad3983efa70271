"""`modelbuild new --no-input` against a bare `cookiecutter --no-input` of the same template.

Target: modelbuild's command costs at most 1.5x cookiecutter's own (both render the same files and
run the same hooks; the difference is modelbuild's CLI start-up, validation, staging and record).
Each run starts from an empty output directory.

    python bench/bench_new.py
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

from _timing import VENV_BIN, compare, report

TARGET = 1.5


def fresh(command: list[str], output_dir: Path) -> list[str]:
    """`command` run in a shell after emptying `output_dir`, so every run generates from scratch."""
    quoted = shlex.join(command)
    return ["sh", "-c", f"rm -rf {shlex.quote(str(output_dir))} && {quoted}"]


def main() -> int:
    from modelbuild.scaffold.sources import bundled_template_dir

    template = str(bundled_template_dir())
    with tempfile.TemporaryDirectory() as work:
        ours_dir, floor_dir = Path(work) / "ours", Path(work) / "floor"
        modelbuild_new = [str(VENV_BIN / "modelbuild"), "new", "bench-project", "--no-input", "-o", str(ours_dir)]
        ours = fresh(modelbuild_new, ours_dir)
        floor = fresh([str(VENV_BIN / "cookiecutter"), "--no-input", template, "-o", str(floor_dir)], floor_dir)
        ours_s, floor_s, ratio = compare(ours, floor, runs=7, env={"HOME": work, "TMPDIR": work})
    ok = report("modelbuild new --no-input vs cookiecutter --no-input", ours_s, floor_s, ratio, TARGET)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
