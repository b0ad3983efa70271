"""A job's requirements.txt: satisfied from the environment, else installed into a per-content cache that never
touches the user's environment, else one error naming what is missing before the job starts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from modelbuild.local.requirements import find, unsatisfied

from .conftest import definition, processing, step_output

USES_DEP = """
import pathlib, sys
import mb_tiny_dep
pathlib.Path(sys.argv[2], "value.txt").write_text(str(mb_tiny_dep.VALUE))
"""


def tiny_wheel(folder: Path) -> Path:
    """A pure-Python wheel of `mb_tiny_dep` 1.0 (VALUE = 42), so installing needs no index."""
    files = {
        "mb_tiny_dep/__init__.py": b"VALUE = 42\n",
        "mb_tiny_dep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: mb-tiny-dep\nVersion: 1.0\n",
        "mb_tiny_dep-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                           b"Tag: py3-none-any\n",
    }
    record = "".join(
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for name, data in files.items()) + "mb_tiny_dep-1.0.dist-info/RECORD,,\n"
    wheel = folder / "mb_tiny_dep-1.0-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("mb_tiny_dep-1.0.dist-info/RECORD", record)
    return wheel


@pytest.fixture
def offline_index(tmp_path, monkeypatch):
    """pip sees only a local folder of wheels (no index: tests never reach the network)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    (tmp_path / "wheels").mkdir()
    return tmp_path / "wheels"


def with_requirements(workspace, requirements: str, script: str = USES_DEP) -> dict:
    workspace.put("s3://bucket/depcode/uses_dep.py", script)
    workspace.put("s3://bucket/depcode/requirements.txt", requirements)
    step = processing("UsesDep", "uses_dep")
    step["Arguments"]["ProcessingInputs"][-1]["S3Input"]["S3Uri"] = "s3://bucket/depcode/"
    return definition(step)


def test_requirements_the_environment_satisfies_install_nothing(workspace, offline_index):
    script = "import pathlib, sys\npathlib.Path(sys.argv[2], 'value.txt').write_text('ok')\n"
    record = workspace.run(with_requirements(workspace, "numpy>=1\nscikit-learn  # comment\n", script))

    assert record.status == "Succeeded", record.failure_reason
    assert "every requirement is satisfied" in Path(record.steps[0].log_path).read_text()
    assert not (workspace.root / "requirements").exists()


def test_a_missing_requirement_is_installed_into_a_cache_not_the_users_environment(workspace, offline_index):
    tiny_wheel(offline_index)
    pipeline = with_requirements(workspace, "mb-tiny-dep==1.0\n")

    first = workspace.run(pipeline)
    second = workspace.run(pipeline, cache_by_default=False)

    assert first.status == "Succeeded", first.failure_reason
    assert step_output(workspace, first, "UsesDep") == "42"
    with pytest.raises(PackageNotFoundError):
        version("mb-tiny-dep")  # the environment running modelbuild is unchanged
    assert len(list((workspace.root / "requirements").iterdir())) == 1
    assert "installing mb-tiny-dep==1.0" in Path(first.steps[0].log_path).read_text()
    assert second.status == "Succeeded"
    assert "installing" not in Path(second.steps[0].log_path).read_text()  # served from the cache


def test_an_unsatisfiable_requirement_fails_naming_it_before_the_job_starts(workspace, offline_index):
    record = workspace.run(with_requirements(workspace, "numpy\nmb-no-such-package>=2\n"))

    assert record.status == "Failed"
    assert "needs mb-no-such-package>=2," in record.failure_reason and "numpy" not in record.failure_reason
    assert "\n$ " not in Path(record.steps[0].log_path).read_text()  # the job's process never started


def test_a_job_cannot_uninstall_from_the_users_environment(workspace):
    step = processing("Uninstall", "write")
    step["Arguments"]["AppSpecification"] = {"ImageUri": "img", "ContainerEntrypoint": ["/bin/sh", "-c"],
                                             "ContainerArguments": ["pip uninstall --yes numpy"]}

    record = workspace.run(definition(step))

    assert record.status == "Succeeded", record.failure_reason
    assert "skipped 'pip uninstall --yes numpy'" in Path(record.steps[0].log_path).read_text()
    assert version("numpy")


def test_unsatisfied_reads_specifiers_markers_and_options():
    lines = "numpy>=1\nnumpy<1\nmb-absent\nfoo; python_version < '3'\n-r other.txt\n"

    assert unsatisfied(lines) == ["numpy<1", "mb-absent", "-r other.txt"]


def test_requirements_are_found_where_each_driver_looks(tmp_path):
    processing_code = tmp_path / "loose" / "processing" / "input" / "code"
    processing_code.mkdir(parents=True)
    (processing_code / "requirements.txt").write_text("a\n")
    packed = tmp_path / "packed" / "processing" / "input" / "code"
    packed.mkdir(parents=True)
    with tarfile.open(packed / "sourcedir.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("requirements.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"b\n"))
    trainer = tmp_path / "trainer" / "input" / "data"
    (trainer / "sm_drivers").mkdir(parents=True)
    (trainer / "code").mkdir()
    (trainer / "sm_drivers" / "sourcecode.json").write_text(json.dumps({"requirements": "reqs.txt"}))
    (trainer / "code" / "reqs.txt").write_text("c\n")
    (tmp_path / "script" / "code").mkdir(parents=True)
    (tmp_path / "script" / "code" / "requirements.txt").write_text("d\n")

    found = [find(tmp_path / name) for name in ("loose", "packed", "trainer", "script", "none")]

    assert found == ["a\n", "b\n", "c\n", "d\n", None]
