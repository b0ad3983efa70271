"""A module that builds its own sessions builds offline: every AWS call it makes is answered here, none sent."""

from __future__ import annotations

import io
import json
import os

import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.local_aws import LocalAws, OfflineAwsError, answering_locally
from modelbuild.definition.offline import PLACEHOLDER_ROLE, placeholder_bucket
from modelbuild.errors import DefinitionError
from tests.definition.test_build import run_without_network

# SDK v3, in the seed's shape: its own boto3 session and PipelineSession, the role looked up when none is
# given, the default bucket asked for, data uploaded, an image URI retrieved, the SDK imported at module level.
OWN_SESSION_MODULE = '''
import os

import boto3
from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import get_execution_role
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.pipeline import Pipeline

HERE = os.path.dirname(os.path.realpath(__file__))


def get_pipeline(region, role=None, default_bucket=None, pipeline_name="OwnSession"):
    session = PipelineSession(boto_session=boto3.Session(region_name=region), default_bucket=default_bucket)
    if role is None:
        role = get_execution_role(session)
    bucket = session.default_bucket()
    data = session.upload_data(os.path.join(HERE, "sample.csv"), bucket=bucket, key_prefix="own/data")
    image = image_uris.retrieve(framework="xgboost", region=region, version="1.7-1")
    return Pipeline(
        name=pipeline_name,
        parameters=[ParameterString(name="Data", default_value=data),
                    ParameterString(name="Image", default_value=image)],
        steps=[FailStep(name="Stop", error_message=role)],
        sagemaker_session=session,
    )
'''


@pytest.fixture
def own_session_module(write_module, tmp_path):
    name = write_module("own_session", OWN_SESSION_MODULE)
    (tmp_path / name.partition(".")[0] / "sample.csv").write_text("1,2\n3,4\n")
    return name


def parameters(built) -> dict:
    return {p["Name"]: p["DefaultValue"] for p in built.definition["Parameters"]}


def test_a_v3_module_that_builds_its_own_session_builds_offline(own_session_module):
    built = build_definition(own_session_module, {"region": "eu-west-1", "role": None, "default_bucket": None})

    bucket = placeholder_bucket("eu-west-1")
    assert built.definition["Steps"][0]["Arguments"]["ErrorMessage"] == PLACEHOLDER_ROLE  # role null: looked up
    assert parameters(built)["Data"] == f"s3://{bucket}/own/data/sample.csv"
    assert parameters(built)["Image"].endswith(".amazonaws.com/sagemaker-xgboost:1.7-1")
    assert built.uploads == {f"s3://{bucket}/own/data/sample.csv": b"1,2\n3,4\n"}


def test_its_build_opens_no_connection(own_session_module, tmp_path):
    body = (
        "from modelbuild.definition.build import build_definition\n"
        f"built = build_definition({own_session_module!r}, {{'region': 'us-west-2'}})"
    )
    report = run_without_network(body, tmp_path)  # tmp_path holds the module's package: the project
    assert report == {"attempts": [], "steps": 1}


def test_a_given_bucket_is_the_one_used(own_session_module):
    built = build_definition(own_session_module, {"region": "us-east-1", "default_bucket": "team-bucket"})
    assert list(built.uploads) == ["s3://team-bucket/own/data/sample.csv"]


def test_a_call_that_needs_aws_is_named(write_module):
    name = write_module("lists_jobs", (
        "import boto3\n\n\n"
        "def get_pipeline(region):\n"
        "    boto3.Session(region_name=region).client('sagemaker').list_training_jobs()\n"
    ))
    with pytest.raises(OfflineAwsError, match="the pipeline called sagemaker ListTrainingJobs, which needs AWS"):
        build_definition(name)


