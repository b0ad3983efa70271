"""The local engine: runs a SageMaker Pipelines definition JSON on this machine, without AWS or Docker.

Entry point: `engine.run_pipeline(load_source(...), parameters, ...) -> ExecutionRecord`. Reading state:
`records.list_executions / get_execution` (executions) and `registry.list_model_packages /
get_model_package / set_approval_status` (model registry).

Modules: `engine` checks everything and starts an execution; `plan` decides what runs (resume,
--steps); `scheduler` walks the step graph (caching, retries, timing, events); `steps/` has one module
per step type; `expressions` evaluates the DSL; `cache` and `retry` hold those policies; `container`
emulates a job's container; `store` is the local "S3"; `state`, `records` and `registry` are the
SQLite state. Nothing here imports the SDK, boto3 or the CLI.
"""
