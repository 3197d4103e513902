"""retl-build import, dump, info, versions, verify, drop-*: behaviour and errors."""
import fcntl
import os
import pathlib
import threading
import time

import pytest

from conftest import data_files, live_version, query, read_csv, run, write_csv

PEOPLE_HEADER = ["id", "name", "score", "joined", "seen", "active", "region"]
PEOPLE = [
    ["3", "Zoë", "1.5", "2024-02-29", "2024-03-01 10:00:00", "true", "eu"],
    ["1", 'He said "hi", then left', "-0.25", "1999-12-31", "2000-01-01 00:00:00.5", "false", "us"],
    ["2", "", None, None, None, None, "eu"],
    ["10", "multi\nline", "1e10", "2026-11-24", "2026-11-24 06:00:00", "true", None],
]


def canonical_people():
    """PEOPLE as dump writes it: sorted by region (NULL first) then id, canonical values."""
    return [
        ["10", "multi\nline", "1e+10", "2026-11-24", "2026-11-24 06:00:00", "true", None],
        ["2", "", None, None, None, None, "eu"],
        ["3", "Zoë", "1.5", "2024-02-29", "2024-03-01 10:00:00", "true", "eu"],
        ["1", 'He said "hi", then left', "-0.25", "1999-12-31", "2000-01-01 00:00:00.5", "false",
         "us"],
    ]


def test_import_infers_schema_and_round_trips(ds, tmp_path):
    src = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, PEOPLE)
    r = run("import", ds, "--table", "people", "--input", src, "--primary-key", "id",
            "--partition-by", "region", "--message", "first")
    assert "committed version 2" in r.out
    dump = run("dump", ds, "--table", "people").out
    rows = read_csv(dump)
    assert rows[0] == PEOPLE_HEADER
    assert rows[1:] == canonical_people()
    info = run("info", ds).out
    assert "table people: 4 rows, 3 partitions" in info
    assert "primary key:    id" in info and "partitioned by: region" in info
    for column, type_name in [("id", "BIGINT"), ("score", "DOUBLE"), ("joined", "DATE"),
                              ("seen", "TIMESTAMP"), ("active", "BOOLEAN"), ("name", "STRING")]:
        assert any(line.split()[:2] == [column, type_name] for line in info.splitlines()), info
    run("verify", ds)


def test_dump_of_dump_is_identical(ds, tmp_path):
    src = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, PEOPLE)
    run("import", ds, "--table", "people", "--input", src, "--primary-key", "id")
    first = run("dump", ds, "--table", "people").out
    again = tmp_path / "again.csv"
    again.write_text(first)
    run("import", ds, "--table", "people", "--input", again, "--mode", "replace-table",
        "--primary-key", "id")
    assert run("dump", ds, "--table", "people").out == first


def test_schema_file_with_every_type(ds, tmp_path):
    schema = tmp_path / "t.sql"
    schema.write_text("""
        -- every type
        CREATE TABLE t (
          k1 INT NOT NULL, k2 VARCHAR(20) NOT NULL,
          b BOOLEAN, i8 TINYINT, i16 SMALLINT, i64 BIGINT, f FLOAT, d DOUBLE PRECISION,
          small DECIMAL(10, 2), big NUMERIC(38, 6), bin BYTEA, dt DATE, ts TIMESTAMP,
          PRIMARY KEY (k1, k2)
        );""")
    header = ["k1", "k2", "b", "i8", "i16", "i64", "f", "d", "small", "big", "bin", "dt", "ts"]
    rows = [
        ["1", "a", "true", "-128", "32767", "-9223372036854775808", "0.5", "-1e-300",
         "-12345678.90", "12345678901234567890123456789012.345678", "\\x00ff10", "0001-01-01",
         "1970-01-01 00:00:00"],
        ["1", "b", "false", "127", "-32768", "9223372036854775807", "inf", "nan", "0.01",
         "-0.000001", "\\x", "9999-12-31", "2262-04-11 23:47:16.854775"],
        ["0", "z", None, None, None, None, None, None, None, None, None, None, None],
    ]
    src = write_csv(tmp_path / "t.csv", header, rows)
    run("import", ds, "--table", "t", "--input", src, "--schema", schema)
    out = read_csv(run("dump", ds, "--table", "t").out)
    assert out[0] == header
    assert out[1] == rows[2]
    assert out[2] == rows[0]
    assert out[3] == rows[1]
    info = run("info", ds).out
    assert "DECIMAL(38,6)" in info and "BINARY" in info and "NOT NULL" in info
    run("verify", ds)


