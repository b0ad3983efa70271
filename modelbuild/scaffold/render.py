"""Rendering a cookiecutter template through the cookiecutter library, its errors made ours.

The steps are those of `cookiecutter.main.cookiecutter` (minus its replay file in the user's home
and nested templates), taken one by one so that the answers come back to the caller (they go into
the project's record) and are validated after the prompts and before any file is written.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbuild.errors import ScaffoldError, UsageError
from modelbuild.scaffold.names import validate_answers, validate_overrides
from modelbuild.scaffold.sources import BUNDLED, bundled_template_dir


@dataclass(frozen=True)
class Rendered:
    """A project rendered into a staging directory.

    Attributes:
        project_dir: the rendered project.
        answers: the template variables the user gave or accepted (no private `_` ones).
    """

    project_dir: Path
    answers: dict[str, Any]


def normalize_template(template: str) -> str:
    """A local template directory as an absolute path (so a record works from anywhere); others as given."""
    path = Path(template).expanduser()
    return str(path.resolve()) if template != BUNDLED and path.is_dir() else template


def render(
    template: str,
    output_dir: Path,
    overrides: Mapping[str, Any],
    no_input: bool,
    checkout: str | None = None,
    drop_unknown: bool = False,
) -> Rendered:
    """Render `template` into `output_dir` with cookiecutter, after validating the answers.

    Args:
        template: "bundled", a template directory, or a git URL (needs the network).
        output_dir: an existing directory; the project becomes a new directory inside it.
        overrides: values for template variables; with `no_input` they are the answers, else the
            prompts' defaults.
        no_input: take every default instead of prompting.
        checkout: the branch, tag or commit of a git template.
        drop_unknown: ignore overrides the template has no variable for (`update` replays the
            answers of an older template) instead of refusing them.

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
    # cookiecutter writes each rendered hook to a temp file it never deletes: put them below
    # `output_dir`, which the caller removes, in a directory of their own: Python puts a script's
    # directory first on sys.path, where a project named like a module the hook imports (a project
    # called `modelbuild`, say) would shadow it.
    hooks_dir = output_dir / ".hooks"
    hooks_dir.mkdir(exist_ok=True)
    previous_tempdir, tempfile.tempdir = tempfile.tempdir, str(hooks_dir)
    # cookiecutter logs a failed clone with its traceback before raising; the error below says it in one line
    vcs_log = logging.getLogger("cookiecutter.vcs")
    previous_level = vcs_log.level
    vcs_log.setLevel(logging.CRITICAL)
    try:
        config = get_user_config()
        repo_dir, cleanup = determine_repo_dir(
            template=source,
            abbreviations=config["abbreviations"],
            clone_to_dir=config["cookiecutters_dir"],
            checkout=checkout,
            no_input=no_input,
        )
        sys.path.append(str(repo_dir))  # a template's local Jinja extensions, as in cookiecutter
        try:
            context_file = str(Path(repo_dir) / "cookiecutter.json")
            variables = generate_context(context_file=context_file)["cookiecutter"]
            if drop_unknown:
                overrides = {name: value for name, value in overrides.items() if name in variables}
            validate_overrides(overrides, variables)
            context = generate_context(
                context_file=context_file,
                default_context=config["default_context"],
                extra_context=dict(overrides),
            )
            context["_cookiecutter"] = {
                k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")
            }
            context["cookiecutter"].update(prompt_for_config(context, no_input))
            answers = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
            validate_answers(answers)
            context["cookiecutter"].update(
                _template=source, _output_dir=str(output_dir), _repo_dir=str(repo_dir), _checkout=checkout
            )
            project_dir = generate_files(repo_dir=repo_dir, context=context, output_dir=str(output_dir))
        finally:
            sys.path.remove(str(repo_dir))
            if cleanup:
                shutil.rmtree(repo_dir, ignore_errors=True)
    except FailedHookException as exc:
        raise ScaffoldError(
            f"The template's hook failed: {exc}", hint="See the hook's message above."
        ) from exc
    except subprocess.CalledProcessError as exc:  # cookiecutter's `git clone` / `hg clone` of the template
        output = (exc.output or b"").decode(errors="replace").strip().splitlines() if exc.output else []
        raise ScaffoldError(
            f"Cannot fetch template {template!r}: {exc.cmd[0]} {exc.cmd[1]} exited {exc.returncode}"
            + (f" ({output[-1]})" if output else ""),
            hint="Check the URL and your network access to it, or pass a local template directory.",
        ) from exc
    except (CookiecutterException, OSError) as exc:
        raise ScaffoldError(f"Cannot render template {template!r}: {exc}") from exc
    except ValueError as exc:  # a value that is not one of a choice variable's choices
        raise UsageError(str(exc)) from exc
    finally:
        tempfile.tempdir = previous_tempdir
        vcs_log.setLevel(previous_level)
    return Rendered(project_dir=Path(project_dir), answers=answers)
