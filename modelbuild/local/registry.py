"""The local model registry: model package groups, numbered versions, approval status; and created models."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelbuild.errors import UsageError, did_you_mean
from modelbuild.local.state import StateDir, open_state, resolve_state_dir

APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")
ACCOUNT = "000000000000"  # local ARNs carry a fixed fake account


class UnknownModelPackageError(UsageError):
    """Raised when a GROUP/VERSION given by the user names no registered model package."""


@dataclass
class ModelPackage:
    """One registered model version."""

    group_name: str
    version: int
    arn: str
    status: str
    inference_specification: dict[str, Any]
    model_metrics: dict[str, Any]
    description: str | None
    created: float
    updated: float | None
    execution_id: str | None
    step_name: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dict(self.__dict__)


class ModelRegistry:
    """Model packages and models stored in the state database."""

    def __init__(self, state: StateDir, region: str = "local") -> None:
        self.state = state
        self.region = region

    def register(self, group_name: str, arguments: Mapping[str, Any], execution_id: str, step_name: str
                 ) -> ModelPackage:
        """Create the group if needed and add the next version (1, 2, 3, ...) from RegisterModel arguments."""
        status = arguments.get("ModelApprovalStatus") or "PendingManualApproval"
        if status not in APPROVAL_STATUSES:
            raise UsageError(f"ModelApprovalStatus {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
        now = time.time()
        with self.state.transaction() as db:
            db.execute("INSERT OR IGNORE INTO model_package_groups VALUES (?, ?)", (group_name, now))
            version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM model_packages WHERE group_name=?",
                                 (group_name,)).fetchone()[0]
            arn = f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:model-package/{group_name}/{version}"
            db.execute(
                "INSERT INTO model_packages VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (group_name, version, arn, status, json.dumps(arguments.get("InferenceSpecification") or {}),
                 json.dumps(arguments.get("ModelMetrics") or {}), arguments.get("ModelPackageDescription"),
                 now, None, execution_id, step_name),
            )
        return self.get(f"{group_name}/{version}")

    def list(self, group_name: str | None = None, status: str | None = None) -> list[ModelPackage]:
        """Model packages, newest first, optionally of one group and/or one approval status."""
        if status is not None:
            _check_status(status)
        rows = self.state.query(
            "SELECT * FROM model_packages WHERE (?1 IS NULL OR group_name=?1) AND (?2 IS NULL OR status=?2)"
            " ORDER BY created DESC, version DESC", (group_name, status))
        return [_package(row) for row in rows]

    def get(self, reference: str) -> ModelPackage:
        """The package GROUP/VERSION (or its ARN).

        Raises:
            UnknownModelPackageError: malformed reference or no such package.
        """
        group, version = _split(reference)
        rows = self.state.query("SELECT * FROM model_packages WHERE group_name=? AND version=?", (group, version))
        if not rows:
            groups = [r["name"] for r in self.state.query("SELECT name FROM model_package_groups")]
            if group in groups:  # the group is right, the version is not: say which versions there are
                versions = [str(r["version"]) for r in self.state.query(
                    "SELECT version FROM model_packages WHERE group_name=? ORDER BY version", (group,))]
                hint = (f"{group} has version(s) {', '.join(versions)}." if versions else f"{group} has no versions.")
            else:
                hint = did_you_mean(group, groups) or "List them with `modelbuild models list`."
            raise UnknownModelPackageError(f"no model package {group}/{version}", hint=hint)
        return _package(rows[0])

    def set_status(self, reference: str, status: str, description: str | None = None) -> ModelPackage:
        """Change the approval status of GROUP/VERSION."""
        _check_status(status)
        package = self.get(reference)
        with self.state.transaction() as db:
            db.execute("UPDATE model_packages SET status=?, updated=?, description=COALESCE(?, description)"
                       " WHERE group_name=? AND version=?",
                       (status, time.time(), description, package.group_name, package.version))
        return self.get(reference)

    def create_model(self, name: str, container: Mapping[str, Any], execution_id: str) -> str:
        """Record a model (CreateModel); returns its ARN."""
        arn = f"arn:aws:sagemaker:{self.region}:{ACCOUNT}:model/{name.lower()}"
        with self.state.transaction() as db:
            db.execute("INSERT OR REPLACE INTO models VALUES (?,?,?,?,?,?,?)",
                       (name, arn, container.get("Image"), container.get("ModelDataUrl"),
                        json.dumps(container.get("Environment") or {}), execution_id, time.time()))
        return arn

    def model(self, name: str) -> dict[str, Any] | None:
        """A created model's image, model data URL and environment, or None."""
        rows = self.state.query("SELECT * FROM models WHERE name=?", (name,))
        if not rows:
            return None
        row = rows[0]
        return {"Image": row["image"], "ModelDataUrl": row["model_data_url"],
                "Environment": json.loads(row["environment"] or "{}")}


def _check_status(status: str) -> None:
    if status not in APPROVAL_STATUSES:
        raise UsageError(f"approval status {status!r} is not one of {', '.join(APPROVAL_STATUSES)}",
                         hint=did_you_mean(status, APPROVAL_STATUSES))


def _split(reference: str) -> tuple[str, int]:
    tail = reference.split(":model-package/")[-1]
    group, _, version = tail.rpartition("/")
    if not group or not version.isdigit():
        raise UnknownModelPackageError(f"{reference!r} should look like GROUP/VERSION, e.g. AbalonePackageGroup/1")
    return group, int(version)


def _package(row: Any) -> ModelPackage:
    return ModelPackage(
        group_name=row["group_name"], version=row["version"], arn=row["arn"], status=row["status"],
        inference_specification=json.loads(row["inference_specification"] or "{}"),
        model_metrics=json.loads(row["model_metrics"] or "{}"), description=row["description"],
        created=row["created"], updated=row["updated"], execution_id=row["execution_id"],
        step_name=row["step_name"],
    )


def list_model_packages(state_dir: str | os.PathLike[str] | None = None, group_name: str | None = None,
                        status: str | None = None) -> list[ModelPackage]:
    """Registered model packages, newest first, optionally of one group and/or approval status."""
    if status is not None:
        _check_status(status)
    if not resolve_state_dir(state_dir).exists():  # listing never creates a state directory
        return []
    with open_state(state_dir) as state:
        return ModelRegistry(state).list(group_name, status)


def get_model_package(reference: str, state_dir: str | os.PathLike[str] | None = None) -> ModelPackage:
    """The model package GROUP/VERSION.

    Raises:
        UnknownModelPackageError: malformed reference or no such package.
    """
    _require_state(reference, state_dir)
    with open_state(state_dir) as state:
        return ModelRegistry(state).get(reference)


def set_approval_status(reference: str, status: str, state_dir: str | os.PathLike[str] | None = None
                        ) -> ModelPackage:
    """Set the approval status of GROUP/VERSION (Approved, Rejected or PendingManualApproval)."""
    _require_state(reference, state_dir)
    with open_state(state_dir) as state:
        return ModelRegistry(state).set_status(reference, status)


def _require_state(reference: str, state_dir: str | os.PathLike[str] | None) -> None:
    root = resolve_state_dir(state_dir)
    if not root.exists():
        raise UnknownModelPackageError(f"no model package {reference}: there is no state directory {root}",
                                       hint="Run from the directory you ran `modelbuild run --local` in, "
                                       "or pass --state-dir.")
