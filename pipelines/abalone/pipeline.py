"""The reference abalone pipeline, written with the SageMaker Python SDK v3.

                                                          . RegisterAbaloneModel
                                                         .  CreateAbaloneModel -> TransformAbaloneTest
    Preprocess -> Train -> Evaluate -> CheckMSE (<= MseThreshold)
                                                         .
                                                          . MSEAbaloneThresholdExceeded (Fail)

Implements `get_pipeline(**kwargs) -> Pipeline`. Each step is made by a small builder function below
(`preprocess_step`, `train_step`, ...) and `get_pipeline` wires them together: to change a step, change
its builder; to add one, write a builder and wire it in. Every container path lives in this module and
reaches the step scripts as a command-line argument, so the scripts run unchanged on SageMaker,
under modelbuild's local engine and on a laptop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sagemaker.core.helper.pipeline_variable import PipelineVariable
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, Step, TrainingStep, TransformStep
    from sagemaker.serve.model_builder import ModelBuilder

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
# evaluate.py writes this file (its REPORT_FILE) into its --output-dir.
EVALUATION_REPORT = "evaluation.json"


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
    from sagemaker.core.helper.session_helper import get_execution_role
    from sagemaker.mlops.workflow.pipeline import Pipeline

    session = sagemaker_session or get_session(region, default_bucket)
    role = role or get_execution_role(session)
    params = pipeline_parameters(session, base_job_prefix)
    sklearn_image = image_uri("sklearn", SKLEARN_VERSION, region, processing_instance_type)
    xgboost_image = image_uri("xgboost", XGBOOST_VERSION, region, training_instance_type)

    step_process = preprocess_step(
        params.input_data, image=sklearn_image, instance_type=processing_instance_type,
        instance_count=params.processing_instance_count, base_job_prefix=base_job_prefix, session=session, role=role,
    )
    step_train = train_step(
        output_uri(step_process, "train"), output_uri(step_process, "validation"), image=xgboost_image,
        instance_type=training_instance_type, base_job_prefix=base_job_prefix, session=session, role=role,
    )
    model_data = step_train.properties.ModelArtifacts.S3ModelArtifacts
    step_eval, evaluation_report = evaluate_step(
        model_data, output_uri(step_process, "test"), image=xgboost_image,
        instance_type=processing_instance_type, base_job_prefix=base_job_prefix, session=session, role=role,
    )
    step_register = register_step(
        model_data, step_eval, image=xgboost_image, model_package_group_name=model_package_group_name,
        approval_status=params.model_approval_status, inference_instance_type=inference_instance_type,
        transform_instance_type=transform_instance_type, session=session, role=role,
    )
    step_create_model = create_model_step(model_data, image=xgboost_image, session=session, role=role)
    step_transform = transform_step(
        step_create_model.properties.ModelName, output_uri(step_process, "test-features"),
        instance_type=transform_instance_type, base_job_prefix=base_job_prefix, session=session,
    )
    mse = reported_mse(step_eval, evaluation_report)
    step_check = check_mse_step(
        mse, params.mse_threshold, if_steps=[step_register, step_create_model, step_transform],
        else_steps=[fail_step(mse, params.mse_threshold)],
    )

    # The register, create-model, transform and fail steps join the pipeline through step_check's branches.
    steps = [step_process, step_train, step_eval, step_check]
    return Pipeline(name=pipeline_name, parameters=list(params), steps=steps, sagemaker_session=session)


class Parameters(NamedTuple):
    """The pipeline parameters; every field is declared in the definition, in this order."""

    processing_instance_count: ParameterInteger
    model_approval_status: ParameterString
    input_data: ParameterString
    mse_threshold: ParameterFloat


def pipeline_parameters(session: PipelineSession, base_job_prefix: str) -> Parameters:
    """Make the parameters an execution may override, defaulting the input to the bundled sample data."""
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

    # The sample data goes to S3 at build time so a fresh project runs without any data of its own.
    sample_data_uri = session.upload_data(
        str(SAMPLE_DATA), bucket=session.default_bucket(), key_prefix=f"{base_job_prefix}/data",
    )
    return Parameters(
        processing_instance_count=ParameterInteger(name="ProcessingInstanceCount", default_value=1),
        model_approval_status=ParameterString(name="ModelApprovalStatus", default_value="PendingManualApproval"),
        input_data=ParameterString(name="InputDataUrl", default_value=sample_data_uri),
        mse_threshold=ParameterFloat(name="MseThreshold", default_value=6.0),
    )


def image_uri(framework: str, version: str, region: str, instance_type: str) -> str:
    """Return the URI of the AWS-managed container image of `framework` at `version`."""
    from sagemaker.core import image_uris

    # Pinned versions, not the SDK's latest: an SDK upgrade must not change the image a step runs in.
    return image_uris.retrieve(
        framework=framework, region=region, version=version, py_version="py3", instance_type=instance_type,
    )


def preprocess_step(
    input_data: PipelineVariable | str,
    *,
    image: str,
    instance_type: str,
    instance_count: PipelineVariable | int,
    base_job_prefix: str,
    session: PipelineSession,
    role: str,
) -> ProcessingStep:
    """Make the processing step that runs preprocess.py: raw CSV in, one output per split out."""
    from sagemaker.mlops.workflow.steps import ProcessingStep

    processor = script_processor(image, instance_type, instance_count, f"{base_job_prefix}/sklearn-abalone-preprocess",
                                 session=session, role=role)
    # With a PipelineSession, run() starts no job: it returns the request the step sends at execution time.
    return ProcessingStep(
        name="PreprocessAbaloneData",
        step_args=processor.run(
            code=str(HERE / "preprocess.py"),
            inputs=[processing_input("data", input_data, PREPROCESS_INPUT_DIR)],
            outputs=[processing_output(name, f"{PREPROCESS_OUTPUT_DIR}/{name}") for name in PREPROCESS_OUTPUTS],
            arguments=["--input-dir", PREPROCESS_INPUT_DIR, "--output-dir", PREPROCESS_OUTPUT_DIR],
        ),
    )


def train_step(
    train_data: PipelineVariable | str,
    validation_data: PipelineVariable | str,
    *,
    image: str,
    instance_type: str,
    base_job_prefix: str,
    session: PipelineSession,
    role: str,
) -> TrainingStep:
    """Make the training step that fits the built-in XGBoost algorithm on the train and validation splits."""
    from sagemaker.core.shapes import StoppingCondition
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData

    trainer = ModelTrainer(
        training_image=image,
        compute=Compute(instance_type=instance_type, instance_count=1),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=TRAINING_MAX_RUNTIME_SECONDS),
        base_job_name=f"{base_job_prefix}-abalone-train",
        hyperparameters=HYPERPARAMETERS,
        # The built-in algorithm finds its data by channel name: "train", and "validation" for its eval metric.
        input_data_config=[
            InputData(channel_name="train", data_source=train_data, content_type="text/csv"),
            InputData(channel_name="validation", data_source=validation_data, content_type="text/csv"),
        ],
        sagemaker_session=session,
        role=role,
    )
    return TrainingStep(name="TrainAbaloneModel", step_args=trainer.train())


def evaluate_step(
    model_data: PipelineVariable | str,
    test_data: PipelineVariable | str,
    *,
    image: str,
    instance_type: str,
    base_job_prefix: str,
    session: PipelineSession,
    role: str,
) -> tuple[ProcessingStep, PropertyFile]:
    """Make the processing step that runs evaluate.py on the test split, and the PropertyFile of its report."""
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.steps import ProcessingStep

    # `image` needs xgboost (get_pipeline passes the training image): evaluate.py loads the model with it.
    processor = script_processor(image, instance_type, 1, f"{base_job_prefix}/script-abalone-eval",
                                 session=session, role=role)
    # Declaring the report as a PropertyFile is what lets later steps read values out of it (see reported_mse).
    report = PropertyFile(name="AbaloneEvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    step = ProcessingStep(
        name="EvaluateAbaloneModel",
        step_args=processor.run(
            code=str(HERE / "evaluate.py"),
            inputs=[
                processing_input("model", model_data, EVALUATE_MODEL_DIR),
                processing_input("test", test_data, EVALUATE_TEST_DIR),
            ],
            outputs=[processing_output("evaluation", EVALUATE_OUTPUT_DIR)],
            arguments=[
                "--model-dir", EVALUATE_MODEL_DIR,
                "--test-dir", EVALUATE_TEST_DIR,
                "--output-dir", EVALUATE_OUTPUT_DIR,
            ],
        ),
        property_files=[report],
    )
    return step, report


def register_step(
    model_data: PipelineVariable | str,
    step_eval: ProcessingStep,
    *,
    image: str,
    model_package_group_name: str,
    approval_status: PipelineVariable | str,
    inference_instance_type: str,
    transform_instance_type: str,
    session: PipelineSession,
    role: str,
) -> ModelStep:
    """Make the step that registers the model in the model package group, with its evaluation report as metrics."""
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.model_step import ModelStep

    # Attaching the report lets reviewers see the test MSE in the registry before they approve the model.
    report_uri = Join(on="/", values=[output_uri(step_eval, "evaluation"), EVALUATION_REPORT])
    return ModelStep(
        name="RegisterAbaloneModel",
        step_args=model_builder(model_data, image=image, session=session, role=role).register(
            model_package_group_name=model_package_group_name,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[inference_instance_type],
            transform_instances=[transform_instance_type],
            approval_status=approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(content_type="application/json", s3_uri=report_uri),
            ),
        ),
    )


def create_model_step(
    model_data: PipelineVariable | str, *, image: str, session: PipelineSession, role: str,
) -> ModelStep:
    """Make the step that creates a SageMaker model from the trained artifacts, for the batch transform."""
    from sagemaker.mlops.workflow.model_step import ModelStep

    return ModelStep(
        name="CreateAbaloneModel",
        step_args=model_builder(model_data, image=image, session=session, role=role).build(),
    )


def transform_step(
    model_name: PipelineVariable | str,
    data: PipelineVariable | str,
    *,
    instance_type: str,
    base_job_prefix: str,
    session: PipelineSession,
) -> TransformStep:
    """Make the batch transform step that predicts `data` (CSV, one record a line) with the model `model_name`."""
    from sagemaker.core.transformer import Transformer
    from sagemaker.mlops.workflow.steps import TransformStep

    transformer = Transformer(
        model_name=model_name,
        instance_type=instance_type,
        instance_count=1,
        accept="text/csv",
        assemble_with="Line",
        base_transform_job_name=f"{base_job_prefix}-abalone-transform",
        sagemaker_session=session,
    )
    return TransformStep(
        name="TransformAbaloneTest",
        step_args=transformer.transform(data=data, content_type="text/csv", split_type="Line"),
    )


def fail_step(mse: JsonGet, mse_threshold: PipelineVariable | float) -> FailStep:
    """Make the step that fails the execution, naming the test MSE and the threshold it exceeded."""
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.fail_step import FailStep

    return FailStep(
        name="MSEAbaloneThresholdExceeded",
        error_message=Join(on=" ", values=["Execution failed: test MSE", mse, "is above the threshold", mse_threshold]),
    )


def check_mse_step(
    mse: JsonGet, mse_threshold: PipelineVariable | float, *, if_steps: list[Step], else_steps: list[Step],
) -> ConditionStep:
    """Make the condition step that runs `if_steps` when the test MSE is at most the threshold, else `else_steps`."""
    from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
    from sagemaker.mlops.workflow.condition_step import ConditionStep

    return ConditionStep(
        name="CheckMSEAbaloneEvaluation",
        conditions=[ConditionLessThanOrEqualTo(left=mse, right=mse_threshold)],
        if_steps=if_steps,
        else_steps=else_steps,
    )


def reported_mse(step_eval: ProcessingStep, report: PropertyFile) -> JsonGet:
    """Return the test MSE that evaluate.py writes to its report, as a value read at execution time."""
    from sagemaker.core.workflow.functions import JsonGet

    return JsonGet(step_name=step_eval.name, property_file=report, json_path="regression_metrics.mse.value")


def model_builder(
    model_data: PipelineVariable | str, *, image: str, session: PipelineSession, role: str,
) -> ModelBuilder:
    """Return a ModelBuilder that serves `model_data` with `image`; the register and create-model steps use it."""
    from sagemaker.serve.model_builder import ModelBuilder

    return ModelBuilder(s3_model_data_url=model_data, image_uri=image, sagemaker_session=session, role_arn=role)


def script_processor(
    image: str, instance_type: str, instance_count: PipelineVariable | int, base_job_name: str, *,
    session: PipelineSession, role: str,
) -> ScriptProcessor:
    """Return a processor that runs a Python script with `python3` in `image`."""
    from sagemaker.core.processing import ScriptProcessor

    return ScriptProcessor(
        image_uri=image,
        command=["python3"],
        instance_type=instance_type,
        instance_count=instance_count,
        base_job_name=base_job_name,
        sagemaker_session=session,
        role=role,
    )


def output_uri(step: ProcessingStep, output_name: str) -> PipelineVariable:
    """Return the S3 URI of a processing step's output, resolved when the execution runs."""
    return step.properties.ProcessingOutputConfig.Outputs[output_name].S3Output.S3Uri


def processing_output(name: str, local_path: str) -> ProcessingOutput:
    """Return a processing output that uploads `local_path` when the job ends."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    # No S3 URI: the SDK fills in s3://<bucket>/<pipeline>/<step>/<output>, per execution.
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=local_path, local_path=local_path, s3_upload_mode="EndOfJob"),
    )


def processing_input(name: str, source: PipelineVariable | str, local_path: str) -> ProcessingInput:
    """Return a processing input that downloads the S3 prefix `source` to `local_path` before the job starts."""
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(s3_uri=source, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"),
    )
