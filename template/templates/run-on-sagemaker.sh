# Inside a SageMaker Project, names carry the project's name and id; elsewhere, the defaults. The pipeline
# module is the one setup.cfg names in [tool:modelbuild].
PROJECT_NAME_ID="${SAGEMAKER_PROJECT_NAME:+${SAGEMAKER_PROJECT_NAME}-${SAGEMAKER_PROJECT_ID}}"
modelbuild run --target sagemaker --wait \
  --role-arn "${SAGEMAKER_PIPELINE_ROLE_ARN}" \
  --tags "[{\"Key\": \"sagemaker:project-name\", \"Value\": \"${SAGEMAKER_PROJECT_NAME}\"}, {\"Key\": \"sagemaker:project-id\", \"Value\": \"${SAGEMAKER_PROJECT_ID}\"}]" \
  --kwargs "{\"region\": \"${AWS_REGION}\", \"role\": \"${SAGEMAKER_PIPELINE_ROLE_ARN}\", \"default_bucket\": \"${ARTIFACT_BUCKET}\", \"pipeline_name\": \"${PROJECT_NAME_ID:-{{ cookiecutter.sagemaker_pipeline_name }}}\", \"model_package_group_name\": \"${PROJECT_NAME_ID:-{{ cookiecutter.model_package_group_name }}}\", \"base_job_prefix\": \"${PROJECT_NAME_ID:-{{ cookiecutter.project_slug }}}\", \"sagemaker_project_name\": \"${SAGEMAKER_PROJECT_NAME}\"}"