def test_an_error_inside_definition_is_labelled_as_such(write_module):
    name = write_module("bad_definition", (
        "class Broken:\n"
        "    name = 'Broken'\n\n"
        "    def definition(self):\n"
        "        raise KeyError('Steps')\n\n\n"
        "def get_pipeline(region):\n"
        "    return Broken()\n"
    ))
    with pytest.raises(DefinitionError, match=r"^the pipeline's definition\(\) \(built by .*bad_definition"
                                              r"\.get_pipeline\(\)\) failed: KeyError: 'Steps'$"):
        build_definition(name)


def test_uploads_multipart_and_reads_back_what_was_put():
    import boto3

    aws = LocalAws("000000000000", PLACEHOLDER_ROLE)
    big = os.urandom(9 * 1024 * 1024)  # over s3transfer's multipart threshold (8 MiB)
    with answering_locally(aws):
        s3 = boto3.Session(region_name="us-east-1").client("s3")
        s3.upload_fileobj(io.BytesIO(big), "b", "big.bin")
        s3.put_object(Bucket="b", Key="small.txt", Body=b"hi")
        assert s3.get_object(Bucket="b", Key="small.txt")["Body"].read() == b"hi"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="b")["Contents"]] == ["big.bin", "small.txt"]
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket="b", Key="missing")
    assert aws.uploads == {"s3://b/big.bin": big, "s3://b/small.txt": b"hi"}


def test_botocore_is_as_it_was_after_the_build():
    from botocore import endpoint, session

    before = session.Session.create_client, endpoint.Endpoint._send
    with answering_locally(LocalAws("000000000000", PLACEHOLDER_ROLE)):
        assert session.Session.create_client is not before[0]
    assert (session.Session.create_client, endpoint.Endpoint._send) == before


def test_null_role_and_bucket_are_not_given(tiny_module):
    built = build_definition(tiny_module, {"role": None, "default_bucket": None, "region": None})
    assert built.region == "us-east-1"
    assert json.loads(built.text)["Steps"][0]["Arguments"]["ErrorMessage"] == "us-east-1"



def test_ecr_and_lambda_lookups_a_build_may_make_are_answered():
    import boto3

    aws = LocalAws("000000000000", PLACEHOLDER_ROLE)
    with answering_locally(aws):
        session = boto3.Session(region_name="eu-west-1")
        repositories = session.client("ecr").describe_repositories(repositoryNames=["churn"])["repositories"]
        created = session.client("lambda").create_function(
            FunctionName="notify", Runtime="python3.12", Role=PLACEHOLDER_ROLE, Handler="app.handler",
            Code={"ZipFile": b"zip"},
        )
    assert repositories[0]["repositoryUri"] == "000000000000.dkr.ecr.eu-west-1.amazonaws.com/churn"
    assert created["FunctionArn"] == "arn:aws:lambda:eu-west-1:000000000000:function:notify"
    assert aws.calls == [("ecr", "DescribeRepositories"), ("lambda", "CreateFunction")]


def test_the_stamp_of_sdk_v2_job_names_follows_the_code_and_kwargs_not_the_clock(tmp_path):
    from modelbuild.definition.offline import inputs_stamp

    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    (tmp_path / "preprocess.py").write_text("print(1)\n")
    first = inputs_stamp(tmp_path, {"region": "us-east-1"})
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"compiled again")

    assert inputs_stamp(tmp_path, {"region": "us-east-1"}) == first
    assert inputs_stamp(tmp_path, {"region": "eu-west-1"}) != first
    (tmp_path / "preprocess.py").write_text("print(2)\n")
    assert inputs_stamp(tmp_path, {"region": "us-east-1"}) != first


def test_a_module_for_the_other_sdk_major_says_so(write_module):
    name = write_module("v2_style", "def get_pipeline(region):\n    from sagemaker.workflow.pipeline import Pipeline\n")
    with pytest.raises(DefinitionError, match="ModuleNotFoundError: .*sagemaker.workflow") as raised:
        build_definition(name)
    assert raised.value.hint.startswith("The module is written for another SageMaker SDK than the installed sagemaker")
