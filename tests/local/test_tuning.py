"""Tuning steps on small data: the strategies, the objective, the properties SageMaker reports, and the
best model registered through `get_top_model_s3_uri(0)`'s expression."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from modelbuild.local.records import SUCCEEDED
from modelbuild.local.registry import list_model_packages
from modelbuild.local.steps import UnsupportedStepError
from modelbuild.local.steps.tuning import tuning_job_name
from modelbuild.local.tuning_search import Range, Search
from tests.local.conftest import Workspace, definition, parameter, source_tarball
from tests.local.test_steps import XGBOOST_IMAGE, register

slow = pytest.mark.slow  # each training job of a tuning job is a process importing xgboost (seconds each)

MODELS = "s3://bucket/tuning"
ROWS = [(2 * a + b + (a * b) % 3, a, b) for a in range(12) for b in range(6)]


def csv(rows) -> str:
    return "".join(",".join(str(v) for v in row) + "\n" for row in rows)


def with_data(workspace: Workspace) -> Workspace:
    workspace.put("s3://bucket/data/train/train.csv", csv(ROWS))
    workspace.put("s3://bucket/data/validation/validation.csv", csv(ROWS[1::4]))
    return workspace


@pytest.fixture
def data(workspace):
    return with_data(workspace)


@pytest.fixture(scope="module")
def random_run(tmp_path_factory):
    """One Random tuning run whose best model is registered (shared: it trains four models)."""
    workspace = with_data(Workspace(tmp_path_factory.mktemp("tuning") / "state"))
    record = workspace.run(definition(tuning("Random"), register(model_data=top_model(0)), parameters=approval()),
                           max_parallel=2)
    return workspace, record


def tuning(strategy: str = "Random", ranges: dict | None = None, *, max_jobs: int | None = 4, parallel: int = 2,
           seed: int | None = 7, objective: tuple[str, str] = ("Minimize", "validation:rmse"),
           static: dict | None = None, image: str = XGBOOST_IMAGE, metric_definitions: list | None = None,
           **config) -> dict:
    """A Tuning step as the SDK's TuningStep writes it (HyperparameterTuner.tune with two channels)."""
    limits = {"MaxParallelTrainingJobs": parallel, **({"MaxNumberOfTrainingJobs": max_jobs} if max_jobs else {})}
    spec = {"TrainingInputMode": "File", "TrainingImage": image}
    if metric_definitions:
        spec["MetricDefinitions"] = metric_definitions
    return {"Name": "Tune", "Type": "Tuning", "Arguments": {
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy, "ResourceLimits": limits,
            "HyperParameterTuningJobObjective": {"Type": objective[0], "MetricName": objective[1]},
            "ParameterRanges": ranges or {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6",
                                            "ScalingType": "Auto"}],
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.9",
                                               "ScalingType": "Logarithmic"}]},
            "TrainingJobEarlyStoppingType": "Off",
            **({"RandomSeed": seed} if seed is not None else {}), **config,
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": spec,
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "OutputDataConfig": {"S3OutputPath": MODELS},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "StaticHyperParameters": static or {"objective": "reg:squarederror", "num_round": "8"},
            "InputDataConfig": [
                {"ChannelName": c, "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://bucket/data/{c}"}}}
                for c in ("train", "validation")],
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        },
    }}


def top_model(k: int = 0) -> dict:
    """TuningStep.get_top_model_s3_uri(k, s3_bucket="bucket", prefix="tuning"), as the SDK writes it."""
    return {"Std:Join": {"On": "/", "Values": [
        "s3:/", "bucket", "tuning", {"Get": f"Steps.Tune.TrainingJobSummaries[{k}].TrainingJobName"},
        "output/model.tar.gz"]}}


def approval() -> list[dict]:
    return [parameter("Approval", "String", "PendingManualApproval")]


def tuned_properties(record) -> dict:
    return next(s.properties for s in record.steps if s.name == "Tune")


def objectives(properties: dict) -> list[float]:
    return [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in properties["TrainingJobSummaries"]]


