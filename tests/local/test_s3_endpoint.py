"""The jobs' S3 endpoint: the real boto3 client against the store, and what a job's environment holds."""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.parse
from pathlib import Path

import pytest

from modelbuild.local.s3_endpoint import serve

from .conftest import definition, processing, step_output


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "s3"
    (root / "bucket" / "data").mkdir(parents=True)
    (root / "bucket" / "data" / "rows.csv").write_text("1,2\n3,4\n")
    return root


@pytest.fixture
def s3(store):
    import boto3

    with serve(store) as endpoint:
        yield boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")


def small_parts():
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20, max_concurrency=3)


def test_get_head_and_put_object(s3, store):
    assert s3.get_object(Bucket="bucket", Key="data/rows.csv")["Body"].read() == b"1,2\n3,4\n"
    s3.put_object(Bucket="bucket", Key="out/a.txt", Body=b"hello")

    assert (store / "bucket" / "out" / "a.txt").read_bytes() == b"hello"
    head = s3.head_object(Bucket="bucket", Key="out/a.txt")
    assert head["ContentLength"] == 5 and head["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'


def test_a_multipart_upload_and_a_ranged_download_round_trip(s3, store, tmp_path):
    data = os.urandom(12 * 2**20 + 7)
    (tmp_path / "big.bin").write_bytes(data)

    s3.upload_file(str(tmp_path / "big.bin"), "bucket", "models/big.bin", Config=small_parts())
    s3.download_file("bucket", "models/big.bin", str(tmp_path / "back.bin"), Config=small_parts())

    assert (store / "bucket" / "models" / "big.bin").read_bytes() == data
    assert (tmp_path / "back.bin").read_bytes() == data
    assert s3.head_object(Bucket="bucket", Key="models/big.bin")["ETag"].endswith('-3"')


def test_list_objects_v2_pages_and_groups_by_delimiter(s3, store):
    for key in ("a/1", "a/2", "b/1", "c"):
        s3.put_object(Bucket="bucket", Key=key, Body=b"x")

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="bucket", PaginationConfig={"PageSize": 2})
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    grouped = s3.list_objects_v2(Bucket="bucket", Delimiter="/")

    assert keys == ["a/1", "a/2", "b/1", "c", "data/rows.csv"]
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "b/", "data/"]
    assert [item["Key"] for item in grouped["Contents"]] == ["c"]
    assert s3.list_objects_v2(Bucket="bucket", Prefix="a/")["KeyCount"] == 2


def test_missing_objects_and_buckets_are_s3_errors(s3):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="NoSuchKey"):
        s3.get_object(Bucket="bucket", Key="nope")
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket="bucket", Key="nope")
    with pytest.raises(ClientError, match="NoSuchBucket"):
        s3.list_objects_v2(Bucket="other")


def test_a_changed_object_fails_an_if_match_read(s3):
    from botocore.exceptions import ClientError

    etag = s3.head_object(Bucket="bucket", Key="data/rows.csv")["ETag"]
    s3.put_object(Bucket="bucket", Key="data/rows.csv", Body=b"changed")

    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.get_object(Bucket="bucket", Key="data/rows.csv", IfMatch=etag)


def test_an_upload_cut_off_halfway_leaves_the_old_object(store):
    with serve(store) as endpoint:
        host = urllib.parse.urlsplit(endpoint.url)
        connection = http.client.HTTPConnection(host.hostname, host.port)
        connection.putrequest("PUT", "/bucket/data/rows.csv")
        connection.putheader("Content-Length", "1000")
        connection.endheaders()
        connection.send(b"half of the new content")
        assert (store / "bucket" / "data" / "rows.csv").read_text() == "1,2\n3,4\n"
        connection.close()  # the writer dies
        deadline = time.monotonic() + 10
        while len(list((store / "bucket" / "data").iterdir())) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the closed connection and drops the partial file
    assert (store / "bucket" / "data" / "rows.csv").read_text() == "1,2\n3,4\n"
    assert sorted(p.name for p in (store / "bucket" / "data").iterdir()) == ["rows.csv"]


SEED_STYLE = """
import json, os, pathlib, sys
import boto3
bucket, key = sys.argv[3][5:].split("/", 1)
boto3.resource("s3").Bucket(bucket).download_file(key, "/tmp/modelbuild-test-" + os.environ["STEP"])
rows = pathlib.Path("/tmp/modelbuild-test-" + os.environ["STEP"]).read_text().splitlines()
boto3.client("s3").put_object(Bucket=bucket, Key="written/by-job.txt", Body=str(len(rows)).encode())
seen = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
pathlib.Path(sys.argv[2], "env.json").write_text(json.dumps(seen))
pathlib.Path(sys.argv[2], "value.txt").write_text(str(len(rows)))
"""


@pytest.fixture
def seed_style(workspace):
    workspace.put("s3://bucket/code/seed.py", SEED_STYLE)
    workspace.put("s3://bucket/dataset/rows.csv", "1\n2\n3\n")
    step = processing("Seed", "seed", args=["s3://bucket/dataset/rows.csv"])
    step["Arguments"]["Environment"] = {"STEP": "seed"}
    return definition(step)


def test_a_job_downloads_and_uploads_with_its_own_boto3(workspace, seed_style, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_PROFILE", "production")

    record = workspace.run(seed_style)

    assert record.status == "Succeeded", record.failure_reason
    assert step_output(workspace, record, "Seed") == "3"
    assert workspace.read("s3://bucket/written/by-job.txt") == "3"
    seen = json.loads(step_output(workspace, record, "Seed", "env.json"))
    assert seen["AWS_ACCESS_KEY_ID"] != "AKIAREALUSERKEY" and "AWS_PROFILE" not in seen
    assert "real-secret" not in json.dumps(seen)
    assert seen["AWS_ENDPOINT_URL_S3"].startswith("http://127.0.0.1:")


def test_a_job_keeps_the_users_credentials_only_when_asked(workspace, seed_style, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("MODELBUILD_JOB_AWS", "inherit")

    record = workspace.run(seed_style)

    seen = json.loads(step_output(workspace, record, "Seed", "env.json"))
    assert seen["AWS_ACCESS_KEY_ID"] == "AKIAREALUSERKEY"
    assert workspace.read("s3://bucket/written/by-job.txt") == "3"  # S3 still goes to the store


def test_a_jobs_call_to_another_service_is_told_only_s3_is_local(workspace):
    workspace.put("s3://bucket/code/sm.py", "import boto3\nboto3.client('sagemaker').list_pipelines()\n")

    record = workspace.run(definition(processing("Other", "sm")))

    assert record.status == "Failed"
    assert "serves only S3" in Path(record.steps[0].log_path).read_text()


def test_aws_chunked_bodies_are_decoded_and_a_cut_one_is_refused():
    from modelbuild.local.s3_endpoint import _aws_chunks

    body = b"5;chunk-signature=ab\r\nhello\r\n3\r\n, x\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"

    assert b"".join(_aws_chunks(iter([body[:7], body[7:20], body[20:]]))) == b"hello, x"
    with pytest.raises(ConnectionResetError):
        b"".join(_aws_chunks(iter([body[:12]])))
