"""An EMR step on an existing cluster, and one creating its own cluster, read by a Fail step."""


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.emr_step import EMRStep, EMRStepConfig
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    config = EMRStepConfig(jar="command-runner.jar", args=["spark-submit", f"s3://{default_bucket}/job.py"])
    existing = EMRStep(name="SparkOnCluster", display_name="Spark", description="on a cluster",
                       cluster_id="j-1ABCDEFGHIJKL", step_config=config)
    new_cluster = EMRStep(name="SparkOwnCluster", display_name="Spark", description="own cluster", cluster_id=None,
                          step_config=config, cluster_config={"Instances": {
                              "InstanceGroups": [{"InstanceRole": "MASTER", "InstanceType": "m5.xlarge",
                                                  "InstanceCount": 1}]}, "ReleaseLabel": "emr-6.10.0"})
    report = FailStep(name="Report", error_message=Join(on=" ", values=[
        existing.properties.Status.State, new_cluster.properties.Id]))
    return Pipeline(name="EmrPipeline", steps=[existing, new_cluster, report], sagemaker_session=sagemaker_session)
