"""sniff_csv: delimiter, header, missing markers, kinds, on real and small files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlrun.data.sniff import clean_names, sniff_csv


def test_pima_has_no_header_and_commas(shared_file):
    info = sniff_csv(shared_file("pima-indians-diabetes.csv"))
    assert info.delimiter == ","
    assert info.header is False
    assert info.n_rows == 768
    assert info.columns == [f"col{i}" for i in range(9)]
    assert set(info.kinds.values()) == {"numeric"}
    assert info.missing == []


def test_adult_comma_space_strings_and_question_marks(shared_file):
    info = sniff_csv(shared_file("adult-train.csv"))
    assert info.delimiter == ","
    assert info.header is False
    assert info.n_rows == 32561  # the trailing blank line is not a row
    assert len(info.columns) == 15
    assert info.kinds["col0"] == "numeric"  # age
    assert info.kinds["col1"] == "categorical"  # workclass, " State-gov" stripped
    assert info.kinds["col14"] == "categorical"
    assert info.missing == ["?"]
    assert set(info.missing_counts) == {"col1", "col6", "col13"}


def test_iris_string_labels(shared_file):
    info = sniff_csv(shared_file("iris.csv"))
    assert info.header is False
    assert info.n_rows == 150
    assert info.kinds["col4"] == "categorical"
    assert [info.kinds[f"col{i}"] for i in range(4)] == ["numeric"] * 4


def test_time_series_file_has_a_header(shared_file):
    info = sniff_csv(shared_file("monthly-shampoo-sales.csv"))
    assert info.header is True
    assert info.columns == ["Month", "Sales"]
    assert info.n_rows == 36


def test_semicolon_header_quoted_labels_and_missing_markers(tmp_csv):
    path = tmp_csv(
        'age;"income";city;label\n'
        '31;1200.5;"Paris";"yes"\n'
        '?;900;"Lyon";"no"\n'
        '45;NA;"Nice, Sud";"yes"\n'
        '52;;Paris;"no"\n'
        '28;1500;Lyon;"yes"\n'
    )
    info = sniff_csv(path)
    assert info.delimiter == ";"
    assert info.header is True
    assert info.columns == ["age", "income", "city", "label"]
    assert info.missing == ["?", "NA", ""]
    assert info.kinds == {"age": "numeric", "income": "numeric", "city": "categorical",
                          "label": "categorical"}
    assert info.missing_counts == {"age": 1, "income": 2}
    assert info.n_rows == 5


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_other_delimiters(tmp_csv, delimiter):
    rows = [["a", "b", "c"]] + [[i, i * 0.5, "x" if i % 2 else "y"] for i in range(20)]
    info = sniff_csv(tmp_csv(rows, delimiter=delimiter))
    assert info.delimiter == delimiter
    assert info.header is True
    assert info.columns == ["a", "b", "c"]


def test_whitespace_separated(tmp_csv):
    path = tmp_csv("".join(f"  {i}.5   {i * 2}    {i % 3}\n" for i in range(30)))
    info = sniff_csv(path)
    assert info.delimiter == " "
    assert info.whitespace
    assert info.header is False
    assert len(info.columns) == 3


def test_all_string_file_header_by_recurrence(tmp_csv):
    body = [["red", "big", "yes"], ["blue", "small", "no"], ["red", "small", "yes"],
            ["blue", "big", "no"], ["red", "big", "no"]]
    with_header = sniff_csv(tmp_csv([["colour", "size", "buy"], *body], name="h.csv"))
    assert with_header.header is True
    assert with_header.columns == ["colour", "size", "buy"]
    without = sniff_csv(tmp_csv(body, name="n.csv"))
    assert without.header is False
    assert without.n_rows == 5


def test_header_can_be_forced(tmp_csv):
    path = tmp_csv([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert sniff_csv(path).header is False
    forced = sniff_csv(path, header=True)
    assert forced.header is True
    assert forced.columns == ["1", "2", "3"]
    assert forced.n_rows == 2


def test_empty_file_is_an_error(tmp_csv):
    with pytest.raises(ValueError, match="empty"):
        sniff_csv(tmp_csv("\n\n"))


def test_clean_names():
    assert clean_names([" a ", "", "a", "b", "a"]) == ["a", "col1", "a_2", "b", "a_3"]


def test_sniff_is_light():
    code = (
        "import sys, dlrun.data.sniff, dlrun.scaffold, dlrun.data.standard;"
        "bad=[m for m in ('sklearn','tensorflow','xgboost','matplotlib') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("extra", [0, 1, 500])
def test_a_streamed_file_longer_than_max_rows_is_sampled(tmp_path, monkeypatch, header, extra):
    """A big file is streamed up to max_rows; one row more must still mark it sampled
    and count its rows (it was once described as exactly max_rows rows)."""
    from dlrun.data import sniff

    monkeypatch.setattr(sniff, "_WHOLE_BYTES", 0)  # stream every file
    rows = 100 + extra
    lines = (["a,b,label"] if header else []) + [f"{i},{i % 7},{i % 2}" for i in range(rows)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    info = sniff_csv(path, header=header, max_rows=100)
    assert info.n_rows == rows
    assert info.sampled == (extra > 0)
    assert sum(info.counts["col2" if not header else "label"].values()) == 100
