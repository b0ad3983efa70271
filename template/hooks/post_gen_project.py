"""Add the project's pipeline module: modelbuild's reference pipeline, renamed."""

import json

from modelbuild.scaffold.hooks import post_gen_project

post_gen_project(json.loads(r"""{{ cookiecutter | jsonify }}"""))
