"""How a job's process comes to see its job directory at /opt/ml: the isolation modes.

- `namespace` (Linux with unprivileged user namespaces): each job starts in its own mount namespace
  where /opt/ml *is* its job directory, for every program (bash, C libraries, the SDK's drivers,
  paths hard-coded in a script's source). Parallel jobs each see their own. See `namespace_launcher`.
- `paths` (everywhere else: macOS, containers without CAP_SYS_ADMIN over a user namespace, Ubuntu with
  AppArmor's restricted user namespaces): /opt/ml paths in the job's command, arguments and environment
  are rewritten to the job directory before the process starts. That covers scripts that take their
  paths as arguments or from SM_* variables; it cannot cover a path written in a program's source, nor
  the SDK's driver scripts, which `cd` into /opt/ml. There is no portable way to give one process its
  own view of a fixed absolute path without privileges (a symlink at /opt/ml would need root and be
  shared by parallel jobs), so this mode is honest about what it does rather than half-emulating more.

`auto` (the default) takes `namespace` where a probe shows it works, else `paths`. The environment
variable MODELBUILD_ISOLATION forces a mode; forcing `namespace` where it cannot work is an error
before the run.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from modelbuild.errors import UsageError

ENV_VAR = "MODELBUILD_ISOLATION"
NAMESPACE, PATHS, AUTO = "namespace", "paths", "auto"
MODES = (AUTO, NAMESPACE, PATHS)
LAUNCHER = Path(__file__).with_name("namespace_launcher.py")
SETUP_FAILED = 125  # the launcher's exit status when the namespace cannot be made
_PATHS_LIMITS = ("/opt/ml paths in the command, arguments and environment are mapped to the job directory; "
                 "paths written in a program's source and the SDK's driver scripts (sm_drivers, runproc.sh, "
                 "job_driver.sh) cannot see /opt/ml")


class IsolationUnavailableError(UsageError):
    """Raised when MODELBUILD_ISOLATION asks for a mode this machine cannot provide, or names no mode."""


@dataclass(frozen=True)
class Isolation:
    """The chosen mode and, for the step's log, why and what it cannot cover."""

    mode: str
    note: str

    @property
    def real_container_paths(self) -> bool:
        """True when the job sees /opt/ml itself (nothing needs rewriting)."""
        return self.mode == NAMESPACE

    def wrap(self, command: Sequence[str], job_opt_ml: Path) -> list[str]:
        """`command` as started in this mode (in `namespace`, through the launcher)."""
        if self.mode != NAMESPACE:
            return list(command)
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(job_opt_ml), *command]


def choose(requested: str | None = None) -> Isolation:
    """The isolation jobs get: `requested`, else $MODELBUILD_ISOLATION, else auto.

    Raises:
        IsolationUnavailableError: an unknown mode, or `namespace` where this machine has none.
    """
    wanted = (requested or os.environ.get(ENV_VAR) or AUTO).strip().lower()
    if wanted not in MODES:
        raise IsolationUnavailableError(f"{ENV_VAR}={wanted!r} is not an isolation mode ({', '.join(MODES)})",
                                        hint=f"Set {ENV_VAR} to one of them, or unset it for auto.")
    if wanted == PATHS:
        return Isolation(PATHS, f"paths (asked for by {ENV_VAR}): {_PATHS_LIMITS}")
    problem = namespace_problem()
    if problem is None:
        return Isolation(NAMESPACE, "namespace (a private mount namespace: /opt/ml is this job's directory)")
    if wanted == NAMESPACE:
        raise IsolationUnavailableError(
            f"{ENV_VAR}=namespace, but this machine cannot make a private mount namespace: {problem}",
            hint=f"Unset {ENV_VAR} (or set it to paths) to run jobs with container paths mapped instead.")
    return Isolation(PATHS, f"paths (no private mount namespace here: {problem}): {_PATHS_LIMITS}")


def check_request() -> None:
    """Fail now, before any step, when $MODELBUILD_ISOLATION asks for a mode this machine lacks (auto
    probes at the first job instead: a run whose steps are all cached starts no job and pays no probe).

    Raises:
        IsolationUnavailableError: as `choose`.
    """
    if (os.environ.get(ENV_VAR) or AUTO).strip().lower() != AUTO:
        choose()


@functools.lru_cache(maxsize=1)
def namespace_problem() -> str | None:
    """Why jobs cannot get a private mount namespace on this machine, or None when they can (probed once)."""
    if not sys.platform.startswith("linux"):
        return f"mount namespaces are Linux-only (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="modelbuild-probe-") as folder:
        Path(folder, "probe").touch()
        probe = "import os, sys; sys.exit(0 if os.path.isfile('/opt/ml/probe') else 3)"
        try:
            done = subprocess.run(Isolation(NAMESPACE, "").wrap([sys.executable, "-I", "-S", "-c", probe],
                                                                Path(folder)),
                                  capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the probe could not run ({exc})"
    if done.returncode == 0:
        return None
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"probe exit status {done.returncode}"
