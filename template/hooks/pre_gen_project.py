"""Refuse names that cannot work before any file is rendered (under a bare `cookiecutter` too)."""

import json
import sys

from pipelines.errors import UsageError
from pipelines.scaffold.hooks import pre_gen_project

try:
    pre_gen_project(json.loads(r"""{{ cookiecutter | jsonify }}"""))
except UsageError as exc:
    sys.exit(f"Error: {exc.message}")
