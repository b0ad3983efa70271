"""Fixtures every test gets (no real AWS configuration, no real home, no shared state dir), and the moto
server on 127.0.0.1 that the tests of AWS calls share: each test gets fresh state and fake credentials."""

from __future__ import annotations

import collections
import urllib.request

import pytest

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/PipelineRole"
BUCKET = "modelbuild-test-bucket"


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, the files with the most slow tests first (each file runs on one worker, in
    collection order: see setup.cfg), so a long one (minutes, to install a generated project) starts at
    once instead of running alone at the end. Every worker sorts alike; a run without -n keeps file order."""
    if not hasattr(config, "workerinput"):
        return
    slow = collections.Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])


@pytest.fixture(scope="session")
def moto_endpoint():
    """The URL of a moto server started for this test session (nothing reaches the internet)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """Point every boto3 client at the moto server with fake credentials, on a reset backend."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    return moto_endpoint


@pytest.fixture
def clients(aws):
    """SageMaker and S3 clients on the moto server, with the test bucket created."""
    from modelbuild.sagemaker_target.aws import make_clients

    made = make_clients()
    made.s3.create_bucket(Bucket=BUCKET)
    return made


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point HOME (so the user config dir), AWS config/credentials files, AWS_PROFILE and state dir into tmp_path.

    A test can never read the developer's real credentials, write into their ~/.aws, or see
    another test's executions and models.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("MODELBUILD_HOME", str(tmp_path / "state"))
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "MODELBUILD_TARGET",
        "MODELBUILD_DEBUG",
        "XDG_CONFIG_HOME",  # the @step signing key lives below it (else below HOME)
    ):
        monkeypatch.delenv(name, raising=False)
    yield
