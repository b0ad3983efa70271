"""`run-pipeline`: the AWS seed's console script, flag for flag, over modelbuild's implementation.

Existing buildspecs call it with single-dash long flags (`-role-arn`, `-kwargs`, `-tags`); those keep
working. As the seed did, it upserts, starts and waits for the execution; unlike the seed it
validates the definition first, prints per-step progress, and exits non-zero when the execution
fails or stops (the seed printed a traceback and exited 1 for everything).
"""

from __future__ import annotations

import typer

from modelbuild.cli.errors import ModelbuildCommand
from modelbuild.cli.options import KWARGS_HELP, MODULE_HELP, parse_kwargs, parse_tags

app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)


@app.command(cls=ModelbuildCommand)
def run_pipeline(
    module_name: str = typer.Option(None, "-n", "--module-name", help=MODULE_HELP),
    kwargs: str = typer.Option(None, "-kwargs", "--kwargs", help=KWARGS_HELP),
    role_arn: str = typer.Option(None, "-role-arn", "--role-arn", help="The IAM role the pipeline runs as."),
    description: str = typer.Option(None, "-description", "--description", help="The pipeline's description."),
    tags: str = typer.Option(None, "-tags", "--tags", help="""Pipeline tags: '[{"Key": "team", "Value": "ml"}]'."""),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback when it fails."),
) -> None:
    """Upsert a SageMaker pipeline, start it and wait for it (seed-compatible; prefer `modelbuild run`)."""
    from modelbuild.cli.sagemaker_target import start_and_follow

    start_and_follow(
        module_name, parse_kwargs(kwargs), role_arn, description=description, tags=parse_tags(tags), wait=True
    )


def main() -> None:
    """Console-script entry point of `run-pipeline`."""
    app()


if __name__ == "__main__":
    main()
