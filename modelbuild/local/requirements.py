"""A job's requirements.txt, satisfied before the job starts, without ever changing the user's environment.

SageMaker's containers pip-install a source directory's requirements.txt into the image at job start
(FrameworkProcessor's runproc.sh, ModelTrainer's sm_train.sh, the training toolkit's script mode). Here a
job runs with the user's Python, so the engine does that work first:

1. every requirement already satisfied by the job's environment (name, version specifier, markers):
   nothing to do, and the job's own `pip install -r` then finds them all satisfied;
2. otherwise the unsatisfied ones are installed with `pip install --target` into a per-content cache
   (`<state>/requirements/<sha256 of the requirements and the Python version>`, made once, renamed into
   place when complete), which goes first on the job's PYTHONPATH;
3. when that install fails (offline, or no such version), one error names the missing packages before the
   job's process starts.

A `pip` on the job's PATH refuses `pip uninstall` (runproc.sh uninstalls `typing`), which would remove
packages from the user's environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from typing import IO

from modelbuild.local.steps import StepFailed

REQUIREMENTS = "requirements.txt"
PIP_GUARD = """#!/bin/sh
# modelbuild: a local job runs with your Python; it must not remove packages from your environment.
if [ "$1" = "uninstall" ]; then
    echo "modelbuild: skipped 'pip $*' (a local job does not change your environment)" >&2
    exit 0
fi
exec "{python}" -m pip "$@"
"""


def find(job_opt_ml: Path) -> str | None:
    """The text of the requirements.txt the job's container would install, or None.

    Where SageMaker's drivers look: a Processing job's code input (loose, or in FrameworkProcessor's
    sourcedir.tar.gz), ModelTrainer's code channel when its sourcecode.json names requirements, and
    script mode's submitted directory.
    """
    code = job_opt_ml / "processing" / "input" / "code"
    if (code / REQUIREMENTS).is_file():
        return (code / REQUIREMENTS).read_text()
    if (code / "sourcedir.tar.gz").is_file():
        with tarfile.open(code / "sourcedir.tar.gz") as archive:
            member = next((m for m in archive.getmembers() if m.name.lstrip("./") == REQUIREMENTS), None)
            stream = archive.extractfile(member) if member is not None else None
            if stream is not None:
                return stream.read().decode()
    source_code = job_opt_ml / "input" / "data" / "sm_drivers" / "sourcecode.json"
    if source_code.is_file():
        named = (json.loads(source_code.read_text()) or {}).get("requirements")
        path = job_opt_ml / "input" / "data" / "code" / str(named)
        return path.read_text() if named and path.is_file() else None
    script_mode = job_opt_ml / "code" / REQUIREMENTS
    return script_mode.read_text() if script_mode.is_file() else None


def unsatisfied(text: str) -> list[str]:
    """The requirement lines the running environment does not satisfy (options and URLs count as unsatisfied)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    missing = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            missing.append(line)  # -r, -e, --index-url, a path or URL: only pip can tell
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            missing.append(line)
            continue
        if requirement.url or not requirement.specifier.contains(installed, prereleases=True):
            missing.append(line)
    return missing


def prepare(job_dir: Path, cache_root: Path, log: IO[bytes]) -> dict[str, str]:
    """Satisfy the job's requirements.txt; returns the environment the job needs for it (PATH, PYTHONPATH).

    Raises:
        StepFailed: requirements are missing and cannot be installed (before the job's process starts).
    """
    guard = job_dir / ".modelbuild-bin"
    guard.mkdir(exist_ok=True)
    for name in ("pip", "pip3"):
        (guard / name).write_text(PIP_GUARD.format(python=sys.executable))
        (guard / name).chmod(0o755)
    env = {"PATH": str(guard)}
    text = find(job_dir / "opt" / "ml")
    if text is None:
        return env
    missing = unsatisfied(text)
    if not missing:
        log.write(b"[modelbuild] requirements.txt: every requirement is satisfied by the job's environment\n")
        return env
    key = hashlib.sha256(f"{sys.version}\n{text}".encode()).hexdigest()[:32]
    target = cache_root / key
    if not target.is_dir():
        _install(missing, target, log)
    log.write(f"[modelbuild] requirements.txt: {', '.join(missing)} from {target}\n".encode())
    return {**env, "PYTHONPATH": str(target)}


def _install(missing: list[str], target: Path, log: IO[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".staging-{uuid.uuid4().hex}"
    log.write(f"[modelbuild] requirements.txt: installing {', '.join(missing)} into {target}\n".encode())
    log.flush()
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-input",
                           "--disable-pip-version-check", "--target", str(staging),
                           *(word for line in missing for word in shlex.split(line))],
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    log.write((done.stdout + done.stderr).encode())
    if done.returncode:
        shutil.rmtree(staging, ignore_errors=True)
        reason = next((line for line in reversed(done.stderr.splitlines()) if line.startswith("ERROR")), "")
        raise StepFailed(f"the job's requirements.txt needs {', '.join(missing)}, which this environment lacks "
                         f"and pip could not install ({reason or 'see the log'}); install them into the environment "
                         "that runs modelbuild, or make the package index reachable")
    try:
        os.rename(staging, target)
    except OSError:  # another job made the same cache entry meanwhile
        shutil.rmtree(staging, ignore_errors=True)
