"""The whole pipeline runs on this machine with `modelbuild run --local`."""

import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app

MODULE = "pipelines.{{ cookiecutter.pipeline_name }}.pipeline"


@pytest.mark.slow
def test_local_run_succeeds():
    result = CliRunner().invoke(app, ["run", "--local", "--module-name", MODULE])

    assert result.exit_code == 0, result.output
