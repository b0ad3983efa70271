"""ModelTrainer with SourceCode feeding a FrameworkProcessor step that reads the model by output name."""

from pathlib import Path

CODE = Path(__file__).resolve().parent / "code"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.processing import FrameworkProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, SourceCode

    trainer = ModelTrainer(
        training_image=IMAGE, source_code=SourceCode(source_dir=str(CODE), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1), sagemaker_session=sagemaker_session,
        role=role, input_data_config=[InputData(channel_name="train", data_source=f"s3://{default_bucket}/data")],
    )
    train = TrainingStep(name="Train", step_args=trainer.train())
    processor = FrameworkProcessor(image_uri=IMAGE, command=["python3"], role=role, instance_count=1,
                                   instance_type="ml.m5.xlarge", sagemaker_session=sagemaker_session)
    model_input = ProcessingInput(input_name="model", s3_input=ProcessingS3Input(
        s3_uri=train.properties.ModelArtifacts.S3ModelArtifacts, local_path="/opt/ml/processing/model",
        s3_data_type="S3Prefix", s3_input_mode="File"))
    outputs = [ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
        s3_uri=f"s3://{default_bucket}/{name}", local_path=f"/opt/ml/processing/{name}", s3_upload_mode="EndOfJob"))
        for name in ("train", "test")]
    prepare = ProcessingStep(name="Prepare", step_args=processor.run(
        code="process.py", source_dir=str(CODE), inputs=[model_input], outputs=outputs))
    channel = prepare.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    again = ModelTrainer(training_image=IMAGE, compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
                         sagemaker_session=sagemaker_session, role=role,
                         input_data_config=[InputData(channel_name="train", data_source=channel)])
    return Pipeline(name="CodePipeline", steps=[train, prepare, TrainingStep(name="Again", step_args=again.train())],
                    sagemaker_session=sagemaker_session)
