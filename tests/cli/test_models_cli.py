"""`modelbuild models list` and `models compare`: the table and the JSON, over a small registry with reports."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from tests.local.test_model_metrics import registered_with_reports, report

runner = CliRunner()


@pytest.fixture
def three_versions(tmp_path) -> list[str]:
    """G/1 (mse 4, r2 0.5), G/2 (mse 3.5, r2 0.4), G/3 whose report is not JSON; returns --state-dir."""
    registered_with_reports(tmp_path, report(4.0, 0.5), report(3.5, 0.4), "not json")
    return ["--state-dir", str(tmp_path)]


def cells(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_models_list_is_a_table_with_each_versions_metrics(three_versions):
    result = runner.invoke(app, ["models", "list", *three_versions])

    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0] == ["group", "version", "status", "created", "execution", "mse", "r2"]
    assert [row[:3] + row[5:] for row in rows[1:4]] == [
        ["G", "3", "PendingManualApproval", "exec3", "-", "-"],  # created is a date and a time: two cells
        ["G", "2", "PendingManualApproval", "exec2", "3.5", "0.4"],
        ["G", "1", "PendingManualApproval", "exec1", "4", "0.5"],
    ]
    assert rows[4][:4] == ["G/3:", "no", "metrics,", "report"] and "is not JSON" in result.stdout


def test_models_list_json_carries_the_metrics_and_where_they_came_from(three_versions):
    result = runner.invoke(app, ["models", "list", "--json", *three_versions])

    listed = {entry["version"]: entry for entry in json.loads(result.stdout)}
    assert listed[2]["metrics"] == {"mse": 3.5, "r2": 0.4}
    assert listed[2]["metrics_source"] == "s3://bucket/abalone/exec2/evaluation.json"
    assert listed[2]["metrics_problem"] is None
    assert listed[3]["metrics"] == {} and "is not JSON" in listed[3]["metrics_problem"]


def test_models_compare_puts_versions_side_by_side_and_stars_the_best(three_versions):
    result = runner.invoke(app, ["models", "compare", "G", *three_versions])

    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert rows[0] == ["metric", "better", "v1", "v2", "v3"]
    assert rows[1] == ["mse", "lower", "4", "3.5", "*", "-"]
    assert rows[2] == ["r2", "higher", "0.5", "*", "0.4", "-"]
    assert rows[3] == ["status", *["PendingManualApproval"] * 3]
    assert rows[4] == ["execution", "exec1", "exec2", "exec3"]


def test_models_compare_json_names_the_best_versions(three_versions):
    result = runner.invoke(app, ["models", "compare", "G", "2", "1", "--json", *three_versions])

    compared = json.loads(result.stdout)
    assert [version["version"] for version in compared["versions"]] == [2, 1]
    assert compared["metrics"] == [
        {"name": "mse", "better": "lower", "values": {"2": 3.5, "1": 4.0}, "best_versions": [2]},
        {"name": "r2", "better": "higher", "values": {"2": 0.4, "1": 0.5}, "best_versions": [1]},
    ]


def test_models_compare_of_an_unknown_group_exits_usage_with_a_suggestion(three_versions):
    result = runner.invoke(app, ["models", "compare", "GG", *three_versions])

    assert result.exit_code == ExitCode.USAGE
    assert "no model package group GG" in result.output
    assert "Did you mean 'G'" in result.output


def test_models_compare_passes_group_versions_and_state_dir_to_the_core(tmp_path):
    from modelbuild.local.model_metrics import Comparison

    with mock.patch("modelbuild.local.model_metrics.compare_model_versions",
                    return_value=Comparison("G", [], [])) as core:
        result = runner.invoke(app, ["models", "compare", "G", "2", "1", "--json", "--state-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    core.assert_called_once_with("G", [2, 1], tmp_path)
    assert json.loads(result.stdout) == {"group_name": "G", "versions": [], "metrics": []}
