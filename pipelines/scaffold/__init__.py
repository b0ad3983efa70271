"""`modelbuild new` and `modelbuild update`: projects generated from the cookiecutter template.

A generated project vendors modelbuild's runtime (its own `pipelines` package, copied from the
installed modelbuild when it is rendered) and holds its own pipeline module, rendered from the
reference pipeline `pipelines/abalone/`. Nothing here imports the SageMaker SDK.
"""
