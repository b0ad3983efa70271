"""Container emulation: a job directory standing in for `/opt/ml`, and a process started without a shell.

How the job's process sees its directory at `/opt/ml` depends on the isolation mode (see
`modelbuild.local.isolation`): in a private mount namespace it is simply there; otherwise any `/opt/ml/...`
path in the job's command, arguments or environment is mapped to the same path below the job's directory,
so step scripts that take their paths as arguments run unchanged, with no root and no Docker, on Linux
and macOS alike. The step's log starts with the mode that ran and what it cannot cover.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelbuild.local import processes, requirements
from modelbuild.local.isolation import SETUP_FAILED, choose
from modelbuild.local.job_environment import apply_environment
from modelbuild.local.steps import StepFailed

CONTAINER_ROOT = "/opt/ml"
HARD_CODED_PATH_ADVICE = (
    ". The script opened a container path written in its source, which the local engine cannot map without a "
    "private mount namespace (see the isolation line at the top of the log): pass the path as an argument "
    "(ContainerArguments) or read it from the environment"
)
_CONTAINER_PATH = re.compile(r"(?<![\w/.])/opt/ml(?=/|$|\s|:)")
_PYTHONS = {"python", "python3", "/usr/bin/python3", "/usr/local/bin/python3", "/usr/bin/python"}
# Failures a RetryPolicy may retry: the job was killed (SageMaker's internal error), or could not start.
KILLED, CANNOT_START = "SageMaker.JOB_INTERNAL_ERROR", "SageMaker.RESOURCE_LIMIT"


_SHELLS = {"bash", "sh", "dash", "zsh"}


def entrypoint_problem(entrypoint: Sequence[Any]) -> str | None:
    """Why the engine cannot run a job's ContainerEntrypoint on this machine, or None (checked before the run).

    A program of the image (an absolute path outside /opt/ml that this machine lacks) cannot run; a
    shell script under /opt/ml (the SDK's runproc.sh, job_driver.sh) can only where /opt/ml is real.
    """
    words = [word for word in entrypoint if isinstance(word, str)]
    if not words or words[0] in _PYTHONS:
        return None
    program = words[0]
    if program.startswith(f"{CONTAINER_ROOT}/"):
        return None  # a script the job's inputs bring
    if os.path.isabs(program) and not os.path.exists(program):
        return f"its entrypoint {program!r} is a program inside the image, which this machine does not have"
    if not os.path.isabs(program) and shutil.which(program) is None:
        return f"its entrypoint {program!r} is not a program on this machine's PATH"
    script = next((word for word in words[1:] if word.startswith(f"{CONTAINER_ROOT}/")), None)
    mode = choose()
    if Path(program).name in _SHELLS and script and not mode.real_container_paths:
        return (f"its entrypoint runs {script} with {Path(program).name}, and a shell script reaches /opt/ml itself, "
                f"which needs isolation mode namespace (jobs here run in {mode.note.partition(':')[0]})")
    return None


class Job:
    """One attempt of a job: its directory (the emulated container) and its log."""

    def __init__(self, job_dir: Path, log_path: Path,
                 environment: Mapping[str, str | None] | None = None) -> None:
        if job_dir.exists():
            shutil.rmtree(job_dir)
        job_dir.mkdir(parents=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.dir = job_dir
        self.log_path = log_path
        self.isolation = choose()
        self.environment = environment or {}  # the run's changes to the user's environment (None: removed)

    def local(self, container_path: str) -> Path:
        """The job-directory path standing for a container path, which must lie under /opt/ml.

        Raises:
            StepFailed: the path, normalised ('..' resolved), is not below /opt/ml: the engine would read or
                write outside the job's directory (SageMaker's API reference has processing LocalPaths begin
                with /opt/ml/processing/).
        """
        normal = posixpath.normpath(str(container_path)) if container_path else ""
        if not (normal == CONTAINER_ROOT or normal.startswith(CONTAINER_ROOT + "/")) or normal.startswith("//"):
            raise StepFailed(f"the container path {container_path!r} is not under {CONTAINER_ROOT}: the local engine "
                             f"keeps every job inside its directory (use e.g. {CONTAINER_ROOT}/processing/input/data)")
        return self.dir / normal.lstrip("/")

    def map_text(self, text: str) -> str:
        """`text` with every /opt/ml path replaced by its job-directory path."""
        return _CONTAINER_PATH.sub(str(self.dir / "opt" / "ml").replace("\\", "/"), text)

    def job_text(self, text: str) -> str:
        """`text` as the job's process must see it: as is where /opt/ml is real, else mapped."""
        return text if self.isolation.real_container_paths else self.map_text(text)

    def command(self, argv: Sequence[str]) -> list[str]:
        """The command to start: python interpreters become this one, container paths are mapped if need be."""
        if not argv:
            raise StepFailed("the job has no entrypoint")
        program = sys.executable if argv[0] in _PYTHONS else self.job_text(str(argv[0]))
        return [program, *(self.job_text(str(arg)) for arg in argv[1:])]

    def run(self, argv: Sequence[str], environment: Mapping[str, str] | None = None,
            max_runtime: float | None = None) -> None:
        """Run the process to completion with stdout and stderr appended to the log.

        Args:
            argv: the container's entrypoint and arguments (container paths are mapped).
            environment: the job's Environment (container paths in values are mapped).
            max_runtime: StoppingCondition.MaxRuntimeInSeconds; the process is killed after it.

        Raises:
            StepFailed: non-zero exit or over its runtime (not retryable), killed by a signal or could
                not start (retryable).
        """
        env = apply_environment(os.environ, self.environment)
        env.update({key: self.job_text(str(value)) for key, value in (environment or {}).items()})
        env["PYTHONUNBUFFERED"] = "1"
        # `python3` in a job's shell scripts (the SDK's drivers) is the interpreter the engine runs jobs with
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
        command = self.command(argv)
        (self.dir / "opt" / "ml").mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"[modelbuild] isolation: {self.isolation.note}\n".encode())
            # the cache lives in the state directory, beside jobs/ (the job directory is jobs/<execution>/<step>)
            for name, value in requirements.prepare(self.dir, self.dir.parents[2] / "requirements", log).items():
                env[name] = os.pathsep.join([value, *([env[name]] if env.get(name) else [])])
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            try:
                started = self.isolation.wrap(command, self.dir / "opt" / "ml")
                exit_code = processes.run(started, max_runtime, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                          env=env, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise StepFailed(f"the job ran over its MaxRuntimeInSeconds ({max_runtime:g}) and was stopped; "
                                 f"log: {self.log_path}") from exc
            except FileNotFoundError as exc:
                raise StepFailed(f"cannot start {command[0]!r}: no such program "
                                 "(the local engine runs python entrypoints and scripts of the job)") from exc
            except OSError as exc:
                raise StepFailed(f"cannot start {command[0]!r}: {exc}", CANNOT_START) from exc
        if exit_code == SETUP_FAILED and "modelbuild: cannot make" in self.tail(1):  # the launcher's own failure
            raise StepFailed(f"{self.tail(1)} (log: {self.log_path})", CANNOT_START)
        if exit_code < 0:
            raise StepFailed(f"the job was killed by signal {-exit_code}; log: {self.log_path}", KILLED)
        if exit_code:
            tail = self.tail()
            mapped = not self.isolation.real_container_paths
            advice = HARD_CODED_PATH_ADVICE if mapped and f"'{CONTAINER_ROOT}/" in tail else ""
            raise StepFailed(f"AlgorithmError: exit code {exit_code}: {tail} (log: {self.log_path}){advice}")

    def tail(self, lines: int = 3) -> str:
        """The last lines of the log, joined, for a failure reason."""
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def collect(self, store: Any, container_path: str, uri: str) -> None:
        """Upload what the job wrote at `container_path` to `uri` (an empty output uploads nothing)."""
        local = self.local(container_path)
        if local.exists() and not local.resolve().is_relative_to(self.dir.resolve()):
            raise StepFailed(f"the output {container_path} is a link to {local.resolve()}, outside the job's "
                             "directory; the local engine does not publish what lies outside a job")
        if local.is_dir() and any(local.iterdir()):
            store.upload_dir(local, uri)
        elif local.is_file():
            store.upload_file(local, uri)


def max_runtime(arguments: Mapping[str, Any]) -> float | None:
    """StoppingCondition.MaxRuntimeInSeconds of a job's arguments, or None."""
    seconds = (arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    return float(seconds) if seconds else None
