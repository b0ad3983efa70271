"""A Lambda step and a Callback step whose declared outputs a condition and a Fail step read."""


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.callback_step import CallbackOutput, CallbackOutputTypeEnum, CallbackStep
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    ask = LambdaStep(
        name="Ask", lambda_func=Lambda(function_arn=f"arn:aws:lambda:{region}:123456789012:function:ask"),
        inputs={"question": "ready?"},
        outputs=[LambdaOutput(output_name="answer", output_type=LambdaOutputTypeEnum.String)],
    )
    wait = CallbackStep(
        name="Wait", sqs_queue_url=f"https://sqs.{region}.amazonaws.com/123456789012/approvals",
        inputs={"answer": ask.properties.Outputs["answer"]},
        outputs=[CallbackOutput(output_name="approved", output_type=CallbackOutputTypeEnum.Boolean)],
    )
    check = ConditionStep(
        name="Approved", conditions=[ConditionEquals(left=wait.properties.Outputs["approved"], right=True)],
        if_steps=[], else_steps=[FailStep(name="Refused", error_message=Join(on=" ", values=[
            "refused:", ask.properties.Outputs["answer"]]))],
    )
    return Pipeline(name="LambdaCallbackPipeline", steps=[ask, wait, check], sagemaker_session=sagemaker_session)
