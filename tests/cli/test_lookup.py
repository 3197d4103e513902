"""retl-query --lookup: point lookups by primary key and secondary index.

Datasets are built with retl-build (secondary indexes from `--index` or an
INDEX clause in the schema); every output format is checked byte for byte.
"""
import json
import shutil

import pytest

from conftest import ROOT, query, run, write_csv

SCHEMA = """CREATE TABLE customers (
  customer_id BIGINT PRIMARY KEY,
  name TEXT, email TEXT, score DOUBLE, balance DECIMAL(10, 2), joined DATE,
  seen TIMESTAMP, active BOOLEAN, avatar BYTEA, region TEXT,
  INDEX (email),
  INDEX by_region (region)
)"""
HEADER = ["customer_id", "name", "email", "score", "balance", "joined", "seen", "active",
          "avatar", "region"]
ROWS = [
    ["1", "Ann", "ann@x.io", "1.5", "12.5", "2024-01-31", "2024-02-01 10:00:00", "true",
     "\\x00ff", "eu"],
    ["2", 'Bob "B", Jr.', "bob@x.io", "-0.25", "-0.05", "1999-12-31", "2000-01-01 00:00:00.5",
     "false", "\\x", "us"],
    ["3", "Zoë\tx\ny\x01", "shared@x.io", "1e10", "0", "2026-11-24", "2026-11-24 06:00:00", "true",
     "\\x0a", "eu"],
    ["4", "", "shared@x.io", "inf", None, None, None, None, None, None],
    ["5", None, None, "nan", None, None, None, None, None, "us"],
]
# Keys out of primary-key order: output follows the keys.
KEYS = ["2", "1", "3", "4", "5"]

EXPECTED_CSV = (
    "customer_id,name,email,score,balance,joined,seen,active,avatar,region\n"
    '2,"Bob ""B"", Jr.",bob@x.io,-0.25,-0.05,1999-12-31,2000-01-01 00:00:00.5,false,\\x,us\n'
    "1,Ann,ann@x.io,1.5,12.50,2024-01-31,2024-02-01 10:00:00,true,\\x00ff,eu\n"
    '3,"Zoë\tx\ny\x01",shared@x.io,1e+10,0.00,2026-11-24,2026-11-24 06:00:00,true,\\x0a,eu\n'
    '4,"",shared@x.io,inf,,,,,,\n'
    "5,,,nan,,,,,,us\n")

EXPECTED_OBJECTS = [
    r'{"customer_id":2,"name":"Bob \"B\", Jr.","email":"bob@x.io","score":-0.25,'
    r'"balance":"-0.05","joined":"1999-12-31","seen":"2000-01-01 00:00:00.5","active":false,'
    r'"avatar":"\\x","region":"us"}',
    r'{"customer_id":1,"name":"Ann","email":"ann@x.io","score":1.5,"balance":"12.50",'
    r'"joined":"2024-01-31","seen":"2024-02-01 10:00:00","active":true,"avatar":"\\x00ff",'
    r'"region":"eu"}',
    r'{"customer_id":3,"name":"Zoë\tx\ny\u0001","email":"shared@x.io","score":1e+10,'
    r'"balance":"0.00","joined":"2026-11-24","seen":"2026-11-24 06:00:00","active":true,'
    r'"avatar":"\\x0a","region":"eu"}',
    r'{"customer_id":4,"name":"","email":"shared@x.io","score":"inf","balance":null,'
    r'"joined":null,"seen":null,"active":null,"avatar":null,"region":null}',
    r'{"customer_id":5,"name":null,"email":null,"score":"nan","balance":null,"joined":null,'
    r'"seen":null,"active":null,"avatar":null,"region":"us"}',
]
EXPECTED_JSONL = "".join(o + "\n" for o in EXPECTED_OBJECTS)
EXPECTED_JSON = "[\n" + ",\n".join(EXPECTED_OBJECTS) + "\n]\n"

