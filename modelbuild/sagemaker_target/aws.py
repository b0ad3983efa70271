"""Creating boto3 clients, and turning botocore's exceptions into `AwsError` with a one-line fix.

Clients honour the usual environment: AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION and
AWS_ENDPOINT_URL (the tests point that at a moto server). Throttling and 5xx answers are retried by
botocore's standard retry mode, so nothing here retries by hand.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modelbuild.errors import AwsError, ModelbuildError

MAX_ATTEMPTS = 8  # standard mode backs off exponentially (capped at 20 s) between attempts

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException"}
)
ACCESS_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
CREDENTIAL_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
     "InvalidSignatureException", "SignatureDoesNotMatch"}
)


@dataclass(frozen=True)
class AwsClients:
    """The clients one command needs, all for one region."""

    sagemaker: Any
    s3: Any
    region: str


def make_clients(region: str | None = None) -> AwsClients:
    """Create SageMaker and S3 clients with standard retries.

    Args:
        region: the region to use; None takes it from AWS_REGION / AWS_DEFAULT_REGION / the profile.

    Raises:
        AwsError: no region is configured, or the profile does not exist.
    """
    import boto3
    import botocore.config
    import botocore.exceptions

    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})
    with translate_aws_errors("creating AWS clients"):
        try:
            # botocore itself reads only AWS_DEFAULT_REGION; the AWS CLI and SDK v2 also honour AWS_REGION.
            session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
        except botocore.exceptions.ProfileNotFound as exc:
            raise AwsError(str(exc), hint="Set AWS_PROFILE to a profile in ~/.aws/config, or unset it.") from exc
        if not session.region_name:
            raise botocore.exceptions.NoRegionError()
        return AwsClients(
            sagemaker=session.client("sagemaker", config=config),
            s3=session.client("s3", config=config),
            region=session.region_name,
        )


@contextlib.contextmanager
def translate_aws_errors(action: str) -> Iterator[None]:
    """Turn botocore's exceptions raised inside the block into `AwsError` naming `action`.

    Args:
        action: what was being done, e.g. "upserting pipeline 'abalone'", for the message.
    """
    import botocore.exceptions as bex

    try:
        yield
    except ModelbuildError:
        raise
    except bex.NoCredentialsError as exc:
        raise AwsError(
            f"No AWS credentials found while {action}.",
            hint="Run `aws configure` or `aws sso login`, or set AWS_PROFILE / AWS_ACCESS_KEY_ID.",
        ) from exc
    except bex.NoRegionError as exc:
        raise AwsError(
            f"No AWS region configured while {action}.",
            hint="Set AWS_REGION (e.g. export AWS_REGION=eu-west-1) or a region in your AWS profile.",
        ) from exc
    except bex.EndpointConnectionError as exc:
        raise AwsError(
            f"Cannot reach AWS while {action}: {exc}",
            hint="Check the network, the region name, and AWS_ENDPOINT_URL if it is set.",
        ) from exc
    except bex.WaiterError as exc:
        raise AwsError(f"Gave up waiting while {action}: {exc}", hint="Check the resource in the console.") from exc
    except bex.ClientError as exc:
        raise client_error(exc, action) from exc
    except (bex.ParamValidationError, bex.PartialCredentialsError) as exc:
        raise AwsError(f"Invalid request while {action}: {exc}".replace("\n", " "), hint=None) from exc
    except bex.BotoCoreError as exc:
        raise AwsError(f"AWS call failed while {action}: {exc}", hint=None) from exc


def error_code(exc: Any) -> str:
    """The service's error code of a ClientError ("" when it has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def client_error(exc: Any, action: str) -> AwsError:
    """The `AwsError` for a botocore ClientError: one line, with a hint that says what to fix."""
    code = error_code(exc)
    message = " ".join(str(exc.response.get("Error", {}).get("Message", exc)).split())
    operation = getattr(exc, "operation_name", "")
    line = f"AWS refused {operation} while {action}: {code}: {message}"
    if code in ACCESS_CODES:
        hint = f"Grant sagemaker:{operation} (and s3 access to the bucket) to your identity, or use another profile."
    elif code in CREDENTIAL_CODES:
        hint = "Your credentials are invalid or expired: run `aws sso login` or refresh them."
    elif code in THROTTLING_CODES:
        hint = "Still throttled after retries: wait a minute and run again, or raise your service quota."
    elif code in ("ValidationException", "ValidationError"):
        hint = "Fix the value the message names; `modelbuild validate` checks the definition offline."
    elif code in ("ResourceNotFound", "ResourceNotFoundException", "NoSuchBucket"):
        hint = "Check the name/ARN and the region (AWS_REGION)."
    elif code == "ResourceLimitExceeded":
        hint = "Request a quota increase in Service Quotas, or wait for running executions to finish."
    else:
        hint = None
    return AwsError(line, hint=hint)
