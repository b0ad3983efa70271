"""The one place the modelbuild version is written; setup.py and the CLI read it."""

__version__ = "0.2.0"
