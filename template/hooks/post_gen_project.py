"""Add what comes from the installed modelbuild: the runtime package and the pipeline module."""

import json

from pipelines.scaffold.hooks import post_gen_project

post_gen_project(json.loads(r"""{{ cookiecutter | jsonify }}"""))
