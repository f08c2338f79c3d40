"""CITATION.cff is valid Citation File Format 1.2.0 and carries the package's version."""

import json
import tomllib
from pathlib import Path

import jsonschema
import yaml

import xentref

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text())


def citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_file_is_valid_cff_1_2_0():
    metadata = citation()
    assert metadata["cff-version"] == "1.2.0"
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(metadata)


def test_schema_rejects_what_it_should():
    # The validation above can fail: a file without authors is refused.
    metadata = citation()
    del metadata["authors"]
    assert not jsonschema.Draft7Validator(SCHEMA).is_valid(metadata)


def test_citation_version_is_the_package_version():
    assert str(citation()["version"]) == xentref.__version__


def test_package_metadata_takes_its_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "xentref.__version__"}


def test_repository_address_is_the_same_everywhere():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation()["repository-code"] == config["repository"]["url"]
