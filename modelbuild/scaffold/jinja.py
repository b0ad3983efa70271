"""The Jinja extension the template names in `_extensions`: the installed modelbuild's facts.

Templates read modelbuild's version range and SDK pins from here instead of
carrying copies, so a project's setup.py always asks for the modelbuild that made it.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from modelbuild.scaffold.sources import camel_case, runtime_metadata


class ModelbuildExtension(Extension):
    """Adds the global `modelbuild` (see `runtime_metadata`) and the filter `camel_case`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["modelbuild"] = runtime_metadata()
        environment.filters["camel_case"] = camel_case
