"""Keeping a pipeline build off the network: a scoped environment and an offline PipelineSession.

Building a definition runs the user's `get_pipeline` with the SageMaker SDK (v2 or v3), which would
otherwise reach AWS: S3 uploads of step code and data, the default-bucket check, the caller's identity
and role (STS, IAM), role validation (ModelTrainer), and telemetry (plain HTTPS, not botocore). Each is
turned off by something that lasts only for the build, so user code importing `pipelines` is never
affected:

- `offline_environment(region)` sets the environment variables the SDK and botocore read (region,
  dummy credentials, no profile, an SDK configuration that opts out of telemetry) and restores them
  (and boto3's lazily created default session) on exit. SDK defaults configuration files
  (config.yaml) are deliberately not read, so the same inputs give the same definition on every
  machine;
- `modelbuild.definition.local_aws` answers every AWS call the SDK or the module makes, through any
  session, from a local table, and records the uploads;
- `offline_session(region, bucket)` returns the PipelineSession handed to modules that accept one,
  whose default bucket is taken as given;
- `stable_job_name_stamps(make_stamp)` makes SDK v2's job names (and the code and output prefixes named
  after them) depend on the build's inputs instead of the clock.

`location_independent_code_hashes()` makes the code S3 URIs depend on what the code is, not on where
the project is checked out, so a laptop and CodeBuild build the same definition.
`stable_function_step_signatures()` signs `@step` payloads with this user's key, deterministically, so
two builds on one machine give the same bytes.

No AWS credentials are needed: the build carries fixed dummy keys that never leave the process.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import re
import tarfile
import tempfile
import types
from collections.abc import Callable, Iterator, Mapping
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
# calls IAM; the metadata service is the one credential source that talks to the network. Sessions
# the module builds itself find the dummy keys first, and no profile (a profile may run a credential
# process, or not exist on this machine).
_SCOPED_ENV_OVERRIDES = {
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": _OFFLINE_CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": _OFFLINE_CREDENTIALS["aws_secret_access_key"],
}
_SCOPED_ENV_REMOVALS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# The SDK defaults configuration of every build: telemetry off, nothing else. Both SDK majors read it
# from these variables instead of ~/.config/sagemaker and /etc/xdg (JSON is YAML).
SDK_DEFAULTS_FILE = Path(__file__).with_name("sdk_defaults.json")
_SDK_CONFIG_OVERRIDES = ("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", "SAGEMAKER_USER_CONFIG_OVERRIDE")


@functools.cache
def sdk_major() -> int:
    """The major version of the installed SageMaker SDK (2 or 3), read without importing it."""
    try:
        return int(importlib.metadata.version("sagemaker").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError) as exc:
        raise DefinitionError(
            "The SageMaker Python SDK is not installed in this environment",
            hint="Install your project's requirements (e.g. pip install 'sagemaker>=2.93').",
        ) from exc


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
def scoped_environment(overrides: Mapping[str, str], removals: tuple[str, ...] = ()) -> Iterator[None]:
    """Set `overrides` and remove `removals` in os.environ for the block; every variable touched is
    restored (or removed) on exit."""
    saved_env = {name: os.environ.get(name) for name in (*overrides, *removals)}
    for name in removals:
        os.environ.pop(name, None)
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def region_environment(region: str) -> contextlib.AbstractContextManager[None]:
    """AWS_REGION and AWS_DEFAULT_REGION set to `region` for the block.

    botocore reads only AWS_DEFAULT_REGION; the AWS CLI, CodeBuild and SDK v2 users set AWS_REGION. A
    module that imports the SDK at module level needs a region botocore sees before `get_pipeline`
    is called with one.
    """
    return scoped_environment({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})


@contextlib.contextmanager
def offline_environment(region: str) -> Iterator[None]:
    """Set the region and the SDK's offline switches in os.environ for the duration of the block.

    Every variable touched is restored (or removed) on exit, and so is `boto3.DEFAULT_SESSION`,
    which importing the SDK creates as a side effect.
    """
    import boto3  # cheap next to the SDK, and needed to restore its default session

    saved_default_session = boto3.DEFAULT_SESSION
    overrides = {**_SCOPED_ENV_OVERRIDES, **dict.fromkeys(_SDK_CONFIG_OVERRIDES, str(SDK_DEFAULTS_FILE))}
    try:
        with region_environment(region), scoped_environment(overrides, _SCOPED_ENV_REMOVALS):
            yield
    finally:
        boto3.DEFAULT_SESSION = saved_default_session


@contextlib.contextmanager
def quiet_sdk_logging() -> Iterator[None]:
    """Keep the SDK's log records off the terminal during the block, and undo its logging setup after.

    Importing the SDK calls `logging.basicConfig` (a stderr handler on the root logger at INFO), and
    building a pipeline logs a dozen lines, none of them about the user's pipeline ("Popping out
    'ProcessingJobName' ..."), and botocore says where each session found its (dummy) credentials.
    Records of the `sagemaker` and AWS libraries' loggers stop at their own handlers while the block
    runs; the root logger's handlers and level are restored on exit.
    """
    root = logging.getLogger()
    quieted = [logging.getLogger(name) for name in ("sagemaker", "botocore", "boto3", "s3transfer")]
    # SDK v2's configuration logger has a stdout handler of its own, and says which file it read at INFO.
    sdk_config = logging.getLogger("sagemaker.config")
    saved_handlers, saved_level, saved_config_level = root.handlers[:], root.level, sdk_config.level
    saved_propagate = [logger.propagate for logger in quieted]
    null = logging.NullHandler()  # else logging's last resort prints their warnings (SDK v2 has no handler)
    for logger in quieted:
        logger.propagate = False
        logger.addHandler(null)
    sdk_config.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for logger, propagate in zip(quieted, saved_propagate, strict=True):
            logger.propagate = propagate
            logger.removeHandler(null)
        sdk_config.setLevel(saved_config_level)


@contextlib.contextmanager
def location_independent_code_hashes() -> Iterator[None]:
    """Make the SDK's code hashes depend on file names and contents only, for the duration of the block.

    The SDK names code uploads `s3://<bucket>/<pipeline>/code/<hash>/<file>`, hashing each code path
    *as given* (absolute, here) with its content. The same project checked out in two places (a laptop
    and CodeBuild) would then give two definitions, and every `diff` would report the code steps.
    While the block runs, the hash covers each path's base name and content instead. Call inside
    `offline_environment` (importing the SDK needs its region).
    """
    if sdk_major() >= 3:
        from sagemaker.core.workflow import utilities
    else:
        from sagemaker.workflow import utilities

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


FUNCTION_STEP_KEY_FILE = "function-step-signing-key.pem"


def function_step_key_path() -> Path:
    """Where this user's `@step` signing key lives: `$XDG_CONFIG_HOME/modelbuild/`, else `~/.config/modelbuild/`.

    Per user and outside every project: a private key in the project (or its `.modelbuild` state dir) could be
    committed, shipped or shared by whoever can read the checkout.
    """
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "modelbuild" / FUNCTION_STEP_KEY_FILE


def function_step_signing_key(path: Path) -> Any:
    """The ECDSA P-256 private key in the PEM file `path`, created (mode 0600, its directory 0700) if there is none.

    Raises:
        DefinitionError: the file cannot be read or created, is readable by other users (as ssh refuses such a
            key), or holds no unencrypted P-256 private key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    remedy = f"Delete {path} to have the next build create a new key."
    try:
        pem = path.read_bytes() if path.exists() else _create_key_file(path)
        mode = path.stat().st_mode
    except OSError as exc:
        raise DefinitionError(f"Cannot read or create the @step signing key {path}: {exc.strerror or exc}",
                              hint="Make its directory writable, or set XDG_CONFIG_HOME to one that is.") from exc
    if os.name == "posix" and mode & 0o077:
        raise DefinitionError(f"The @step signing key {path} is readable by other users (mode {mode & 0o777:o})",
                              hint=f"Run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DefinitionError(f"{path} holds no usable @step signing key ({exc})", hint=remedy) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DefinitionError(f"{path} holds no ECDSA P-256 (SECP256R1) private key", hint=remedy)
    return key


def _create_key_file(path: Path) -> bytes:
    """Write a new P-256 private key to `path` (0600) and return its PEM; a key another build wrote first wins."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.link(temporary, path)  # whole or absent, and never replacing a key a parallel build made
        except FileExistsError:
            return path.read_bytes()
    finally:
        os.unlink(temporary)
    return pem


@contextlib.contextmanager
def stable_function_step_signatures(key_path: Path | None = None) -> Iterator[None]:
    """Sign `@step` payloads with this user's key and deterministic signatures for the duration of the block.

    SDK v3 makes a new ECDSA key pair for every pipeline it compiles, writes the public key into each function
    step's environment (`REMOTE_FUNCTION_SECRET_KEY`, which the job's runner verifies the payloads against) and
    signs the payloads with randomised ECDSA signatures: no two builds are alike. While the block runs, the
    compiler's key is the one in `key_path` (default `function_step_key_path()`), read or created the first time
    a function step is built (builds without `@step` never create it), and signatures are RFC 6979's
    deterministic ECDSA (`deterministic_signing`, cryptography >= 44; SDK v3 requires >= 46), which verify as
    any ECDSA signature does. The private key never leaves this machine; a job sees only the public key, as
    before. SDK v2 is left as it is. Call inside `offline_environment` (importing the SDK needs its region).
    """
    if sdk_major() < 3:
        yield
        return
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from sagemaker.core.remote_function.core import serialization
    from sagemaker.core.workflow.pipeline_context import _PipelineConfig

    path = key_path or function_step_key_path()
    signing_key = functools.cache(lambda: function_step_signing_key(path))

    def sign_deterministically(buffer: bytes, private_key: Any) -> str:
        signature = private_key.sign(buffer, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return base64.b64encode(signature).decode("utf-8")  # as the SDK's _sign_payload encodes it

    saved = _PipelineConfig.__dict__["function_step_secret_token"], serialization._sign_payload
    _PipelineConfig.function_step_secret_token = property(lambda self: signing_key())
    serialization._sign_payload = sign_deterministically
    try:
        yield
    finally:
        _PipelineConfig.function_step_secret_token, serialization._sign_payload = saved


# The SDK re-validates its whole configuration against its JSON schema on every configuration lookup
# (80 lookups, about 0.4 s each, in one abalone build), and jsonschema re-checks the schema itself each
# time (SDK v2 from 2.148 alike). Where each major validates, by (module, attribute); whichever exist in the
# installed SDK are patched.
_SDK_CONFIG_VALIDATORS = {
    3: (
        ("sagemaker.core.config.config_manager", "SageMakerConfig.validate_sagemaker_config"),
        ("sagemaker.core.config.config", "validate_sagemaker_config"),
        ("sagemaker.core.helper.session_helper", "validate_sagemaker_config"),
        ("sagemaker.core.utils.intelligent_defaults_helper", "validate_sagemaker_config"),
    ),
    2: (
        ("sagemaker.session", "validate_sagemaker_config"),
        ("sagemaker.utils", "validate_sagemaker_config"),
    ),
}


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

    for module_name, attribute in _SDK_CONFIG_VALIDATORS[3 if sdk_major() >= 3 else 2]:
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


def offline_session(region: str, default_bucket: str) -> Any:
    """Return an offline PipelineSession (of the installed SDK major) for `region` whose default bucket
    is `default_bucket`.

    Call inside `offline_environment(region)` and `local_aws.answering_locally`, which records what the
    SDK uploads through it.
    """
    return _offline_session_class()(region, default_bucket)


@functools.cache
def _offline_session_class() -> type:
    # Defined lazily: subclassing PipelineSession means importing the SDK (~3 s).
    import inspect

    import boto3

    if sdk_major() >= 3:
        from sagemaker.core.workflow.pipeline_context import PipelineSession
    else:
        from sagemaker.workflow.pipeline_context import PipelineSession
    # SDK v2 before ~2.148 has no configuration argument (nor configuration: nothing to opt out of).
    takes_config = "sagemaker_config" in inspect.signature(PipelineSession.__init__).parameters

    class OfflinePipelineSession(PipelineSession):
        """A PipelineSession that takes its bucket as given."""

        def __init__(self, region: str, default_bucket: str) -> None:
            super().__init__(
                boto_session=boto3.Session(region_name=region, **_OFFLINE_CREDENTIALS),
                default_bucket=default_bucket,
                **({"sagemaker_config": json.loads(SDK_DEFAULTS_FILE.read_text())} if takes_config else {}),
            )

        def default_bucket(self) -> str:
            # The real method checks that the bucket exists (answered locally, but one call per step).
            return self._default_bucket_name_override

    return OfflinePipelineSession


def inputs_stamp(sources: Path, kwargs: Mapping[str, Any]) -> str:
    """A digest of `kwargs` and of the file `sources`, or of every file below the directory `sources`
    (names and contents, `__pycache__` left out)."""
    sha256 = hashlib.sha256(json.dumps(kwargs, sort_keys=True, default=repr).encode())
    files = [sources] if sources.is_file() else sorted(
        path for path in sources.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    )
    for path in files:
        name = path.name if path == sources else path.relative_to(sources).as_posix()
        sha256.update(name.encode() + b"\0" + path.read_bytes())
    return sha256.hexdigest()


@contextlib.contextmanager
def stable_job_name_stamps(make_stamp: Callable[[], str]) -> Iterator[None]:
    """Make SDK v2's job-name timestamps `make_stamp()` (cut to their length) for the duration of the block.

    SDK v2 names each job `<base_job_name>-<time of the build>` and, in releases before content-hashed
    code paths (2.93, say), uploads the job's code to and writes its outputs under that name: two
    builds of the same project would differ. Here the names carry a digest of the build's inputs
    instead (see `inputs_stamp`): unchanged inputs give the same names, changed code a new prefix, so
    an upsert never overwrites code a running execution still reads. The profiler rule SDK v2 before
    2.1xx adds to every Estimator, named by the epoch second, gets a number from the same digest. This
    is the one place that decides SDK v2's upload prefixes. SDK v3 names code by content already:
    nothing is patched for it.
    """
    if sdk_major() >= 3:
        yield
        return
    from sagemaker import utils
    from sagemaker.debugger import debugger

    stamp = make_stamp()
    saved = utils.sagemaker_timestamp, utils.sagemaker_short_timestamp, getattr(debugger, "time", None)
    utils.sagemaker_timestamp = lambda: stamp[:23]  # the length of "2024-01-31-12-00-00-000"
    utils.sagemaker_short_timestamp = lambda: stamp[:11]  # the length of "240131-1200"
    if saved[2] is not None:  # before 2.1xx every Estimator gets a rule named "ProfilerReport-<epoch seconds>"
        debugger.time = types.SimpleNamespace(time=lambda: int(stamp[:8], 16))
    try:
        yield
    finally:
        utils.sagemaker_timestamp, utils.sagemaker_short_timestamp = saved[:2]
        if saved[2] is not None:
            debugger.time = saved[2]


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
