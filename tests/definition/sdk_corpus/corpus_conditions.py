"""Every condition type (Not and Or nested as SDK v3 writes them), both Std:JsonGet forms, every parameter
type and the execution variables."""

from pathlib import Path

CODE = Path(__file__).resolve().parent / "code"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.core.workflow import conditions as c
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import (
        ParameterBoolean,
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep

    flag = ParameterBoolean(name="Deploy", default_value=False)
    stage = ParameterString(name="Stage", default_value="dev", enum_values=["dev", "prod"])
    count = ParameterInteger(name="Count", default_value=2)
    threshold = ParameterFloat(name="Threshold", default_value=0.5)
    processor = ScriptProcessor(image_uri=IMAGE, command=["python3"], role=role, instance_count=count,
                                instance_type="ml.m5.xlarge", sagemaker_session=sagemaker_session)
    output = ProcessingOutput(output_name="metrics", s3_output=ProcessingS3Output(
        s3_uri=Join(on="/", values=[f"s3://{default_bucket}", ExecutionVariables.PIPELINE_EXECUTION_ID, "metrics"]),
        local_path="/opt/ml/processing/metrics", s3_upload_mode="EndOfJob"))
    report = PropertyFile(name="Metrics", output_name="metrics", path="metrics.json")
    evaluate = ProcessingStep(name="Evaluate", step_args=processor.run(code=str(CODE / "process.py"),
                              outputs=[output]), property_files=[report])
    from_file = JsonGet(step_name=evaluate.name, property_file=report, json_path="scores[0].value")
    metrics_uri = evaluate.properties.ProcessingOutputConfig.Outputs["metrics"].S3Output.S3Uri
    from_uri = JsonGet(s3_uri=Join(on="/", values=[metrics_uri, "metrics.json"]), json_path="count")
    conditions = [
        c.ConditionGreaterThanOrEqualTo(left=from_file, right=threshold),
        c.ConditionLessThan(left=from_uri, right=count),
        c.ConditionOr(conditions=[
            c.ConditionNot(expression=c.ConditionEquals(left=stage, right="prod")),
            c.ConditionEquals(left=flag, right=True),
            c.ConditionIn(value=stage, in_values=["dev", "prod"]),
        ]),
        c.ConditionGreaterThan(left=count, right=1),
        c.ConditionLessThanOrEqualTo(left=threshold, right=1.0),
    ]
    message = Join(on=" ", values=[ExecutionVariables.PIPELINE_NAME, ExecutionVariables.PIPELINE_EXECUTION_ARN,
                                   ExecutionVariables.START_DATETIME, ExecutionVariables.CURRENT_DATETIME,
                                   ExecutionVariables.PIPELINE_ARN, "failed"])
    check = ConditionStep(name="Check", conditions=conditions, if_steps=[],
                          else_steps=[FailStep(name="Stop", error_message=message)])
    outcome = ConditionStep(name="Checked", conditions=[c.ConditionEquals(left=check.properties.Outcome, right=True)],
                            if_steps=[], else_steps=[])
    return Pipeline(name="ConditionsPipeline", parameters=[flag, stage, count, threshold],
                    steps=[evaluate, check, outcome], sagemaker_session=sagemaker_session)
