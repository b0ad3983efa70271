"""The CLI's view of the step types added to the local engine: Tuning children, stubs, callbacks, Lambda."""

from __future__ import annotations

from typer.testing import CliRunner

from modelbuild.cli.app import app
from modelbuild.errors import ExitCode
from modelbuild.local.records import ExecutionLog, StepRecord
from modelbuild.local.state import StateDir

runner = CliRunner()


def summary(name: str, value: float, depth: str) -> dict:
    return {"TrainingJobName": name, "TrainingJobStatus": "Completed", "TunedHyperParameters": {"max_depth": depth},
            "FinalHyperParameterTuningJobObjectiveMetric": {"Type": "Minimize", "MetricName": "validation:rmse",
                                                            "Value": value}}


def test_executions_show_lists_a_tuning_steps_jobs_best_first(tmp_path):
    state = StateDir(tmp_path)
    log = ExecutionLog(state)
    log.start("e1", "P", {}, "{}")
    summaries = [summary("e1-Tune-001-aa", 0.5, "3"), summary("e1-Tune-002-bb", 0.9, "1")]
    log.save_step("e1", StepRecord("Tune", "Tuning", "Succeeded", 1.0, 2.0, 1,
                                   properties={"TrainingJobSummaries": summaries}))
    log.finish("e1", "Succeeded", None)
    state.close()

    result = runner.invoke(app, ["executions", "show", "e1", "--state-dir", str(tmp_path)], terminal_width=200)

    assert result.exit_code == ExitCode.OK, result.output
    assert "validation:rmse" in result.output
    first, second = result.output.index("e1-Tune-001-aa"), result.output.index("e1-Tune-002-bb")
    assert first < second
    assert "max_depth=3" in result.output and "0.5" in result.output
