"""Step caching: whether a step may be served from the cache, for how long, and under which key.

The key is a SHA-256 over the step's type and its arguments resolved with the `Execution.*` variables
left symbolic, where every S3 URI the step reads is replaced by a digest of the *content* stored
there. A changed script (code is an input), a changed dataset or a changed parameter gives a new key;
a new execution id or a renamed upstream output with the same bytes does not.

Policy: a step with `CacheConfig` gets exactly what it says (Enabled, ExpireAfter). A step without one
is cached locally by default (`cache_by_default`), with no expiry: SageMaker keys its cache on names,
so it cannot make that default safe, but a content key can; pass `cache_by_default=False` for
SageMaker's behaviour. Only job steps are cached (Processing, Training, Transform, Tuning), as on SageMaker:
Model and RegisterModel steps always run, and Condition and Fail steps cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from modelbuild.definition.dsl import StepSpec
from modelbuild.errors import DefinitionError
from modelbuild.local.steps import module_for

CACHEABLE_TYPES = ("Processing", "Training", "Transform", "Tuning")
KEY_VERSION = 2  # bump when the key's material changes meaning (2: digests of per-file digests)
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"years": 365 * 86400, "months": 30 * 86400, "weeks": 7 * 86400, "days": 86400,
            "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> float:
    """Seconds in an ISO 8601 duration such as "P30D" or "PT1H30M" (a month counts 30 days).

    Raises:
        DefinitionError: `text` is not such a duration.
    """
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise DefinitionError(f"ExpireAfter {text!r} is not an ISO 8601 duration", hint="For example P30D or PT12H.")
    return sum(float(value) * _SECONDS[unit] for unit, value in match.groupdict().items() if value)


def max_age(step: StepSpec, cache_by_default: bool) -> float | None:
    """How old a cached result this step may use, in seconds (math.inf: any age), or None: never cached."""
    if step.type not in CACHEABLE_TYPES:
        return None
    config = step.cache_config
    if config is None:
        return math.inf if cache_by_default else None
    if not config.get("Enabled"):
        return None
    expire = config.get("ExpireAfter")
    return parse_duration(expire) if expire else math.inf


def cache_key(step: StepSpec, arguments: Mapping[str, Any], store: Any, registry: Any) -> str:
    """The step's cache key (see the module docstring); `arguments` resolved with symbolic Execution.*.

    The same digest, recorded for every step as its `arguments_digest`, decides whether a resume or a
    selective run may reuse a step of an earlier execution: only when it would run with the same arguments.
    """
    module = module_for(step.type)
    material: Any = dict(arguments)
    if hasattr(module, "cache_arguments"):
        material = module.cache_arguments(material, registry)
    reader = getattr(module, "input_uris", None)
    uris = reader(material) if reader else []
    digests = {uri: store.digest(uri) for uri in uris if isinstance(uri, str) and uri.startswith("s3://")}
    document = {"version": KEY_VERSION, "type": step.type, "arguments": _replace(material, digests)}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _replace(value: Any, digests: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        # Script mode's sagemaker_submit_directory is a JSON string: '"s3://..."' reads that URI too.
        uri = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
        return f"sha256:{digests[uri]}" if uri in digests else value
    if isinstance(value, Mapping):
        return {key: _replace(item, digests) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, digests) for item in value]
    return value
