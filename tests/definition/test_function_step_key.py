"""@step payloads are signed with this user's key, deterministically: two builds are byte-identical, and the
signatures still verify against the public key the definition gives the job."""

from __future__ import annotations

import json
import os
import stat

import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.offline import (
    _create_key_file,
    function_step_key_path,
    function_step_signing_key,
    offline_environment,
)
from modelbuild.errors import DefinitionError

FUNCTION_STEPS = '''
def get_pipeline(region="us-east-1", role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.mlops.workflow.function_step import step
    from sagemaker.mlops.workflow.pipeline import Pipeline

    @step(name="MakeNumbers", instance_type="ml.m5.large", image_uri="IMAGE", role=role)
    def make_numbers(n):
        return list(range(n))

    @step(name="Total", instance_type="ml.m5.large", image_uri="IMAGE", role=role)
    def total(numbers):
        return sum(numbers)

    return Pipeline(name="Functions", steps=[total(make_numbers(5))], sagemaker_session=sagemaker_session)
'''.replace("IMAGE", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3")


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_lives_in_the_users_config_directory(tmp_path, monkeypatch):
    assert function_step_key_path() == tmp_path / "home" / ".config" / "modelbuild" / "function-step-signing-key.pem"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert function_step_key_path() == tmp_path / "xdg" / "modelbuild" / "function-step-signing-key.pem"


def test_the_key_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "config" / "modelbuild" / "key.pem"

    first = function_step_signing_key(path)
    second = function_step_signing_key(path)

    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert first.private_numbers() == second.private_numbers()
    assert [p.name for p in path.parent.iterdir()] == ["key.pem"]  # no temporary file left behind


def test_a_key_another_build_wrote_first_is_kept(tmp_path):
    path = tmp_path / "key.pem"
    function_step_signing_key(path)
    written = path.read_bytes()

    assert _create_key_file(path) == written and path.read_bytes() == written


def test_a_key_other_users_can_read_is_refused(tmp_path):
    path = tmp_path / "key.pem"
    function_step_signing_key(path)
    os.chmod(path, 0o644)

    with pytest.raises(DefinitionError, match="readable by other users") as raised:
        function_step_signing_key(path)
    assert raised.value.hint == f"Run: chmod 600 {path}"


def test_a_file_without_a_p256_key_is_refused(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("not a key\n")
    os.chmod(path, 0o600)

    with pytest.raises(DefinitionError, match="no usable @step signing key") as raised:
        function_step_signing_key(path)
    assert "Delete" in raised.value.hint


def test_two_builds_of_step_functions_are_byte_identical_and_verify(write_module, tmp_path):
    module = write_module("functions", FUNCTION_STEPS)

    first = build_definition(module, {"default_bucket": "bkt"})
    second = build_definition(module, {"default_bucket": "bkt"})

    assert first.text == second.text and first.uploads == second.uploads
    payloads = {uri: data for uri, data in first.uploads.items() if uri.endswith("/payload.pkl")}
    assert len(payloads) == 4  # function and arguments of both steps
    assert mode(tmp_path / "home" / ".config" / "modelbuild" / "function-step-signing-key.pem") == 0o600
    with offline_environment("us-east-1"):
        from sagemaker.core.remote_function.core import serialization

        for step in first.definition["Steps"]:
            public_key = step["Arguments"]["Environment"]["REMOTE_FUNCTION_SECRET_KEY"]
            for uri, data in payloads.items():
                if f"/{step['Name']}/" in uri:  # what the job's runner checks before unpickling
                    metadata = serialization._MetaData.from_json(first.uploads[uri.replace("payload.pkl",
                                                                                           "metadata.json")])
                    serialization._verify_asymmetric_signature(metadata, data, public_key)
        assert serialization._sign_payload.__module__ == serialization.__name__  # the SDK's own again


def test_a_build_without_step_functions_creates_no_key(tiny_module, tmp_path):
    build_definition(tiny_module)

    assert not (tmp_path / "home" / ".config").exists()


def test_a_new_key_gives_new_prefixes(write_module, tmp_path, monkeypatch):
    module = write_module("functions", FUNCTION_STEPS)
    first = build_definition(module, {"default_bucket": "bkt"})
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "another-machine"))

    second = build_definition(module, {"default_bucket": "bkt"})

    assert first.text != second.text and not set(first.uploads) & {u for u in second.uploads if "payload" in u}
    assert json.loads(second.text)["Steps"][0]["Arguments"]["Environment"]["REMOTE_FUNCTION_SECRET_KEY"] \
        != json.loads(first.text)["Steps"][0]["Arguments"]["Environment"]["REMOTE_FUNCTION_SECRET_KEY"]
