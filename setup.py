"""Packaging for modelbuild (distribution `modelbuild`, import package `pipelines`)."""

import os

import setuptools

here = os.path.abspath(os.path.dirname(__file__))
about = {}
with open(os.path.join(here, "pipelines", "__version__.py")) as f:
    exec(f.read(), about)

with open(os.path.join(here, "README.md")) as f:
    readme = f.read()

# The five SageMaker SDK v3 distributions move together; a definition is only reproducible
# (and the golden file only meaningful) with all five pinned exactly.
SAGEMAKER = [
    "sagemaker==3.27.0",
    "sagemaker-core==2.27.0",
    "sagemaker-train==1.27.0",
    "sagemaker-serve==1.27.0",
    "sagemaker-mlops==1.27.0",
]

required_packages = SAGEMAKER + [
    "boto3>=1.35",
    "typer>=0.29,<0.30",
    "rich>=13",
    "cookiecutter>=2.6",
    "xgboost>=2.0",
    "scikit-learn>=1.4",
    "pandas>=2.0",
    "numpy>=1.26",
]
extras = {
    "test": [
        "pytest>=8",
        "moto[server]>=5.0",
        "ruff>=0.6",
        "import-linter>=2.0",
        "tox>=4",
    ]
}

setuptools.setup(
    name="modelbuild",
    version=about["__version__"],
    description="Build, check and run Amazon SageMaker Pipelines, on SageMaker or on this machine",
    long_description=readme,
    long_description_content_type="text/markdown",
    # Namespace-aware, so directories without __init__.py (the sample data) ship too; the
    # cookiecutter template, kept at the top of the repository, ships inside the scaffolder.
    packages=setuptools.find_namespace_packages(include=["pipelines", "pipelines.*"]) + ["pipelines.scaffold.template"],
    package_dir={"pipelines.scaffold.template": "template"},
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=required_packages,
    extras_require=extras,
    entry_points={
        "console_scripts": [
            "modelbuild=pipelines.cli.app:main",
            "get-pipeline-definition=pipelines.get_pipeline_definition:main",
            "run-pipeline=pipelines.run_pipeline:main",
        ]
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Natural Language :: English",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