EXPECTED_TABLE = r""" customer_id | name          | email       | score | balance | joined     | seen                  | active | avatar | region
-------------+---------------+-------------+-------+---------+------------+-----------------------+--------+--------+--------
           2 | Bob "B", Jr.  | bob@x.io    | -0.25 |   -0.05 | 1999-12-31 | 2000-01-01 00:00:00.5 | false  | \x     | us
           1 | Ann           | ann@x.io    |   1.5 |   12.50 | 2024-01-31 | 2024-02-01 10:00:00   | true   | \x00ff | eu
           3 | Zoë\tx\ny\x01 | shared@x.io | 1e+10 |    0.00 | 2026-11-24 | 2026-11-24 06:00:00   | true   | \x0a   | eu
           4 |               | shared@x.io |   inf |    NULL | NULL       | NULL                  | NULL   | NULL   | NULL
           5 | NULL          | NULL        |   nan |    NULL | NULL       | NULL                  | NULL   | NULL   | us
(5 rows)
"""


@pytest.fixture
def customers(ds, tmp_path):
    """A dataset with table customers (version 2), indexes email and by_region."""
    schema = tmp_path / "customers.sql"
    schema.write_text(SCHEMA)
    src = write_csv(tmp_path / "customers.csv", HEADER, ROWS)
    run("import", ds, "--table", "customers", "--input", src, "--schema", schema)
    return ds


def lookup(ds, table, *keys, expect=0, **flags):
    args = [ds, "--lookup", table, *keys]
    for name, value in flags.items():
        args += ["--" + name.replace("_", "-"), value]
    return query(*args, expect=expect)


# --- hits, misses, key order -------------------------------------------------

def test_primary_key_hit(customers):
    r = lookup(customers, "customers", "1", format="csv", columns="customer_id,name,email")
    assert r.out == "customer_id,name,email\n1,Ann,ann@x.io\n"
    assert r.err == ""


def test_primary_key_miss_is_reported_not_an_error(customers):
    r = lookup(customers, "customers", "99", format="csv", columns="customer_id")
    assert r.out == "customer_id\n"
    assert r.err == "retl-query: key 99: not found\n"
    r = lookup(customers, "customers", "99", columns="customer_id")
    assert r.out == " customer_id\n-------------\n(0 rows)\n"
    assert lookup(customers, "customers", "99", format="json").out == "[]\n"
    assert lookup(customers, "customers", "99", format="jsonl").out == ""


def test_several_keys_in_argument_order_with_misses(customers):
    r = lookup(customers, "customers", "5", "98", "1", "1", "99", format="csv",
               columns="customer_id,region")
    assert r.out == "customer_id,region\n5,us\n1,eu\n1,eu\n"
    assert r.err == "retl-query: key 98: not found\nretl-query: key 99: not found\n"


def test_fail_on_missing_exits_3_and_still_prints_the_hits(customers):
    r = query(customers, "--lookup", "customers", "1", "99", "--format", "csv", "--columns",
              "customer_id", "--fail-on-missing", expect=3)
    assert r.out == "customer_id\n1\n"
    assert "key 99: not found" in r.err
    query(customers, "--lookup", "customers", "1", "--fail-on-missing")


def test_negative_key_is_a_key_not_a_flag(ds, tmp_path):
    src = write_csv(tmp_path / "t.csv", ["k", "v"], [["-5", "minus"], ["5", "plus"]])
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "k")
    assert lookup(ds, "t", "-5", format="csv").out == "k,v\n-5,minus\n"


# --- every output format, byte for byte -------------------------------------

@pytest.mark.parametrize("fmt,expected", [
    ("csv", EXPECTED_CSV),
    ("json", EXPECTED_JSON),
    ("jsonl", EXPECTED_JSONL),
    ("table", EXPECTED_TABLE),
])
def test_output_formats_exactly(customers, fmt, expected):
    r = lookup(customers, "customers", *KEYS, format=fmt)
    assert r.out == expected
    assert r.err == ""


