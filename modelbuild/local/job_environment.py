"""What of the user's environment a job inherits, and what the run adds (its S3 endpoint, throwaway credentials)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

ENV_INHERIT_AWS = "MODELBUILD_JOB_AWS"  # "inherit": jobs keep the user's AWS credentials for non-S3 services


def job_environment(endpoint_url: str, region: str, scratch: Path) -> dict[str, str | None]:
    """What a job's environment changes: variables to set, and to remove (None).

    A local job must not reach the user's real AWS account unless asked: every AWS_* variable of the
    user's environment is dropped (credentials, profile, config and credentials files, endpoints,
    container and web-identity credentials), boto3's default config files point at nothing, instance
    metadata is off, and throwaway credentials sign requests to the local endpoint. S3 goes to the store;
    every other service goes to the same endpoint, which answers that only S3 is served locally. With
    MODELBUILD_JOB_AWS=inherit the user's AWS variables and files stay (for a job that calls other
    services on purpose); S3 still goes to the store. Everything else of the user's environment (PATH,
    HOME, the virtualenv, locale, proxies) is inherited, as the job runs with the user's Python.
    """
    region = region if region and region != "local" else "us-east-1"
    changes: dict[str, str | None] = {}
    if os.environ.get(ENV_INHERIT_AWS, "").lower() != "inherit":
        changes.update({name: None for name in os.environ if name.startswith("AWS_")})
        changes.update({
            "AWS_ACCESS_KEY_ID": f"MODELBUILDLOCAL{secrets.token_hex(4).upper()}",
            "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20),
            "AWS_CONFIG_FILE": str(scratch / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": endpoint_url,
        })
    changes.update({"AWS_ENDPOINT_URL_S3": endpoint_url, "AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    return changes


def apply_environment(base: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """`base` with `changes` applied (None removes a variable)."""
    env = dict(base)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
