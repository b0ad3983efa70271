"""The `modelbuild` group: version, help, start-up cost, and the one way errors are shown."""

import subprocess
import sys

import typer
from typer.testing import CliRunner

from modelbuild import __version__
from modelbuild.cli.app import app
from modelbuild.errors import DefinitionError, ExitCode

runner = CliRunner()


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.strip() == f"modelbuild {__version__}"


def test_help_documents_the_exit_codes():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "get-definition" in result.output
    assert "definition invalid" in result.output


def test_help_and_version_do_not_import_the_sagemaker_sdk():
    # A fresh interpreter: this test process may already have imported the SDK elsewhere.
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from modelbuild.cli.app import app\n"
        "for args in (['--help'], ['--version'], ['get-definition', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sagemaker', 'boto3', 'xgboost', 'sklearn'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _failing_app(error: BaseException) -> typer.Typer:
    """A copy of the real group with one extra command that raises `error`."""
    from modelbuild.cli.errors import ModelbuildGroup

    test_app = typer.Typer(cls=ModelbuildGroup)

    @test_app.callback()
    def callback(debug: bool = typer.Option(False, "--debug")) -> None:
        pass

    @test_app.command()
    def boom() -> None:
        raise error

    return test_app


def test_project_error_is_one_line_with_hint_and_its_exit_code():
    result = runner.invoke(_failing_app(DefinitionError("step 'X' is broken", hint="fix X")), ["boom"])
    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "Error: step 'X' is broken" in result.stderr
    assert "Hint: fix X" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_adds_the_traceback():
    result = runner.invoke(_failing_app(DefinitionError("broken")), ["--debug", "boom"])
    assert result.exit_code == ExitCode.DEFINITION_INVALID
    assert "Traceback (most recent call last)" in result.stderr
    assert "Error: broken" in result.stderr


def test_debug_from_the_environment(monkeypatch):
    monkeypatch.setenv("MODELBUILD_DEBUG", "1")
    result = runner.invoke(_failing_app(DefinitionError("broken")), ["boom"])
    assert "Traceback (most recent call last)" in result.stderr


def test_ctrl_c_exits_130_without_traceback():
    result = runner.invoke(_failing_app(KeyboardInterrupt()), ["boom"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "Traceback" not in result.stderr
