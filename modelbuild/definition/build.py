"""Building a pipeline definition from a module's `get_pipeline(**kwargs)`, offline.

`build_definition` imports the module, calls `get_pipeline` with an offline PipelineSession inside a
scoped offline environment (see `modelbuild.definition.offline`), and returns the definition JSON
together with every file the SDK would have uploaded to S3 on the way. The commands that only read a
definition go through `modelbuild.definition.build_cache`, which reuses the last build while nothing
it depends on changed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelbuild.definition.loader import (
    FACTORY_NAME,
    SESSION_KWARG,
    call_kwargs,
    importing_from,
    load_pipeline_module,
    one_line,
    sdk_mismatch_hint,
)
from modelbuild.definition.local_aws import LocalAws, answering_locally
from modelbuild.definition.offline import (
    PLACEHOLDER_ACCOUNT_ID,
    PLACEHOLDER_ROLE,
    content_addressed_code_prefixes,
    inputs_stamp,
    location_independent_code_hashes,
    offline_environment,
    offline_session,
    placeholder_bucket,
    quiet_sdk_logging,
    resolve_region,
    sdk_config_validated_once,
    service_data_parsed_once,
    stable_function_step_signatures,
    stable_job_name_stamps,
)
from modelbuild.definition.project import Project, find_project
from modelbuild.errors import DefinitionError, ModelbuildError

# Which file a build used goes to this logger: the CLI shows it on stderr, a library user may listen.
log = logging.getLogger(__name__)

# The SDK warns on every step built under a PipelineSession that no job is started: that is the point.
_PIPELINE_SESSION_WARNING = "Running within a PipelineSession"


def _call(what: str, function: Any, **arguments: Any) -> Any:
    """`function(**arguments)`, its failure a DefinitionError naming `what` failed."""
    try:
        return function(**arguments)
    except ModelbuildError:
        raise
    except (Exception, SystemExit) as exc:  # SystemExit: a sys.exit() in it must not pass as success
        mismatch = sdk_mismatch_hint(exc.name) if isinstance(exc, ModuleNotFoundError) else None
        raise DefinitionError(
            f"{what} failed: {type(exc).__name__}: {one_line(exc)}",
            hint=mismatch or "Run with --debug for the traceback.",
        ) from exc


@dataclass(frozen=True)
class BuiltDefinition:
    """A pipeline definition built offline.

    Attributes:
        text: the definition JSON exactly as `pipeline.definition()` returns it (what an upsert sends).
        definition: `json.loads(text)`.
        uploads: S3 URI -> content of every file the SDK would have uploaded while building (step
            code and any data the module uploads, such as the abalone sample data), sorted by URI.
        pipeline_name: the pipeline's name.
        region: the region the definition was built for.
        module: the dotted name of the module built.
        module_file: the file it was built from.
    """

    text: str
    definition: dict = field(repr=False)
    uploads: dict[str, bytes] = field(repr=False)
    pipeline_name: str
    region: str
    module: str = ""
    module_file: str = ""


def shown_path(path: str) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def build_definition(module_name: str | None = None, kwargs: Mapping[str, Any] | None = None,
                     project: Project | None = None) -> BuiltDefinition:
    """Build the definition of `module_name`'s pipeline without credentials or network.

    The module is the project's own (see `modelbuild.definition.loader`); which file was built is
    logged at INFO on this module's logger, and a file outside the project at WARNING.

    `get_pipeline` receives the user's `kwargs` plus, when it accepts them and they are not given
    (or given as None): `region` (kwargs, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1),
    `role` (`offline.PLACEHOLDER_ROLE`), `default_bucket` (`offline.placeholder_bucket(region)`) and
    `sagemaker_session` (the offline session). A module may build its own sessions instead, with SDK
    v2 or v3: every AWS call made while building is answered locally (`local_aws`), as the
    placeholder account and role. Code S3 URIs are those a real upsert with the same kwargs would use.

    Args:
        module_name: dotted name of a module defining `get_pipeline(**kwargs) -> Pipeline`; None for
            the project's default (`[tool:modelbuild] pipeline` in its setup.cfg).
        kwargs: keyword arguments for `get_pipeline`.
        project: the project to build in; the working directory's when None.

    Returns:
        The definition, its uploads, the pipeline's name and region. The same inputs give
        byte-identical output.

    Raises:
        ModuleLoadError: the module cannot be imported, is modelbuild's own, or has no `get_pipeline`.
        UsageError: no module was named and the project names none; a kwarg is not accepted by
            `get_pipeline`, or a required one is missing.
        DefinitionError: importing the module, `get_pipeline` or `definition()` raised, or either made
            an AWS call that cannot be answered offline (`local_aws.OfflineAwsError`).
    """
    kwargs = dict(kwargs or {})
    project = project or find_project()
    region = resolve_region(kwargs)
    bucket = kwargs.get("default_bucket") or placeholder_bucket(region)
    defaults = {"region": region, "role": PLACEHOLDER_ROLE, "default_bucket": bucket}
    aws = LocalAws(PLACEHOLDER_ACCOUNT_ID, PLACEHOLDER_ROLE, code_bucket=bucket)
    with (
        offline_environment(region),
        # SDK v2 prints job names, and its configuration logger writes to stdout, where the definition goes.
        contextlib.redirect_stdout(sys.stderr),
        answering_locally(aws),
        quiet_sdk_logging(),
        location_independent_code_hashes(),
        stable_function_step_signatures(),
        sdk_config_validated_once(),
        service_data_parsed_once(),
        warnings.catch_warnings(),
        importing_from(project),
    ):
        warnings.filterwarnings("ignore", message=_PIPELINE_SESSION_WARNING, category=UserWarning)
        module = load_pipeline_module(module_name, project)
        log.info("Building %s from %s", module.name, shown_path(str(module.file)))
        if module.outside_project:
            log.warning("%s was found outside the project directory %s", module.file, project.root)
        session = offline_session(region, bucket)
        arguments = call_kwargs(module.factory, kwargs, defaults, session)
        # SDK v2 names jobs both while get_pipeline builds the steps and while definition() serializes them.
        sources = module.file.parent if "." in module.name else module.file  # its package, or the lone module
        given = {name: value for name, value in arguments.items() if name != SESSION_KWARG}  # what get_pipeline sees
        with stable_job_name_stamps(lambda: inputs_stamp(sources, given)):
            pipeline = _call(f"{module.name}.{FACTORY_NAME}()", module.factory, **arguments)
            text = _call(f"the pipeline's definition() (built by {module.name}.{FACTORY_NAME}())", pipeline.definition)
        pipeline_name = pipeline.name
    text, uploads = content_addressed_code_prefixes(text, aws.uploads)
    return BuiltDefinition(
        text=text,
        definition=json.loads(text),
        uploads=uploads,
        pipeline_name=pipeline_name,
        region=region,
        module=module.name,
        module_file=str(module.file),
    )
