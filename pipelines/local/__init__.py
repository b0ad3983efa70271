"""The local engine: runs a SageMaker Pipelines definition JSON on this machine, without AWS or Docker.

Entry points: `pipelines.local.engine.run_pipeline` (a run), `pipelines.local.records` (executions),
`pipelines.local.registry` (model registry). Nothing here imports the SDK, boto3 or the CLI.
"""
