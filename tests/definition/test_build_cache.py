"""The definition cache: the last build is reused while nothing it depends on changed, and only then."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelbuild.definition import build_cache
from modelbuild.definition.build_cache import build_or_reuse
from modelbuild.definition.project import find_project
from tests.definition.conftest import PROJECT_MODULE, forget_project_modules


@pytest.fixture
def build(tiny_project, caplog, monkeypatch):
    """build(kwargs=None, rebuild=False) -> (BuiltDefinition, "Building" or "Reusing"), run in the tiny
    project's directory as a new `modelbuild` process would (its modules not imported yet)."""
    caplog.set_level(logging.INFO, logger="modelbuild")
    monkeypatch.chdir(tiny_project)

    def run(kwargs: dict | None = None, rebuild: bool = False):
        forget_project_modules()
        caplog.clear()
        built = build_or_reuse(None, kwargs, find_project(tiny_project), cache_dir=tiny_project / "cache",
                               rebuild=rebuild)
        said = [record.getMessage() for record in caplog.records if record.name.startswith("modelbuild.definition")]
        verbs = {message.split()[0] for message in said if message.startswith(("Building", "Reusing"))}
        assert len(verbs) == 1, said
        return built, verbs.pop()

    return run


def test_an_unchanged_rerun_reuses_the_build_and_says_so(build, tiny_project, caplog):
    first, verb = build()
    again, reused = build()

    assert (verb, reused) == ("Building", "Reusing")
    assert again == first and again.uploads == first.uploads and again.definition == first.definition
    assert again.module == PROJECT_MODULE and again.module_file == str(tiny_project / "flows/tiny/pipeline.py")
    assert f"Reusing the build of {PROJECT_MODULE} from flows/tiny/pipeline.py (unchanged)" in caplog.messages


def test_the_reused_build_carries_the_uploads_to_stage(build, tiny_project):
    build()
    reused, _ = build()

    assert reused.uploads == {"s3://sagemaker-us-east-1-000000000000/tiny/sample.csv": b"1,2\n3,4\n"}


def edit(path: Path, text: str = "\n# edited\n") -> None:
    path.write_text(path.read_text() + text)


def write(path: Path, text: str) -> None:
    path.write_text(text)


# Each input of the key, changed: (name, change(project, monkeypatch) -> the kwargs of the next build).
CHANGES = {
    "the module's file": lambda project, mp: edit(project / "flows/tiny/pipeline.py"),
    "a data file in its package": lambda project, mp: edit(project / "flows/tiny/data/sample.csv", "5,6\n"),
    "a data file, same size, at once": lambda project, mp: write(project / "flows/tiny/data/sample.csv", "9,9\n9,9\n"),
    "a new file in its package": lambda project, mp: write(project / "flows/tiny/data/more.csv", "7,8\n"),
    "a file removed from its package": lambda project, mp: (project / "flows/tiny/__init__.py").unlink(),
    "a parent package's __init__.py": lambda project, mp: edit(project / "flows/__init__.py"),
    "a file the build read outside the package": lambda project, mp: write(project / "settings.json", '{"name": "X"}'),
    "the kwargs": lambda project, mp: {"least": 2},
    "a default filled in: the region from AWS_REGION": lambda project, mp: mp.setenv("AWS_REGION", "eu-west-1"),
    "an environment variable the build read": lambda project, mp: mp.setenv("TINY_SUFFIX", "X"),
    "a new SAGEMAKER_* variable": lambda project, mp: mp.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", "/tmp/x.yaml"),
    "the Python version": lambda project, mp: mp.setattr(sys, "version", sys.version + " (another build)"),
    "sys.path": lambda project, mp: mp.syspath_prepend(str(project / "elsewhere")),
    "the working directory": lambda project, mp: mp.chdir(project / "flows"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_changing_an_input_of_the_key_builds_again(build, tiny_project, monkeypatch, change):
    build()

    kwargs = change(tiny_project, monkeypatch)
    _, verb = build(kwargs)
    _, then = build(kwargs)

    assert (verb, then) == ("Building", "Reusing")


# The distributions the definition comes from (and the tool that drives them), by normalised name.
DISTRIBUTIONS = ["sagemaker", "sagemaker_core", "sagemaker_train", "sagemaker_serve", "sagemaker_mlops", "botocore",
                 "boto3", "modelbuild"]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_another_version_of_a_distribution_builds_again(build, monkeypatch, distribution):
    installed = build_cache.installed_distributions()
    assert distribution in installed
    build()

    upgraded = {**installed, distribution: installed[distribution] + ".post1"}
    monkeypatch.setattr(build_cache, "installed_distributions", lambda: upgraded)

    assert build()[1] == "Building"


def test_what_does_not_change_the_content_does_not_build_again(build, tiny_project, monkeypatch):
    build()
    data = tiny_project / "flows/tiny/data/sample.csv"
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 10**9))  # touched, same content
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rotated")  # the offline session carries its own keys
    monkeypatch.setenv("UNRELATED", "1")
    (tiny_project / "flows/tiny/__pycache__").mkdir(exist_ok=True)

    assert build()[1] == "Reusing"


def test_rebuild_builds_and_keeps_the_new_build(build):
    build()

    assert build(rebuild=True)[1] == "Building"
    assert build()[1] == "Reusing"


