"""Importing the user's pipeline module, from the user's project, and checking kwargs for its `get_pipeline`.

The module a user names is the user's: it is imported with the project directory first on
`sys.path`, and a module of that name already imported from elsewhere (another checkout, an
installed copy) is forgotten first, so the file built is the project's file. Names inside
modelbuild's own package are refused. A module found outside the project is built, with a warning.

Translates the import system's errors into modelbuild's: a missing module or `get_pipeline` is a
ModuleLoadError (with a did-you-mean over the project's modules), a module that raises while
importing is a DefinitionError, and a kwarg `get_pipeline` does not accept is a UsageError naming
the ones it does.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelbuild.definition.project import Project, find_project
from modelbuild.errors import DefinitionError, ModuleLoadError, UsageError, did_you_mean

FACTORY_NAME = "get_pipeline"
SESSION_KWARG = "sagemaker_session"
"""The keyword through which modelbuild hands `get_pipeline` its offline session."""

TOOL_PACKAGE = "modelbuild"
TOOL_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class PipelineModule:
    """A pipeline module, imported.

    Attributes:
        name: its dotted name.
        file: the file it was imported from.
        project: the project it was looked up in.
        factory: its `get_pipeline`.
    """

    name: str
    file: Path
    project: Project
    factory: Callable[..., Any]

    @property
    def outside_project(self) -> bool:
        """True when the module was found outside the project directory (an installed copy, say)."""
        return not self.file.is_relative_to(self.project.root)


def one_line(exc: BaseException) -> str:
    """Return the first line of an exception's message, or its type name when it has none."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def importing_from(project: Project) -> Iterator[None]:
    """Put the project directory first on `sys.path` for the block (imports inside `get_pipeline` too)."""
    entry = str(project.root)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def _locations(module: Any) -> list[Path]:
    found = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    return [Path(location).resolve() for location in found if location]


def _forget_copies_outside(module_name: str, root: Path) -> None:
    """Drop from `sys.modules` each package on `module_name`'s path that the project provides but
    that was imported from somewhere else, with everything below it."""
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        loaded = sys.modules.get(name)
        in_project = root.joinpath(*parts[:depth])
        if loaded is None or not (in_project.is_dir() or in_project.with_suffix(".py").is_file()):
            continue
        locations = _locations(loaded)
        if locations and locations[0].is_relative_to(root):
            continue
        for stale in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[stale]
        return


def load_pipeline_module(module_name: str | None = None, project: Project | None = None) -> PipelineModule:
    """Import the user's pipeline module and return it with its `get_pipeline`.

    Call inside `importing_from(project)` when `get_pipeline` is to be called too.

    Args:
        module_name: dotted name; None for the project's default (see `Project.default_module`).
        project: where to look first; the working directory's project when None.

    Raises:
        UsageError: no module was named and the project has no (single) default.
        ModuleLoadError: the module cannot be found or imported, is modelbuild's own, or has no
            callable get_pipeline.
        DefinitionError: importing the module raised something other than an ImportError.
    """
    project = project or find_project()
    module_name = module_name or project.default_module()
    if module_name.partition(".")[0] == TOOL_PACKAGE:
        raise ModuleLoadError(
            f"{module_name!r} is a module of modelbuild itself, not a pipeline module",
            hint="Name your project's module, e.g. pipelines.<name>.pipeline.",
        )
    with importing_from(project):
        _forget_copies_outside(module_name, project.root)
        module = _import(module_name, project)
    locations = _locations(module)
    if not locations or not locations[0].is_file():
        raise ModuleLoadError(f"{module_name!r} is a package directory, not a module",
                              hint=f"Name the module that defines {FACTORY_NAME}(), e.g. {module_name}.pipeline.")
    if locations[0].is_relative_to(TOOL_DIR):
        raise ModuleLoadError(f"{module_name!r} resolves to modelbuild's own {locations[0]}, not a pipeline module")
    factory = getattr(module, FACTORY_NAME, None)
    if not callable(factory):
        raise ModuleLoadError(
            f"Module {module_name!r} ({locations[0]}) has no {FACTORY_NAME}() function",
            hint=f"Define {FACTORY_NAME}(**kwargs) returning a sagemaker Pipeline.",
        )
    return PipelineModule(module_name, locations[0], project, factory)


