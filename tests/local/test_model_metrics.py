"""Model quality metrics of registered versions: reading the reports, directions, the best of a comparison."""

from __future__ import annotations

import json

import pytest

from modelbuild.local.model_metrics import better_direction, compare_model_versions, list_model_versions, parse_report
from modelbuild.local.registry import ModelRegistry, UnknownModelPackageError
from modelbuild.local.state import open_state

REPORTS = "s3://bucket/abalone"


def report(mse: float, r2: float | None = None) -> dict:
    metrics = {"mse": {"value": mse, "standard_deviation": 1.5}}
    if r2 is not None:
        metrics["r2"] = {"value": r2}
    return {"regression_metrics": metrics}


def registered_with_reports(state_dir, *reports: dict | str | None) -> None:
    """One version of group G per report: a dict is written as JSON, a str as is, None registers no metrics."""
    with open_state(state_dir) as state:
        registry = ModelRegistry(state)
        for number, content in enumerate(reports, start=1):
            uri = f"{REPORTS}/exec{number}/evaluation.json"
            if content is not None:
                path = state.store_dir / uri[len("s3://"):]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content if isinstance(content, str) else json.dumps(content))
            metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": uri}}}
            registry.register("G", {"InferenceSpecification": {"Containers": []},
                                    "ModelMetrics": metrics if content is not None else {}},
                              f"exec{number}", "Register")


def test_a_report_gives_every_value_below_a_metrics_section():
    parsed = parse_report({"regression_metrics": {"mse": {"value": 4.5, "standard_deviation": 2}, "r2": 0.5,
                                                  "confusion": {"a": 1}, "flag": True},
                           "other": {"x": {"value": 1}}})

    assert parsed == {"mse": 4.5, "r2": 0.5}


@pytest.mark.parametrize(("metric", "direction"), [
    ("mse", "lower"), ("RMSE", "lower"), ("mae", "lower"), ("r2", "higher"), ("accuracy", "higher"),
    ("auc", "higher"), ("f1", "higher"), ("standard_deviation", None), ("custom_score", None)])
def test_directions_come_from_a_small_table(metric, direction):
    assert better_direction(metric) == direction


def test_listing_reads_each_versions_report(tmp_path):
    registered_with_reports(tmp_path, report(4.0), report(3.5))

    versions = list_model_versions(tmp_path)

    assert [(v.package.version, v.metrics, v.metrics_problem) for v in versions] == [
        (2, {"mse": 3.5}, None), (1, {"mse": 4.0}, None)]
    assert versions[0].metrics_source == f"{REPORTS}/exec2/evaluation.json"


def test_a_missing_or_broken_report_is_a_problem_of_that_version_only(tmp_path):
    registered_with_reports(tmp_path, report(4.0), "not json {", None)
    (tmp_path / "s3" / "bucket" / "abalone" / "exec1" / "evaluation.json").unlink()

    problems = {v.package.version: (v.metrics, v.metrics_problem) for v in list_model_versions(tmp_path)}

    assert problems[1][0] == {} and "not in the local store" in problems[1][1]
    assert problems[2][0] == {} and "is not JSON" in problems[2][1]
    assert problems[3] == ({}, None)  # registered without ModelMetrics: nothing to read, nothing wrong


def test_listing_a_missing_state_directory_creates_nothing(tmp_path):
    assert list_model_versions(tmp_path / "none") == []
    assert not (tmp_path / "none").exists()


def test_compare_marks_the_lowest_error_and_the_highest_r2_with_ties(tmp_path):
    registered_with_reports(tmp_path, report(4.0, 0.5), report(3.5, 0.4), report(3.5, 0.6))

    comparison = compare_model_versions("G", state_dir=tmp_path)

    assert [v.package.version for v in comparison.versions] == [1, 2, 3]
    by_name = {metric.name: metric for metric in comparison.metrics}
    assert by_name["mse"].values == {1: 4.0, 2: 3.5, 3: 3.5}
    assert by_name["mse"].best_versions == [2, 3]
    assert (by_name["r2"].better, by_name["r2"].best_versions) == ("higher", [3])


def test_compare_keeps_the_versions_in_the_order_asked(tmp_path):
    registered_with_reports(tmp_path, report(4.0), report(3.5), report(5.0))

    comparison = compare_model_versions("G", [3, 1], tmp_path)

    assert [v.package.version for v in comparison.versions] == [3, 1]
    assert comparison.metrics[0].best_versions == [1]


def test_an_unknown_metric_is_compared_but_never_marked(tmp_path):
    registered_with_reports(tmp_path, {"custom_metrics": {"score": {"value": 1.0}}},
                            {"custom_metrics": {"score": {"value": 2.0}}})

    (metric,) = compare_model_versions("G", state_dir=tmp_path).metrics

    assert (metric.name, metric.better, metric.best_versions) == ("score", None, [])


def test_compare_of_an_unknown_group_or_version_names_what_there_is(tmp_path):
    registered_with_reports(tmp_path, report(4.0))

    with pytest.raises(UnknownModelPackageError, match="no model package group GG") as error:
        compare_model_versions("GG", state_dir=tmp_path)
    assert "Did you mean 'G'" in error.value.hint
    with pytest.raises(UnknownModelPackageError, match="no model package G/7") as error:
        compare_model_versions("G", [7], tmp_path)
    assert "G has version(s) 1" in error.value.hint
    with pytest.raises(UnknownModelPackageError, match="no state directory"):
        compare_model_versions("G", state_dir=tmp_path / "none")
