"""`modelbuild s3 cp | ls | rm`: the local store, with the AWS CLI's spellings (core: `modelbuild.local.transfer`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from modelbuild.cli.app import app

s3_app = typer.Typer(
    help="Copy data into, list and remove from the local store (what `run --local` reads as S3), as with "
    "`aws s3`. Example: modelbuild s3 cp data/churn.csv s3://my-bucket/churn/data/churn.csv",
    no_args_is_help=True,
)
app.add_typer(s3_app, name="s3")

STATE_DIR_OPTION = typer.Option(
    None, "--state-dir", envvar="MODELBUILD_HOME", help="The local state directory (default ./.modelbuild)."
)
RECURSIVE_HELP = "Every file below the directory or prefix."


@s3_app.command("cp")
def cp(
    source: str = typer.Argument(..., metavar="SRC", help="A local file or directory, or an s3:// URI."),
    destination: str = typer.Argument(..., metavar="DST", help="An s3:// URI (a prefix if it ends in /), or a path."),
    recursive: bool = typer.Option(False, "--recursive", help=RECURSIVE_HELP),
    state_dir: Path = STATE_DIR_OPTION,
) -> None:
    """Copy files into, out of or within the local store: modelbuild s3 cp data.csv s3://bucket/data/data.csv"""
    from modelbuild.local.transfer import copy

    for source_name, target in copy(source, destination, recursive, state_dir):
        typer.echo(f"copy: {source_name} to {target}" if source.startswith("s3://") and destination.startswith("s3://")
                   else f"{'upload' if target.startswith('s3://') else 'download'}: {source_name} to {target}")


@s3_app.command("ls")
def ls(
    uri: str = typer.Argument(None, metavar="[URI]", help="s3://bucket/prefix/ to list; the buckets when omitted."),
    recursive: bool = typer.Option(False, "--recursive", help="Every object below the prefix."),
    state_dir: Path = STATE_DIR_OPTION,
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List the buckets of the local store, or what is stored below an s3:// prefix."""
    from modelbuild.local.transfer import list_store

    entries = list_store(uri, recursive, state_dir)
    if json_output:
        typer.echo(json.dumps([entry.to_json() for entry in entries], indent=2))
        return
    for entry in entries:  # the AWS CLI's columns
        if entry.is_prefix:
            typer.echo(f"{'PRE':>30} {entry.name}")
        elif entry.size is None:
            typer.echo(f"{entry.modified:%Y-%m-%d %H:%M:%S} {entry.name.rstrip('/')}")
        else:
            typer.echo(f"{entry.modified:%Y-%m-%d %H:%M:%S} {entry.size:>10} {entry.name}")


@s3_app.command("rm")
def rm(
    uri: str = typer.Argument(..., metavar="URI", help="The s3:// object (or, with --recursive, prefix) to remove."),
    recursive: bool = typer.Option(False, "--recursive", help=RECURSIVE_HELP),
    state_dir: Path = STATE_DIR_OPTION,
) -> None:
    """Remove an object, or everything below a prefix, from the local store."""
    from modelbuild.local.transfer import remove

    for removed in remove(uri, recursive, state_dir):
        typer.echo(f"delete: {removed}")
