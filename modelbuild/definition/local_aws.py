"""AWS, answered on this machine while a pipeline builds: the calls a pipeline module makes, none sent.

A module made from AWS's seed builds its own boto3 and SageMaker sessions and, while building, asks
AWS for the caller's identity (STS), the role behind it (IAM), the default bucket (S3 ListBuckets,
HeadBucket, CreateBucket) and uploads step code and data (S3 PutObject, multipart uploads); others ask
ECR or create a Lambda function. `answering_locally(aws)` makes every botocore client created during
the block answer those calls from `LocalAws`, a small table of fixed answers, and records each upload
in `LocalAws.uploads` (S3 URI -> bytes). A call the table does not know raises `OfflineAwsError`
naming it; no request is ever sent: botocore's last step before the network refuses too.

Why botocore's own event hooks and not moto's in-process mock: a `before-call` handler receives the
request after botocore validated and serialized it (a malformed call fails as it would against
AWS) and returns the answer in place of the HTTP exchange, through every session and client the
SDK or the module creates, in both SDK majors, with no new dependency. moto would answer the same
calls, but it is a large test-time library (it is in our `test` extra only) that would become a
runtime dependency of every project, patches far more than a build needs, and keeps its own state
that a build would have to read the uploads back out of.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from modelbuild.errors import DefinitionError

_PARAMS = "modelbuild_api_params"  # where the `before-parameter-build` hook leaves the call's own parameters
_FIXED_TIME = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)  # creation dates: no clock in a build
_ANSWERED_AT = "https://modelbuild.offline/"


class OfflineAwsError(DefinitionError):
    """Raised when a pipeline being built offline makes an AWS call that modelbuild does not answer."""


class LocalAws:
    """The answers of an AWS account that exists only on this machine, for one build.

    Attributes:
        account: the account id STS reports.
        role_arn: the role the caller has assumed (what `get_execution_role()` finds).
        uploads: S3 URI -> bytes of every object put during the build.
        calls: (service, operation) of every call answered, in order.
    """

    def __init__(self, account: str, role_arn: str, code_bucket: str = "") -> None:
        self.account = account
        self.role_arn = role_arn
        self.code_bucket = code_bucket  # where a created Lambda function's code is recorded
        self.uploads: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []
        self._buckets: set[str] = set()
        self._parts: dict[str, dict[int, bytes]] = {}
        self._lock = threading.Lock()  # s3transfer uploads from worker threads

    def put(self, bucket: str, key: str, body: bytes) -> str:
        """Record one upload; the one place a build's uploads land. Returns its S3 URI."""
        uri = f"s3://{bucket}/{key}"
        with self._lock:
            self._buckets.add(bucket)
            self.uploads[uri] = body
        return uri

    def answer(self, service: str, operation: str, params: Mapping[str, Any], region: str) -> tuple[int, dict]:
        """(HTTP status, parsed response) of one call, as botocore would have parsed AWS's answer.

        Raises:
            OfflineAwsError: the call is not one a build needs.
        """
        handler = _ANSWERS.get((service, operation))
        if handler is None:
            raise OfflineAwsError(
                f"building offline, the pipeline called {service} {operation}, which needs AWS",
                hint="Build the definition without that call (pass what it looks up in --kwargs), "
                "or run the module with AWS credentials yourself.",
            )
        with self._lock:
            self.calls.append((service, operation))
        result = handler(self, dict(params), region)
        return result if isinstance(result, tuple) else (200, result)

    # --- STS and IAM: the caller is the placeholder role --------------------------------------------

    def _caller_identity(self, params: dict, region: str) -> dict:
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return {"UserId": "AROAMODELBUILDOFFLINE:modelbuild", "Account": self.account,
                "Arn": f"arn:aws:sts::{self.account}:assumed-role/{role_name}/modelbuild"}

    def _role(self, params: dict, region: str) -> dict:
        name = params["RoleName"]
        return {"Role": {"Path": "/", "RoleName": name, "RoleId": "AROAMODELBUILDOFFLINE",
                         "Arn": f"arn:aws:iam::{self.account}:role/{name}", "CreateDate": _FIXED_TIME}}

    # --- S3: every bucket exists and is ours; objects are what the build put -------------------------

    def _list_buckets(self, params: dict, region: str) -> dict:
        with self._lock:
            names = sorted(self._buckets)
        return {"Buckets": [{"Name": name, "CreationDate": _FIXED_TIME} for name in names],
                "Owner": {"ID": self.account}}

    def _bucket_exists(self, params: dict, region: str) -> dict:
        with self._lock:
            self._buckets.add(params["Bucket"])
        return {}

    def _bucket_location(self, params: dict, region: str) -> dict:
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def _put_object(self, params: dict, region: str) -> dict:
        body = _read(params.get("Body", b""))
        self.put(params["Bucket"], params["Key"], body)
        return {"ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'}

    def _create_multipart(self, params: dict, region: str) -> dict:
        upload_id = hashlib.sha256(f"{params['Bucket']}/{params['Key']}".encode()).hexdigest()
        with self._lock:
            self._parts[upload_id] = {}
        return {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}

    def _upload_part(self, params: dict, region: str) -> dict:
        body = _read(params.get("Body", b""))
        with self._lock:
            self._parts[params["UploadId"]][params["PartNumber"]] = body
        return {"ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'}

    def _complete_multipart(self, params: dict, region: str) -> dict:
        with self._lock:
            parts = self._parts.pop(params["UploadId"])
        uri = self.put(params["Bucket"], params["Key"], b"".join(parts[number] for number in sorted(parts)))
        return {"Location": uri, "Bucket": params["Bucket"], "Key": params["Key"], "ETag": '"multipart"'}

    def _abort_multipart(self, params: dict, region: str) -> dict:
        with self._lock:
            self._parts.pop(params["UploadId"], None)
        return {}

    def _object(self, params: dict, region: str, with_body: bool) -> tuple[int, dict] | dict:
        uri = f"s3://{params['Bucket']}/{params['Key']}"
        with self._lock:
            body = self.uploads.get(uri)
        if body is None:
            return 404, {"Error": {"Code": "NoSuchKey" if with_body else "404", "Message": f"No object at {uri}"}}
        answer = {"ContentLength": len(body), "ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
                  "LastModified": _FIXED_TIME}
        if with_body:
            from botocore.response import StreamingBody

            answer["Body"] = StreamingBody(io.BytesIO(body), len(body))
        return answer

    def _head_object(self, params: dict, region: str) -> tuple[int, dict] | dict:
        return self._object(params, region, with_body=False)

    def _get_object(self, params: dict, region: str) -> tuple[int, dict] | dict:
        return self._object(params, region, with_body=True)

    def _list_objects(self, params: dict, region: str) -> dict:
        prefix, bucket = params.get("Prefix", ""), params["Bucket"]
        with self._lock:
            found = sorted((uri, body) for uri, body in self.uploads.items()
                           if uri.startswith(f"s3://{bucket}/{prefix}"))
        contents = [{"Key": uri[len(f"s3://{bucket}/"):], "Size": len(body), "LastModified": _FIXED_TIME,
                     "ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'} for uri, body in found]
        return {"Contents": contents, "KeyCount": len(contents), "IsTruncated": False, "Name": bucket,
                "Prefix": prefix}

    # --- ECR and Lambda: what building a step may look up or create ----------------------------------

    def _repositories(self, params: dict, region: str) -> dict:
        return {"repositories": [
            {"repositoryName": name, "registryId": self.account, "createdAt": _FIXED_TIME,
             "repositoryArn": f"arn:aws:ecr:{region}:{self.account}:repository/{name}",
             "repositoryUri": f"{self.account}.dkr.ecr.{region}.amazonaws.com/{name}"}
            for name in params.get("repositoryNames", [])
        ]}

    def _images(self, params: dict, region: str) -> dict:
        return {"imageDetails": [
            {"registryId": self.account, "repositoryName": params["repositoryName"], "imagePushedAt": _FIXED_TIME,
             "imageDigest": "sha256:" + hashlib.sha256(repr(image).encode()).hexdigest(),
             "imageTags": [image["imageTag"]] if "imageTag" in image else []}
            for image in params.get("imageIds", [])
        ]}

    def _function(self, params: dict, region: str) -> dict:
        name = params["FunctionName"]
        # The function lives in the account of its execution role when one is given (the caller's is made up here).
        role = str(params.get("Role") or "").split(":")
        account = role[4] if len(role) > 5 and role[4] else self.account
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        if self.code_bucket and ("Code" in params or "ZipFile" in params):
            self._record_function(arn, params)
        return {"FunctionName": arn.rsplit(":", 1)[-1], "FunctionArn": arn, "State": "Active",
                "LastUpdateStatus": "Successful"}

    def _record_function(self, arn: str, params: dict) -> None:
        """Keep a created (or updated) function's code and configuration where the local engine's Lambda
        step finds them: `s3://<bucket>/lambda/<name>/code` (next to where the SDK keeps Lambda code)
        and `function.json` beside it (see `modelbuild.local.steps.lambda_step`)."""
        name = arn.rsplit(":", 1)[-1]
        prefix = f"lambda/{name}"
        code = params.get("Code") or {"ZipFile": params.get("ZipFile"), "S3Bucket": params.get("S3Bucket"),
                                      "S3Key": params.get("S3Key")}
        if code.get("ZipFile") is not None:
            code_uri = self.put(self.code_bucket, f"{prefix}/code", bytes(code["ZipFile"]))
        else:
            code_uri = f"s3://{code.get('S3Bucket')}/{code.get('S3Key')}"
        previous = self.uploads.get(f"s3://{self.code_bucket}/{prefix}/function.json")
        configuration = json.loads(previous) if previous else {}
        configuration.update({"FunctionName": name, "FunctionArn": arn, "CodeUri": code_uri})
        configuration.update({key: params[key] for key in ("Role", "Runtime", "Handler", "Timeout", "Environment",
                                                          "MemorySize") if key in params})
        self.put(self.code_bucket, f"{prefix}/function.json", json.dumps(configuration, sort_keys=True).encode())

    def _get_function(self, params: dict, region: str) -> dict:
        return {"Configuration": self._function(params, region)}


def _read(body: Any) -> bytes:
    """The bytes of an S3 request body: bytes, text or a file-like object (s3transfer's chunk readers)."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return body.read()


_Handler = Callable[[LocalAws, dict, str], Any]
_ANSWERS: dict[tuple[str, str], _Handler] = {
    ("sts", "GetCallerIdentity"): LocalAws._caller_identity,
    ("iam", "GetRole"): LocalAws._role,
    ("s3", "ListBuckets"): LocalAws._list_buckets,
    ("s3", "HeadBucket"): LocalAws._bucket_exists,
    ("s3", "CreateBucket"): LocalAws._bucket_exists,
    ("s3", "GetBucketLocation"): LocalAws._bucket_location,
    ("s3", "PutObject"): LocalAws._put_object,
    ("s3", "CreateMultipartUpload"): LocalAws._create_multipart,
    ("s3", "UploadPart"): LocalAws._upload_part,
    ("s3", "CompleteMultipartUpload"): LocalAws._complete_multipart,
    ("s3", "AbortMultipartUpload"): LocalAws._abort_multipart,
    ("s3", "HeadObject"): LocalAws._head_object,
    ("s3", "GetObject"): LocalAws._get_object,
    ("s3", "ListObjectsV2"): LocalAws._list_objects,
    ("s3", "ListObjects"): LocalAws._list_objects,
    ("ecr", "DescribeRepositories"): LocalAws._repositories,
    ("ecr", "DescribeImages"): LocalAws._images,
    ("lambda", "CreateFunction"): LocalAws._function,
    ("lambda", "UpdateFunctionCode"): LocalAws._function,
    ("lambda", "GetFunction"): LocalAws._get_function,
}


_active: LocalAws | None = None


def _keep_params(params: dict, context: dict, **_: Any) -> None:
    # before-parameter-build: the call's parameters as the caller gave them (before-call sees them serialized).
    if _active is not None:
        context[_PARAMS] = params


def _answer(model: Any, context: dict, **_: Any) -> tuple[Any, dict] | None:
    # before-call: a non-None return replaces the HTTP exchange (as botocore's Stubber does).
    aws = _active
    if aws is None:
        return None
    from botocore.awsrequest import AWSResponse

    service = model.service_model.service_name
    status, parsed = aws.answer(service, model.name, context.get(_PARAMS, {}), context.get("client_region") or "")
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0})
    return AWSResponse(_ANSWERED_AT, status, {}, None), parsed


def _refuse_to_send(endpoint: Any, request: Any) -> Any:
    # The last step before a socket: reached only by a client created before the build began.
    raise OfflineAwsError(
        f"building offline, the pipeline tried to reach AWS at {request.url.split('?')[0]}",
        hint="Create AWS clients inside get_pipeline, not when the module is imported.",
    )


@contextlib.contextmanager
def answering_locally(aws: LocalAws) -> Iterator[LocalAws]:
    """Answer every AWS call made in the block from `aws`; nothing is sent (see the module docstring).

    Every botocore client created in the block, by any session, gets the two hooks; they stay on the
    client and do nothing once the block has exited. A client created before the block cannot send
    either while it runs.
    """
    global _active
    from botocore import endpoint, session

    original_create, original_send = session.Session.create_client, endpoint.Endpoint._send

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _keep_params)
        client.meta.events.register("before-call", _answer)
        return client

    saved, _active = _active, aws
    session.Session.create_client = create_client
    endpoint.Endpoint._send = _refuse_to_send
    try:
        yield aws
    finally:
        session.Session.create_client, endpoint.Endpoint._send = original_create, original_send
        _active = saved
