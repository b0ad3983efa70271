"""Refuse names that cannot work before any file is rendered (under a bare `cookiecutter` too)."""

import json
import sys

from modelbuild.errors import UsageError
from modelbuild.scaffold.hooks import pre_gen_project

try:
    pre_gen_project(json.loads(r"""{{ cookiecutter | jsonify }}"""))
except UsageError as exc:
    sys.exit(f"Error: {exc.message}")
