"""Ctrl-C or SIGTERM while a definition is being built is reported as an interruption (130 / 143),
never as an invalid definition, and never as a silent death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from modelbuild.errors import ExitCode

SLOW_MODULE = '''
import time


def get_pipeline(region=None, **kwargs):
    print("building", flush=True)
    time.sleep(60)
'''


@pytest.mark.parametrize(("signum", "code", "message"), [(signal.SIGINT, ExitCode.INTERRUPTED, "Interrupted."),
                                                          (signal.SIGTERM, ExitCode.TERMINATED, "Terminated.")])
def test_a_signal_during_the_definition_build_is_an_interruption(tmp_path, signum, code, message):
    (tmp_path / "slow_pipeline.py").write_text(SLOW_MODULE)
    command = [sys.executable, "-c", "from modelbuild.cli.app import main; main()", "get-definition",
               "--module-name", "slow_pipeline"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    build = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    # The module's get_pipeline() is running (a build sends the module's prints to stderr: stdout is the definition's).
    assert "building\n" in iter(build.stderr.readline, "")

    build.send_signal(signum)
    _, stderr = build.communicate(timeout=60)

    assert build.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == message
    assert "invalid" not in stderr.lower() and "Traceback" not in stderr
