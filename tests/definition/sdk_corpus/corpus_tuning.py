IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.parameter import ContinuousParameter
    from sagemaker.core.workflow.parameters import ParameterBoolean
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import TrainingStep, TuningStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData
    from sagemaker.train.tuner import HyperparameterTuner

    trainer = ModelTrainer(training_image=IMAGE, compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
                           hyperparameters={"num_round": "10"}, sagemaker_session=sagemaker_session, role=role)
    tuner = HyperparameterTuner(model_trainer=trainer, objective_metric_name="validation:rmse",
                                objective_type="Minimize",
                                hyperparameter_ranges={"eta": ContinuousParameter(0.1, 0.5)},
                                metric_definitions=[{"Name": "validation:rmse", "Regex": "rmse: ([0-9.]+)"}],
                                max_jobs=2, max_parallel_jobs=1)
    tune = TuningStep(name="Tune", step_args=tuner.tune(inputs=[InputData(channel_name="train", data_source=f"s3://{default_bucket}/train")]))
    best = tune.get_top_model_s3_uri(top_k=0, s3_bucket=default_bucket, prefix="tuning")
    retrain = ModelTrainer(training_image=IMAGE, compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
                           sagemaker_session=sagemaker_session, role=role,
                           input_data_config=[InputData(channel_name="model", data_source=best)])
    train = TrainingStep(name="Retrain", step_args=retrain.train())
    return Pipeline(name="TuningPipeline", parameters=[ParameterBoolean(name="Flag", default_value=True)],
                    steps=[tune, train], sagemaker_session=sagemaker_session)
