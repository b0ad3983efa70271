"""A seed-shaped ModelBuild project: the SDK v2 pinned exactly, as most of them are."""

import setuptools

required_packages = ["sagemaker==2.93.0"]

setuptools.setup(
    name="churn-modelbuild",
    version="0.0.1",
    packages=setuptools.find_packages(),
    install_requires=required_packages,
    python_requires=">=3.8",
)