def _import(module_name: str, project: Project) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ModuleLoadError(
                f"No module named {module_name!r} in {project.root}",
                hint=did_you_mean(module_name, _project_modules(project.root, module_name.partition(".")[0]))
                or "Run modelbuild in your project's directory, or check --module-name.",
            ) from exc
        raise ModuleLoadError(f"Cannot import {module_name!r}{_origin(module_name)}: {one_line(exc)}",
                              hint=sdk_mismatch_hint(exc.name)) from exc
    except ImportError as exc:
        raise ModuleLoadError(f"Cannot import {module_name!r}{_origin(module_name)}: {one_line(exc)}") from exc
    except Exception as exc:
        raise DefinitionError(
            f"Importing {module_name!r}{_origin(module_name)} raised {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    except SystemExit as exc:  # an import must define get_pipeline, not end the process (exit 0 printed nothing)
        raise DefinitionError(
            f"Importing {module_name!r}{_origin(module_name)} called sys.exit({exc.code!r})",
            hint="Move the module's script code under `if __name__ == \"__main__\":`.",
        ) from exc


def sdk_mismatch_hint(missing: str | None) -> str | None:
    """A hint when the missing module is part of another SageMaker SDK major than the one installed."""
    if not (missing or "").startswith("sagemaker."):
        return None
    import importlib.metadata

    try:
        installed = importlib.metadata.version("sagemaker")
    except importlib.metadata.PackageNotFoundError:
        return "Install the SageMaker SDK your project pins (pip install . in the project)."
    return (f"The module is written for another SageMaker SDK than the installed sagemaker {installed}: install "
            "the one your project pins (pip install . in the project); modelbuild works with v2 (2.93+) and v3.")


def _origin(module_name: str) -> str:
    """' (FILE)' for the file `module_name` would be imported from, or '' when that is unknown."""
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:  # a parent package that itself fails to import: nothing more to say
        return ""
    return f" ({spec.origin})" if spec is not None and spec.origin else ""


def call_kwargs(factory: Callable[..., Any], kwargs: Mapping[str, Any], defaults: Mapping[str, Any],
                session: Any) -> dict[str, Any]:
    """Return the keyword arguments to call `factory` with.

    `kwargs` are the user's and must all be accepted; each of `defaults` (region, placeholder role
    and bucket) is added when the user gave none (or None) and `factory` accepts it; `session` is passed as
    `sagemaker_session` when `factory` names that parameter.

    Raises:
        UsageError: a kwarg is not accepted, is reserved, or a required parameter is missing.
    """
    parameters = inspect.signature(factory).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = [
        name for name, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    accepted = [name for name in named if name != SESSION_KWARG]
    if SESSION_KWARG in kwargs:
        raise UsageError(f"kwarg {SESSION_KWARG!r} is reserved: modelbuild supplies the session")
    for name in kwargs:
        if name not in accepted and not accepts_any:
            raise UsageError(
                f"{FACTORY_NAME}() does not accept kwarg {name!r}; it accepts: {', '.join(accepted) or 'none'}",
                hint=did_you_mean(name, accepted),
            )
    # A default given as null (`--kwargs '{"role": null}'`, as a buildspec renders an unset variable) is not given.
    result = {name: value for name, value in defaults.items() if name in named and kwargs.get(name) is None}
    result.update({name: value for name, value in kwargs.items() if not (value is None and name in result)})
    if SESSION_KWARG in named:
        result[SESSION_KWARG] = session
    missing = [
        name for name in named
        if parameters[name].default is inspect.Parameter.empty and name not in result
    ]
    if missing:
        raise UsageError(f"{FACTORY_NAME}() needs kwarg(s) {', '.join(map(repr, missing))}; pass them in --kwargs")
    return result


def _project_modules(root: Path, package: str) -> Iterator[str]:
    """Yield the dotted names of every module of the project's `package`, without importing them."""
    # pkgutil.walk_packages would import every subpackage to find its children; iter_modules reads
    # directories only.
    pending = [(root / package, package)]
    while pending:
        directory, dotted = pending.pop()
        for info in pkgutil.iter_modules([str(directory)]):
            name = f"{dotted}.{info.name}"
            yield name
            if info.ispkg:
                pending.append((directory / info.name, name))
