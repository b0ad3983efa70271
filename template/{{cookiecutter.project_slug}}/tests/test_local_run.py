"""The whole pipeline runs on this machine with `modelbuild run --local`."""

import pytest
from modelbuild.cli.app import app
from typer.testing import CliRunner


@pytest.mark.slow
def test_local_run_succeeds():
    # No --module-name: setup.cfg's [tool:modelbuild] names this project's pipeline.
    result = CliRunner().invoke(app, ["run", "--local"])

    assert result.exit_code == 0, result.output
    assert "Building pipelines.{{ cookiecutter.pipeline_name }}.pipeline from pipelines/" in result.stderr
