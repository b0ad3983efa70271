"""Packaging for modelbuild (distribution and import package `modelbuild`).

The repository is also a ModelBuild project: `pipelines/` is its reference pipeline, not part of the
tool's import package. The wheel carries it only as data of the scaffolder (`modelbuild new` starts
every project from it), so installing modelbuild never puts a `pipelines` package on anyone's path.
"""

import os

import setuptools

here = os.path.abspath(os.path.dirname(__file__))
about = {}
with open(os.path.join(here, "modelbuild", "__version__.py")) as f:
    exec(f.read(), about)

with open(os.path.join(here, "README.md")) as f:
    readme = f.read()

# modelbuild runs in the project's own environment, beside the SDK the project pins: v2 from 2.93 (the
# pin of most projects made from AWS's seed) or v3. It never moves the project's pin.
SAGEMAKER_RANGE = ["sagemaker>=2.93,<4"]
# The five SageMaker SDK v3 distributions move together; a definition is only reproducible (and the
# golden file only meaningful) with all five pinned exactly. The tests pin them, and so does every
# generated project (the scaffolder reads these pins from the installed modelbuild's `test` extra).
SAGEMAKER_V3_PINS = [
    "sagemaker==3.27.0",
    "sagemaker-core==2.27.0",
    "sagemaker-train==1.27.0",
    "sagemaker-serve==1.27.0",
    "sagemaker-mlops==1.27.0",
]

TEMPLATE = "modelbuild.scaffold.template"
REFERENCE = "modelbuild.scaffold.reference"

required_packages = SAGEMAKER_RANGE + [
    "boto3>=1.35",
    "typer>=0.29,<0.30",
    "rich>=13",
    "cookiecutter>=2.6",
    "xgboost>=2.0",
    "scikit-learn>=1.4",
    "pandas>=2.0",
    "numpy>=1.26",
    # PEP 508 requirement parsing: is a job's requirements.txt satisfied? (pip's own parser, not importable)
    "packaging>=23",
]
extras = {
    "test": SAGEMAKER_V3_PINS + [
        "pytest>=8",
        "pytest-xdist>=3.6",
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
    # The cookiecutter template and the reference project's `pipelines/`, both kept at the top of
    # the repository, ship inside the scaffolder as data (see package_data in setup.cfg).
    packages=setuptools.find_packages(include=["modelbuild", "modelbuild.*"]) + [TEMPLATE, REFERENCE],
    package_dir={TEMPLATE: "template", REFERENCE: "pipelines"},
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=required_packages,
    extras_require=extras,
    entry_points={
        "console_scripts": [
            "modelbuild=modelbuild.cli.app:main",
            "get-pipeline-definition=modelbuild.get_pipeline_definition:main",
            "run-pipeline=modelbuild.run_pipeline:main",
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
