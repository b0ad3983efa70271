"""`modelbuild new` and `modelbuild update`: projects generated from the cookiecutter template.

A generated project depends on modelbuild (a compatible version range in its setup.py) and holds
only its own code: its pipeline module, renamed from the reference pipeline `pipelines/abalone/`,
its tests, packaging and CI files. See `sources` for the one
source of truth, `render` for cookiecutter, `new` and `update` for the two commands' cores.
Nothing here imports the SageMaker SDK.
"""