def test_table_is_the_default_format(customers):
    assert lookup(customers, "customers", *KEYS).out == EXPECTED_TABLE


def test_json_output_parses_with_the_right_types(customers):
    rows = json.loads(lookup(customers, "customers", *KEYS, format="json").out)
    assert [r["customer_id"] for r in rows] == [2, 1, 3, 4, 5]
    assert rows[0]["name"] == 'Bob "B", Jr.' and rows[2]["name"] == "Zoë\tx\ny\x01"
    assert rows[1]["active"] is True and rows[0]["active"] is False and rows[3]["active"] is None
    assert rows[2]["score"] == 1e10 and rows[3]["score"] == "inf"
    assert rows[1]["balance"] == "12.50"
    lines = lookup(customers, "customers", *KEYS, format="jsonl").out.splitlines()
    assert [json.loads(line) for line in lines] == rows


def test_json_numbers_of_every_numeric_type(ds, tmp_path):
    schema = tmp_path / "n.sql"
    schema.write_text("CREATE TABLE n (k SMALLINT PRIMARY KEY, i8 TINYINT, i32 INT, f FLOAT, "
                      "d DOUBLE, big DECIMAL(38, 6), whole DECIMAL(5, 0))")
    src = write_csv(tmp_path / "n.csv", ["k", "i8", "i32", "f", "d", "big", "whole"], [
        ["-32768", "-128", "2147483647", "0.1", "-0", "12345678901234567890123456789012.345678",
         "-7"],
        ["1", "127", "0", "-inf", "1e-07", "-0.000001", "0"]])
    run("import", ds, "--table", "n", "--input", src, "--schema", schema)
    r = lookup(ds, "n", "-32768", "1", format="jsonl")
    assert r.out == (
        '{"k":-32768,"i8":-128,"i32":2147483647,"f":0.1,"d":-0,'
        '"big":"12345678901234567890123456789012.345678","whole":"-7"}\n'
        '{"k":1,"i8":127,"i32":0,"f":"-inf","d":1e-07,"big":"-0.000001","whole":"0"}\n')
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert rows[0]["f"] == pytest.approx(0.1) and rows[1]["d"] == 1e-07


def test_csv_output_imports_back(customers, tmp_path):
    out = tmp_path / "back.csv"
    out.write_text(lookup(customers, "customers", "1", "2", "3", "4", "5", format="csv").out)
    schema = tmp_path / "customers.sql"
    run("import", customers, "--table", "customers", "--input", out, "--schema", schema,
        "--mode", "replace-table")
    assert lookup(customers, "customers", *KEYS, format="csv").out == EXPECTED_CSV


# --- projection ----------------------------------------------------------------

def test_columns_projection_in_the_order_given(customers):
    r = lookup(customers, "customers", "4", "1", format="csv", columns="region,customer_id,name")
    assert r.out == 'region,customer_id,name\n,4,""\neu,1,Ann\n'
    r = lookup(customers, "customers", "1", format="jsonl", columns="balance")
    assert r.out == '{"balance":"12.50"}\n'


# --- secondary indexes -----------------------------------------------------------

def test_secondary_index_returns_every_matching_row(customers):
    r = lookup(customers, "customers", "shared@x.io", "ann@x.io", "nobody@x.io", index="email",
               format="csv", columns="customer_id,email")
    assert r.out == "customer_id,email\n3,shared@x.io\n4,shared@x.io\n1,ann@x.io\n"
    assert r.err == "retl-query: key nobody@x.io: not found\n"
    r = lookup(customers, "customers", "eu", "us", index="by_region", format="csv",
               columns="customer_id")
    assert r.out == "customer_id\n1\n3\n2\n5\n"


def test_null_values_are_not_indexed(customers):
    # Row 4 has a NULL region; the empty string is not NULL.
    r = lookup(customers, "customers", "", index="by_region", format="csv", columns="customer_id")
    assert r.out == "customer_id\n"
    assert "not found" in r.err


