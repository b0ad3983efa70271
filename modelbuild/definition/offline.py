"""Keeping a pipeline build off the network: a scoped environment and an offline PipelineSession.

Building a definition runs the user's `get_pipeline` with the SageMaker SDK, which would otherwise
reach AWS in four ways: S3 uploads of step code and data, the default-bucket existence check, IAM
role validation (ModelTrainer) and telemetry (a background thread per SDK call). Each is turned off
by something that lasts only for the build, so user code importing `pipelines` is never affected:

- `offline_environment(region)` sets the environment variables the SDK reads and restores them
  (and boto3's lazily created default session) on exit;
- `offline_session(region, bucket)` returns a PipelineSession whose S3 resource records what would
  have been uploaded, whose default bucket is taken as given, and whose SDK configuration opts out
  of telemetry. SDK defaults configuration files (config.yaml) are deliberately not read, so the
  same inputs give the same definition on every machine.

`location_independent_code_hashes()` makes the code S3 URIs depend on what the code is, not on where
the project is checked out, so a laptop and CodeBuild build the same definition.

No AWS credentials are needed: the session carries fixed dummy keys that never leave the process.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import io
import logging
import os
import re
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from modelbuild.errors import DefinitionError

DEFAULT_REGION = "us-east-1"
"""Region used when neither the `region` kwarg nor AWS_REGION / AWS_DEFAULT_REGION gives one."""

PLACEHOLDER_ACCOUNT_ID = "000000000000"
PLACEHOLDER_ROLE = f"arn:aws:iam::{PLACEHOLDER_ACCOUNT_ID}:role/modelbuild-placeholder-role"
"""Role ARN written into the definition when the `role` kwarg is absent (pass a real one to run)."""

_OFFLINE_CREDENTIALS = {"aws_access_key_id": "modelbuild-offline", "aws_secret_access_key": "modelbuild-offline"}
# Without a region the SDK cannot even be imported; without the role check disabled ModelTrainer
# calls IAM; the metadata service is the one credential source that talks to the network.
_SCOPED_ENV_OVERRIDES = {"SAGEMAKER_VALIDATE_ROLE": "false", "AWS_EC2_METADATA_DISABLED": "true"}
_TELEMETRY_OPT_OUT_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def placeholder_bucket(region: str) -> str:
    """Return the bucket used when the `default_bucket` kwarg is absent: the SDK's naming scheme
    (`sagemaker-{region}-{account}`) with the placeholder account id."""
    return f"sagemaker-{region}-{PLACEHOLDER_ACCOUNT_ID}"


def resolve_region(kwargs: Mapping[str, Any]) -> str:
    """Return the build's region: kwargs["region"], else AWS_REGION, else AWS_DEFAULT_REGION, else
    DEFAULT_REGION."""
    return (
        kwargs.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION
    )


@contextlib.contextmanager
def offline_environment(region: str) -> Iterator[None]:
    """Set the region and the SDK's offline switches in os.environ for the duration of the block.

    Every variable touched is restored (or removed) on exit, and so is `boto3.DEFAULT_SESSION`,
    which importing the SDK creates as a side effect.
    """
    overrides = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, **_SCOPED_ENV_OVERRIDES}
    saved_env = {name: os.environ.get(name) for name in overrides}
    import boto3  # cheap next to the SDK, and needed to restore its default session

    saved_default_session = boto3.DEFAULT_SESSION
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.DEFAULT_SESSION = saved_default_session


@contextlib.contextmanager
def quiet_sdk_logging() -> Iterator[None]:
    """Keep the SDK's log records off the terminal during the block, and undo its logging setup after.

    Importing the SDK calls `logging.basicConfig` (a stderr handler on the root logger at INFO), and
    building a pipeline logs a dozen lines, none of them about the user's pipeline ("Popping out
    'ProcessingJobName' ..."). Records of the `sagemaker` loggers stop at their own (null) handler
    while the block runs; the root logger's handlers and level are restored on exit.
    """
    root, sdk = logging.getLogger(), logging.getLogger("sagemaker")
    saved_handlers, saved_level, saved_propagate = root.handlers[:], root.level, sdk.propagate
    sdk.propagate = False
    try:
        yield
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        sdk.propagate = saved_propagate


@contextlib.contextmanager
def location_independent_code_hashes() -> Iterator[None]:
    """Make the SDK's code hashes depend on file names and contents only, for the duration of the block.

    The SDK names code uploads `s3://<bucket>/<pipeline>/code/<hash>/<file>`, hashing each code path
    *as given* (absolute, here) with its content. The same project checked out in two places (a laptop
    and CodeBuild) would then give two definitions, and every `diff` would report the code steps.
    While the block runs, the hash covers each path's base name and content instead. Call inside
    `offline_environment` (importing the SDK needs its region).
    """
    from sagemaker.core.workflow import utilities

    original = utilities.hash_files_or_dirs

    def hash_names_and_contents(paths: list[str]) -> str:
        sha256 = hashlib.sha256()
        local_paths = [Path(unquote(urlparse(p).path) if p.lower().startswith("file://") else p) for p in paths]
        for path in sorted(local_paths, key=lambda p: (p.name, p.read_bytes() if p.is_file() else b"")):
            sha256.update(path.name.encode())
            if path.is_dir():
                sha256 = utilities._hash_dir(path, sha256)
            elif path.is_file():
                sha256 = utilities._hash_file(path, sha256)
        return sha256.hexdigest()

    utilities.hash_files_or_dirs = hash_names_and_contents
    try:
        yield
    finally:
        utilities.hash_files_or_dirs = original


# The SDK re-validates its whole configuration against its JSON schema on every configuration lookup
# (80 lookups, about 0.4 s each, in one abalone build), and jsonschema re-checks the schema itself each
# time. Where the SDK validates, by (module, attribute); whichever exist in the installed SDK are patched.
_SDK_CONFIG_VALIDATORS = (
    ("sagemaker.core.config.config_manager", "SageMakerConfig.validate_sagemaker_config"),
    ("sagemaker.core.config.config", "validate_sagemaker_config"),
    ("sagemaker.core.helper.session_helper", "validate_sagemaker_config"),
    ("sagemaker.core.utils.intelligent_defaults_helper", "validate_sagemaker_config"),
)


@contextlib.contextmanager
def sdk_config_validated_once() -> Iterator[None]:
    """Validate each distinct SDK configuration once for the duration of the block, not on every lookup.

    Validation is a pure function of the configuration's content: a configuration that passed once
    passes again, so the result is the same and the definition byte-identical. A configuration that
    fails is validated (and fails) every time, as before. Call inside `offline_environment` (importing
    the SDK needs its region).
    """
    import importlib
    import json

    valid: set[str] = set()
    patched: list[tuple[Any, str, Any]] = []

    def once(original: Any) -> Any:
        def validate(sagemaker_config: dict | None = None) -> None:
            key = json.dumps(sagemaker_config, sort_keys=True, default=repr)
            if key not in valid:
                original(sagemaker_config)
                valid.add(key)
        return validate

    for module_name, attribute in _SDK_CONFIG_VALIDATORS:
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, name = attribute.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        if hasattr(owner, name):
            raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
            wrapped = once(getattr(owner, name))
            setattr(owner, name, staticmethod(wrapped) if isinstance(raw, staticmethod) else wrapped)
            patched.append((owner, name, raw))
    try:
        yield
    finally:
        for owner, name, raw in reversed(patched):
            setattr(owner, name, raw)


@contextlib.contextmanager
def service_data_parsed_once() -> Iterator[None]:
    """Parse each botocore data file (service models, endpoint rules, paginators) once for the block.

    botocore caches what it parses per Loader, and every boto3 Session has its own: the SDK creates a
    dozen clients over several sessions while a pipeline builds, each parsing the same multi-megabyte
    JSON again. The files do not change during a build, and botocore treats what it loads as
    read-only, so sharing one parse is what a shared Loader would do.
    """
    from botocore import loaders

    original = loaders.JSONFileLoader.load_file
    parsed: dict[str, Any] = {}

    def load_file(self: Any, file_path: str) -> Any:
        if file_path not in parsed:
            parsed[file_path] = original(self, file_path)
        return parsed[file_path]

    loaders.JSONFileLoader.load_file = load_file
    try:
        yield
    finally:
        loaders.JSONFileLoader.load_file = original


class OfflineS3Error(DefinitionError):
    """Raised when a pipeline being built offline asks S3 for something other than an upload."""


class RecordingS3Resource:
    """Stands in for `boto3.resource("s3")`: records uploads in `uploads` (S3 URI -> bytes).

    Only the upload calls the SDK makes while building a pipeline are supported; anything else
    (reads, listings, bucket checks) needs AWS and raises OfflineS3Error.
    """

    def __init__(self, uploads: dict[str, bytes]) -> None:
        self.uploads = uploads

    def Object(self, bucket_name: str, key: str) -> _RecordingObject:  # noqa: N802 (boto3's name)
        return _RecordingObject(self.uploads, f"s3://{bucket_name}/{key}")

    def Bucket(self, name: str) -> _RecordingBucket:  # noqa: N802 (boto3's name)
        return _RecordingBucket(self.uploads, name)

    def __getattr__(self, name: str) -> Any:
        raise OfflineS3Error(f"building offline, the pipeline called S3 {name!r}, which needs AWS")


class _RecordingObject:
    def __init__(self, uploads: dict[str, bytes], uri: str) -> None:
        self._uploads, self._uri = uploads, uri

    def upload_file(self, Filename: str, **_: Any) -> None:  # noqa: N803 (boto3's name)
        self._uploads[self._uri] = Path(Filename).read_bytes()

    def put(self, Body: bytes | str, **_: Any) -> dict:  # noqa: N803 (boto3's name)
        self._uploads[self._uri] = Body.encode("utf-8") if isinstance(Body, str) else bytes(Body)
        return {}

    def __getattr__(self, name: str) -> Any:
        raise OfflineS3Error(f"building offline, the pipeline called S3 {name!r} on {self._uri}, which needs AWS")


class _RecordingBucket:
    def __init__(self, uploads: dict[str, bytes], name: str) -> None:
        self._uploads, self._name = uploads, name

    def upload_fileobj(self, Fileobj: Any, Key: str, **_: Any) -> None:  # noqa: N803 (boto3's name)
        self._uploads[f"s3://{self._name}/{Key}"] = Fileobj.read()

    def upload_file(self, Filename: str, Key: str, **_: Any) -> None:  # noqa: N803 (boto3's name)
        self._uploads[f"s3://{self._name}/{Key}"] = Path(Filename).read_bytes()

    def __getattr__(self, name: str) -> Any:
        raise OfflineS3Error(
            f"building offline, the pipeline called S3 {name!r} on bucket {self._name}, which needs AWS"
        )


def offline_session(region: str, default_bucket: str) -> Any:
    """Return an offline PipelineSession for `region` whose default bucket is `default_bucket`.

    The session's `uploads` dict (S3 URI -> bytes) collects every file the SDK uploads through it.
    Call inside `offline_environment(region)`.
    """
    return _offline_session_class()(region, default_bucket)


@functools.cache
def _offline_session_class() -> type:
    # Defined lazily: subclassing PipelineSession means importing the SDK (~3 s).
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    class OfflinePipelineSession(PipelineSession):
        """A PipelineSession that records S3 uploads and never checks or creates its bucket."""

        def __init__(self, region: str, default_bucket: str) -> None:
            self.uploads: dict[str, bytes] = {}
            super().__init__(
                boto_session=boto3.Session(region_name=region, **_OFFLINE_CREDENTIALS),
                default_bucket=default_bucket,
                sagemaker_config=_TELEMETRY_OPT_OUT_CONFIG,
            )
            self.s3_resource = RecordingS3Resource(self.uploads)

        def default_bucket(self) -> str:
            # The real method checks that the bucket exists and creates it: both need S3.
            return self._default_bucket_name_override

    return OfflinePipelineSession


# A path segment the SDK stamps with the build's time: ModelTrainer's `<base job name>-%Y%m%d%H%M%S`,
# name_from_base's `<base>-%Y-%m-%d-%H-%M-%S-<ms>` (FrameworkProcessor's code), @step's bare time.
_TIMESTAMPED_SEGMENT = re.compile(r"^(?P<base>.*?)-?(?P<time>\d{4}(?:-\d{2}){5}-\d{3}|\d{14})$")


def content_addressed_code_prefixes(text: str, uploads: Mapping[str, bytes]) -> tuple[str, dict[str, bytes]]:
    """The definition and uploads with the SDK's timestamped code prefixes named by their content instead.

    The SDK uploads ModelTrainer source code, FrameworkProcessor source dirs and @step payloads under
    prefixes stamped with the build's time, so two builds of unchanged code differ and `diff` always
    reports a change. Each such segment becomes `<base>-<sha256 of what is uploaded below it>[:16]`
    (in the definition and in the uploads alike, so `run --target sagemaker` uploads to the same URIs),
    and the SDK's tar.gz archives are re-packed without times or owners, so the same files give the
    same bytes.
    """
    uploads = {uri: _reproducible_archive(data) if uri.endswith(".tar.gz") else data for uri, data in uploads.items()}
    below: dict[str, dict[str, bytes]] = {}  # timestamped segment -> {the rest of the URI: content}
    for uri, data in uploads.items():
        parts = uri.split("/")  # s3: '' bucket key-parts...
        for index in range(3, len(parts) - 1):
            if _TIMESTAMPED_SEGMENT.match(parts[index]):
                below.setdefault(parts[index], {})["/".join(parts[:index] + ["*"] + parts[index + 1:])] = data
                break
    renamed = {}
    for segment, files in below.items():
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n".encode())
        base = _TIMESTAMPED_SEGMENT.match(segment)["base"]
        renamed[segment] = f"{base}-{digest.hexdigest()[:16]}" if base else digest.hexdigest()[:16]
    for segment, name in renamed.items():
        text = text.replace(segment, name)
        uploads = {uri.replace(f"/{segment}/", f"/{name}/"): data for uri, data in uploads.items()}
    return text, dict(sorted(uploads.items()))


_VARYING_PAX_FIELDS = {"mtime", "atime", "ctime", "uid", "gid", "uname", "gname"}


def _reproducible_archive(data: bytes) -> bytes:
    """A tar.gz with the members of `data` in name order, without times or owners (the same files, the same bytes)."""
    source = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    output = io.BytesIO()
    with gzip.GzipFile(fileobj=output, mode="wb", mtime=0) as raw, tarfile.open(fileobj=raw, mode="w") as archive:
        for member in sorted(source.getmembers(), key=lambda m: m.name):
            content = source.extractfile(member) if member.isfile() else None
            member.mtime, member.uid, member.gid, member.uname, member.gname = 0, 0, 0, "", ""
            member.pax_headers = {k: v for k, v in member.pax_headers.items() if k not in _VARYING_PAX_FIELDS}
            archive.addfile(member, content)
    return output.getvalue()
