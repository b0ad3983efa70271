"""Validation of the names a project is generated from, before anything is written."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from typing import Any

from modelbuild.errors import UsageError, did_you_mean

# A slug names the project's directory and its distribution: letters, digits, '-' and '_',
# starting with a letter, so that with '-' as '_' it is also a Python identifier.
SLUG_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
# A pipeline name is a subpackage of `pipelines`: a lowercase Python identifier.
PIPELINE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# SageMaker's pattern for pipeline and model package group names.
SAGEMAKER_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


SLUG_MAX, PIPELINE_NAME_MAX, SAGEMAKER_NAME_MAX = 100, 63, 63


def _refuse(option: str, value: str, expected: str, hint: str | None = None) -> None:
    raise UsageError(f"{option} should be {expected}; got {value!r}", hint=hint)


def _check_length(option: str, value: str, limit: int) -> None:
    """A name over its length limit is told so, not that its characters are wrong."""
    if len(value) > limit:
        raise UsageError(f"{option} is {len(value)} characters long; at most {limit} are allowed",
                         hint=f"Shorten it: {value[:20]}...")


def validate_slug(slug: str) -> None:
    """Raise UsageError unless `slug` can name the project directory and distribution."""
    _check_length("The project slug", slug, SLUG_MAX)
    if not SLUG_PATTERN.match(slug):
        _refuse(
            "The project slug",
            slug,
            "a directory name of letters, digits, '-' and '_' starting with a letter (no '/', '..' or path)",
            hint="Give a bare name such as 'churn-model'; put the parent directory in --output-dir.",
        )


def validate_pipeline_name(name: str) -> None:
    """Raise UsageError unless `name` can be the pipeline's subpackage of `pipelines`."""
    _check_length("--pipeline-name", name, PIPELINE_NAME_MAX)
    if not PIPELINE_NAME_PATTERN.match(name) or keyword.iskeyword(name):
        _refuse("--pipeline-name", name, "a lowercase Python identifier such as 'churn'")


def validate_answers(answers: Mapping[str, Any]) -> None:
    """Validate the template variables modelbuild's template defines; others pass through.

    Args:
        answers: the cookiecutter variables after prompting.
    """
    if "project_slug" in answers:
        validate_slug(str(answers["project_slug"]))
    if "pipeline_name" in answers:
        validate_pipeline_name(str(answers["pipeline_name"]))
    for key in ("sagemaker_pipeline_name", "model_package_group_name"):
        if key in answers:
            _check_length(key, str(answers[key]), SAGEMAKER_NAME_MAX)
        if key in answers and not SAGEMAKER_NAME_PATTERN.match(str(answers[key])):
            _refuse(key, str(answers[key]), "up to 63 letters, digits and '-' (SageMaker's rule)")
    if "aws_region" in answers and not REGION_PATTERN.match(str(answers["aws_region"])):
        _refuse("--region", str(answers["aws_region"]), "an AWS region such as 'eu-west-1'")


def validate_overrides(overrides: Mapping[str, Any], known: Iterable[str]) -> None:
    """Raise UsageError when an override names no variable of the template."""
    choices = [name for name in known if not name.startswith("_")]
    for name in overrides:
        if name not in choices:
            raise UsageError(
                f"The template has no variable {name!r}",
                hint=did_you_mean(name, choices) or f"Its variables: {', '.join(choices)}",
            )
