"""Importing a pipeline module and checking the kwargs for its `get_pipeline`.

Translates the import system's errors into modelbuild's: a missing module or `get_pipeline` is a
ModuleLoadError (with a did-you-mean over the modules of the `pipelines` package), a module that
raises while importing is a DefinitionError, and a kwarg `get_pipeline` does not accept is a
UsageError naming the ones it does.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipelines.errors import DefinitionError, ModuleLoadError, UsageError, did_you_mean

FACTORY_NAME = "get_pipeline"
SESSION_KWARG = "sagemaker_session"
"""The keyword through which modelbuild hands `get_pipeline` its offline session."""


def one_line(exc: BaseException) -> str:
    """Return the first line of an exception's message, or its type name when it has none."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def load_factory(module_name: str) -> Callable[..., Any]:
    """Import `module_name` and return its `get_pipeline`.

    Raises:
        ModuleLoadError: the module cannot be found or imported, or has no callable get_pipeline.
        DefinitionError: importing the module raised something other than an ImportError.
    """
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ModuleLoadError(
                f"No module named {module_name!r}", hint=did_you_mean(module_name, _package_modules())
            ) from exc
        raise ModuleLoadError(f"Cannot import {module_name!r}: {one_line(exc)}") from exc
    except ImportError as exc:
        raise ModuleLoadError(f"Cannot import {module_name!r}: {one_line(exc)}") from exc
    except Exception as exc:
        raise DefinitionError(
            f"Importing {module_name!r} raised {type(exc).__name__}: {one_line(exc)}"
        ) from exc
    factory = getattr(module, FACTORY_NAME, None)
    if not callable(factory):
        raise ModuleLoadError(
            f"Module {module_name!r} has no {FACTORY_NAME}() function",
            hint=f"Define {FACTORY_NAME}(**kwargs) returning a sagemaker Pipeline.",
        )
    return factory


def call_kwargs(factory: Callable[..., Any], kwargs: Mapping[str, Any], defaults: Mapping[str, Any],
                session: Any) -> dict[str, Any]:
    """Return the keyword arguments to call `factory` with.

    `kwargs` are the user's and must all be accepted; each of `defaults` (region, placeholder role
    and bucket) is added when the user gave none and `factory` accepts it; `session` is passed as
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
    result = {name: value for name, value in defaults.items() if name in named and kwargs.get(name) is None}
    result.update(kwargs)
    if SESSION_KWARG in named:
        result[SESSION_KWARG] = session
    missing = [
        name for name in named
        if parameters[name].default is inspect.Parameter.empty and name not in result
    ]
    if missing:
        raise UsageError(f"{FACTORY_NAME}() needs kwarg(s) {', '.join(map(repr, missing))}; pass them in --kwargs")
    return result


def _package_modules() -> Iterator[str]:
    """Yield the dotted names of every module under the `pipelines` package, without importing them."""
    # pkgutil.walk_packages would import every subpackage to find its children; iter_modules reads
    # directories only.
    pending = [(Path(__file__).resolve().parent.parent, "pipelines")]
    while pending:
        directory, package = pending.pop()
        for info in pkgutil.iter_modules([str(directory)]):
            name = f"{package}.{info.name}"
            yield name
            if info.ispkg:
                pending.append((directory / info.name, name))
