"""The README's two fresh-machine commands are the ones CI and the tests exercise."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fenced_commands(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```\n(.*?)```", text, flags=re.S)]


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = fenced_commands(readme)[1]
    assert test_command.rpartition(" && ")[2].startswith(".venv/bin/python -m pytest")
    assert test_command in ci.splitlines()


def test_readme_main_job_command_runs_the_abalone_pipeline_locally():
    main_job = fenced_commands((ROOT / "README.md").read_text())[0]
    setup, _, run = main_job.rpartition(" && ")
    assert setup == fenced_commands((ROOT / "README.md").read_text())[1].rpartition(" && ")[0]
    assert run == ".venv/bin/modelbuild run --local"
