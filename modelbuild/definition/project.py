"""The project a command runs in: its directory and the pipeline module it names as its default.

A ModelBuild project is a directory of its own code (`pipelines/<name>/pipeline.py` in the SageMaker
seed's layout) that depends on modelbuild. Its default pipeline module is named in its `setup.cfg`:

    [tool:modelbuild]
    pipeline = pipelines.churn.pipeline

so every `modelbuild` command run anywhere in the project needs no `--module-name`. A project made
from AWS's seed has no such section; when its `pipelines/` holds exactly one `*/pipeline.py`, that
module is the default, and the build says which file it used.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from modelbuild.errors import UsageError

CONFIG_FILE = "setup.cfg"
CONFIG_SECTION = "tool:modelbuild"
PIPELINE_KEY = "pipeline"
# Files that mark a project's root when no setup.cfg names a pipeline (a seed project has setup.py).
ROOT_MARKERS = ("setup.cfg", "setup.py", "pyproject.toml")
# Where the seed keeps its pipelines: pipelines/<name>/pipeline.py.
SEED_PACKAGE = "pipelines"
SEED_MODULE = "pipeline"


@dataclass(frozen=True)
class Project:
    """Where a command runs, as a project.

    Attributes:
        root: the project directory: modules are imported from here first.
        config: the setup.cfg holding `[tool:modelbuild]`, or None.
        pipeline: the module `[tool:modelbuild] pipeline` names, or None.
    """

    root: Path
    config: Path | None = None
    pipeline: str | None = None

    def default_module(self) -> str:
        """The module to build when the user names none.

        Raises:
            UsageError: the project names none and its `pipelines/` holds no or several pipeline modules.
        """
        if self.pipeline:
            return self.pipeline
        found = seed_modules(self.root)
        if len(found) == 1:
            return found[0]
        setting = f"or name it in {CONFIG_FILE}: [{CONFIG_SECTION}] {PIPELINE_KEY} = pipelines.<name>.pipeline"
        if found:
            raise UsageError(
                f"{self.root} has {len(found)} pipeline modules ({', '.join(found)}); which one?",
                hint=f"Pass --module-name {found[0]}, {setting}.",
            )
        raise UsageError(
            f"No pipeline module here: {self.root} has no {CONFIG_FILE} naming one and no "
            f"{SEED_PACKAGE}/<name>/{SEED_MODULE}.py",
            hint=f"Run modelbuild in your project's directory, pass --module-name, {setting}.",
        )


def seed_modules(root: Path) -> list[str]:
    """The dotted names of `pipelines/<name>/pipeline.py` under `root`, sorted."""
    return sorted(
        f"{SEED_PACKAGE}.{path.parent.name}.{SEED_MODULE}"
        for path in (root / SEED_PACKAGE).glob(f"*/{SEED_MODULE}.py")
        if path.parent.name.isidentifier()
    )


def _read_config(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise UsageError(
            f"Cannot read {path}: {str(exc).splitlines()[0]}", hint=f"Fix the syntax of {path.name}."
        ) from exc
    return parser if parser.has_section(CONFIG_SECTION) else None


def find_project(start: str | os.PathLike[str] | None = None) -> Project:
    """The project `start` (default: the working directory) is in.

    Its root is the nearest directory, from `start` up, holding a setup.cfg, setup.py or
    pyproject.toml (else `start` itself); its default pipeline is what that directory's setup.cfg
    names in `[tool:modelbuild]`, if anything.

    Raises:
        UsageError: the project's setup.cfg cannot be parsed.
    """
    start = Path(start or Path.cwd()).resolve()
    root = next(
        (directory for directory in (start, *start.parents)
         if any((directory / name).is_file() for name in ROOT_MARKERS)),
        start,
    )
    config = root / CONFIG_FILE
    parser = _read_config(config) if config.is_file() else None
    if parser is None:
        return Project(root)
    return Project(root, config, parser.get(CONFIG_SECTION, PIPELINE_KEY, fallback="").strip() or None)
