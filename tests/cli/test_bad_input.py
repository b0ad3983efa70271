"""The bad-input catalogue: every bad input and fault a new user hits, with its exit code and message.

Each row is one case: the command (with {tmp} for a prepared directory holding the files below and
{abalone} for the reference pipeline's saved definition), the expected `ExitCode`, and a fragment of
the one-line message. No case may print a traceback or exit 0.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
ABALONE = REPO / "tests" / "definition" / "golden" / "abalone-us-east-1.json"
DEEP = "[" * 5000 + "]" * 5000
RUN = "run --local --definition {abalone} --state-dir {tmp}/state"

CATALOGUE = [
    # -- the state directory (issue 13, item 4) --
    ("state dir is a file", "run --local --definition {abalone} --state-dir {tmp}/a_file",
     ExitCode.LOCAL_STATE, "is a file, not a directory"),
    ("state dir is a file, listing", "executions list --state-dir {tmp}/a_file",
     ExitCode.LOCAL_STATE, "is a file, not a directory"),
    ("garbage state.sqlite3", "executions list --state-dir {tmp}/garbage_state",
     ExitCode.LOCAL_STATE, "state.sqlite3 is corrupt"),
    ("garbage state.sqlite3, run", "run --local --definition {abalone} --state-dir {tmp}/garbage_state",
     ExitCode.LOCAL_STATE, "mv "),
    ("state.sqlite3 is a directory", "executions list --state-dir {tmp}/directory_state",
     ExitCode.LOCAL_STATE, "is a directory, not the state database"),
    ("state from a newer modelbuild", "executions list --state-dir {tmp}/newer_state",
     ExitCode.LOCAL_STATE, "newer than this modelbuild"),
    ("empty --state-dir", "run --local --definition {abalone} --state-dir ''", ExitCode.USAGE, "is empty"),
    ("resume of an unknown execution", RUN + " --resume nope", ExitCode.USAGE, "no execution 'nope'"),
    # -- options and kwargs (items 4 and 7) --
    ("--kwargs nested 5,000 deep", "get-definition --kwargs {deep}", ExitCode.USAGE, "nested too deeply"),
    ("--kwargs region not a string", """get-definition --kwargs '{{"region": 5}}'""", ExitCode.USAGE,
     "region should be a string"),
    ("--kwargs unknown region", """get-definition --kwargs '{{"region": "nowhere-1"}}'""", ExitCode.USAGE,
     "'nowhere-1' is not an AWS region name"),
    ("--steps with no names", RUN + " --steps ,,,", ExitCode.USAGE, "names no step"),
    ("--local with --target sagemaker", RUN + " --target sagemaker", ExitCode.USAGE, "contradict"),
    ("--tags not a list", "run --target sagemaker --tags '{{\"Key\": 1}}'", ExitCode.USAGE,
     "should be a list of tags"),
    ("--tags unparsable, its own example", "run --target sagemaker --tags '[{{'", ExitCode.USAGE,
     '"Key": "team"'),
    ("get-definition -f a directory", "get-definition -f {tmp}", ExitCode.USAGE, "is a directory"),
    ("unreachable --template git URL", "new churn --no-input --template https://127.0.0.1:9/t.git -o {tmp}/new",
     ExitCode.FAILURE, "Cannot fetch template 'https://127.0.0.1:9/t.git': git clone exited"),
    ("project name too long", "new " + "p" * 150 + " --no-input -o {tmp}/new", ExitCode.USAGE,
     "is 150 characters long; at most 100"),
    ("pipeline name too long", "new churn --no-input --pipeline-name " + "p" * 70 + " -o {tmp}/new", ExitCode.USAGE,
     "is 70 characters long; at most 63"),
    # -- definitions and modules (items 4 and 7) --
    ("non-UTF-8 --definition", "run --local --definition {tmp}/latin1.json --state-dir {tmp}/state",
     ExitCode.DEFINITION_INVALID, "is not UTF-8 text"),
    ("deeply nested --definition", "run --local --definition {tmp}/deep.json --state-dir {tmp}/state",
     ExitCode.DEFINITION_INVALID, "nested too deeply"),
    ("deeply nested --definition, validate", "validate --definition {tmp}/deep.json",
     ExitCode.DEFINITION_INVALID, "nested too deeply"),
    ("module calls sys.exit(0) at import", "get-definition --module-name exits_at_import",
     ExitCode.DEFINITION_INVALID, "called sys.exit(0)"),
    # -- parameter values (items 7 and 8) --
    ("instance count 0", RUN + " --parameter ProcessingInstanceCount=0", ExitCode.USAGE, "below the minimum 1"),
    ("instance count 1e23", RUN + " --parameter ProcessingInstanceCount=1e23", ExitCode.USAGE,
     "of type Integer; '1e23' is not"),
    ("Float inf", RUN + " --parameter MseThreshold=inf", ExitCode.USAGE, "a finite Float; 'inf' is not"),
    ("Float nan", RUN + " --parameter MseThreshold=nan", ExitCode.USAGE, "a finite Float; 'nan' is not"),
    ("String with a newline where an enum goes", RUN + " --parameter 'ModelApprovalStatus=Approved\nx'",
     ExitCode.USAGE, "not a valid ModelApprovalStatus"),
    ("String over 1024 characters", RUN + " --parameter InputDataUrl=s3://b/" + "k" * 1100, ExitCode.USAGE,
     "SageMaker takes at most 1024"),
    ("unknown parameter", RUN + " --parameter MseTreshold=1", ExitCode.USAGE, "Did you mean 'MseThreshold'?"),
]


@pytest.fixture
def prepared(tmp_path, monkeypatch) -> dict[str, str]:
    """The files the cases name, and a project directory with a module that exits at import."""
    (tmp_path / "a_file").write_text("")
    (tmp_path / "garbage_state").mkdir()
    (tmp_path / "garbage_state" / "state.sqlite3").write_bytes(b"garbage" * 100)
    (tmp_path / "directory_state" / "state.sqlite3").mkdir(parents=True)
    (tmp_path / "newer_state").mkdir()
    db = sqlite3.connect(tmp_path / "newer_state" / "state.sqlite3")
    db.execute("PRAGMA user_version = 999")
    db.close()
    (tmp_path / "latin1.json").write_bytes(json.dumps({"Steps": [], "Note": "é"}, ensure_ascii=False).encode("latin-1"))
    (tmp_path / "deep.json").write_text(DEEP)
    project = tmp_path / "project"
    project.mkdir()
    (project / "exits_at_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.chdir(project)
    return {"tmp": str(tmp_path), "abalone": str(ABALONE), "deep": shlex.quote(DEEP)}


def test_the_catalogue_covers_at_least_the_issues_list():
    assert len(CATALOGUE) >= 25
    assert len({case for case, *_ in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CATALOGUE, ids=[row[0] for row in CATALOGUE])
def test_bad_input_gets_its_exit_code_and_one_line(prepared, case, command, code, fragment):
    result = runner.invoke(app, shlex.split(command.format(**prepared)))

    assert result.exit_code == code, f"{case}: {result.output}"
    assert fragment in result.output, f"{case}: {result.output}"
    assert "Traceback" not in result.output
