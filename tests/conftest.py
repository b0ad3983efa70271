"""Fixtures every test gets: no real AWS configuration, no real home, no shared state dir."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Point HOME, the AWS config/credentials files, AWS_PROFILE and the state dir into tmp_path.

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
    ):
        monkeypatch.delenv(name, raising=False)
    yield
