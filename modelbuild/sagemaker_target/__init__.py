"""The SageMaker target: upsert a built definition, start it, watch it, list/stop executions, diff.

Every boto3 call goes through `aws.py`, which creates clients with botocore's standard retry
mode and turns botocore's exceptions into `AwsError` with a one-line fix.
"""
