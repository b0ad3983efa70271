"""--kwargs, --tags and --parameter: JSON or Python literals in, clear errors out."""

import pytest

from modelbuild.cli.options import parse_kwargs, parse_parameters, parse_tags
from modelbuild.errors import ExitCode, UsageError


def test_kwargs_accept_json_literals_the_seed_rejected():
    assert parse_kwargs('{"region": "eu-west-1", "flag": true, "x": null}') == {
        "region": "eu-west-1",
        "flag": True,
        "x": None,
    }


def test_kwargs_accept_python_literals_as_the_seed_did():
    assert parse_kwargs("{'region': 'eu-west-1', 'flag': True}") == {"region": "eu-west-1", "flag": True}


@pytest.mark.parametrize("absent", [None, "", "   "])
def test_absent_kwargs_and_tags_are_empty(absent):
    assert parse_kwargs(absent) == {}
    assert parse_tags(absent) == []


def test_malformed_kwargs_name_the_option_and_value():
    with pytest.raises(UsageError, match=r"--kwargs is neither JSON nor a Python literal: '\{region'") as info:
        parse_kwargs("{region")
    assert info.value.exit_code == ExitCode.USAGE
    assert info.value.hint


def test_kwargs_must_be_an_object():
    with pytest.raises(UsageError, match="should be an object with string keys, got list"):
        parse_kwargs("[1, 2]")


def test_tags_are_key_value_pairs_with_string_values():
    assert parse_tags('[{"Key": "team", "Value": 7}]') == [{"Key": "team", "Value": "7"}]


def test_tag_without_value_is_refused():
    with pytest.raises(UsageError, match="each tag should have exactly Key and Value"):
        parse_tags('[{"Key": "team"}]')


def test_parameters_split_on_the_first_equals_sign():
    assert parse_parameters(["MseThreshold=6.5", "InputDataUrl=s3://b/k?a=b"]) == {
        "MseThreshold": "6.5",
        "InputDataUrl": "s3://b/k?a=b",
    }


def test_parameter_without_equals_sign_says_the_expected_form():
    with pytest.raises(UsageError, match="should look like NAME=VALUE; 'MseThreshold' has no '='"):
        parse_parameters(["MseThreshold"])
