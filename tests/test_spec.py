import json

import pytest
import yaml

from dlrun.errors import BadInput, SpecError
from dlrun.spec import json_schema, load_spec, parse_spec

VALID = {
    "name": "demo",
    "task": "classification",
    "data": {"source": "data.csv", "target": "label"},
    "metric": "accuracy",
}


def _with(**changes):
    spec = json.loads(json.dumps(VALID))
    for path, value in changes.items():
        node = spec
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return spec


def test_valid_spec_gets_defaults():
    spec = parse_spec(VALID)
    assert spec.evaluation.folds == 10 and spec.evaluation.repeats == 3
    assert spec.kind == "tabular"
    assert spec.data.missing == ["?", "NA", ""]


@pytest.mark.parametrize(
    "changes, path, words",
    [
        ({"data__tagret": "x"}, "data.tagret", "unknown key"),
        ({"metric": "acuracy"}, "metric", "expected one of"),
        ({"metric": "rmse"}, "metric", "does not suit a classification task"),
        ({"evaluation__folds": 1}, "evaluation.folds", "greater than or equal to 2"),
        ({"algorithms": ["xgboost", "deepforest"]}, "algorithms[1]", "unknown algorithm"),
        ({"views": ["raw", "pca9"]}, "views[1]", "unknown view"),
        ({"params": {"xgboost": {"n_trees": 5}}}, "params.xgboost.n_trees", "no parameter"),
        ({"name": "my project!"}, "name", "letters"),
        ({"task": "clustering"}, "task", "classification"),
    ],
)
def test_errors_name_the_yaml_path(changes, path, words):
    with pytest.raises(SpecError) as info:
        parse_spec(_with(**changes))
    message = str(info.value)
    assert f"{path}:" in message
    assert words in message
    assert isinstance(info.value, BadInput)


def test_missing_required_key_is_named():
    spec = dict(VALID)
    del spec["metric"]
    with pytest.raises(SpecError, match=r"metric: required key is missing"):
        parse_spec(spec)


def test_load_spec_accepts_folder_or_file(tmp_path):
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(VALID))
    spec1, folder1 = load_spec(tmp_path)
    spec2, folder2 = load_spec(tmp_path / "project.yaml")
    assert spec1 == spec2 and folder1 == folder2 == tmp_path.resolve()


def test_invalid_yaml_reports_line(tmp_path):
    (tmp_path / "project.yaml").write_text("name: x\ndata: [unclosed\n")
    with pytest.raises(SpecError, match="line"):
        load_spec(tmp_path)


def test_missing_project_names_argument(tmp_path):
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "nowhere")
    assert info.value.field == "PROJECT"


def test_json_schema_describes_the_file():
    schema = json_schema()
    assert schema["title"] == "dlrun project.yaml"
    assert {"name", "task", "data", "metric"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    json.dumps(schema)  # serializable
