"""Model quality metrics of registered model versions, for `models list` and `models compare`.

A RegisterModel step's `ModelMetrics.ModelQuality.Statistics` points at a JSON report (in the abalone
pipeline, the evaluation step's `evaluation.json`). The registry keeps that pointer, as SageMaker's does; the
values are read here, when listing, from the local store the pointer maps to. A report that is missing or
not JSON gives no values and a `problem` saying why, never an error: one bad version must not hide the rest.

The report's shape is SageMaker Model Monitor's model quality statistics, which the seed's evaluate.py
writes: `{"regression_metrics": {"mse": {"value": 4.1, "standard_deviation": 2.0}}}`. Every
`{"<name>": {"value": <number>}}` below a `*_metrics` section is one metric, as is a plain number there.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelbuild.errors import did_you_mean
from modelbuild.local.registry import ModelPackage, ModelRegistry, UnknownModelPackageError, list_model_packages
from modelbuild.local.state import open_state, resolve_state_dir
from modelbuild.local.store import ObjectStore, StorePathError

LOWER_IS_BETTER = frozenset({"mse", "rmse", "mae", "mape", "msle", "rmsle", "log_loss", "logloss", "error",
                             "false_positive_rate", "false_negative_rate"})
HIGHER_IS_BETTER = frozenset({"r2", "accuracy", "balanced_accuracy", "auc", "pr_auc", "precision", "recall",
                              "f1", "f0_5", "f2", "true_positive_rate", "true_negative_rate"})
"""Which way is better, by metric name (lower case). A metric in neither is shown but never marked best."""


def better_direction(metric: str) -> str | None:
    """'lower', 'higher', or None when the metric's name does not say which way is better."""
    name = metric.lower()
    if name in LOWER_IS_BETTER:
        return "lower"
    if name in HIGHER_IS_BETTER:
        return "higher"
    return None


@dataclass
class ModelVersion:
    """A registered model version with the metric values its ModelQuality statistics report holds."""

    package: ModelPackage
    metrics: dict[str, float] = field(default_factory=dict)
    metrics_source: str | None = None
    """The S3 URI of the ModelQuality Statistics report, or None when the package was registered without."""
    metrics_problem: str | None = None
    """Why `metrics` is empty although there is a source (missing report, not JSON, no numbers)."""

    def to_json(self) -> dict[str, Any]:
        """The package's JSON plus `metrics`, `metrics_source` and `metrics_problem`."""
        return {**self.package.to_json(), "metrics": self.metrics, "metrics_source": self.metrics_source,
                "metrics_problem": self.metrics_problem}


