"""The project's pipelines, one subpackage each, in the SageMaker seed's layout.

Each `<name>/pipeline.py` defines `get_pipeline(**kwargs)`; its step scripts and sample data sit beside it.
"""