def test_import_index_flag_builds_named_indexes(ds, tmp_path):
    src = write_csv(tmp_path / "p.csv", ["id", "first", "last", "email"], [
        ["1", "Ann", "Lee", "a@x"], ["2", "Bob", "Lee", "b@x"], ["3", "Ann", "Lee", "c@x"],
        ["4", "Ann", "Ray", "a@x"]])
    run("import", ds, "--table", "p", "--input", src, "--primary-key", "id", "--index", "email",
        "--index", "first,last")
    r = lookup(ds, "p", "a@x", index="email", format="csv", columns="id")
    assert r.out == "id\n1\n4\n"
    r = lookup(ds, "p", "Ann,Lee", "Ann,Ray", index="first_last", format="csv", columns="id")
    assert r.out == "id\n1\n3\n4\n"


# --- composite keys ------------------------------------------------------------

@pytest.fixture
def orders(ds, tmp_path):
    schema = tmp_path / "orders.sql"
    schema.write_text("""CREATE TABLE orders (
        order_id BIGINT NOT NULL, day DATE NOT NULL, total DECIMAL(10, 2), status TEXT,
        PRIMARY KEY (order_id, day))""")
    src = write_csv(tmp_path / "orders.csv", ["order_id", "day", "total", "status"], [
        ["42", "2024-01-31", "10", "paid"], ["42", "2024-02-01", "5.5", "open"],
        ["7", "2024-01-31", None, None]])
    run("import", ds, "--table", "orders", "--input", src, "--schema", schema)
    return ds


def test_composite_primary_key(orders):
    r = lookup(orders, "orders", "42,2024-02-01", "7,2024-01-31", "42,2024-03-01", format="csv")
    assert r.out == "order_id,day,total,status\n42,2024-02-01,5.50,open\n7,2024-01-31,,\n"
    assert r.err == "retl-query: key 42,2024-03-01: not found\n"


@pytest.mark.parametrize("key,found", [("42", 1), ("42,2024-01-31,x", 3)])
def test_composite_key_with_the_wrong_number_of_values(orders, key, found):
    r = lookup(orders, "orders", "42,2024-01-31", key, format="csv", expect=1)
    assert r.out == ""
    assert r.err.startswith("retl-query: error: key '" + key + "'"), r
    assert "primary key (order_id, day) of table 'orders'" in r.err, r
    assert f"expected 2 comma-separated values, one per key column, found {found}" in r.err, r


def test_composite_key_with_quoted_string_values(ds, tmp_path):
    schema = tmp_path / "n.sql"
    schema.write_text("CREATE TABLE n (name TEXT NOT NULL, n INT NOT NULL, v TEXT, "
                      "PRIMARY KEY (name, n))")
    src = write_csv(tmp_path / "n.csv", ["name", "n", "v"], [
        ["Smith, John", "3", "comma"], ['say "hi"', "1", "quotes"], ['5\'11"', "2", "inch"],
        ["", "0", "empty"]])
    run("import", ds, "--table", "n", "--input", src, "--schema", schema)
    r = lookup(ds, "n", '"Smith, John",3', '"say ""hi""",1', '5\'11",2', ",0", '"",0',
               format="csv", columns="v")
    assert r.out == "v\ncomma\nquotes\ninch\nempty\nempty\n"
    r = lookup(ds, "n", '"unterminated,3', expect=1)
    assert "key '\"unterminated,3'" in r.err and "not closed" in r.err, r
    r = lookup(ds, "n", '"a"b,3', expect=1)
    assert "after the closing quote" in r.err, r


def test_single_column_key_is_verbatim(ds, tmp_path):
    src = write_csv(tmp_path / "s.csv", ["k", "v"], [['a,"b"', "1"]])
    run("import", ds, "--table", "s", "--input", src, "--primary-key", "k")
    assert lookup(ds, "s", 'a,"b"', format="csv", columns="v").out == "v\n1\n"


