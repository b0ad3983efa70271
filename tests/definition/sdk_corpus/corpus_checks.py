"""A QualityCheck and a ClarifyCheck step whose baselines a RegisterModel step and a Fail step read."""


def get_pipeline(region, role=None, default_bucket=None, sagemaker_session=None):
    from sagemaker.core.clarify import BiasConfig, DataConfig
    from sagemaker.core.model_monitor import DatasetFormat
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig
    from sagemaker.mlops.workflow.clarify_check_step import ClarifyCheckStep, DataBiasCheckConfig
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep

    job = CheckJobConfig(role=role, instance_count=1, instance_type="ml.m5.xlarge",
                         sagemaker_session=sagemaker_session)
    data = f"s3://{default_bucket}/data/train.csv"
    quality = QualityCheckStep(
        name="DataQuality", check_job_config=job, skip_check=True, register_new_baseline=True,
        quality_check_config=DataQualityCheckConfig(baseline_dataset=data, dataset_format=DatasetFormat.csv(
            header=False), output_s3_uri=f"s3://{default_bucket}/quality"),
    )
    bias = ClarifyCheckStep(
        name="DataBias", check_job_config=job, skip_check=True, register_new_baseline=True,
        clarify_check_config=DataBiasCheckConfig(
            data_config=DataConfig(s3_data_input_path=data, s3_output_path=f"s3://{default_bucket}/bias",
                                   label=0, dataset_type="text/csv"),
            data_bias_config=BiasConfig(label_values_or_threshold=[1], facet_name=1),
        ),
    )
    report = FailStep(name="Report", error_message=Join(on=" ", values=[
        quality.properties.CalculatedBaselineStatistics, quality.properties.CalculatedBaselineConstraints,
        quality.properties.BaselineUsedForDriftCheckStatistics, quality.properties.BaselineUsedForDriftCheckConstraints,
        bias.properties.CalculatedBaselineConstraints, bias.properties.BaselineUsedForDriftCheckConstraints,
    ]))
    return Pipeline(name="ChecksPipeline", steps=[quality, bias, report], sagemaker_session=sagemaker_session)
