"""What a generated project takes from the installed modelbuild: its pipeline module and its requirements.

A project depends on modelbuild; it never carries a copy of it. What it takes at generation time is
the reference project's code, `pipelines/` in this repository (shipped in the wheel as the
scaffolder's data): the package's `__init__.py` and the reference pipeline `abalone/`, which becomes
the project's pipeline module by a rename: `abalone`, `Abalone` and `ABALONE` become the pipeline
name in the matching case, in file contents and paths (so `TrainAbaloneModel` becomes e.g.
`TrainChurnRiskModel`). A project whose pipeline is named `abalone` carries a byte-exact copy. The
template's `setup.py` takes the modelbuild requirement and the SDK pins from the installed
distribution's metadata (`runtime_metadata`), so nothing is written twice.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from pathlib import Path

import modelbuild
from modelbuild.__version__ import __version__
from modelbuild.errors import ScaffoldError

DISTRIBUTION = "modelbuild"
REFERENCE_PIPELINE = "abalone"
PROJECT_PACKAGE = "pipelines"
PACKAGE_DIR = Path(modelbuild.__file__).resolve().parent
SCAFFOLD_DIR = PACKAGE_DIR / "scaffold"
# A source checkout (an editable install) keeps the template and the reference project at its top.
_CHECKOUT = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "setup.py").is_file() else None
# Where each is: packaged beside the scaffolder in a wheel, at the top of a source checkout.
TEMPLATE_CANDIDATES = (SCAFFOLD_DIR / "template", *((_CHECKOUT / "template",) if _CHECKOUT else ()))
REFERENCE_CANDIDATES = (SCAFFOLD_DIR / "reference", *((_CHECKOUT / PROJECT_PACKAGE,) if _CHECKOUT else ()))
BUNDLED = "bundled"
TEXT_SUFFIXES = {".py", ".json", ".md", ".txt", ".cfg", ".toml", ".yml", ".yaml", ".j2", ".ini"}
EXTRA_MARKER = re.compile(r"""\s*(and\s+)?extra\s*==\s*['"]([^'"]+)['"]\s*""")
# The SDK distributions a project pins exactly, as modelbuild's own requirements do.
SDK_PREFIX = "sagemaker"
# What a project's own tests and lint need, by distribution name; versions come from modelbuild's test extra.
PROJECT_TEST_TOOLS = ("pytest", "ruff")


def _first_dir(candidates: tuple[Path, ...], marker: str, what: str, hint: str) -> Path:
    for candidate in candidates:
        if (candidate / marker).is_file():
            return candidate
    raise ScaffoldError(f"This installation of modelbuild carries no {what}", hint=hint)


def bundled_template_dir() -> Path:
    """Return the directory of the cookiecutter template that ships with modelbuild.

    Raises:
        ScaffoldError: when this installation carries no template.
    """
    return _first_dir(TEMPLATE_CANDIDATES, "cookiecutter.json", "project template",
                      "Pass --template PATH_OR_GIT_URL.")


def reference_project_dir() -> Path:
    """Return the reference project's `pipelines/` directory (in the wheel, or in a source checkout).

    Raises:
        ScaffoldError: when this installation carries none.
    """
    return _first_dir(REFERENCE_CANDIDATES, f"{REFERENCE_PIPELINE}/pipeline.py", "reference pipeline",
                      "Reinstall modelbuild: its wheel carries the reference pipeline.")


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


def _reference_files(root: Path) -> list[Path]:
    """The package's `__init__.py` and every file of the reference pipeline (no caches, hidden or temp files)."""
    pipeline_files = (
        path
        for path in (root / REFERENCE_PIPELINE).rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "__pycache__")) for part in path.relative_to(root).parts)
        and path.suffix not in (".pyc", ".tmp")
    )
    return sorted([root / "__init__.py", *pipeline_files])


def project_package_files(pipeline_name: str) -> dict[str, bytes]:
    """Return the generated project's `pipelines/` package: path (relative to the project) -> content.

    Args:
        pipeline_name: the project's pipeline module name; the reference pipeline is renamed to it.
    """
    root = reference_project_dir()
    files: dict[str, bytes] = {}
    for path in _reference_files(root):
        relative = rename(path.relative_to(root).as_posix(), pipeline_name)
        content = path.read_bytes()
        if path.suffix in TEXT_SUFFIXES:
            content = rename(content.decode("utf-8"), pipeline_name).encode("utf-8")
        files[f"{PROJECT_PACKAGE}/{relative}"] = content
    return files


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


def compatible_range(version: str) -> str:
    """The versions of modelbuild a project made by `version` works with: same minor before 1.0,
    same major after (semantic versioning's promise), e.g. '0.2.0' -> '>=0.2.0,<0.3'."""
    major, minor = (int(part) for part in version.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={version},<{upper}"


def _named(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def runtime_metadata() -> dict[str, object]:
    """What a project's setup.py declares, from the installed modelbuild: its Python requirement, the
    modelbuild requirement, the SDK pins (those of modelbuild's tests), and the tools its tests need."""
    distribution = _distribution()
    return {
        "version": __version__,
        "python_requires": distribution.metadata["Requires-Python"] or ">=3.10",
        "requirement": f"{DISTRIBUTION}{compatible_range(__version__)}",
        # modelbuild accepts SDK v2 or v3; a new project pins the exact v3 release modelbuild is tested with.
        "sdk_requirements": [r for r in requirements("test") if _named(r).startswith(SDK_PREFIX)],
        "test_requirements": [r for r in requirements("test") if _named(r) in PROJECT_TEST_TOOLS],
    }
