"""A Tuning step written with the SageMaker SDK (HyperparameterTuner + TuningStep), built offline and run by
the local engine: the best model, registered through `get_top_model_s3_uri(0)`, is the best job's."""

from __future__ import annotations

import pytest

from modelbuild.local.engine import PipelineSource, run_pipeline
from modelbuild.local.registry import list_model_packages
from modelbuild.local.store import ObjectStore
from tests.local.test_tuning import ROWS, csv

pytestmark = pytest.mark.slow  # imports the SDK to build, then trains four XGBoost models

MODULE = '''
def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None, strategy="Random"):
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import TuningStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig
    from sagemaker.train.tuner import HyperparameterTuner

    from pipelines.abalone.pipeline import model_builder

    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    trainer = ModelTrainer(training_image=image, compute=Compute(instance_type="ml.m5.large", instance_count=1),
                           hyperparameters={"objective": "reg:squarederror", "num_round": "8"},
                           output_data_config=OutputDataConfig(s3_output_path=f"s3://{default_bucket}/tuning"),
                           sagemaker_session=sagemaker_session, role=role)
    if strategy == "Grid":
        ranges = {"max_depth": CategoricalParameter(["1", "4"]), "eta": CategoricalParameter(["0.1", "0.6"])}
    else:
        ranges = {"max_depth": IntegerParameter(1, 6), "eta": ContinuousParameter(0.05, 0.9)}
    tuner = HyperparameterTuner(trainer, "validation:rmse", ranges, strategy=strategy, objective_type="Minimize",
                                max_jobs=None if strategy == "Grid" else 4, max_parallel_jobs=2, random_seed=11)
    tune = TuningStep("Tune", step_args=tuner.tune(inputs=[
        InputData(channel_name="train", data_source=f"s3://{default_bucket}/data/train", content_type="text/csv"),
        InputData(channel_name="validation", data_source=f"s3://{default_bucket}/data/validation",
                  content_type="text/csv")]))
    best = tune.get_top_model_s3_uri(0, default_bucket, "tuning")
    register = ModelStep(name="RegisterBest", step_args=model_builder(
        best, image=image, session=sagemaker_session, role=role).register(
        model_package_group_name="Tuned", content_types=["text/csv"], response_types=["text/csv"],
        inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"], approval_status="Approved"))
    return Pipeline(name="Tuned", steps=[tune, register], sagemaker_session=sagemaker_session)
'''


@pytest.fixture
def tuned_module(write_package):
    write_package("tuned_pipelines", {"tuned": MODULE})
    return "tuned_pipelines.tuned"


@pytest.mark.parametrize("strategy", ["Random", "Grid"])
def test_the_best_model_of_an_sdk_tuning_step_is_registered(tuned_module, tmp_path, strategy):
    from modelbuild.definition.build import build_definition

    built = build_definition(tuned_module, {"default_bucket": "bucket", "strategy": strategy})
    state = tmp_path / "state"
    store = ObjectStore(state / "s3")
    store.put_bytes("s3://bucket/data/train/train.csv", csv(ROWS).encode())
    store.put_bytes("s3://bucket/data/validation/validation.csv", csv(ROWS[1::4]).encode())

    record = run_pipeline(PipelineSource(built.text, built.pipeline_name, built.region, built.uploads),
                          state_dir=state, max_parallel=1)

    assert record.status == "Succeeded", record.failure_reason
    tuning = next(s.properties for s in record.steps if s.name == "Tune")
    summaries = tuning["TrainingJobSummaries"]
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in summaries]
    assert len(summaries) == 4 and values == sorted(values)
    best = summaries[0]["TrainingJobName"]
    assert tuning["BestTrainingJob"]["TrainingJobName"] == best
    package = list_model_packages(state, "Tuned")[0]
    registered = package.inference_specification["Containers"][0]["ModelDataUrl"]
    assert registered == f"s3://bucket/tuning/{best}/output/model.tar.gz"
    assert store.exists(registered)
