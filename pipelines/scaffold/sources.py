"""What a generated project takes from the installed modelbuild: its runtime and its pipeline module.

The one source of truth is the installed `pipelines` package itself. A generated project's
`pipelines/` is that package's files as they are on disk when the project is rendered (no list
kept by hand: whatever modules the package has, the project gets), minus this scaffolder, which a
project does not need. Nothing of it is stored in `template/`. The reference pipeline `abalone/`
becomes the project's pipeline module by a rename: `abalone`, `Abalone` and `ABALONE` become the
pipeline name in the matching case, in file contents and paths, everywhere in the package (so the
runtime's default module is the project's pipeline). A project whose pipeline is named `abalone`
carries a byte-exact copy.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from pathlib import Path

import pipelines
from pipelines.__version__ import __version__
from pipelines.errors import ScaffoldError

DISTRIBUTION = "modelbuild"
REFERENCE_PIPELINE = "abalone"
PACKAGE_DIR = Path(pipelines.__file__).resolve().parent
# The scaffolder's own package: it renders projects, a project does not need it.
SCAFFOLD_DIR = PACKAGE_DIR / "scaffold"
# Where the template is: packaged beside the scaffolder in a wheel, at the top of a source checkout.
TEMPLATE_CANDIDATES = (SCAFFOLD_DIR / "template", PACKAGE_DIR.parent / "template")
BUNDLED = "bundled"
TEXT_SUFFIXES = {".py", ".json", ".md", ".txt", ".cfg", ".toml", ".yml", ".yaml", ".j2", ".ini"}
EXTRA_MARKER = re.compile(r"""\s*(and\s+)?extra\s*==\s*['"]([^'"]+)['"]\s*""")


def bundled_template_dir() -> Path:
    """Return the directory of the cookiecutter template that ships with modelbuild.

    Raises:
        ScaffoldError: when this installation carries no template.
    """
    for candidate in TEMPLATE_CANDIDATES:
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise ScaffoldError(
        "This installation of modelbuild carries no project template",
        hint="Pass --template PATH_OR_GIT_URL.",
    )


def camel_case(name: str) -> str:
    """'churn_model' -> 'ChurnModel' (how the reference pipeline's 'Abalone' is renamed)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def rename(text: str, pipeline_name: str) -> str:
    """Rename the reference pipeline to `pipeline_name` in `text`, keeping each occurrence's case."""
    if pipeline_name == REFERENCE_PIPELINE:
        return text
    return (
        text.replace(REFERENCE_PIPELINE, pipeline_name)
        .replace(camel_case(REFERENCE_PIPELINE), camel_case(pipeline_name))
        .replace(REFERENCE_PIPELINE.upper(), pipeline_name.upper())
    )


def _package_files() -> list[Path]:
    """Every file of the installed package a project carries (no caches, hidden or temp files)."""
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and not path.is_relative_to(SCAFFOLD_DIR)
        and not any(part.startswith((".", "__pycache__")) for part in path.relative_to(PACKAGE_DIR).parts)
        and path.suffix not in (".pyc", ".tmp")
    )


def project_package_files(pipeline_name: str) -> dict[str, bytes]:
    """Return the generated project's `pipelines/` package: path (relative to the project) -> content.

    Args:
        pipeline_name: the project's pipeline module name; the reference pipeline is renamed to it.
    """
    files: dict[str, bytes] = {}
    for path in _package_files():
        relative = rename(path.relative_to(PACKAGE_DIR).as_posix(), pipeline_name)
        content = path.read_bytes()
        if path.suffix in TEXT_SUFFIXES:
            content = rename(content.decode("utf-8"), pipeline_name).encode("utf-8")
        files[f"pipelines/{relative}"] = content
    return files


def runtime_names() -> set[str]:
    """Names of the runtime's own modules and subpackages: a pipeline may not take one of them."""
    names = {Path(path.relative_to(PACKAGE_DIR).parts[0]).stem for path in _package_files()}
    return (names | {SCAFFOLD_DIR.name}) - {REFERENCE_PIPELINE}


@functools.lru_cache(maxsize=1)
def _distribution() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ScaffoldError(
            f"The {DISTRIBUTION} distribution is not installed, so its requirements are unknown",
            hint="Install modelbuild with pip (pip install -e . in a checkout) and run it from there.",
        ) from exc


def requirements(extra: str | None = None) -> list[str]:
    """The installed modelbuild's requirements: the base ones, or those of `extra` (e.g. "test").

    Markers other than the extra's (e.g. `python_version < '3.11'`) are kept.
    """
    found = []
    for requirement in _distribution().requires or []:
        spec, _, marker = requirement.partition(";")
        match = EXTRA_MARKER.search(marker)
        if (match.group(2) if match else None) == extra:
            rest = EXTRA_MARKER.sub(" ", marker).strip().removeprefix("and ").strip()
            found.append(f"{spec.strip()}; {rest}" if rest else spec.strip())
    return found


def runtime_metadata() -> dict[str, object]:
    """Version, Python requirement, requirements and console scripts of the installed modelbuild."""
    distribution = _distribution()
    return {
        "version": __version__,
        "python_requires": distribution.metadata["Requires-Python"] or ">=3.10",
        "console_scripts": sorted(
            f"{entry.name}={entry.value}"
            for entry in distribution.entry_points
            if entry.group == "console_scripts"
        ),
        "requirements": requirements(),
        "test_requirements": requirements("test"),
    }