@slow
class TestRandomSearch:
    @pytest.fixture
    def data(self, random_run):
        return random_run[0]

    @pytest.fixture
    def record(self, random_run):
        return random_run[1]

    def test_runs_the_jobs_and_registers_the_best_model(self, data, record):
        properties = tuned_properties(record)

        assert record.status == SUCCEEDED, record.failure_reason
        assert len(properties["TrainingJobSummaries"]) == 4
        best = properties["BestTrainingJob"]["TrainingJobName"]
        package = list_model_packages(data.root, "Group")[0]
        registered = package.inference_specification["Containers"][0]["ModelDataUrl"]
        assert registered == f"{MODELS}/{best}/output/model.tar.gz"
        assert data.store.exists(registered)

    def test_the_best_job_has_the_best_objective_in_its_log(self, record):
        properties = tuned_properties(record)
        values = objectives(properties)

        assert values == sorted(values)  # best first (minimize)
        assert properties["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values)
        log = Path(record.steps[0].log_path).parent / "Tune" / f"{properties['BestTrainingJob']['TrainingJobName']}.log"
        last = [line for line in log.read_text().splitlines() if "validation-rmse:" in line][-1]
        assert float(last.rpartition("validation-rmse:")[2].split()[0]) == min(values)

    def test_children_are_named_after_the_tuning_job_and_get_their_hyperparameters(self, record):
        properties = tuned_properties(record)
        name = properties["HyperParameterTuningJobName"]

        assert name == tuning_job_name(record.id, "Tune") and len(name) <= 32
        for summary in properties["TrainingJobSummaries"]:
            assert summary["TrainingJobName"].startswith(f"{name}-")
            assert summary["TuningJobName"] == name
            assert 1 <= int(summary["TunedHyperParameters"]["max_depth"]) <= 6
            assert 0.05 <= float(summary["TunedHyperParameters"]["eta"]) <= 0.9
        assert properties["TrainingJobStatusCounters"]["Completed"] == 4
        assert properties["ObjectiveStatusCounters"]["Succeeded"] == 4

    def test_the_same_seed_proposes_the_same_hyperparameters(self, data, record):
        again = data.run(definition(tuning("Random")), cache_by_default=False)

        def tuned(props):
            return sorted(json.dumps(s["TunedHyperParameters"], sort_keys=True) for s in props["TrainingJobSummaries"])
        assert tuned(tuned_properties(again)) == tuned(tuned_properties(record))


@slow
def test_grid_runs_every_combination_of_the_categorical_values(data):
    ranges = {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["1", "4"]},
                                             {"Name": "eta", "Values": ["0.1", "0.5"]}]}

    record = data.run(definition(tuning("Grid", ranges, max_jobs=None), register(model_data=top_model(0)),
                                 parameters=approval()))

    assert record.status == SUCCEEDED, record.failure_reason
    properties = tuned_properties(record)
    combos = {(s["TunedHyperParameters"]["max_depth"], s["TunedHyperParameters"]["eta"])
              for s in properties["TrainingJobSummaries"]}
    assert combos == {("1", "0.1"), ("1", "0.5"), ("4", "0.1"), ("4", "0.5")}
    assert objectives(properties) == sorted(objectives(properties))


def test_grid_with_a_numeric_range_is_refused_before_running(data):
    with pytest.raises(UnsupportedStepError, match="Grid strategy takes only categorical ranges"):
        data.run(definition(tuning("Grid")))


@slow
def test_maximize_puts_the_highest_objective_first(data):
    record = data.run(definition(tuning("Random", max_jobs=2, objective=("Maximize", "validation:rmse"))))

    values = objectives(tuned_properties(record))
    assert values == sorted(values, reverse=True)


@slow
def test_target_objective_value_stops_launching_jobs(data):
    record = data.run(definition(tuning("Random", max_jobs=4, parallel=1,
                                        TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 1000.0})))

    assert len(tuned_properties(record)["TrainingJobSummaries"]) == 1


@slow
def test_bayesian_search_runs_sequentially_and_reports_best_first(data):
    record = data.run(definition(tuning("Bayesian", max_jobs=4, parallel=1)))

    assert record.status == SUCCEEDED, record.failure_reason
    values = objectives(tuned_properties(record))
    assert len(values) == 4 and values == sorted(values)


