"""Emulations of SageMaker's built-in algorithm containers, run as processes by the engine (`python -m ...`)."""