@dataclass
class MetricComparison:
    """One metric over the compared versions."""

    name: str
    better: str | None  # 'lower', 'higher' or None (unknown: no best marked)
    values: dict[int, float]  # version -> value; versions without the metric are absent
    best_versions: list[int]  # every version holding the best value (ties all marked); empty when unknown

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (versions as string keys, as JSON requires)."""
        return {"name": self.name, "better": self.better,
                "values": {str(version): value for version, value in self.values.items()},
                "best_versions": self.best_versions}


@dataclass
class Comparison:
    """Metrics of some versions of one group, side by side."""

    group_name: str
    versions: list[ModelVersion]  # in the order asked, else oldest first
    metrics: list[MetricComparison]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"group_name": self.group_name, "versions": [version.to_json() for version in self.versions],
                "metrics": [metric.to_json() for metric in self.metrics]}


def statistics_uri(model_metrics: Mapping[str, Any]) -> str | None:
    """The S3 URI of `ModelMetrics.ModelQuality.Statistics`, or None."""
    source = ((model_metrics or {}).get("ModelQuality") or {}).get("Statistics") or {}
    uri = source.get("S3Uri")
    return uri if isinstance(uri, str) and uri else None


def parse_report(report: Any) -> dict[str, float]:
    """Metric name -> value from a model quality statistics report (see the module docstring)."""
    metrics: dict[str, float] = {}
    if not isinstance(report, Mapping):
        return metrics
    for section, entries in report.items():
        if not (isinstance(section, str) and section.endswith("_metrics") and isinstance(entries, Mapping)):
            continue
        for name, entry in entries.items():
            value = entry.get("value") if isinstance(entry, Mapping) else entry
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                metrics[name] = float(value)
    return metrics


def read_version(package: ModelPackage, store: ObjectStore | None) -> ModelVersion:
    """The package with the metrics of its ModelQuality statistics report as the local store holds it now."""
    uri = statistics_uri(package.model_metrics)
    version = ModelVersion(package, metrics_source=uri)
    if uri is None:
        return version
    try:
        if store is None:
            raise StorePathError(f"no object at {uri} (the state directory has no store)")
        data = store.read_bytes(uri)
    except StorePathError as exc:
        version.metrics_problem = f"report not in the local store: {exc}"
        return version
    try:
        version.metrics = parse_report(json.loads(data))
    except (ValueError, UnicodeDecodeError) as exc:
        version.metrics_problem = f"report {uri} is not JSON: {exc}"
        return version
    if not version.metrics:
        version.metrics_problem = f"report {uri} holds no '*_metrics' section with numeric values"
    return version


def compare(group_name: str, versions: Sequence[ModelVersion]) -> Comparison:
    """Every metric any of `versions` has, in first-seen order, with the best version(s) per metric."""
    names = list(dict.fromkeys(name for version in versions for name in version.metrics))
    metrics = []
    for name in names:
        values = {v.package.version: v.metrics[name] for v in versions if name in v.metrics}
        better = better_direction(name)
        best: list[int] = []
        if better is not None and values:
            target = min(values.values()) if better == "lower" else max(values.values())
            best = [version for version, value in values.items() if value == target]
        metrics.append(MetricComparison(name, better, values, best))
    return Comparison(group_name, list(versions), metrics)


def list_model_versions(state_dir: str | os.PathLike[str] | None = None, group_name: str | None = None,
                        status: str | None = None) -> list[ModelVersion]:
    """Registered model versions with their metrics, newest first, optionally of one group and/or status."""
    packages = list_model_packages(state_dir, group_name, status)  # checks the status; creates no state dir
    if not packages:
        return []
    with open_state(state_dir) as state:
        store = _store(state.store_dir)
        return [read_version(package, store) for package in packages]


def compare_model_versions(group_name: str, versions: Iterable[int] = (),
                           state_dir: str | os.PathLike[str] | None = None) -> Comparison:
    """The metrics of `versions` of `group_name` (default: all its versions, oldest first) side by side.

    Raises:
        UnknownModelPackageError: no state directory, no such group, or no such version (with a hint).
    """
    wanted = list(dict.fromkeys(versions))
    root = resolve_state_dir(state_dir)
    if not root.exists():
        raise UnknownModelPackageError(f"no model package group {group_name}: there is no state directory {root}",
                                       hint="Run from the directory you ran `modelbuild run --local` in, "
                                       "or pass --state-dir.")
    with open_state(state_dir) as state:
        registry = ModelRegistry(state)
        if wanted:
            packages = [registry.get(f"{group_name}/{version}") for version in wanted]
        else:
            packages = sorted(registry.list(group_name), key=lambda package: package.version)
            if not packages:
                groups = [row["name"] for row in state.query("SELECT name FROM model_package_groups")]
                raise UnknownModelPackageError(
                    f"no model versions in group {group_name}" if group_name in groups
                    else f"no model package group {group_name}",
                    hint=did_you_mean(group_name, groups) or "List them with `modelbuild models list`.")
        store = _store(state.store_dir)
        return compare(group_name, [read_version(package, store) for package in packages])


def _store(root: Any) -> ObjectStore | None:
    return ObjectStore(root) if root.exists() else None  # reading must not create the store directory