TRAIN_SCRIPT = """
    import argparse, os, pathlib
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float)
    args = parser.parse_args()
    loss = (args.alpha - 0.3) ** 2
    for epoch in range(3):
        print(f"epoch {epoch} loss={loss + (2 - epoch) * 0.01:.6f}")
    pathlib.Path(os.environ["SM_MODEL_DIR"], "alpha.txt").write_text(str(args.alpha))
"""


def stage_script(workspace: Workspace, script: str = TRAIN_SCRIPT) -> None:
    workspace.store.put_bytes("s3://bucket/code/tune.tar.gz", source_tarball(script))


SCRIPT_MODE = {"image": "123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
               "static": {"sagemaker_program": '"train.py"',
                          "sagemaker_submit_directory": '"s3://bucket/code/tune.tar.gz"'},
               "metric_definitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
               "objective": ("Minimize", "loss")}


def test_script_mode_objective_comes_from_metric_definitions(data):
    stage_script(data)
    step = tuning("Grid", {"CategoricalParameterRanges": [{"Name": "alpha", "Values": ["0.1", "0.3", "0.9"]}]},
                  max_jobs=None, objective=("Minimize", "loss"),
                  image="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
                  static={"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://bucket/code/tune.tar.gz"'},
                  metric_definitions=[{"Name": "loss", "Regex": r"loss=([0-9.]+)"}])

    record = data.run(definition(step))

    properties = tuned_properties(record)
    assert record.status == SUCCEEDED, record.failure_reason
    assert properties["BestTrainingJob"]["TunedHyperParameters"] == {"alpha": "0.3"}
    assert objectives(properties)[0] == pytest.approx(0.0)


def test_a_script_mode_objective_without_metric_definitions_is_refused(data):
    step = tuning(image="123.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1", objective=("Minimize", "loss"),
                  static={"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://bucket/x.tar.gz"'})

    with pytest.raises(UnsupportedStepError, match="MetricDefinitions"):
        data.run(definition(step))


class TestScaling:
    def test_logarithmic_spans_orders_of_magnitude(self):
        eta = Range("eta", "Continuous", 0.001, 1.0, "Logarithmic")

        assert float(eta.value(0.0)) == pytest.approx(0.001)
        assert float(eta.value(0.5)) == pytest.approx(0.0316, rel=1e-2)
        assert float(eta.value(1.0)) == pytest.approx(1.0)

    def test_reverse_logarithmic_is_finer_near_one(self):
        beta = Range("beta", "Continuous", 0.9, 0.999, "ReverseLogarithmic")

        assert float(beta.value(0.5)) == pytest.approx(1 - (0.1 * 0.001) ** 0.5, rel=1e-6)

    def test_integers_stay_in_their_range(self):
        depth = Range("max_depth", "Integer", 2, 5, "Linear")

        assert {depth.value(u / 10) for u in range(11)} == {"2", "3", "4", "5"}

    def test_bayesian_search_moves_towards_the_better_region(self):
        search = Search([Range("x", "Continuous", 0.0, 1.0, "Linear")], "Bayesian", minimize=True, seed=3)
        for _ in range(12):
            proposal = search.propose()
            search.observe(proposal, (float(proposal["x"]) - 0.8) ** 2)

        best = min(search.seen, key=lambda item: item[1])
        assert best[1] < 0.005


def test_a_reference_to_the_top_training_job_validates_clean():
    from modelbuild.definition.validate import validate_definition

    pipeline = definition(tuning("Random"), register(model_data=top_model(0)), parameters=approval())

    assert validate_definition(pipeline) == []


EPOCHS_SCRIPT = """
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float)
    args = parser.parse_args()
    for epoch in range(9):
        print(f"epoch {epoch} loss={(args.alpha - 0.3) ** 2 + (8 - epoch) * 0.01:.6f}")
"""


def test_hyperband_reports_the_jobs_successive_halving_stops(data):
    stage_script(data, EPOCHS_SCRIPT)
    step = tuning("Hyperband", {"ContinuousParameterRanges": [{"Name": "alpha", "MinValue": "0", "MaxValue": "1",
                                                               "ScalingType": "Linear"}]}, max_jobs=6, parallel=3,
                  StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}, **SCRIPT_MODE)

    record = data.run(definition(step))

    properties = tuned_properties(record)
    assert record.status == SUCCEEDED, record.failure_reason
    assert properties["TrainingJobStatusCounters"]["Completed"] == 1
    assert properties["TrainingJobStatusCounters"]["Stopped"] == 5
    best = properties["BestTrainingJob"]
    assert best["TrainingJobStatus"] == "Completed"
    alphas = [float(s["TunedHyperParameters"]["alpha"]) for s in properties["TrainingJobSummaries"]]
    assert abs(float(best["TunedHyperParameters"]["alpha"]) - 0.3) == min(abs(a - 0.3) for a in alphas)


def test_when_every_job_fails_the_step_fails_with_a_jobs_reason(data):
    stage_script(data, "import sys\nsys.exit('no GPU here')\n")
    step = tuning("Random", {"ContinuousParameterRanges": [{"Name": "alpha", "MinValue": "0", "MaxValue": "1"}]},
                  max_jobs=2, parallel=2, **SCRIPT_MODE)

    record = data.run(definition(step))

    assert record.status == "Failed"
    assert "no training job of the tuning job reported its objective" in record.failure_reason
    assert "no GPU here" in record.failure_reason


def test_a_second_identical_tuning_step_is_served_from_the_cache(data):
    stage_script(data)
    step = tuning("Grid", {"CategoricalParameterRanges": [{"Name": "alpha", "Values": ["0.1", "0.3"]}]},
                  max_jobs=None, **SCRIPT_MODE)

    first = data.run(definition(step))
    second = data.run(definition(step))
    stage_script(data, textwrap.dedent(TRAIN_SCRIPT) + "# changed\n")
    third = data.run(definition(step))

    assert [r.steps[0].status for r in (first, second, third)] == ["Succeeded", "Cached", "Succeeded"]
    assert tuned_properties(second)["BestTrainingJob"] == tuned_properties(first)["BestTrainingJob"]


def test_several_training_job_definitions_each_get_their_own_jobs(data):
    stage_script(data)
    step = tuning("Grid", max_jobs=None, **SCRIPT_MODE)
    arguments = step["Arguments"]
    base = arguments.pop("TrainingJobDefinition")
    objective = arguments["HyperParameterTuningJobConfig"].pop("HyperParameterTuningJobObjective")
    arguments["HyperParameterTuningJobConfig"].pop("ParameterRanges")
    arguments["TrainingJobDefinitions"] = [
        {**base, "DefinitionName": name, "TuningObjective": objective, "HyperParameterRanges": {
            "CategoricalParameterRanges": [{"Name": "alpha", "Values": values}]}}
        for name, values in (("low", ["0.1", "0.2"]), ("high", ["0.3", "0.9"]))]

    record = data.run(definition(step))

    properties = tuned_properties(record)
    assert record.status == SUCCEEDED, record.failure_reason
    by_definition = {(s["TrainingJobDefinitionName"], s["TunedHyperParameters"]["alpha"])
                     for s in properties["TrainingJobSummaries"]}
    assert by_definition == {("low", "0.1"), ("low", "0.2"), ("high", "0.3"), ("high", "0.9")}
    assert properties["BestTrainingJob"]["TrainingJobDefinitionName"] == "high"


def test_ranges_given_by_parameters_are_checked_when_resolved(data):
    stage_script(data)
    step = tuning("Random", {"ContinuousParameterRanges": [
        {"Name": "alpha", "MinValue": "0", "MaxValue": {"Get": "Parameters.MaxAlpha"}}]}, max_jobs=2, **SCRIPT_MODE)

    record = data.run(definition(step, parameters=[parameter("MaxAlpha", "String", "0.5")]))

    assert record.status == SUCCEEDED, record.failure_reason
    assert all(float(s["TunedHyperParameters"]["alpha"]) <= 0.5
               for s in tuned_properties(record)["TrainingJobSummaries"])
