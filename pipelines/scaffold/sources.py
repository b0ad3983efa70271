"""What a generated project takes from the installed modelbuild: its runtime and its pipeline module.

The one source of truth is the installed `pipelines` package itself. A generated project's
`pipelines/` is that package's files, except the reference pipeline `abalone/` (which becomes the
project's own pipeline module, renamed) and the bundled template; nothing of it is stored in
`template/`. Rendering is a rename: `abalone`, `Abalone` and `ABALONE` become the pipeline name
in the matching case, in file contents and paths, so a project named `abalone` is a byte-exact copy.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pipelines
from pipelines.errors import ScaffoldError

REFERENCE_PIPELINE = "abalone"
PACKAGE_DIR = Path(pipelines.__file__).resolve().parent
# Where the template is: packaged beside this module in a wheel, at the top of a source checkout.
TEMPLATE_CANDIDATES = (PACKAGE_DIR / "scaffold" / "template", PACKAGE_DIR.parent / "template")
BUNDLED = "bundled"
TEXT_SUFFIXES = {".py", ".json", ".md", ".txt", ".cfg", ".toml", ".yml", ".yaml", ".j2", ".ini"}
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def bundled_template_dir() -> Path:
    """Return the directory of the cookiecutter template that ships with modelbuild.

    Raises:
        ScaffoldError: when this installation carries no template (a generated project's runtime).
    """
    for candidate in TEMPLATE_CANDIDATES:
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise ScaffoldError(
        "This installation of modelbuild carries no project template",
        hint="Pass --template PATH_OR_GIT_URL, or run this with modelbuild installed from PyPI (pipx).",
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
    excluded = [PACKAGE_DIR / "scaffold" / "template"]
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and not SKIPPED_PARTS.intersection(path.relative_to(PACKAGE_DIR).parts)
        and not any(path.is_relative_to(root) for root in excluded)
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
    names = {path.relative_to(PACKAGE_DIR).parts[0] for path in _package_files()}
    return {Path(name).stem for name in names} - {REFERENCE_PIPELINE}


def _distribution() -> importlib.metadata.Distribution:
    # The distribution that provides `pipelines`: modelbuild, or a generated project's own.
    names = importlib.metadata.packages_distributions().get("pipelines", [])
    for name in names:
        return importlib.metadata.distribution(name)
    raise ScaffoldError(
        "Cannot find the installed distribution of the `pipelines` package",
        hint="Install modelbuild with pip (pip install modelbuild) rather than running it from a bare checkout.",
    )


def runtime_requirements(extra: str | None = None) -> list[str]:
    """The installed runtime's requirements: the base ones, or those of `extra` (e.g. "test")."""
    requirements = []
    for requirement in _distribution().requires or []:
        spec, _, marker = requirement.partition(";")
        marker_extra = marker.split("extra ==")[-1].strip().strip("'\"") if "extra ==" in marker else None
        if marker_extra == extra:
            requirements.append(spec.strip())
    return requirements


def runtime_metadata() -> dict[str, object]:
    """Version, Python requirement and console scripts of the installed runtime, for the templates."""
    distribution = _distribution()
    return {
        "version": pipelines.__version__,
        "python_requires": distribution.metadata["Requires-Python"] or ">=3.10",
        "console_scripts": sorted(
            f"{entry.name}={entry.value}"
            for entry in distribution.entry_points
            if entry.group == "console_scripts"
        ),
        "requirements": runtime_requirements(),
        "test_requirements": runtime_requirements("test"),
    }
