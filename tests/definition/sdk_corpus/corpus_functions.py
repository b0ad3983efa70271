"""@step functions: one returns a value another step and a condition read (Std:JsonGet with an S3Uri)."""

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.workflow.conditions import ConditionGreaterThan
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.function_step import step
    from sagemaker.mlops.workflow.pipeline import Pipeline

    @step(name="Prepare", image_uri=IMAGE, instance_type="ml.m5.xlarge", role=role, keep_alive_period_in_seconds=0)
    def prepare() -> float:
        return 0.5

    @step(name="Report", image_uri=IMAGE, instance_type="ml.m5.xlarge", role=role)
    def report(score: float) -> str:
        return f"score {score}"

    score = prepare()
    check = ConditionStep(name="Good", conditions=[ConditionGreaterThan(left=score, right=0.3)],
                          if_steps=[report(score)], else_steps=[])
    return Pipeline(name="FunctionsPipeline", steps=[check], sagemaker_session=sagemaker_session)
