"""Packaging for {{ cookiecutter.project_name }} (import package `pipelines`, as in the SageMaker seed).

This project depends on modelbuild (the CLI, the local engine and the SageMaker target) and pins the
SageMaker SDK exactly, so its pipeline definition is reproducible. Install modelbuild from your
package index, a wheel or a git URL (see README.md).
"""

import setuptools

with open("README.md") as f:
    readme = f.read()

required_packages = [
    "{{ modelbuild.requirement }}",
{%- for requirement in modelbuild.sdk_requirements %}
    "{{ requirement }}",
{%- endfor %}
]
extras = {
    "test": [
{%- for requirement in modelbuild.test_requirements %}
        "{{ requirement }}",
{%- endfor %}
    ]
}

setuptools.setup(
    name="{{ cookiecutter.project_slug }}",
    version="0.1.0",
    description="{{ cookiecutter.description }}",
    long_description=readme,
    long_description_content_type="text/markdown",
    author="{{ cookiecutter.author }}",
    # Namespace-aware, so the sample data directory (no __init__.py) ships too.
    packages=setuptools.find_namespace_packages(include=["pipelines", "pipelines.*"]),
    include_package_data=True,
    python_requires="{{ modelbuild.python_requires }}",
    install_requires=required_packages,
    extras_require=extras,
)
