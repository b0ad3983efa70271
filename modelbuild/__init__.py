"""modelbuild: build, check and run Amazon SageMaker Pipelines, on SageMaker or on this machine.

Nothing here imports the SageMaker SDK: importing it costs seconds, so only the code that
builds or sends a definition does, and only when it runs.
"""

from modelbuild.__version__ import __version__

__all__ = ["__version__"]
