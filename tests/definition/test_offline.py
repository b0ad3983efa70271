"""The SDK's redundant work is skipped during a build, with the same results, and only during it."""

from __future__ import annotations

from unittest import mock

import jsonschema
import pytest

from modelbuild.definition.build import build_definition
from modelbuild.definition.offline import offline_environment, sdk_config_validated_once, service_data_parsed_once

VALID = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
INVALID = {"SchemaVersion": "1.0", "SageMaker": {"NoSuchSection": {}}}


@pytest.fixture
def config_manager():
    with offline_environment("us-east-1"):
        from sagemaker.core.config import config_manager

        yield config_manager


def test_a_valid_configuration_is_validated_once_per_build(config_manager):
    with mock.patch.object(config_manager.jsonschema, "validate", wraps=jsonschema.validate) as validate:
        with sdk_config_validated_once():
            for _ in range(5):
                config_manager.SageMakerConfig().validate_sagemaker_config(VALID)
                config_manager.SageMakerConfig.validate_sagemaker_config(dict(VALID))  # equal content, new object

    assert validate.call_count == 1


def test_an_invalid_configuration_fails_every_time(config_manager):
    with sdk_config_validated_once():
        for _ in range(2):
            with pytest.raises(jsonschema.ValidationError):
                config_manager.SageMakerConfig().validate_sagemaker_config(INVALID)


def test_the_sdk_validates_as_before_outside_a_build(config_manager, tiny_module):
    build_definition(tiny_module)

    with mock.patch.object(config_manager.jsonschema, "validate") as validate:
        config_manager.SageMakerConfig().validate_sagemaker_config(VALID)
        config_manager.SageMakerConfig().validate_sagemaker_config(VALID)

    assert validate.call_count == 2


def test_botocore_parses_each_data_file_once_per_build():
    from botocore import loaders

    original, parsed = loaders.JSONFileLoader._load_file, []

    def counting(self, path, *args):
        parsed.append(path)
        return original(self, path, *args)

    with mock.patch.object(loaders.JSONFileLoader, "_load_file", counting):
        with service_data_parsed_once():
            models = [loaders.create_loader().load_service_model("sagemaker", "service-2") for _ in range(3)]
        in_build = len(parsed)
        loaders.create_loader().load_service_model("sagemaker", "service-2")

    assert models[0] is models[1] is models[2]  # three loaders, one parse
    assert in_build == len(set(parsed))  # each data file read once (a model and its extras, say)
    assert len(parsed) == 2 * in_build  # and after the block, each new loader reads them for itself again
