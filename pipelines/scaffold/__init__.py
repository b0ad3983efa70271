"""`modelbuild new` and `modelbuild update`: projects generated from the cookiecutter template.

A generated project carries modelbuild's runtime (its own `pipelines` package, copied from the
installed modelbuild when it is rendered, without this scaffolder) and holds its own pipeline
module, renamed from the reference pipeline `pipelines/abalone/`. See `sources` for the one
source of truth, `render` for cookiecutter, `new` and `update` for the two commands' cores.
Nothing here imports the SageMaker SDK.
"""
