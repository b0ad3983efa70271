"""botocore's exceptions become one-line AwsError messages with a hint saying what to fix."""

from __future__ import annotations

import botocore.exceptions as bex
import pytest
from botocore.stub import Stubber

from modelbuild.errors import AwsError, ExitCode
from modelbuild.sagemaker_target.aws import make_clients, translate_aws_errors


def test_no_region_says_to_set_aws_region():
    with pytest.raises(AwsError, match="No AWS region") as raised:
        make_clients()

    assert "AWS_REGION" in raised.value.hint


def test_aws_region_is_honoured(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert make_clients().region == "eu-west-1"


def test_unknown_profile_says_to_fix_aws_profile(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nope")

    with pytest.raises(AwsError, match="nope") as raised:
        make_clients("us-east-1")

    assert "AWS_PROFILE" in raised.value.hint


def test_no_credentials_says_how_to_log_in(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask an instance metadata service
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    clients = make_clients("us-east-1")

    with pytest.raises(AwsError, match="No AWS credentials") as raised:
        with translate_aws_errors("listing pipelines"):
            clients.sagemaker.list_pipelines()

    assert "aws sso login" in raised.value.hint
    assert raised.value.exit_code is ExitCode.AWS_UNREACHABLE


def test_access_denied_names_the_permission_to_grant(clients):
    stub = Stubber(clients.sagemaker)
    stub.add_client_error("list_pipelines", "AccessDeniedException", "User is not authorized\nto do it")
    with stub, pytest.raises(AwsError, match="AccessDeniedException") as raised:
        with translate_aws_errors("listing pipelines"):
            clients.sagemaker.list_pipelines()

    assert "sagemaker:ListPipelines" in raised.value.hint
    assert "\n" not in raised.value.message


def test_validation_error_points_at_validate(clients):
    stub = Stubber(clients.sagemaker)
    stub.add_client_error("list_pipelines", "ValidationException", "bad value")
    with stub, pytest.raises(AwsError, match="bad value") as raised:
        with translate_aws_errors("listing pipelines"):
            clients.sagemaker.list_pipelines()

    assert "modelbuild validate" in raised.value.hint


def test_unreachable_endpoint_says_to_check_the_network():
    with pytest.raises(AwsError, match="Cannot reach AWS") as raised:
        with translate_aws_errors("listing pipelines"):
            raise bex.EndpointConnectionError(endpoint_url="https://api.sagemaker.nowhere")

    assert "AWS_ENDPOINT_URL" in raised.value.hint


def test_waiter_error_becomes_aws_error():
    with pytest.raises(AwsError, match="Gave up waiting"):
        with translate_aws_errors("waiting"):
            raise bex.WaiterError(name="x", reason="max attempts", last_response={})
