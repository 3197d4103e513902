"""Randomised CSV -> import -> dump round trips over every type.

Values are generated in canonical text (FORMAT.md §4.2), so dump must return
exactly the input rows, in primary-key order.
"""
import datetime
import random

import pytest

from conftest import read_csv, run, write_csv

SCHEMA = """CREATE TABLE r (
  k1 BIGINT NOT NULL, k2 TEXT NOT NULL,
  b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE,
  dec_small DECIMAL(10, 2), dec_big DECIMAL(38, 6), s TEXT, bin BYTEA, dt DATE, ts TIMESTAMP,
  PRIMARY KEY (k1, k2))"""
COLUMNS = ["k1", "k2", "b", "i8", "i16", "i32", "i64", "f", "d", "dec_small", "dec_big", "s",
           "bin", "dt", "ts"]
ALPHABET = ["a", "Z", " ", ",", '"', "\n", "\r\n", "é", "日本", "😀", "\\", "'", "\t"]
EPOCH = datetime.datetime(1970, 1, 1)


def decimal_text(unscaled, scale):
    sign = "-" if unscaled < 0 else ""
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}" if scale else f"{sign}{digits}"


def double_text(rng):
    special = rng.random()
    if special < 0.05:
        return rng.choice(["inf", "-inf", "nan", "0", "-0"])
    v = rng.randint(-10**8, 10**8) / 100
    t = repr(v)
    return t[:-2] if t.endswith(".0") else t


def timestamp_text(micros):
    t = EPOCH + datetime.timedelta(microseconds=micros)
    text = t.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0")
    if t.microsecond:
        text += "." + f"{t.microsecond:06d}".rstrip("0")
    return text


def random_value(rng, column):
    if column in ("b",):
        return rng.choice(["true", "false"])
    bounds = {"i8": 7, "i16": 15, "i32": 31, "i64": 63}
    if column in bounds:
        n = bounds[column]
        return str(rng.choice([-(2**n), 2**n - 1, 0, rng.randint(-(2**n), 2**n - 1)]))
    if column == "f":
        return rng.choice(["0.5", "-2.25", "1.5", "3.75", "1e+10", "inf", "-inf", "nan", "0"])
    if column == "d":
        return double_text(rng)
    if column == "dec_small":
        return decimal_text(rng.choice([10**10 - 1, -(10**10 - 1), rng.randint(-10**9, 10**9)]), 2)
    if column == "dec_big":
        return decimal_text(rng.choice([10**38 - 1, -(10**38 - 1), rng.randint(-10**30, 10**30)]), 6)
    if column == "s":
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
    if column == "bin":
        return "\\x" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 8))).hex()
    if column == "dt":
        day = rng.choice([datetime.date(1, 1, 1), datetime.date(9999, 12, 31),
                          datetime.date(1, 1, 1) + datetime.timedelta(days=rng.randrange(3652058))])
        return day.isoformat().rjust(10, "0")
    if column == "ts":
        lo = -62135596800000000
        hi = 253402300799999999
        return timestamp_text(rng.choice([lo, hi, rng.randint(lo, hi), rng.randint(0, 10**6) * 10**6]))
    raise AssertionError(column)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_rows_round_trip_exactly(tmp_path, seed):
    rng = random.Random(seed)
    rows, keys = [], set()
    while len(rows) < 700:
        key = (rng.randint(-5, 5) * 10**17, "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 3))))
        if key in keys:
            continue
        keys.add(key)
        row = [str(key[0]), key[1]]
        for column in COLUMNS[2:]:
            row.append(None if rng.random() < 0.15 else random_value(rng, column))
        rows.append(row)
    src = write_csv(tmp_path / "in.csv", COLUMNS, rows)
    schema = tmp_path / "r.sql"
    schema.write_text(SCHEMA)
    ds = tmp_path / "ds"
    run("init", ds)
    run("import", ds, "--table", "r", "--input", src, "--schema", schema, "--block-rows", "64")
    out = read_csv(run("dump", ds, "--table", "r").out)
    assert out[0] == COLUMNS
    expected = sorted(rows, key=lambda r: (int(r[0]), r[1].encode()))
    for got, want in zip(out[1:], expected):
        assert got == want
    assert len(out) - 1 == len(expected)
    run("verify", ds)