@pytest.mark.parametrize("compress,suffix", [("gzip", ".csv.gz"), ("zstd", ".csv.zst")])
def test_compressed_inputs(ds, tmp_path, compress, suffix):
    rows = [[str(i), f"name{i}"] for i in range(1000)]
    src = write_csv(tmp_path / ("in" + suffix), ["id", "name"], rows, compress=compress)
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id")
    assert "t: 1,000 rows" in run("info", ds).out or "table t: 1,000 rows" in run("info", ds).out


def test_many_inputs_and_custom_csv_options(ds, tmp_path):
    a = tmp_path / "a.tsv"
    a.write_text("1\tx\tNA\n2\ty\tz\n")
    b = tmp_path / "b.tsv"
    b.write_text("3\tNA\tq\n")
    schema = tmp_path / "s.sql"
    schema.write_text("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b TEXT)")
    run("import", ds, "--table", "t", "--input", a, b, "--schema", schema, "--no-header",
        "--delimiter", "\\t", "--null-marker", "NA")
    assert read_csv(run("dump", ds, "--table", "t").out) == [
        ["id", "a", "b"], ["1", "x", None], ["2", "y", "z"], ["3", None, "q"]]


def assert_nothing_committed(ds, version, files):
    assert live_version(ds) == version
    assert data_files(ds) == files
    assert sorted(p.name for p in (pathlib.Path(ds) / "manifests").iterdir()) == [
        f"{v:020d}.manifest" for v in range(1, version + 1)]
    run("verify", ds)


@pytest.mark.parametrize("content,needles", [
    ('id,name\n1,"unterminated\n', ["bad.csv:2", "quote"]),
    ("id,name\n1,a\n2,b,c\n", ["bad.csv:3", "expected 2 fields, found 3"]),
    ("id,name\n1,a\nx,b\n", ["bad.csv:3", "column 'id'", "cannot parse 'x' as BIGINT"]),
    ("id,name\n1,a\n1,b\n", ["duplicate primary key (id)=(1)", "bad.csv:2", "bad.csv:3"]),
    ("id,name\n1,a\n,b\n", ["bad.csv:3", "'id'", "NULL"]),
    ("id,nom\n1,a\n", ["bad.csv", "nom"]),
    ("", ["bad.csv"]),
])
def test_bad_input_commits_nothing(ds, tmp_path, content, needles):
    good = write_csv(tmp_path / "good.csv", ["id", "name"], [["5", "e"]])
    run("import", ds, "--table", "t", "--input", good, "--schema", schema_file(tmp_path))
    files = data_files(ds)
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    r = run("import", ds, "--table", "t", "--input", bad, "--mode", "replace-table",
            "--schema", schema_file(tmp_path), expect=1)
    assert r.err.startswith("retl-build: error: "), r
    for needle in needles:
        assert needle in r.err, r
    assert_nothing_committed(ds, 2, files)


def schema_file(tmp_path):
    p = tmp_path / "t.sql"
    p.write_text("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT)")
    return p


def test_errors_against_the_existing_table(ds, tmp_path):
    src = write_csv(tmp_path / "a.csv", ["id", "name"], [["1", "a"], ["2", "b"]])
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id")
    files = data_files(ds)
    # create on an existing table
    r = run("import", ds, "--table", "t", "--input", src, "--primary-key", "id", expect=1)
    assert "already exists" in r.err and "--mode" in r.err
    # append of an existing key
    dup = write_csv(tmp_path / "dup.csv", ["id", "name"], [["7", "x"], ["2", "y"]])
    r = run("import", ds, "--table", "t", "--input", dup, "--mode", "append", expect=1)
    assert "duplicate primary key (id)=(2)" in r.err and "dup.csv:3" in r.err, r
    # schema mismatch
    other = tmp_path / "other.sql"
    other.write_text("CREATE TABLE t (id INT PRIMARY KEY, name TEXT)")
    r = run("import", ds, "--table", "t", "--input", src, "--mode", "append", "--schema", other,
            expect=1)
    assert "does not match the schema" in r.err and "replace-table" in r.err
    # column missing from the header
    thin = write_csv(tmp_path / "thin.csv", ["id"], [["9"]])
    r = run("import", ds, "--table", "t", "--input", thin, "--mode", "append", expect=1)
    assert "thin.csv" in r.err and "name" in r.err
    # unknown table, unknown mode, missing input file
    r = run("import", ds, "--table", "nope", "--input", src, "--mode", "append", expect=1)
    assert "table 'nope' does not exist" in r.err
    r = run("import", ds, "--table", "t", "--input", src, "--mode", "merge", expect=1)
    assert "unknown --mode 'merge'" in r.err
    r = run("import", ds, "--table", "t", "--input", tmp_path / "missing.csv", "--mode", "append",
            expect=1)
    assert "missing.csv" in r.err
    r = run("import", ds, "--table", "t", "--input", src, "--mode", "append",
            "--partition", "x", expect=1)
    assert "partitioned" in r.err
    assert_nothing_committed(ds, 2, files)


