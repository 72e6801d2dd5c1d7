import json
from importlib.resources import files

import jsonschema
import pytest
from render_samples import enrich, hostile_train, real_report

SCHEMA = json.loads(files("auditor").joinpath("schemas/report.schema.json").read_text(encoding="utf-8"))


def test_the_schema_is_a_valid_2020_12_schema_with_descriptions():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert all("description" in spec for spec in SCHEMA["properties"].values())
    assert all("description" in spec for spec in SCHEMA["$defs"]["finding"]["properties"].values())


def test_a_real_report_validates(tmp_path):
    report = real_report(tmp_path, hostile_train(), [{"text": "late parcel", "label": "delivery"}] * 6)
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(report)))
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(enrich(report))))


def test_a_broken_report_does_not_validate(tmp_path):
    report = json.loads(json.dumps(real_report(tmp_path, hostile_train())))
    report["results"][0]["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(report)
