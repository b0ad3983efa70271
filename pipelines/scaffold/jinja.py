"""The Jinja extension the template names in `_extensions`: the installed runtime's facts.

Templates read modelbuild's version, requirements and console scripts from here instead of
carrying copies, so a project's setup.py always matches the runtime it vendors.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from pipelines.scaffold.sources import camel_case, runtime_metadata


class ModelbuildExtension(Extension):
    """Adds the global `modelbuild` (see `runtime_metadata`) and the filter `camel_case`."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["modelbuild"] = runtime_metadata()
        environment.filters["camel_case"] = camel_case