def test_usage_errors_exit_2(ds):
    assert run("import", ds, expect=2).code == 2
    assert run("frobnicate", expect=2).code == 2
    r = run("info", pathlib.Path(ds).parent / "nowhere", expect=1)
    assert "does not exist" in r.err
    r = run("info", pathlib.Path(ds).parent, expect=1)
    assert "not a rETL dataset" in r.err and "retl-build init" in r.err


def test_partition_modes_versions_and_time_travel(ds, tmp_path):
    rows = [[str(i), f"n{i}", ["eu", "us", "apac"][i % 3]] for i in range(30)]
    src = write_csv(tmp_path / "all.csv", ["id", "name", "region"], rows)
    run("import", ds, "--table", "c", "--input", src, "--primary-key", "id",
        "--partition-by", "region")
    # Replace only 'eu' with new rows; the file has no region column.
    eu = write_csv(tmp_path / "eu.csv", ["id", "name"], [["100", "new"], ["101", "newer"]])
    r = run("import", ds, "--table", "c", "--input", eu, "--mode", "replace-partition",
            "--partition", "eu", "--message", "eu refresh")
    assert "committed version 3" in r.out
    eu_rows = read_csv(run("dump", ds, "--table", "c", "--partition", "eu").out)
    assert eu_rows == [["id", "name", "region"], ["100", "new", "eu"], ["101", "newer", "eu"]]
    # Rows for another partition are refused when --partition is given.
    wrong = write_csv(tmp_path / "wrong.csv", ["id", "name", "region"], [["200", "x", "us"]])
    r = run("import", ds, "--table", "c", "--input", wrong, "--mode", "replace-partition",
            "--partition", "eu", expect=1)
    assert "wrong.csv:2" in r.err and "'us'" in r.err
    # Replace the partitions present in the input.
    us = write_csv(tmp_path / "us.csv", ["id", "name", "region"], [["300", "u", "us"]])
    run("import", ds, "--table", "c", "--input", us, "--mode", "replace-partition")
    app = write_csv(tmp_path / "app.csv", ["id", "name", "region"], [["400", "a", "latam"]])
    run("import", ds, "--table", "c", "--input", app, "--mode", "append")
    run("drop-partition", ds, "--table", "c", "--partition", "apac")
    r = run("drop-partition", ds, "--table", "c", "--partition", "apac", expect=1)
    assert "no partition 'apac'" in r.err
    info = run("info", ds).out
    assert "table c: 4 rows, 3 partitions" in info, info
    versions = run("versions", ds).out
    assert "eu refresh" in versions and "6*" in versions
    # Old versions stay readable, by number and by time.
    assert len(read_csv(run("dump", ds, "--table", "c", "--version", "2").out)) == 31
    assert "version:  3 (not live; live is 6)" in run("info", ds, "--version", "3").out
    assert "version:  6 (live)" in run("info", ds, "--as-of", "2999-01-01 00:00:00").out
    r = run("info", ds, "--as-of", "2000-01-01 00:00:00", expect=1)
    assert "no version" in r.err and "oldest" in r.err
    r = run("info", ds, "--version", "99", expect=1)
    assert "version 99" in r.err
    run("verify", ds, "--all")
    run("drop-table", ds, "--table", "c")
    assert "tables:   0" in run("info", ds).out
    r = run("dump", ds, "--table", "c", expect=1)
    assert "no table 'c'" in r.err


