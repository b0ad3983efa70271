"""Packaging for {{ cookiecutter.project_name }} (import package `pipelines`, as in the SageMaker seed).

The requirements, Python versions and console scripts are those of modelbuild
{{ modelbuild.version }}, whose runtime this project carries in `pipelines/` (see README.md).
"""

import setuptools

with open("README.md") as f:
    readme = f.read()

required_packages = [
{%- for requirement in modelbuild.requirements %}
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
    # Namespace-aware: every directory of the runtime is a package, with or without __init__.py.
    packages=setuptools.find_namespace_packages(include=["pipelines", "pipelines.*"]),
    include_package_data=True,
    python_requires="{{ modelbuild.python_requires }}",
    install_requires=required_packages,
    extras_require=extras,
    entry_points={
        "console_scripts": [
{%- for script in modelbuild.console_scripts %}
            "{{ script }}",
{%- endfor %}
        ]
    },
)
