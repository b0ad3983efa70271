"""The reference abalone pipeline, written with the SageMaker Python SDK v3.

                                                          . RegisterAbaloneModel
                                                         .  CreateAbaloneModel -> TransformAbaloneTest
    Preprocess -> Train -> Evaluate -> CheckMSE (<= MseThreshold)
                                                         .
                                                          . MSEAbaloneThresholdExceeded (Fail)

Implements `get_pipeline(**kwargs) -> Pipeline`. Every container path lives in this module and
reaches the step scripts as a command-line argument, so the scripts run unchanged on SageMaker,
under modelbuild's local engine and on a laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

HERE = Path(__file__).resolve().parent
SAMPLE_DATA = HERE / "data" / "abalone.csv"

SKLEARN_VERSION = "1.2-1"
XGBOOST_VERSION = "1.7-1"
TRAINING_MAX_RUNTIME_SECONDS = 3600
HYPERPARAMETERS = {
    "objective": "reg:squarederror",
    "num_round": "50",
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.7",
}

# Container paths (SageMaker conventions); passed to the scripts as arguments.
PROCESSING_ROOT = "/opt/ml/processing"
PREPROCESS_INPUT_DIR = f"{PROCESSING_ROOT}/input/data"
PREPROCESS_OUTPUT_DIR = f"{PROCESSING_ROOT}/output"
EVALUATE_MODEL_DIR = f"{PROCESSING_ROOT}/model"
EVALUATE_TEST_DIR = f"{PROCESSING_ROOT}/test"
EVALUATE_OUTPUT_DIR = f"{PROCESSING_ROOT}/evaluation"
# preprocess.py writes one subdirectory of its --output-dir per split (see its OUTPUT_SUBDIRS).
PREPROCESS_OUTPUTS = ("train", "validation", "test", "test-features")


def get_session(region: str, default_bucket: str | None) -> PipelineSession:
    """Return a PipelineSession for `region` whose default bucket is `default_bucket`."""
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    return PipelineSession(boto_session=boto3.Session(region_name=region), default_bucket=default_bucket)


def get_pipeline(
    region: str,
    role: str | None = None,
    default_bucket: str | None = None,
    pipeline_name: str = "AbalonePipeline",
    model_package_group_name: str = "AbalonePackageGroup",
    base_job_prefix: str = "Abalone",
    sagemaker_project_name: str | None = None,
    processing_instance_type: str = "ml.m5.xlarge",
    training_instance_type: str = "ml.m5.xlarge",
    transform_instance_type: str = "ml.m5.xlarge",
    inference_instance_type: str = "ml.m5.xlarge",
    sagemaker_session: PipelineSession | None = None,
) -> Pipeline:
    """Build the abalone pipeline.

    Args:
        region: AWS region of the pipeline and its images.
        role: IAM role ARN the jobs run as; the execution role of the caller when None.
        default_bucket: bucket for code, data and artifacts; the session's default when None.
        pipeline_name: name of the pipeline (also the S3 prefix of its step code).
        model_package_group_name: model package group the model is registered in.
        base_job_prefix: prefix of job names and of the S3 keys of the bundled sample data.
        sagemaker_project_name: SageMaker project the pipeline belongs to, if any (unused here;
            accepted for compatibility with SageMaker project templates).
        processing_instance_type: instance type of the processing jobs.
        training_instance_type: instance type of the training job.
        transform_instance_type: instance type of the batch transform job.
        inference_instance_type: instance type registered for real-time inference.
        sagemaker_session: PipelineSession to build with (modelbuild passes an offline one); a
            new one for `region` and `default_bucket` when None.

    Returns:
        The pipeline; `pipeline.definition()` is what an upsert sends.
    """
    del sagemaker_project_name  # part of the SageMaker project contract, not needed here
    from sagemaker.core import image_uris
    from sagemaker.core.helper.session_helper import get_execution_role
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
        StoppingCondition,
    )
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep, TransformStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData

    session = sagemaker_session or get_session(region, default_bucket)
    role = role or get_execution_role(session)
    bucket = session.default_bucket()

    sample_data_uri = session.upload_data(str(SAMPLE_DATA), bucket=bucket, key_prefix=f"{base_job_prefix}/data")
    processing_instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    model_approval_status = ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval")
    input_data = ParameterString(name="InputDataUrl", default_value=sample_data_uri)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6.0)

    sklearn_image = image_uris.retrieve(
        framework="sklearn", region=region, version=SKLEARN_VERSION, py_version="py3",
        instance_type=processing_instance_type,
    )
    xgboost_image = image_uris.retrieve(
        framework="xgboost", region=region, version=XGBOOST_VERSION, py_version="py3",
        instance_type=training_instance_type,
    )

    def processing_output(name: str, local_path: str) -> ProcessingOutput:
        # No S3 URI: the SDK fills in s3://<bucket>/<pipeline>/<step>/<output>, per execution.
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(s3_uri=local_path, local_path=local_path, s3_upload_mode="EndOfJob"),
        )

    def processing_input(name: str, source, local_path: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=source, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File",
            ),
        )

    preprocessor = ScriptProcessor(
        image_uri=sklearn_image,
        command=["python3"],
        instance_type=processing_instance_type,
        instance_count=processing_instance_count,
        base_job_name=f"{base_job_prefix}/sklearn-abalone-preprocess",
        sagemaker_session=session,
        role=role,
    )
    step_process = ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=preprocessor.run(
            code=str(HERE / "preprocess.py"),
            inputs=[processing_input("data", input_data, PREPROCESS_INPUT_DIR)],
            outputs=[processing_output(name, f"{PREPROCESS_OUTPUT_DIR}/{name}") for name in PREPROCESS_OUTPUTS],
            arguments=["--input-dir", PREPROCESS_INPUT_DIR, "--output-dir", PREPROCESS_OUTPUT_DIR],
        ),
    )
    split_uri = {
        name: step_process.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
        for name in PREPROCESS_OUTPUTS
    }

    trainer = ModelTrainer(
        training_image=xgboost_image,
        compute=Compute(instance_type=training_instance_type, instance_count=1),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=TRAINING_MAX_RUNTIME_SECONDS),
        base_job_name=f"{base_job_prefix}-abalone-train",
        hyperparameters=HYPERPARAMETERS,
        input_data_config=[
            InputData(channel_name=channel, data_source=split_uri[channel], content_type="text/csv")
            for channel in ("train", "validation")
        ],
        sagemaker_session=session,
        role=role,
    )
    step_train = TrainingStep(name="TrainAbaloneModel", step_args=trainer.train())
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts

    evaluator = ScriptProcessor(
        image_uri=xgboost_image,
        command=["python3"],
        instance_type=processing_instance_type,
        instance_count=1,
        base_job_name=f"{base_job_prefix}/script-abalone-eval",
        sagemaker_session=session,
        role=role,
    )
    evaluation_report = PropertyFile(name="AbaloneEvaluationReport", output_name="evaluation", path="evaluation.json")
    step_eval = ProcessingStep(
        name="EvaluateAbaloneModel",
        step_args=evaluator.run(
            code=str(HERE / "evaluate.py"),
            inputs=[
                processing_input("model", model_data, EVALUATE_MODEL_DIR),
                processing_input("test", split_uri["test"], EVALUATE_TEST_DIR),
            ],
            outputs=[processing_output("evaluation", EVALUATE_OUTPUT_DIR)],
            arguments=[
                "--model-dir", EVALUATE_MODEL_DIR,
                "--test-dir", EVALUATE_TEST_DIR,
                "--output-dir", EVALUATE_OUTPUT_DIR,
            ],
        ),
        property_files=[evaluation_report],
    )
    evaluation_uri = Join(
        on="/",
        values=[step_eval.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, "evaluation.json"],
    )

    model_builder = ModelBuilder(
        s3_model_data_url=model_data,
        image_uri=xgboost_image,
        sagemaker_session=session,
        role_arn=role,
    )
    step_register = ModelStep(
        name="RegisterAbaloneModel",
        step_args=model_builder.register(
            model_package_group_name=model_package_group_name,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[inference_instance_type],
            transform_instances=[transform_instance_type],
            approval_status=model_approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri),
            ),
        ),
    )
    step_create_model = ModelStep(name="CreateAbaloneModel", step_args=model_builder.build())

    transformer = Transformer(
        model_name=step_create_model.properties.ModelName,
        instance_type=transform_instance_type,
        instance_count=1,
        accept="text/csv",
        assemble_with="Line",
        base_transform_job_name=f"{base_job_prefix}-abalone-transform",
        sagemaker_session=session,
    )
    step_transform = TransformStep(
        name="TransformAbaloneTest",
        step_args=transformer.transform(data=split_uri["test-features"], content_type="text/csv", split_type="Line"),
    )

    mse = JsonGet(step_name=step_eval.name, property_file=evaluation_report, json_path="regression_metrics.mse.value")
    step_fail = FailStep(
        name="MSEAbaloneThresholdExceeded",
        error_message=Join(on=" ", values=["Execution failed: test MSE", mse, "is above the threshold", mse_threshold]),
    )
    step_check = ConditionStep(
        name="CheckMSEAbaloneEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=mse_threshold)],
        if_steps=[step_register, step_create_model, step_transform],
        else_steps=[step_fail],
    )

    return Pipeline(
        name=pipeline_name,
        parameters=[processing_instance_count, model_approval_status, input_data, mse_threshold],
        steps=[step_process, step_train, step_eval, step_check],
        sagemaker_session=session,
    )
