"""retl-build import of JSON Lines files (.jsonl, .ndjson, and .gz / .zst forms)."""
import gzip
import json
import random
import subprocess

import pytest

from conftest import data_files, live_version, query, read_csv, run


def write_jsonl(path, objects, compress=None):
    text = "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objects)
    data = text.encode()
    if compress == "gzip":
        data = gzip.compress(data)
    elif compress == "zstd":
        data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    path.write_bytes(data)
    return path


def dump(ds, table="t"):
    return read_csv(run("dump", ds, "--table", table).out)


@pytest.mark.parametrize("suffix, compress", [(".jsonl", None), (".ndjson", None), (".jsonl.gz", "gzip"),
                                              (".jsonl.zst", "zstd")])
def test_infers_types_and_reads_every_value(ds, tmp_path, suffix, compress):
    objects = [
        {"id": 1, "name": "Ada", "score": 9.5, "ok": True, "day": "2024-01-31", "ts": "2024-01-31 12:00:00.25",
         "tags": ["x", "y"], "n": 12345678901234},
        {"id": 2, "name": None, "score": 7, "ok": False, "day": "1969-12-31", "ts": "1970-01-01T00:00:01Z",
         "tags": {"a": 1, "b": [True, None]}, "n": -9223372036854775808},
        "",  # blank lines are skipped
        {"n": 0, "id": 3, "name": "Zoë \"q\" ,\n日本"},
    ]
    path = write_jsonl(tmp_path / f"in{suffix}", objects, compress)
    run("import", ds, "--table", "t", "--input", path, "--primary-key", "id")
    types = read_csv(query(ds, "-c", "DESCRIBE t", "--format", "csv").out)
    assert [(r[0], r[1]) for r in types[1:]] == [
        ("id", "BIGINT"), ("name", "STRING"), ("score", "DOUBLE"), ("ok", "BOOLEAN"), ("day", "DATE"),
        ("ts", "TIMESTAMP"), ("tags", "STRING"), ("n", "BIGINT")]
    assert dump(ds) == [
        ["id", "name", "score", "ok", "day", "ts", "tags", "n"],
        ["1", "Ada", "9.5", "true", "2024-01-31", "2024-01-31 12:00:00.25", '["x","y"]', "12345678901234"],
        ["2", None, "7", "false", "1969-12-31", "1970-01-01 00:00:01", '{"a":1,"b":[true,null]}',
         "-9223372036854775808"],
        ["3", "Zoë \"q\" ,\n日本", None, None, None, None, None, "0"],
    ]


def test_declared_types_convert_and_errors_name_line_and_key(ds, tmp_path):
    schema = tmp_path / "t.sql"
    schema.write_text("CREATE TABLE t (id INT NOT NULL, amount DECIMAL(10,2), flag BOOLEAN, label STRING NOT NULL, "
                      "small TINYINT, PRIMARY KEY (id))")
    good = write_jsonl(tmp_path / "good.jsonl", [
        {"id": "7", "amount": 12.5, "flag": "true", "label": 42, "small": 127},
        {"id": 8, "amount": "0.01", "label": True, "small": -128},
    ])
    run("import", ds, "--table", "t", "--input", good, "--schema", schema)
    assert dump(ds)[1:] == [["7", "12.50", "true", "42", "127"], ["8", "0.01", None, "true", "-128"]]
    files = data_files(ds)
    cases = [
        ('{"id": 9, "label": "x", "small": 128}', "bad.jsonl:1: key 'small'"),
        ('{"id": 9, "label": "x", "amount": 123456789012.5}', "bad.jsonl:1: key 'amount'"),
        ('{"id": 9, "label": "x", "flag": 1}', "key 'flag': expected BOOLEAN, found an integer"),
        ('{"id": 9}', "bad.jsonl:1: key 'label' is missing but the column is NOT NULL"),
        ('{"id": 9, "label": null}', "key 'label' is null but the column is NOT NULL"),
        ('{"id": 9, "label": "x", "Amount": 1}', "key 'Amount' is not a column of the table (did you mean 'amount'?)"),
        ('{"id": 9, "label": "x", "label": "y"}', "key 'label' appears twice"),
        ('{"id": 9, "label": {"a": 1}, "small": [1]}', "key 'small': expected TINYINT, found an array"),
        ('{"id": 9, "label": "x"', "bad.jsonl:1: not valid JSON"),
        ('[1, 2]', "bad.jsonl:1: expected a JSON object, one per line"),
        ('{"id": 9, "label": "\xff"}', "bad.jsonl:1: not valid JSON"),
    ]
    for line, needle in cases:
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(line.encode("utf-8", errors="surrogateescape") if "\xff" not in line else
                        b'{"id": 9, "label": "\xff"}')
        r = run("import", ds, "--table", "t", "--input", bad, "--mode", "append", expect=1)
        assert needle in r.err, (line, r.err)
        assert live_version(ds) == 2 and data_files(ds) == files
    second = tmp_path / "two.jsonl"
    write_jsonl(second, [{"id": 10, "label": "a"}, "", "   ", {"id": "x", "label": "b"}])
    assert "two.jsonl:4: key 'id': cannot parse 'x' as INT" in run(
        "import", ds, "--table", "t", "--input", second, "--mode", "append", expect=1).err


def test_detection_directories_and_duplicates(ds, tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    write_jsonl(d / "part-0.jsonl", [{"id": 1, "v": "a"}])
    write_jsonl(d / "part-1.jsonl.gz", [{"v": "b", "id": 2}], "gzip")
    (d / "_SUCCESS").write_text("")
    run("import", ds, "--table", "t", "--input", d, "--primary-key", "id")
    assert dump(ds)[1:] == [["1", "a"], ["2", "b"]]
    odd = write_jsonl(tmp_path / "events.log", [{"id": 3, "v": "c"}])
    run("import", ds, "--table", "t", "--input", odd, "--format", "jsonl", "--mode", "append")
    assert len(dump(ds)) == 4
    mixed = run("import", ds, "--table", "t", "--input", d / "part-0.jsonl", tmp_path / "x.csv",
                "--mode", "append", expect=1)
    assert "the inputs mix formats" in mixed.err and "JSON Lines" in mixed.err
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"id": 1, "v": "again"}])
    assert "duplicate primary key (id)=(1): the row at " in run(
        "import", ds, "--table", "t", "--input", dup, "--mode", "append", expect=1).err
    assert "apply to CSV inputs" in run("import", ds, "--table", "t", "--input", dup, "--mode", "append",
                                        "--delimiter", ";", expect=1).err


def test_damaged_lines_never_crash(ds, tmp_path):
    base = json.dumps({"id": 1, "name": "x\u00e9", "n": [1, {"a": None}], "d": 1.5e300, "b": False})
    rng = random.Random(99)
    run("import", ds, "--table", "t", "--input", write_jsonl(tmp_path / "ok.jsonl", [base]), "--primary-key", "id")
    for i in range(40):
        data = bytearray(base.encode())
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 5 == 0:
            del data[rng.randrange(len(data)):]
        f = tmp_path / "m.jsonl"
        f.write_bytes(bytes(data) + b"\n")
        r = run("import", ds, "--table", "t", "--input", f, "--mode", "replace-table", "--primary-key", "id",
                "--allow-schema-change", expect=None)
        assert r.code in (0, 1), r
        assert "Sanitizer" not in r.err and "runtime error" not in r.err, r
        run("verify", ds)