@pytest.mark.parametrize("damage", ["", "{truncated", "[]", '{"format": 1}', "corrupt upload"])
def test_an_unusable_cache_entry_is_a_miss_not_an_error(build, tiny_project, damage):
    first, _ = build()
    (entry,) = (tiny_project / "cache").glob("*.json")
    if damage == "corrupt upload":
        data = json.loads(entry.read_text())
        data["built"]["uploads"] = {uri: "AAAA" for uri in data["built"]["uploads"]}
        damage = json.dumps(data)
    entry.write_text(damage)

    again, verb = build()

    assert verb == "Building" and again == first and again.uploads == first.uploads


def test_a_cache_that_cannot_be_written_is_a_warning_not_an_error(tiny_project, caplog):
    (tiny_project / "cache").write_text("a file where the directory should be")

    built = build_or_reuse(None, None, find_project(tiny_project), cache_dir=tiny_project / "cache")

    assert built.pipeline_name == "Tiny"
    assert any(message.startswith("Could not keep this build for reuse") for message in caplog.messages)


def test_the_cache_keeps_the_builds_used_last_and_drops_the_others(build, tiny_project, monkeypatch):
    monkeypatch.setattr(build_cache, "MAX_ENTRIES", 2)
    build({"least": 1})
    build({"least": 2})
    assert build({"least": 1})[1] == "Reusing"  # now used after least=2

    build({"least": 3})

    assert len(list((tiny_project / "cache").glob("*.json"))) == 2
    assert build({"least": 1})[1] == "Reusing" and build({"least": 3})[1] == "Reusing"
    assert build({"least": 2})[1] == "Building"


def entries(directory: Path, sizes: dict[str, int]) -> Path:
    """A cache directory with entries of these sizes, used in this order: the first most recently."""
    directory.mkdir()
    for age, (name, size) in enumerate(sizes.items()):
        (directory / name).write_text("x" * size)
        os.utime(directory / name, ns=(0, 10**18 - age * 10**9))
    return directory


def test_pruning_keeps_the_entries_used_last_within_the_byte_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(build_cache, "MAX_BYTES", 250)
    cache = entries(tmp_path / "cache", {"new.json": 100, "recent.json": 100, "old.json": 100, "oldest.json": 10})
    (cache / ".new.json.1234.tmp").write_text("x" * 1000)  # an interrupted write: not an entry

    removed = build_cache.prune(cache, keep=cache / "new.json")

    assert sorted(path.name for path in removed) == ["old.json", "oldest.json"]
    assert sorted(path.name for path in cache.iterdir()) == [".new.json.1234.tmp", "new.json", "recent.json"]


def test_pruning_never_removes_the_entry_just_written(tmp_path, monkeypatch):
    monkeypatch.setattr(build_cache, "MAX_BYTES", 250)
    cache = entries(tmp_path / "cache", {"recent.json": 100, "huge.json": 1000})

    build_cache.prune(cache, keep=cache / "huge.json")

    assert [path.name for path in cache.iterdir()] == ["huge.json"]


NO_SDK = """
import sys
from modelbuild.cli.app import app
app(["get-definition", "--no-stage"], standalone_mode=False)
print(sorted({name.partition(".")[0] for name in sys.modules} & {"sagemaker", "boto3", "botocore"}), file=sys.stderr)
"""


# Bytecode written beside the sources (or not at all), or under PYTHONPYCACHEPREFIX: the build writes
# bytecode of what it imports there, which is not an input the key may depend on.
BYTECODE = {"default": {}, "PYTHONPYCACHEPREFIX": {"PYTHONPYCACHEPREFIX": "pycache", "PYTHONDONTWRITEBYTECODE": ""}}


@pytest.mark.parametrize("bytecode", BYTECODE.values(), ids=BYTECODE.keys())
def test_an_unchanged_rerun_imports_neither_the_sdk_nor_boto3(tiny_project, tmp_path, bytecode):
    env = {**os.environ, "MODELBUILD_HOME": str(tmp_path / "state"), **bytecode}
    env = {name: str(tmp_path / value) if name == "PYTHONPYCACHEPREFIX" else value
           for name, value in env.items() if value}

    def get_definition() -> tuple[str, list[str], str]:
        done = subprocess.run([sys.executable, "-c", NO_SDK], cwd=tiny_project, capture_output=True, text=True,
                              env=env, check=True)
        *said, imported = done.stderr.strip().splitlines()
        return done.stdout, said, imported

    built, said_first, imported_first = get_definition()
    reused, said_again, imported_again = get_definition()

    assert said_first == [f"Building {PROJECT_MODULE} from flows/tiny/pipeline.py"]
    assert "sagemaker" in imported_first
    assert said_again == [f"Reusing the build of {PROJECT_MODULE} from flows/tiny/pipeline.py (unchanged)"]
    assert imported_again == "[]" and reused == built


def test_a_reused_module_from_outside_the_project_is_still_named_in_a_warning(tiny_module, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="modelbuild")
    build_or_reuse(tiny_module, cache_dir=tmp_path / "cache")
    caplog.clear()

    reused = build_or_reuse(tiny_module, cache_dir=tmp_path / "cache")

    assert caplog.messages[0].startswith(f"Reusing the build of {tiny_module}")
    assert caplog.messages[1] == f"{reused.module_file} was found outside the project directory {Path.cwd()}"
