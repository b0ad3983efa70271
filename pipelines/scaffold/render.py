"""Rendering a cookiecutter template through the cookiecutter library, its errors made ours.

The steps are those of `cookiecutter.main.cookiecutter`, minus its replay file in the user's home,
so that the answers come back to the caller (they go into the project's record) and the names are
validated after the prompts and before any file is written.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import ScaffoldError
from pipelines.scaffold.names import validate_answers, validate_overrides
from pipelines.scaffold.sources import BUNDLED, bundled_template_dir, runtime_names


@dataclass(frozen=True)
class Rendered:
    """A project rendered into a staging directory.

    Attributes:
        project_dir: the rendered project.
        answers: the template variables the user gave or accepted (no private `_` ones).
    """

    project_dir: Path
    answers: dict[str, Any]


@contextlib.contextmanager
def _importable(repo_dir: str) -> Iterator[None]:
    # A template's local Jinja extensions are importable from its own directory, as in cookiecutter.
    sys.path.insert(0, repo_dir)
    try:
        yield
    finally:
        sys.path.remove(repo_dir)


def render(
    template: str,
    output_dir: Path,
    overrides: Mapping[str, Any],
    no_input: bool,
    checkout: str | None = None,
) -> Rendered:
    """Render `template` into `output_dir` with cookiecutter, after validating the answers.

    Args:
        template: "bundled", a template directory, or a git URL (needs the network).
        output_dir: an existing directory; the project becomes a new directory inside it.
        overrides: values for template variables; they become the prompts' defaults.
        no_input: take every default instead of prompting.
        checkout: the branch, tag or commit of a git template.

    Raises:
        UsageError: when an override names no variable or an answer is not a valid name.
        ScaffoldError: when cookiecutter cannot find, read or render the template, or a hook fails.
    """
    from cookiecutter.config import get_user_config
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.prompt import prompt_for_config
    from cookiecutter.repository import determine_repo_dir

    source = str(bundled_template_dir()) if template == BUNDLED else template
    try:
        config = get_user_config()
        repo_dir, cleanup = determine_repo_dir(
            template=source,
            abbreviations=config["abbreviations"],
            clone_to_dir=config["cookiecutters_dir"],
            checkout=checkout,
            no_input=no_input,
        )
        with _importable(str(repo_dir)):
            context = generate_context(
                context_file=str(Path(repo_dir) / "cookiecutter.json"), default_context=config["default_context"]
            )
            validate_overrides(overrides, context["cookiecutter"])
            context = generate_context(
                context_file=str(Path(repo_dir) / "cookiecutter.json"),
                default_context=config["default_context"],
                extra_context=dict(overrides),
            )
            context["_cookiecutter"] = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
            context["cookiecutter"].update(prompt_for_config(context, no_input))
            answers = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
            validate_answers(answers, runtime_names())
            context["cookiecutter"].update(
                _template=source, _output_dir=str(output_dir), _repo_dir=str(repo_dir), _checkout=checkout
            )
            project_dir = generate_files(repo_dir=repo_dir, context=context, output_dir=str(output_dir))
    except FailedHookException as exc:
        raise ScaffoldError(f"The template's hook failed: {exc}", hint="See the hook's message above.") from exc
    except CookiecutterException as exc:
        raise ScaffoldError(f"Cannot render template {template!r}: {exc}") from exc
    except OSError as exc:
        raise ScaffoldError(f"Cannot render template {template!r}: {exc}") from exc
    if cleanup:
        import shutil

        shutil.rmtree(repo_dir, ignore_errors=True)
    return Rendered(project_dir=Path(project_dir), answers=answers)