def test_second_writer_fails_or_waits(ds, tmp_path):
    src = write_csv(tmp_path / "a.csv", ["id"], [["1"]])
    with open(pathlib.Path(ds) / "LOCK", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = run("import", ds, "--table", "t", "--input", src, "--primary-key", "id", expect=1)
        assert "another writer" in r.err and "--wait" in r.err
        threading.Timer(1.0, lambda: fcntl.flock(lock, fcntl.LOCK_UN)).start()
        start = time.monotonic()
        run("import", ds, "--table", "t", "--input", src, "--primary-key", "id", "--wait")
        assert time.monotonic() - start >= 0.9
    assert live_version(ds) == 2


def test_verify_reports_damage_by_file(ds, tmp_path):
    rows = [[str(i), f"name{i}"] for i in range(5000)]
    src = write_csv(tmp_path / "a.csv", ["id", "name"], rows)
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id")
    seg = pathlib.Path(ds) / "data" / [f for f in data_files(ds) if f.endswith(".seg")][0]
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x40
    seg.write_bytes(bytes(data))
    r = run("verify", ds, expect=1)
    assert seg.name in r.out and "checksum" in r.out, r
    assert "failed verification" in r.err
    r = run("dump", ds, "--table", "t", expect=None)
    assert r.code == 1 and seg.name in r.err and "checksum" in r.err, r
    seg.write_bytes(bytes(data[: len(data) // 3]))
    r = run("dump", ds, "--table", "t", expect=1)
    assert seg.name in r.err


def test_reference_sample_imports_and_verifies(tmp_path):
    from conftest import GEN
    csv_path = tmp_path / "customers.csv"
    import subprocess
    subprocess.run([str(GEN), "--rows", "20000", "--seed", "7", "--output", str(csv_path)],
                   check=True)
    ds = tmp_path / "ds"
    run("init", ds)
    run("import", ds, "--table", "customers", "--input", csv_path, "--primary-key",
        "customer_id", "--partition-by", "region")
    info = run("info", ds).out
    assert "table customers: 20,000 rows, 8 partitions" in info, info
    run("verify", ds)
    dump = read_csv(run("dump", ds, "--table", "customers").out)
    assert len(dump) == 20001
    original = read_csv(csv_path.read_text())
    assert sorted(dump[0]) == sorted(original[0])
    # Same multiset of rows (dump orders by region, then customer_id), with
    # columns reordered to the header and values compared as canonical text.
    idx = [original[0].index(c) for c in dump[0]]
    def norm(row):
        # DOUBLE values dump in shortest form ("12.30" -> "12.3"): compare numbers as numbers.
        def canon(v):
            if v is None:
                return ("null",)
            try:
                return ("n", float(v))
            except ValueError:
                return ("s", v)
        return tuple(canon(v) for v in row)
    dumped = sorted(norm(r) for r in dump[1:])
    orig = sorted(norm([r[i] for i in idx]) for r in original[1:])
    mismatches = [(a, b) for a, b in zip(dumped, orig) if a != b]
    assert not mismatches[:3], mismatches[:3]


def test_partition_flag_is_enforced_in_every_mode(ds, tmp_path):
    base = write_csv(tmp_path / "a.csv", ["id", "region"], [["1", "EU"], ["2", "US"]])
    run("import", ds, "--table", "t", "--input", base, "--primary-key", "id",
        "--partition-by", "region")
    mixed = write_csv(tmp_path / "b.csv", ["id", "region"], [["5", "EU"], ["6", "US"]])
    for mode in ("append", "replace-partition"):
        r = run("import", ds, "--table", "t", "--input", mixed, "--mode", mode,
                "--partition", "EU", expect=1)
        assert "b.csv:3" in r.err and "'US'" in r.err and "only partition 'EU'" in r.err, r
    assert live_version(ds) == 2


def test_null_partition_and_the_text_null_are_different(ds, tmp_path):
    src = write_csv(tmp_path / "a.csv", ["id", "region"], [["3", "NULL"], ["4", None], ["5", "x"]])
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id",
        "--partition-by", "region")
    info = run("info", ds).out
    assert "(NULL)" in info and " NULL " in info, info
    assert read_csv(run("dump", ds, "--table", "t", "--partition", "NULL").out)[1:] == [["3", "NULL"]]
    assert read_csv(run("dump", ds, "--table", "t", "--null-partition").out)[1:] == [["4", None]]
    run("drop-partition", ds, "--table", "t", "--null-partition")
    assert read_csv(run("dump", ds, "--table", "t").out)[1:] == [["3", "NULL"], ["5", "x"]]
    run("drop-partition", ds, "--table", "t", "--partition", "NULL")
    assert read_csv(run("dump", ds, "--table", "t").out)[1:] == [["5", "x"]]
    r = run("drop-partition", ds, "--table", "t", "--null-partition", expect=1)
    assert "no partition (NULL)" in r.err


def test_dump_error_writes_nothing(ds, tmp_path):
    src = write_csv(tmp_path / "a.csv", ["id", "region"], [["1", "EU"]])
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id",
        "--partition-by", "region")
    r = run("dump", ds, "--table", "t", "--partition", "nope", expect=1)
    assert r.out == "" and "no partition 'nope'" in r.err, r
    r = run("dump", ds, "--table", "t", "--columns", "id,zzz", expect=1)
    assert r.out == "" and "no column 'zzz'" in r.err, r


def column_types(ds, table="t"):
    out = run("info", ds).out
    return {line.split()[0]: line.split()[1] for line in out.splitlines()
            if line.startswith("    ") and len(line.split()) > 1}


@pytest.mark.parametrize("late, expected", [
    ("yes", "STRING"),        # not a boolean to inference, though reading would take it
    ("1.5", "DOUBLE"),        # past the sample, the sampled BIGINT does not hold
    ("2024-01-02", "STRING"),  # nor does DOUBLE
])
def test_types_inferred_from_a_sample_are_those_of_all_records(ds, tmp_path, late, expected):
    # Over 4 MiB, so the types come from a sample of the first records, and
    # the record that decides comes after it.
    path = tmp_path / "big.csv"
    n = 300_000
    with open(path, "w") as f:
        f.write("id,flag,num,ratio,empty_early\n")
        for i in range(n):
            last = i == n - 1
            flag = late if last and expected == "STRING" and late == "yes" else ("true" if i % 2 else "false")
            num = late if last and late == "1.5" else str(i)
            ratio = late if last and late == "2024-01-02" else f"{i / 7:.3f}"
            f.write(f"{i},{flag},{num},{ratio},{i if i > n - 10 else ''}\n")
    assert path.stat().st_size > 4 << 20
    run("import", ds, "--table", "t", "--input", path, "--primary-key", "id")
    types = column_types(ds)
    assert types["empty_early"] == "BIGINT"
    want = {"flag": "BOOLEAN", "num": "BIGINT", "ratio": "DOUBLE"}
    want[{"yes": "flag", "1.5": "num", "2024-01-02": "ratio"}[late]] = expected
    for column, t in want.items():
        assert types[column] == t, (column, types)
    # The values are all there, as one full inference would have read them.
    out = query(ds, "-c", "SELECT count(*), count(empty_early) FROM t").out
    assert f"{n}" in out and "9" in out


def whole_numbers_then(tmp_path, last_record):
    """A CSV (id,v) of 500,000 whole-number records, well past the 4 MiB sample, then `last_record`."""
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("id,v\n")
        for i in range(500_000):
            f.write(f"{i},{i}\n")
        f.write(last_record + "\n")
    return path


def test_bad_record_after_the_sample_reports_as_before(ds, tmp_path):
    path = whole_numbers_then(tmp_path, "500000,1,extra")
    r = run("import", ds, "--table", "t", "--input", path, "--primary-key", "id", expect=1)
    assert f"{path}:500002: expected 2 fields, found 3" in r.err
    assert live_version(ds) == 1


def test_replace_table_compares_the_schema_of_all_records(ds, tmp_path):
    # The sample says BIGINT, a later record makes it DOUBLE, as the table
    # already is: no schema change, so no --allow-schema-change needed.
    path = whole_numbers_then(tmp_path, "500000,0.5")
    run("import", ds, "--table", "t", "--input", path, "--primary-key", "id")
    assert column_types(ds)["v"] == "DOUBLE"
    run("import", ds, "--table", "t", "--input", path, "--primary-key", "id", "--mode", "replace-table")
    assert live_version(ds) == 3
