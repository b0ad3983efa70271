"""Container paths stay in their job: every LocalPath lies under /opt/ml once normalised, and no link is
followed out of a job's directory or out of the store."""

from __future__ import annotations

import os

import pytest

from modelbuild.local.records import FAILED
from tests.local.conftest import code_uri, definition, processing


@pytest.fixture
def host_secret(tmp_path):
    secret = tmp_path / "host" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("host-only")
    return secret


@pytest.mark.parametrize("local_path", ["/tmp/modelbuild-escape-{n}", "/opt/ml/../../tmp/modelbuild-escape-{n}",
                                        "/opt/mlx/data", "relative/data"])
def test_an_input_local_path_outside_opt_ml_fails_the_step_and_writes_nothing(workspace, local_path):
    local_path = local_path.format(n=os.getpid())
    step = processing("Escape", "write")
    step["Arguments"]["ProcessingInputs"][0]["S3Input"]["LocalPath"] = local_path

    record = workspace.run(definition(step))

    assert record.status == FAILED
    assert "is not under /opt/ml" in record.steps[0].failure_reason
    assert not os.path.exists(f"/tmp/modelbuild-escape-{os.getpid()}")


def test_an_absolute_host_output_path_is_not_published(workspace, host_secret):
    step = processing("Publish", "write")
    step["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"] = str(host_secret.parent)

    record = workspace.run(definition(step))

    assert record.status == FAILED and "is not under /opt/ml" in record.failure_reason
    assert not list(workspace.store.root.rglob("secret.txt"))


def test_a_job_output_that_links_out_of_the_job_is_not_published(workspace, host_secret):
    workspace.put(code_uri("link_out"), "import os, sys\n"
                  f"os.symlink({str(host_secret)!r}, os.path.join(sys.argv[2], 'hostname'))\n")

    record = workspace.run(definition(processing("Link", "link_out")))

    assert record.status == FAILED and "outside" in record.failure_reason
    assert not [path for path in workspace.store.root.rglob("*") if path.name == "hostname"]


def test_an_output_directory_replaced_by_a_link_out_is_not_published(workspace, host_secret):
    workspace.put(code_uri("swap_dir"), "import os, shutil, sys\n"
                  f"shutil.rmtree(sys.argv[2]); os.symlink({str(host_secret.parent)!r}, sys.argv[2])\n")

    record = workspace.run(definition(processing("Swap", "swap_dir")))

    assert record.status == FAILED and "outside the job's directory" in record.failure_reason
    assert not list(workspace.store.root.rglob("secret.txt"))


def test_a_store_link_out_of_the_store_is_not_read(workspace, host_secret):
    workspace.put("s3://bucket/data/real.txt", "1")
    (workspace.store.root / "bucket" / "data" / "linked.txt").symlink_to(host_secret)
    step = processing("Read", "add_one", {"data": "s3://bucket/data"})

    record = workspace.run(definition(step))

    assert record.status == FAILED and "outside" in record.failure_reason