# --- versions ------------------------------------------------------------------

def test_version_reads_an_old_snapshot(customers, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][1] = "Anne"
    src = write_csv(tmp_path / "v3.csv", HEADER, rows)
    run("import", customers, "--table", "customers", "--input", src,
        "--schema", tmp_path / "customers.sql", "--mode", "replace-table")
    assert lookup(customers, "customers", "1", format="csv", columns="name").out == "name\nAnne\n"
    r = query(customers, "--lookup", "customers", "1", "--format", "csv", "--columns", "name",
              "--version", "2")
    assert r.out == "name\nAnn\n"
    r = query(customers, "--lookup", "customers", "1", "--format", "csv", "--columns", "name",
              "--as-of", "9999-12-31 23:59:59")
    assert r.out == "name\nAnne\n"
    # Version 1 (init) has no tables.
    r = query(customers, "--lookup", "customers", "1", "--version", "1", expect=1)
    assert r.out == "" and "customers" in r.err
    r = query(customers, "--lookup", "customers", "1", "--version", "9", expect=1)
    assert r.out == "" and "9" in r.err
    r = query(customers, "--lookup", "customers", "1", "--as-of", "1999-01-01", expect=1)
    assert r.out == ""


# --- errors ---------------------------------------------------------------------

def test_bad_key_text(customers):
    r = lookup(customers, "customers", "1", "abc", format="csv", expect=1)
    assert r.out == ""
    assert r.err.startswith("retl-query: error: key 'abc': "), r
    assert "BIGINT" in r.err, r


def test_unknown_table(customers):
    r = lookup(customers, "nope", "1", expect=1)
    assert r.out == ""
    assert "'nope'" in r.err and "customers" in r.err, r


def test_unknown_index(customers):
    r = lookup(customers, "customers", "1", index="nope", expect=1)
    assert r.out == ""
    assert "'nope'" in r.err and "email" in r.err and "by_region" in r.err, r


def test_unknown_column(customers):
    r = lookup(customers, "customers", "1", columns="name,nope", expect=1)
    assert r.out == ""
    assert "'nope'" in r.err and "customer_id" in r.err, r


def test_not_a_dataset(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = query(empty, "--lookup", "t", "1", expect=1)
    assert r.out == "" and r.err.startswith("retl-query: error: ") and "empty" in r.err, r
    r = query(tmp_path / "missing", "--lookup", "t", "1", expect=1)
    assert r.out == "" and "missing" in r.err, r


def test_usage_errors(customers):
    # Keys without --lookup: a usage error pointing at -c for SQL.
    r = query(customers, "42", expect=2)
    assert "--lookup" in r.err and "-c" in r.err, r
    r = query(customers, "-c", "SELECT 1", "--index", "email", expect=2)
    assert "--lookup" in r.err, r
    r = query(customers, "--lookup", "customers", expect=2)
    assert "KEY" in r.err, r
    query(customers, "--lookup", "customers", "1", "--format", "xml", expect=2)
    query(customers, "--lookup", "customers", "1", "--version", "2", "--as-of", "2024-01-01",
          expect=2)
    query("--lookup", "customers", "1", expect=2)
    r = query("--help")
    assert "--fail-on-missing" in r.out and "Exit status" in r.out


# --- datasets written before indexes existed --------------------------------------

def test_golden_v1_dataset_without_index_files(tmp_path):
    golden = ROOT / "tests" / "golden" / "v1"
    ds = tmp_path / "ds"
    shutil.copytree(golden / "customers_ds", ds)
    dump = (golden / "customers.dump.csv").read_text().splitlines(keepends=True)
    r = lookup(ds, "customers", dump[2].split(",")[0], dump[1].split(",")[0], format="csv")
    assert r.out == dump[0] + dump[2] + dump[1]
