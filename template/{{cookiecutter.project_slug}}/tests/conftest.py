"""Every test runs offline, away from the user's AWS configuration and modelbuild state."""

import pytest


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point HOME, the AWS configuration and modelbuild's state into tmp_path.

    The working directory stays the project's, so modelbuild finds the pipeline that setup.cfg names.
    """
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "{{ cookiecutter.aws_region }}")
    monkeypatch.setenv("MODELBUILD_HOME", str(tmp_path / "state"))
