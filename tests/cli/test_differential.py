"""Differential test: random SQL on the same rows in rETL DB and in SQLite (issue 4).

Data: a seeded generator writes 3,000 rows shaped like WORKLOAD.md's `customers` table plus a
DECIMAL(12,2) `balance` column, with edge cases: NULL in every column but the key and email, a
NULL and a '' partition, negative and zero numbers, -0.0, '' strings, repeated values, duplicate
emails, spaces, quotes, '%', '_' and ';' inside values, letters outside ASCII (Latin-1, Cyrillic),
fractional-second timestamps, extreme keys. rETL gets them through `retl-build import` with a
CREATE TABLE schema (BIGINT PRIMARY KEY, INDEX (email), INDEX (segment), PARTITION BY (region),
128-row blocks so that block skipping has blocks to skip) in three versions - create with two
thirds of the rows, append the rest, replace the emea partition - so partitions hold several
segments and `AS OF VERSION 2/3` has history to read. SQLite (python's sqlite3, in memory) gets
the same rows: DATE and TIMESTAMP as canonical ISO text, BOOLEAN as 0/1, DOUBLE and DECIMAL as
REAL, and version 2's rows as a second table.

Queries: fixed ones (WORKLOAD.md's Q1..Q8 and hand-picked edges, FIXED_QUERIES) and N_QUERIES
generated ones: projections, WHERE, global aggregates, GROUP BY/HAVING, DISTINCT, ORDER BY/LIMIT,
index probes, partition pruning, time travel. Each is built in both dialects at once. rETL runs
them in batches (one retl-query process per BATCH statements on stdin, `--format json`: one JSON
array per statement); every query is also EXPLAINed (every 4th with EXPLAIN ANALYZE, whose row
total must equal the query's) to count index probes, pruned partitions and skipped blocks.

PostgreSQL semantics are the reference; SQLite is only the oracle, so the SQLite text differs
where SQLite does (checked once against PostgreSQL 15 on 16,000 generated queries: only the
lower/upper difference below remained):
  DATE 'x' / TIMESTAMP 'x'   -> 'x';  TRUE / FALSE -> 1 / 0 (answers: true/false -> 1/0)
  DATE meeting TIMESTAMP     -> (d || ' 00:00:00') (PostgreSQL's implicit cast, canonical text)
  x::DOUBLE, CAST(x AS DOUBLE), CAST(x AS DECIMAL(p,s)) -> CAST(x AS REAL);
  x::STRING, CAST(x AS TEXT) of an integer -> CAST(x AS TEXT); of a DATE or TIMESTAMP -> x;
  of a BOOLEAN -> CASE ... 'true' / 'false';  CAST(d AS TIMESTAMP) -> d || ' 00:00:00';
  CAST(ts AS DATE) -> substr(ts, 1, 10);  CAST(b AS INT) -> CAST(b AS INTEGER);
  CAST(i AS BOOLEAN) -> (i <> 0);  sign(INT) -> sign(CAST(i AS REAL)) (sign(double precision))
  a IS [NOT] DISTINCT FROM b -> a IS [NOT] b
  LIKE                       -> LIKE with PRAGMA case_sensitive_like = ON; PostgreSQL's default
                                escape '\\' -> ESCAPE '\\'
  a ILIKE p                  -> pg_lower(a) LIKE pg_lower(p)
  lower / upper              -> pg_lower / pg_upper: ASCII and Latin-1 letters (U+00C0..U+00DE
                                <-> U+00E0..U+00FE but for the multiplication and division
                                signs), rETL's documented choice (docs/sql.md). PostgreSQL's own
                                answer depends on LC_CTYPE (C: ASCII only; a UTF-8 locale: every
                                letter); the data keeps Cyrillic and ÿ to pin the choice down.
  concat(a, ...)             -> coalesce(a, '') || ...
  starts_with(s, p)          -> substr(s, 1, length(p)) = p;  contains(s, p) -> instr(s, p) > 0;
  strpos -> instr;  char_length -> length;  substring -> substr;  btrim(s, c) -> trim(s, c)
  greatest / least (NULL arguments ignored), left / right (negative counts), reverse,
  ends_with, octet_length, cbrt, extract / date_part, date_trunc, date +/- integer,
  date - date, +/- INTERVAL  -> Python UDFs (pg_greatest, ..., pg_add_interval) returning
                                canonical text
  stddev(x)                  -> pg_stddev (a Python aggregate: sample standard deviation)
  OFFSET n without LIMIT, LIMIT ALL -> LIMIT -1 [OFFSET n]
  ORDER BY without NULLS     -> explicit NULLS LAST for ASC, NULLS FIRST for DESC (PostgreSQL's
                                default; SQLite's is the opposite)
  AS OF VERSION 2            -> the customers_v2 table; AS OF VERSION 3 -> customers

Answers: the same row count; rows in order where ORDER BY is total (the generator adds LIMIT /
OFFSET only then), else as multisets; NULL equals only NULL; integers and text exactly; where
either side has a double, math.isclose(rel_tol=1e-9, abs_tol=1e-7) (sum, avg and stddev depend
on the order of addition, and SQLite holds DECIMAL as REAL). DECIMAL columns come from rETL as
strings with the column's scale and are compared as floats. Invalid UTF-8 in rETL's output is
kept (as lone surrogates) so that it shows up as a difference.

Left out on purpose, and why:
- Division or % by anything but a non-zero literal: division by zero is an error in PostgreSQL
  and rETL, NULL in SQLite. % of DOUBLE or DECIMAL: an error in PostgreSQL / integer % in SQLite.
- Integer overflow: PostgreSQL and rETL fail, SQLite goes to REAL; the generator bounds every
  integer expression inside INT / BIGINT (and sums inside BIGINT), and DECIMAL casts inside their
  precision.
- DECIMAL arithmetic outside select items and sum/avg/min/max (so not in WHERE, ORDER BY,
  GROUP BY, DISTINCT or count(DISTINCT)): exact in PostgreSQL and rETL, rounded in SQLite's REAL,
  so ties and equalities could differ (floor(-1433.60 + 4640.6) is 3207, in REAL 3208).
- min / max / sum / avg of BOOLEAN (no such aggregates in PostgreSQL); NOT of a non-boolean, and
  booleans compared with < or > (SQLite accepts both).
- CAST of DOUBLE to an integer (PostgreSQL rounds half to even, SQLite truncates) or to text
  (different shortest forms), CAST of text to numbers (errors in PostgreSQL), CAST of BIGINT to
  BOOLEAN (PostgreSQL casts only INT), round() (PostgreSQL's round(float8) is half-even).
- substr with a start below 1 or a negative length (SQLite counts from the right / backwards).
- Backslashes in the data (PostgreSQL's default LIKE escape).
- Mixed-type comparisons beyond integer/DOUBLE/DECIMAL, DATE/TIMESTAMP and the quoted literals
  PostgreSQL converts ('12345' for a BIGINT, '2024-01-01' for a DATE).
- extract(second / epoch) (fractional in PostgreSQL), interval results (timestamp - timestamp),
  current_date (moves), approx_count_distinct (approximate), GROUP BY ALL (no SQLite form), exp()
  of anything but churn_score (overflow is an error in PostgreSQL), NaN and infinities (SQLite
  has no NaN).
- LIMIT / OFFSET without a total order; ORDER BY a float aggregate under LIMIT.

On a difference the test fails with the seed, the query's number, both texts, both answers and a
retl-query command line; RETL_DIFF_SEED=<seed> RETL_DIFF_QUERIES=<n> reproduce the corpus. A
difference that an entry of KNOWN_ENGINE_BUGS recognises is counted and printed, not failed;
delete the entry once the engine is fixed. Run with -rA to see the summary line (query count,
plans, timings).
"""
import collections
import concurrent.futures
import datetime
import functools
import json
import math
import os
import random
import re
import shlex
import sqlite3
import subprocess
import time

from conftest import RETL_QUERY, run

SEED = int(os.environ.get("RETL_DIFF_SEED", "20261124"))
N_QUERIES = int(os.environ.get("RETL_DIFF_QUERIES", "2000"))
N_ROWS = 3000
BLOCK_ROWS = 128
BATCH = 400  # statements per retl-query process (each query is sent as EXPLAIN q; q)

# Mismatches the engine is known to produce (PostgreSQL semantics are the reference). Each entry
# has a name, what is wrong, and how to recognise it: `error`, a substring of the error rETL
# reports for the query, and/or `matches`, a predicate on the query's rETL text. A mismatch that
# an entry recognises is counted (and listed in the summary line), not failed. Delete the entry
# once the engine is fixed: the test then fails if the bug is still there.
_STR = r"'(?:[^']|'')*'"
_ARGS = rf"(?:[^()']|{_STR}|\((?:[^()']|{_STR}|\((?:[^()']|{_STR})*\))*\))*"
_TRIM_NON_ASCII = re.compile(rf"trim\({_ARGS}, '[^']*[^\x00-\x7f][^']*'\)")

KNOWN_ENGINE_BUGS = [
]


# ----------------------------------------------------------------------------------------------
# Data

COUNTRIES = [  # (country, region), most common first (Zipf-weighted below)
    ("US", "north america"), ("DE", "emea"), ("GB", "emea"), ("IN", "apac"), ("FR", "emea"),
    ("CA", "north america"), ("BR", "latam"), ("JP", "apac"), ("AU", "oceania"),
    ("MX", "latam"), ("ES", "emea"), ("KR", "apac"), ("NG", "africa"), ("EG", "mena"),
    ("NZ", "oceania"), ("us", "north america"), ("Côte d'Ivoire", "africa"),
    ("São Tomé", "africa"), ("Россия", "emea"), ("Ísland", "emea"), (" US", "north america"),
    ("", "unknown"),
]
PLANS = [("free", 50), ("starter", 25), ("pro", 15), ("business", 7), ("enterprise", 3),
         ("Pro", 1), ("pro plus", 1), ("", 1)]
COLUMNS = [("customer_id", "bigint"), ("email", "string"), ("country", "string"),
           ("region", "string"), ("plan", "string"), ("signup_date", "date"),
           ("last_seen", "ts"), ("ltv", "double"), ("orders", "int"),
           ("churn_score", "double"), ("segment", "int"), ("is_active", "bool"),
           ("balance", "decimal")]
COLTYPE = dict(COLUMNS)
SCHEMA = ("CREATE TABLE customers (customer_id BIGINT PRIMARY KEY, email STRING NOT NULL, "
          "country STRING, region STRING, plan STRING, signup_date DATE, last_seen TIMESTAMP, "
          "ltv DOUBLE, orders INT, churn_score DOUBLE, segment INT, is_active BOOLEAN, "
          "balance DECIMAL(12,2), "
          "INDEX (email), INDEX (segment)) PARTITION BY (region);\n")
SQLITE_SCHEMA = ("CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, email TEXT NOT NULL, "
                 "country TEXT, region TEXT, plan TEXT, signup_date TEXT, last_seen TEXT, "
                 "ltv REAL, orders INTEGER, churn_score REAL, segment INTEGER, is_active INTEGER, "
                 "balance REAL)")


def ts_text(dt):
    """rETL's canonical TIMESTAMP text: fraction only when not zero, trailing zeros removed."""
    s = (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} "
         f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}")
    if dt.microsecond:
        s += ("." + f"{dt.microsecond:06d}").rstrip("0")
    return s


def make_rows(rng, n):
    """Rows as dicts of Python values (None = NULL); doubles also keep their CSV text."""
    weights = [1 / (k + 1) ** 1.1 for k in range(15)] + [0.01] * (len(COUNTRIES) - 15)
    base = datetime.date(2018, 1, 1)
    span = (datetime.date(2026, 10, 31) - base).days
    rows, emails, ids = [], [], set()
    specials = {1: 0, 2: -1, 3: -(2 ** 40), 4: 2 ** 40 + 7, 5: 12346}
    for i in range(n):
        cid = specials.get(i, (i * 2654435761 + 12345) % 2 ** 40)
        assert cid not in ids
        ids.add(cid)
        r = rng.random()
        if r < 0.01 and emails:
            email = rng.choice(emails)                      # duplicate
        elif r < 0.015:
            email = ""
        elif r < 0.02:
            email = rng.choice(["  spaced user@example.com ", "José.Núñez@exämple.com",
                                f"UPPER{i}@EXAMPLE{i % 7}.COM", f"o'brien{i}@example.com",
                                f"first_last{i}%@example.com", "ÀÉÎÕÜ@ÿ.com", "жук@пример.рф",
                                f"semi;colon{i}@example.com"])
        else:
            email = f"user{i}@example{i % 97}.com"
        emails.append(email)
        if rng.random() < 0.07:
            country, region = None, rng.choice([None, None, "unknown", ""])
        else:
            country, region = rng.choices(COUNTRIES, weights)[0]
            if rng.random() < 0.02:
                region = None
        plan = None if rng.random() < 0.06 else rng.choices(
            [p for p, _ in PLANS], [w for _, w in PLANS])[0]
        r = rng.random()
        if r < 0.06:
            signup = None
        elif r < 0.065:
            signup = rng.choice([datetime.date(1999, 12, 31), datetime.date(2000, 2, 29),
                                 datetime.date(2030, 12, 31), datetime.date(2024, 2, 29)])
        else:  # rows are stored in key order: a signup date that follows the key gives blocks
            # narrow signup_date / last_seen ranges, so block skipping has something to skip
            d = min(max(cid % 2 ** 40 * span // 2 ** 40 + rng.randint(-60, 60), 0), span)
            signup = base + datetime.timedelta(days=d)
        r = rng.random()
        if r < 0.03:
            last_seen = None
        else:
            start = datetime.datetime.combine(signup or datetime.date(2022, 6, 1), datetime.time())
            last_seen = start + datetime.timedelta(days=rng.randint(0, 900),
                                                   seconds=rng.randint(0, 86399))
            if rng.random() < 0.05:
                last_seen += datetime.timedelta(
                    microseconds=rng.choice([500000, 123456, 1, 250000, 999999]))
        r = rng.random()
        if r < 0.08:
            ltv = None
        elif r < 0.11:
            ltv = "0.00"
        elif r < 0.13:
            ltv = f"{-rng.uniform(0, 500):.2f}"
        elif r < 0.133:
            ltv = "-0.00"
        elif r < 0.16:
            ltv = "100.00"
        else:
            ltv = f"{math.exp(rng.gauss(4, 1.2)):.2f}"
        r = rng.random()
        if r < 0.06:
            orders = None
        elif r < 0.08:
            orders = -rng.randint(1, 5)
        elif r < 0.18:
            orders = 0
        else:
            orders = min(int(rng.expovariate(1 / 10)), 200)
        r = rng.random()
        if r < 0.06:
            churn = None
        elif r < 0.08:
            churn = "0.0000"
        elif r < 0.09:
            churn = "1.0000"
        elif r < 0.10:
            churn = f"{-rng.random():.4f}"
        else:
            churn = f"{rng.random():.4f}"
        r = rng.random()
        segment = None if r < 0.05 else (-rng.randint(1, 3) if r < 0.06 else rng.randint(0, 99))
        r = rng.random()
        active = None if r < 0.08 else rng.random() < 0.7
        r = rng.random()
        balance = (None if r < 0.07 else "0.00" if r < 0.10 else "10.00" if r < 0.13 else
                   rng.choice(["0.01", "-0.01", "0.10", "9999999999.99", "-0.00"]) if r < 0.14 else
                   f"{-rng.uniform(0, 2000):.2f}" if r < 0.18 else f"{rng.uniform(0, 50000):.2f}")
        rows.append(dict(customer_id=cid, email=email, country=country, region=region, plan=plan,
                         signup_date=signup, last_seen=last_seen, ltv=ltv, orders=orders,
                         churn_score=churn, segment=segment, is_active=active, balance=balance))
    return rows


def csv_field(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.datetime):
        return ts_text(v)
    if isinstance(v, datetime.date):
        return v.isoformat()
    s = str(v)
    if s == "" or any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def sqlite_value(col, v):
    if v is None:
        return None
    t = COLTYPE[col]
    if t == "bool":
        return 1 if v else 0
    if t in ("double", "decimal"):
        return float(v)
    if t == "ts":
        return ts_text(v)
    if t == "date":
        return v.isoformat()
    return v


# ----------------------------------------------------------------------------------------------
# SQLite: PostgreSQL's functions where SQLite has none or differs

@functools.lru_cache(maxsize=None)
def _fold(s, upper):
    """rETL's lower/upper (docs/sql.md): ASCII and the Latin-1 letters whose other case is in
    Latin-1 (U+00C0..U+00DE <-> U+00E0..U+00FE, not U+00D7 / U+00F7); nothing else changes."""
    if s is None:
        return None
    out = []
    for c in s:
        o = ord(c)
        if o < 0x80:
            c = c.upper() if upper else c.lower()
        elif upper and 0xE0 <= o <= 0xFE and o != 0xF7:
            c = chr(o - 0x20)
        elif not upper and 0xC0 <= o <= 0xDE and o != 0xD7:
            c = chr(o + 0x20)
        out.append(c)
    return "".join(out)


def _parse(v):
    return datetime.datetime.fromisoformat(v)  # DATE or canonical TIMESTAMP text


def _add_months(dt, months):
    total = dt.year * 12 + dt.month - 1 + months
    y, m = divmod(total, 12)
    m += 1
    last = (datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return dt.replace(year=y, month=m, day=min(dt.day, last))


@functools.lru_cache(maxsize=None)
def pg_date_add(d, n):
    if d is None or n is None:
        return None
    return (datetime.date.fromisoformat(d) + datetime.timedelta(days=n)).isoformat()


@functools.lru_cache(maxsize=None)
def pg_date_diff(a, b):
    if a is None or b is None:
        return None
    return (datetime.date.fromisoformat(a) - datetime.date.fromisoformat(b)).days


@functools.lru_cache(maxsize=None)
def pg_add_interval(v, n, unit):
    if v is None:
        return None
    dt = _parse(v)
    if unit == "month":
        dt = _add_months(dt, n)
    elif unit == "year":
        dt = _add_months(dt, 12 * n)
    else:
        dt += datetime.timedelta(**{unit + "s": n})
    return ts_text(dt)


@functools.lru_cache(maxsize=None)
def pg_extract(field, v):
    if v is None:
        return None
    dt = _parse(v)
    return {"year": dt.year, "quarter": (dt.month - 1) // 3 + 1, "month": dt.month,
            "day": dt.day, "dow": (dt.weekday() + 1) % 7, "isodow": dt.isoweekday(),
            "doy": dt.timetuple().tm_yday, "week": dt.isocalendar()[1], "hour": dt.hour,
            "minute": dt.minute}[field]


@functools.lru_cache(maxsize=None)
def pg_date_trunc(unit, v):
    if v is None:
        return None
    dt = _parse(v)
    if unit == "year":
        dt = datetime.datetime(dt.year, 1, 1)
    elif unit == "quarter":
        dt = datetime.datetime(dt.year, (dt.month - 1) // 3 * 3 + 1, 1)
    elif unit == "month":
        dt = datetime.datetime(dt.year, dt.month, 1)
    elif unit == "week":
        dt = datetime.datetime(dt.year, dt.month, dt.day) - datetime.timedelta(days=dt.weekday())
    elif unit == "day":
        dt = datetime.datetime(dt.year, dt.month, dt.day)
    elif unit == "hour":
        dt = datetime.datetime(dt.year, dt.month, dt.day, dt.hour)
    return ts_text(dt)


def _nonnull(args):
    return [a for a in args if a is not None]


def pg_greatest(*args):  # PostgreSQL ignores NULL arguments; SQLite's max(a, b) does not
    vals = _nonnull(args)
    return max(vals) if vals else None


def pg_least(*args):
    vals = _nonnull(args)
    return min(vals) if vals else None


def pg_left(s, n):
    if s is None or n is None:
        return None
    return s[:n] if n >= 0 else s[:max(len(s) + n, 0)]


def pg_right(s, n):
    if s is None or n is None:
        return None
    return (s[-n:] if n > 0 else "") if n >= 0 else s[-n:]


def pg_ends_with(s, suffix):
    return None if s is None or suffix is None else int(s.endswith(suffix))


def pg_cbrt(x):
    return None if x is None else math.cbrt(x)


def pg_reverse(s):
    return None if s is None else s[::-1]


def pg_octet_length(s):
    return None if s is None else len(s.encode())


class PgStddev:
    def __init__(self):
        self.xs = []

    def step(self, x):
        if x is not None:
            self.xs.append(float(x))

    def finalize(self):
        n = len(self.xs)
        if n < 2:
            return None
        mean = math.fsum(self.xs) / n
        return math.sqrt(math.fsum((x - mean) ** 2 for x in self.xs) / (n - 1))


def open_sqlite(rows, v2_rows):
    """The live rows as `customers`, version 2's as `customers_v2`."""
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA case_sensitive_like = ON")
    cols = [c for c, _ in COLUMNS]
    for table, part in [("customers", rows), ("customers_v2", v2_rows)]:
        db.execute(SQLITE_SCHEMA.replace("customers", table))
        db.execute(f"CREATE INDEX {table}_email ON {table} (email)")
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})",
                       [[sqlite_value(c, r[c]) for c in cols] for r in part])
    for name, n, fn in [("pg_lower", 1, lambda s: _fold(s, False)),
                        ("pg_upper", 1, lambda s: _fold(s, True)),
                        ("pg_date_add", 2, pg_date_add), ("pg_date_diff", 2, pg_date_diff),
                        ("pg_add_interval", 3, pg_add_interval), ("pg_extract", 2, pg_extract),
                        ("pg_date_trunc", 2, pg_date_trunc), ("pg_greatest", -1, pg_greatest),
                        ("pg_least", -1, pg_least), ("pg_left", 2, pg_left),
                        ("pg_right", 2, pg_right), ("pg_ends_with", 2, pg_ends_with),
                        ("pg_cbrt", 1, pg_cbrt), ("pg_reverse", 1, pg_reverse),
                        ("pg_octet_length", 1, pg_octet_length)]:
        db.create_function(name, n, fn, deterministic=True)
    db.create_aggregate("pg_stddev", 1, PgStddev)
    return db


# ----------------------------------------------------------------------------------------------
# Query generator. Every expression is built in both dialects at once.

# Precedence levels: a child with a lower level than its context gets parentheses.
ATOM, CAST_P, UNARY, MUL, ADD, CONCAT = 100, 95, 90, 80, 70, 60
CMP, NOT_P, AND_P, OR_P = 50, 30, 20, 10
INT_MAX, BIGINT_MAX = 2 ** 31 - 1, 2 ** 62  # BIGINT kept a factor 2 below the real limit
NUMERIC = ("int", "bigint", "double", "decimal")


class X:
    """An expression: rETL text r, SQLite text s, type t, precedence p, integer bound b."""
    __slots__ = ("r", "s", "t", "p", "b", "agg")

    def __init__(self, r, s, t, p=ATOM, b=0, agg=False):
        self.r, self.s, self.t, self.p, self.b, self.agg = r, s, t, p, b, agg


_PARENS = random.Random(0)  # reseeded by Gen: redundant parentheses now and then


def par(x, minp):
    if x.p >= minp and _PARENS.random() >= 0.03:
        return x.r, x.s
    return f"({x.r})", f"({x.s})"


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def int_type(a, b, bound):
    t = "bigint" if "bigint" in (a.t, b.t) or bound > INT_MAX else "int"
    return t


def agg_of(*xs):
    return any(x.agg for x in xs)


def unify(*xs):
    """PostgreSQL's implicit DATE -> TIMESTAMP cast where DATE meets TIMESTAMP: the SQLite text
    of each DATE operand gets ' 00:00:00' (a canonical TIMESTAMP at midnight)."""
    if not any(x.t == "ts" for x in xs):
        return list(xs)
    return [X(x.r, f"({x.s} || ' 00:00:00')", "ts", x.p, x.b, x.agg) if x.t == "date" else x
            for x in xs]


_COLUMN_RE = re.compile(r"\b(" + "|".join(c for c, _ in COLUMNS) + r")\b")


_TOKENS = re.compile(r"'(?:[^']|'')*'|\s+|[^\s']+")


def has_column(x):
    """Whether x reads a column: a constant in ORDER BY / GROUP BY is an ordinal or an error."""
    return bool(_COLUMN_RE.search(re.sub(r"'(?:[^']|'')*'", "''", x.r)))


class Gen:
    def __init__(self, rng, rows):
        self.rng = rng
        self.pools = {c: sorted({r[c] for r in rows if r[c] is not None}, key=repr)
                      for c, _ in COLUMNS}
        self.features = collections.Counter()
        _PARENS.seed(rng.random())

    # --- literals -----------------------------------------------------------------------------
    def lit_int(self, lo=-10, hi=100):
        v = self.rng.randint(lo, hi)
        return X(str(v), str(v), "int" if abs(v) <= INT_MAX else "bigint",
                 UNARY if v < 0 else ATOM, abs(v))

    def lit_for(self, col, absent=0.15):
        """A literal of the column's type, usually one of its values."""
        rng, t = self.rng, COLTYPE[col]
        pool = self.pools[col]
        v = rng.choice(pool)
        if t in ("int", "bigint"):
            if rng.random() < absent:
                v = v + rng.choice([1, -1, 1000, 7])
            return X(str(v), str(v), "int" if abs(v) <= INT_MAX else "bigint",
                     UNARY if v < 0 else ATOM, abs(v))
        if t == "double":
            f = float(v)
            if rng.random() < absent:
                f = round(f + rng.choice([0.5, -0.25, 0.01]), 2)
            text = repr(f) if "e" not in repr(f) else f"{f:.6f}"
            if text == "-0.0":
                text = "0.0"
            return X(text, text, "decimal", UNARY if text.startswith("-") else ATOM)
        if t == "string":
            if rng.random() < absent:
                v = rng.choice(["zz", "", "user", "US ", "pro", "nobody@example.com", "ЖУК"])
            return X(quote(v), quote(v), "string")
        if t == "date":
            if rng.random() < absent:
                v = v + datetime.timedelta(days=rng.randint(-3, 3))
            return X(f"DATE '{v.isoformat()}'", f"'{v.isoformat()}'", "date")
        if t == "ts":
            text = ts_text(v)
            if rng.random() < absent:
                text = text[:10] + " 12:00:00"
            return X(f"TIMESTAMP '{text}'", f"'{text}'", "ts")
        if t == "bool":
            v = rng.random() < 0.5
            return X("TRUE" if v else "FALSE", "1" if v else "0", "bool")
        if t == "decimal":
            if rng.random() < absent:
                v = f"{float(v) + rng.choice([0.01, -1, 0.5]):.2f}"
            return X(v, v, "decimal", UNARY if v.startswith("-") else ATOM)
        raise AssertionError(t)

    def lit_like(self, x):
        """A literal comparable with expression x (x's own type)."""
        rng = self.rng
        if x.t in ("int", "bigint"):
            hi = max(5, min(x.b, 10 ** 6))
            v = rng.randint(-hi // 4, hi)
            return X(str(v), str(v), "int" if abs(v) <= INT_MAX else "bigint",
                     UNARY if v < 0 else ATOM, abs(v))
        if x.t == "double":
            v = round(rng.uniform(-50, 400), rng.choice([0, 1, 2]))
            text = repr(float(v))
            return X(text, text, "decimal", UNARY if v < 0 else ATOM)
        if x.t == "string":
            return self.lit_for(rng.choice(["email", "country", "region", "plan"]))
        if x.t == "date":
            return self.lit_for("signup_date")
        if x.t == "ts":
            return self.lit_for("last_seen")
        if x.t == "bool":
            return self.lit_for("is_active")
        if x.t == "decimal":
            text = f"{rng.uniform(-100, 5000):.{rng.choice([0, 1, 2])}f}"
            if "." not in text:
                text += ".0"
            return X(text, text, "decimal", UNARY if text.startswith("-") else ATOM)
        raise AssertionError(x.t)

    def cmp_lit(self, x):
        """A literal to compare x with: usually of x's type, sometimes one PostgreSQL converts
        (a decimal or out-of-INT-range integer for an integer, an integer or 1e3 for a double,
        DATE for TIMESTAMP and back) - the edges of index probes and block statistics."""
        rng = self.rng
        r = rng.random()
        if x.t in ("int", "bigint") and r < 0.2:
            self.features["cmp_lit_convert"] += 1
            if r < 0.1:
                v = rng.choice([3000000000, -3000000000, 9223372036854775807,
                                -9223372036854775807, 2147483647, -2147483648, 2147483648])
                return X(str(v), str(v), "bigint", UNARY if v < 0 else ATOM, abs(v))
            base = self.lit_for(x.r) if x.r in COLTYPE else self.lit_like(x)
            text = f"{base.r}.{rng.choice(['0', '5', '25'])}"
            return X(text, text, "decimal", base.p)
        if x.t == "double" and r < 0.15:
            self.features["cmp_lit_convert"] += 1
            text = rng.choice(["100", "0", "-1", "1e3", "1", "250", "2.5e-1"])
            return X(text, text, "int" if "e" not in text else "double",
                     UNARY if text.startswith("-") else ATOM, abs(int(float(text))))
        if x.t == "decimal" and r < 0.2:  # an integer, a double, more digits than the scale
            self.features["cmp_lit_convert"] += 1
            base = self.lit_for("balance").r
            text = rng.choice([base.split(".")[0], base + "1", base + "5", "1e3", "-0.001"])
            return X(text, text, "decimal" if "." in text else "double" if "e" in text else "int",
                     UNARY if text.startswith("-") else ATOM, 0)
        if x.t == "ts" and r < 0.25:
            self.features["date_vs_ts"] += 1
            return self.lit_for("signup_date")
        if x.t == "date" and r < 0.2:
            self.features["date_vs_ts"] += 1
            return self.lit_for("last_seen")
        return self.lit_for(x.r) if x.r in COLTYPE else self.lit_like(x)

    def column(self, t):
        cols = [c for c, ct in COLUMNS if ct == t or (t == "intlike" and ct in ("int", "bigint"))]
        c = self.rng.choice(cols)
        ct = COLTYPE[c]
        bound = {"customer_id": 2 ** 41, "orders": 250, "segment": 100}.get(c, 0)
        return X(c, c, ct, ATOM, bound)

    # --- typed expression generators ----------------------------------------------------------
    def expr(self, t, depth):
        return {"int": self.int_expr, "bigint": self.int_expr, "double": self.double_expr,
                "num": self.num_expr, "string": self.str_expr, "date": self.date_expr,
                "ts": self.ts_expr, "bool": self.pred, "decimal": self.decimal_expr}[t](depth)

    def num_expr(self, depth):
        return self.int_expr(depth) if self.rng.random() < 0.55 else self.double_expr(depth)

    def any_expr(self, depth):
        t = self.rng.choice(["int", "double", "string", "string", "date", "ts", "bool", "int",
                             "decimal"])
        # DECIMAL arithmetic is exact in rETL and PostgreSQL but not in SQLite's REAL: keep it
        # out of everything that compares values (WHERE, ORDER BY, GROUP BY, DISTINCT).
        return self.column("decimal") if t == "decimal" else self.expr(t, depth)

    def arith(self, op, a, b):
        level = MUL if op in ("*", "/", "%") else ADD
        (ar, as_), (br, bs) = par(a, level), par(b, level + 1)
        if "double" in (a.t, b.t):
            t, bound = "double", 0
        elif "decimal" in (a.t, b.t):
            t, bound = "decimal", 0
        else:
            bound = a.b * b.b if op == "*" else a.b + b.b
            t = int_type(a, b, bound)
            if bound > (INT_MAX if t == "int" else BIGINT_MAX):
                return None
        return X(f"{ar} {op} {br}", f"{as_} {op} {bs}", t, level, bound, agg_of(a, b))

    def int_expr(self, depth):
        rng = self.rng
        if depth > 0 and rng.random() < 0.08:
            return self.fn_int(depth)
        k = rng.randrange(12) if depth > 0 else rng.randrange(3)
        if k == 0:
            return self.column("intlike")
        if k == 1:
            return self.lit_int()
        if k == 2:
            return self.column("int")
        if k in (3, 4):
            self.features["arith_int"] += 1
            x = self.arith(rng.choice("+-*"), self.int_expr(depth - 1), self.int_expr(depth - 1))
            return x or self.column("int")
        if k == 5:
            self.features["div_mod"] += 1
            a = self.int_expr(depth - 1)
            d = rng.choice([7, 3, 2, -4, 10, 100, 1, -1] if a.b <= INT_MAX else [7, 3, 1000])
            op = rng.choice("/%")
            dx = X(str(d), str(d), "int", UNARY if d < 0 else ATOM, abs(d))
            ar, as_ = par(a, MUL)
            dr, ds = par(dx, MUL + 1)
            return X(f"{ar} {op} {dr}", f"{as_} {op} {ds}", a.t, MUL,
                     a.b if op == "/" else abs(d), a.agg)
        if k == 6:
            a = self.int_expr(depth - 1)
            if rng.random() < 0.5:
                ar, as_ = par(a, UNARY + 1)
                return X(f"-{ar}", f"-{as_}", a.t, UNARY, a.b, a.agg)
            return X(f"abs({a.r})", f"abs({a.s})", a.t, ATOM, a.b, a.agg)
        if k == 7:
            self.features["string_fn"] += 1
            s = self.str_expr(depth - 1)
            return X(f"length({s.r})", f"length({s.s})", "int", ATOM, 200, s.agg)
        if k == 8:
            return self.case_expr("int", depth)
        if k == 9:
            return self.coalesce_expr("int", depth)
        if k == 10:
            self.features["dates"] += 1
            if rng.random() < 0.7:
                src = self.date_expr(depth - 1) if rng.random() < 0.5 else self.ts_expr(depth - 1)
                fields = ["year", "quarter", "month", "day", "dow", "isodow", "doy", "week"]
                if src.t == "ts":
                    fields += ["hour", "minute"]
                f = rng.choice(fields)
                return X(f"extract({f} FROM {src.r})", f"pg_extract('{f}', {src.s})", "bigint",
                         ATOM, 10000, src.agg)
            a, b = self.date_expr(depth - 1), self.date_expr(depth - 1)
            ar, as_ = par(a, ADD)
            br, bs = par(b, ADD + 1)
            return X(f"{ar} - {br}", f"pg_date_diff({as_}, {bs})", "int", ADD, 100000,
                     agg_of(a, b))
        a = self.int_expr(depth - 1)
        lit = self.lit_like(a)
        return X(f"nullif({a.r}, {lit.r})", f"nullif({a.s}, {lit.s})", a.t, ATOM, a.b, a.agg)

    def greatest(self, t, depth):
        fn = self.rng.choice(["greatest", "least"])
        args = [self.expr(t, depth - 1) for _ in range(self.rng.randint(1, 3))]
        if t in ("int", "bigint"):
            t = "bigint" if any(a.t == "bigint" for a in args) else "int"
        return X(f"{fn}({', '.join(a.r for a in args)})",
                 f"pg_{fn}({', '.join(a.s for a in args)})", t, ATOM, max(a.b for a in args),
                 agg_of(*args))

    def fn_int(self, depth):
        rng = self.rng
        self.features["more_functions"] += 1
        k = rng.randrange(8)
        if k == 0:
            a = self.str_expr(depth - 1)
            sub = quote(self.like_source()[rng.randint(0, 3):][:rng.randint(0, 3)])
            return X(f"strpos({a.r}, {sub})", f"instr({a.s}, {sub})", "int", ATOM, 200, a.agg)
        if k == 1:
            a = self.str_expr(depth - 1)
            fn = rng.choice(["char_length", "octet_length"])
            lite = "length" if fn == "char_length" else "pg_octet_length"
            return X(f"{fn}({a.r})", f"{lite}({a.s})", "int", ATOM, 400, a.agg)
        if k == 2:
            return self.greatest("int", depth)
        if k == 3:
            a = self.str_expr(depth - 1)
            return X(f"length({a.r})", f"length({a.s})", "int", ATOM, 400, a.agg)
        if k == 4:
            self.features["dates"] += 1
            src = self.date_expr(depth - 1)
            f = rng.choice(["year", "month", "day", "dow", "doy", "quarter"])
            return X(f"date_part('{f}', {src.r})", f"pg_extract('{f}', {src.s})", "bigint", ATOM,
                     10000, src.agg)
        self.features["cast"] += 1
        if k == 5:
            a = self.int_expr(depth - 1)
            ar, _ = par(a, CAST_P + 1)
            return X(rng.choice([f"CAST({a.r} AS BIGINT)", f"{ar}::BIGINT"]),
                     f"CAST({a.s} AS INTEGER)", "bigint", CAST_P, a.b, a.agg)
        if k == 6:
            a = self.int_expr(depth - 1)
            if a.b > INT_MAX:
                a = self.column("int")
            return X(f"CAST({a.r} AS INT)", f"CAST({a.s} AS INTEGER)", "int", ATOM, a.b, a.agg)
        a = self.pred(depth - 1)
        return X(f"CAST({a.r} AS INT)", f"CAST({a.s} AS INTEGER)", "int", ATOM, 1, a.agg)

    def fn_double(self, depth):
        rng = self.rng
        self.features["more_functions"] += 1
        k = rng.randrange(8)
        a = self.double_expr(depth - 1)
        if k == 0:
            return X(f"sqrt(abs({a.r}))", f"sqrt(abs({a.s}))", "double", ATOM, 0, a.agg)
        if k == 1:
            return X(f"ln(abs({a.r}) + 1)", f"ln(abs({a.s}) + 1)", "double", ATOM, 0, a.agg)
        if k == 2:
            # |churn_score| <= 1: exp stays finite
            return X("exp(churn_score)", "exp(churn_score)", "double", ATOM, 0)
        if k == 3:
            return X(f"cbrt({a.r})", f"pg_cbrt({a.s})", "double", ATOM, 0, a.agg)
        if k == 4:
            fn = rng.choice(["trunc", "sign"])
            if fn == "sign" and rng.random() < 0.5:
                a = self.int_expr(depth - 1)  # sign(INT) is sign(DOUBLE) in PostgreSQL
                return X(f"sign({a.r})", f"sign(CAST({a.s} AS REAL))", "double", ATOM, 0, a.agg)
            return X(f"{fn}({a.r})", f"{fn}({a.s})", "double", ATOM, 0, a.agg)
        if k == 5:
            return X(f"power({a.r}, 2)", f"power({a.s}, 2)", "double", ATOM, 0, a.agg)
        return self.greatest("double", depth)

    def fn_str(self, depth):
        rng = self.rng
        self.features["more_functions"] += 1
        k = rng.randrange(8)
        if k == 0:
            a = self.str_expr(depth - 1)
            src = self.like_source()
            i = rng.randint(0, len(src))
            frm, to = quote(src[i:i + rng.randint(0, 3)]), quote(rng.choice(["", "X", "ÿ", "--"]))
            return X(f"replace({a.r}, {frm}, {to})", f"replace({a.s}, {frm}, {to})", "string",
                     ATOM, 0, a.agg)
        if k == 1:
            a = self.str_expr(depth - 1)
            return X(f"reverse({a.r})", f"pg_reverse({a.s})", "string", ATOM, 0, a.agg)
        if k == 2:
            a = self.str_expr(depth - 1)
            fn, n = rng.choice(["left", "right"]), rng.randint(-4, 8)
            return X(f"{fn}({a.r}, {n})", f"pg_{fn}({a.s}, {n})", "string", ATOM, 0, a.agg)
        if k == 3:
            a = self.str_expr(depth - 1)
            fn = rng.choice(["btrim", "ltrim", "rtrim"])
            chars = quote(rng.choice(["us", " .", "mo", "", "é"]))
            return X(f"{fn}({a.r}, {chars})", f"{'trim' if fn == 'btrim' else fn}({a.s}, {chars})",
                     "string", ATOM, 0, a.agg)
        if k == 4:
            a = self.str_expr(depth - 1)
            i, n = rng.randint(1, 6), rng.randint(0, 5)
            return X(f"substring({a.r}, {i}, {n})", f"substr({a.s}, {i}, {n})", "string", ATOM, 0,
                     a.agg)
        if k == 5:
            return self.greatest("string", depth)
        self.features["cast"] += 1
        if k == 6:
            a = self.pred(depth - 1)
            ar, as_ = par(a, NOT_P + 1)
            return X(f"CAST({a.r} AS STRING)",
                     f"CASE WHEN {as_} THEN 'true' WHEN NOT {as_} THEN 'false' END", "string",
                     ATOM, 0, a.agg)
        a = self.date_expr(depth - 1) if rng.random() < 0.5 else self.ts_expr(depth - 1)
        ar, _ = par(a, CAST_P + 1)
        return X(rng.choice([f"CAST({a.r} AS TEXT)", f"{ar}::STRING"]), a.s, "string", CAST_P, 0,
                 a.agg)

    def decimal_expr(self, depth):
        """DECIMAL arithmetic; only for select items and sum/avg/min/max (see any_expr)."""
        rng = self.rng
        if depth > 0 and rng.random() < 0.08:
            self.features["cast"] += 1
            a = self.int_expr(depth - 1)
            if a.b >= 10 ** 16:  # DECIMAL(18,2) holds 16 integer digits
                a = self.column("int")
            return X(f"CAST({a.r} AS DECIMAL(18,2))", f"CAST({a.s} AS REAL)", "decimal", ATOM, 0,
                     a.agg)
        k = rng.randrange(9) if depth > 0 else rng.randrange(2)
        self.features["decimal"] += 1
        if k == 0:
            return self.column("decimal")
        if k == 1:
            return self.lit_like(X("", "", "decimal"))
        if k in (2, 3):
            a = self.decimal_expr(depth - 1)
            b = rng.choice([lambda: self.decimal_expr(depth - 1), lambda: self.int_expr(depth - 1),
                            lambda: self.lit_like(a)])()
            if rng.random() < 0.5:
                a, b = b, a
            return self.arith(rng.choice("+-"), a, b) or self.column("decimal")
        if k == 4:
            a = self.decimal_expr(depth - 1)
            b = rng.choice([lambda: self.lit_int(-5, 20), lambda: self.column("int"),
                            lambda: X("1.5", "1.5", "decimal"),
                            lambda: X("0.25", "0.25", "decimal")])()
            return self.arith("*", a, b) or self.column("decimal")
        if k == 5:
            a = self.decimal_expr(depth - 1)
            if rng.random() < 0.5:
                ar, as_ = par(a, UNARY + 1)
                return X(f"-{ar}", f"-{as_}", "decimal", UNARY, 0, a.agg)
            fn = rng.choice(["abs", "floor", "ceil"])
            if fn != "abs":  # floor(-1433.60 + 4640.6) is 3207 exactly, 3208 in REAL arithmetic
                a = self.column("decimal")
            return X(f"{fn}({a.r})", f"{fn}({a.s})", "decimal", ATOM, 0, a.agg)
        if k == 6:
            return self.coalesce_expr("decimal", depth)
        if k == 7:
            return self.case_expr("decimal", depth)
        a = self.column("int")  # INT * DECIMAL literal is DECIMAL
        return self.arith("*", a, self.lit_like(X("", "", "decimal"))) or self.column("decimal")

    def double_expr(self, depth):
        rng = self.rng
        if depth > 0 and rng.random() < 0.1:
            return self.fn_double(depth)
        k = rng.randrange(10) if depth > 0 else 0
        if k == 0:
            return self.column("double")
        if k in (1, 2):
            self.features["arith_double"] += 1
            a = self.double_expr(depth - 1)
            b = self.num_expr(depth - 1) if rng.random() < 0.6 else self.lit_like(a)
            if rng.random() < 0.5:
                a, b = b, a
            if a.t == "decimal":  # keep a double on the left of a decimal literal's operator
                a, b = b, a
            return self.arith(rng.choice("+-*"), a, b) or self.column("double")
        if k == 3:
            self.features["div_mod"] += 1
            # DECIMAL / x is DOUBLE (docs/sql.md); PostgreSQL's numeric quotient differs from it
            # in the last bits only
            a = self.double_expr(depth - 1) if rng.random() < 0.8 else self.column("decimal")
            d = rng.choice(["7", "2", "-3", "0.5", "2.5", "100"])
            ar, as_ = par(a, MUL)
            dr = d if not d.startswith("-") else f"({d})"
            return X(f"{ar} / {dr}", f"{as_} / {dr}", "double", MUL, 0, a.agg)
        if k == 4:
            self.features["cast"] += 1
            a = self.int_expr(depth - 1) if rng.random() < 0.8 else self.column("decimal")
            if rng.random() < 0.5:
                ar, _ = par(a, CAST_P + 1)
                return X(f"{ar}::DOUBLE", f"CAST({a.s} AS REAL)", "double", CAST_P, 0, a.agg)
            return X(f"CAST({a.r} AS DOUBLE)", f"CAST({a.s} AS REAL)", "double", ATOM, 0, a.agg)
        if k == 5:
            a = self.double_expr(depth - 1)
            fn = rng.choice(["abs", "floor", "ceil", "-"])
            if fn == "-":
                ar, as_ = par(a, UNARY + 1)
                return X(f"-{ar}", f"-{as_}", "double", UNARY, 0, a.agg)
            return X(f"{fn}({a.r})", f"{fn}({a.s})", "double", ATOM, 0, a.agg)
        if k == 6:
            return self.case_expr("double", depth)
        if k == 7:
            return self.coalesce_expr("double", depth)
        if k == 8:
            a = self.double_expr(depth - 1)
            lit = self.lit_like(a)
            return X(f"nullif({a.r}, {lit.r})", f"nullif({a.s}, {lit.s})", "double", ATOM, 0, a.agg)
        # int + double mixes
        a, b = self.int_expr(depth - 1), self.double_expr(depth - 1)
        if rng.random() < 0.5:
            a, b = b, a
        return self.arith(rng.choice("+-*"), a, b) or self.column("double")

    def str_expr(self, depth):
        rng = self.rng
        if depth > 0 and rng.random() < 0.12:
            return self.fn_str(depth)
        k = rng.randrange(11) if depth > 0 else rng.randrange(2)
        if k == 0 or k == 1:
            if k == 0 or rng.random() < 0.7:
                return self.column("string")
            return self.lit_like(X("", "", "string"))
        self.features["string_fn"] += 1
        if k == 2:
            fn = rng.choice(["lower", "upper"])
            a = self.str_expr(depth - 1)
            return X(f"{fn}({a.r})", f"pg_{fn}({a.s})", "string", ATOM, 0, a.agg)
        if k == 3:
            a = self.str_expr(depth - 1)
            start = rng.randint(1, 8)
            if rng.random() < 0.3:
                return X(f"substr({a.r}, {start})", f"substr({a.s}, {start})", "string", ATOM, 0,
                         a.agg)
            n = rng.randint(0, 6)
            return X(f"substr({a.r}, {start}, {n})", f"substr({a.s}, {start}, {n})", "string",
                     ATOM, 0, a.agg)
        if k == 4:
            fn = rng.choice(["trim", "ltrim", "rtrim"])
            a = self.str_expr(depth - 1)
            return X(f"{fn}({a.r})", f"{fn}({a.s})", "string", ATOM, 0, a.agg)
        if k == 5:
            a, b = self.str_expr(depth - 1), self.str_expr(depth - 1)
            if rng.random() < 0.15:  # text || integer (PostgreSQL's anynonarray || text)
                b = self.column("intlike") if rng.random() < 0.7 else self.lit_int()
            ar, as_ = par(a, CONCAT)
            br, bs = par(b, CONCAT + 1)
            return X(f"{ar} || {br}", f"{as_} || {bs}", "string", CONCAT, 0, agg_of(a, b))
        if k == 6:
            parts = [self.str_expr(depth - 1) for _ in range(rng.randint(1, 3))]
            return X(f"concat({', '.join(p.r for p in parts)})",
                     "(" + " || ".join(f"coalesce({p.s}, '')" for p in parts) + ")",
                     "string", ATOM, 0, agg_of(*parts))
        if k == 7:
            return self.case_expr("string", depth)
        if k == 8:
            return self.coalesce_expr("string", depth)
        if k == 9:
            self.features["cast"] += 1
            a = self.int_expr(depth - 1)
            if rng.random() < 0.5:
                ar, _ = par(a, CAST_P + 1)
                return X(f"{ar}::STRING", f"CAST({a.s} AS TEXT)", "string", CAST_P, 0, a.agg)
            return X(f"CAST({a.r} AS TEXT)", f"CAST({a.s} AS TEXT)", "string", ATOM, 0, a.agg)
        a = self.str_expr(depth - 1)
        lit = self.lit_like(a)
        return X(f"nullif({a.r}, {lit.r})", f"nullif({a.s}, {lit.s})", "string", ATOM, 0, a.agg)

    def date_expr(self, depth):
        rng = self.rng
        if depth > 0 and rng.random() < 0.08:
            self.features["more_functions"] += 1
            if rng.random() < 0.5:
                self.features["cast"] += 1
                a = self.ts_expr(depth - 1)
                return X(f"CAST({a.r} AS DATE)", f"substr({a.s}, 1, 10)", "date", ATOM, 0, a.agg)
            return self.greatest("date", depth)
        k = rng.randrange(5) if depth > 0 else 0
        if k == 0 or k == 1:
            return self.column("date") if k == 0 else self.lit_for("signup_date")
        self.features["dates"] += 1
        if k == 2:
            a = self.date_expr(depth - 1)
            n = rng.randint(-400, 400)
            ar, as_ = par(a, ADD)
            op, m = ("+", n) if n >= 0 else ("-", -n)
            if op == "+" and rng.random() < 0.2:  # integer + date
                ar2, _ = par(a, ADD + 1)
                return X(f"{m} + {ar2}", f"pg_date_add({as_}, {n})", "date", ADD, 0, a.agg)
            return X(f"{ar} {op} {m}", f"pg_date_add({as_}, {n})", "date", ADD, 0, a.agg)
        if k == 3:
            return self.coalesce_expr("date", depth)
        return self.case_expr("date", depth)

    def ts_expr(self, depth):
        rng = self.rng
        if depth > 0 and rng.random() < 0.08:
            self.features["more_functions"] += 1
            if rng.random() < 0.5:
                self.features["cast"] += 1
                a = self.date_expr(depth - 1)
                ar, _ = par(a, CAST_P + 1)
                return X(rng.choice([f"CAST({a.r} AS TIMESTAMP)", f"{ar}::TIMESTAMP"]),
                         f"({a.s} || ' 00:00:00')", "ts", CAST_P, 0, a.agg)
            return self.greatest("ts", depth)
        k = rng.randrange(5) if depth > 0 else 0
        if k == 0 or k == 1:
            return self.column("ts") if k == 0 else self.lit_for("last_seen")
        self.features["dates"] += 1
        if k == 2:
            src = self.date_expr(depth - 1) if rng.random() < 0.4 else self.ts_expr(depth - 1)
            units = ["year", "quarter", "month", "week", "day"]
            if src.t == "ts":
                units.append("hour")
            u = rng.choice(units)
            return X(f"date_trunc('{u}', {src.r})", f"pg_date_trunc('{u}', {src.s})", "ts",
                     ATOM, 0, src.agg)
        if k == 3:
            src = self.date_expr(depth - 1) if rng.random() < 0.3 else self.ts_expr(depth - 1)
            unit = rng.choice(["day", "hour", "minute", "month", "year", "week", "second"])
            n = rng.randint(1, 40)
            sign = rng.choice("+-")
            ar, as_ = par(src, ADD)
            plural = "s" if n != 1 else ""
            return X(f"{ar} {sign} INTERVAL '{n} {unit}{plural}'",
                     f"pg_add_interval({as_}, {n if sign == '+' else -n}, '{unit}')", "ts", ADD,
                     0, src.agg)
        return self.coalesce_expr("ts", depth)

    def case_expr(self, t, depth):
        rng = self.rng
        self.features["case"] += 1
        vals = [self.expr(t, depth - 1) for _ in range(rng.randint(1, 3))]
        els = self.expr(t, depth - 1) if rng.random() < 0.7 else None
        if rng.random() < 0.3:  # simple CASE
            subj = self.column(rng.choice(["string", "int"]))
            whens = [(self.lit_for(subj.r), v) for v in vals]
            rr = f"CASE {subj.r} " + " ".join(f"WHEN {w.r} THEN {v.r}" for w, v in whens)
            ss = f"CASE {subj.s} " + " ".join(f"WHEN {w.s} THEN {v.s}" for w, v in whens)
        else:
            whens = [(self.pred(depth - 1), v) for v in vals]
            rr = "CASE " + " ".join(f"WHEN {w.r} THEN {v.r}" for w, v in whens)
            ss = "CASE " + " ".join(f"WHEN {w.s} THEN {v.s}" for w, v in whens)
        if els is not None:
            rr += f" ELSE {els.r}"
            ss += f" ELSE {els.s}"
        allx = vals + ([els] if els else []) + [w for w, _ in whens]
        bound = max((v.b for v in vals + ([els] if els else [])), default=0)
        tt = t if t not in ("int", "bigint") else (
            "bigint" if any(v.t == "bigint" for v in vals + ([els] if els else [])) else "int")
        return X(rr + " END", ss + " END", tt, ATOM, bound, agg_of(*allx))

    def coalesce_expr(self, t, depth):
        self.features["coalesce"] += 1
        a = self.expr(t, depth - 1)
        args = [a] + [self.expr(t, depth - 1) if self.rng.random() < 0.5 else self.lit_like(a)
                      for _ in range(self.rng.choice([1, 1, 1, 2, 3]))]
        if self.rng.random() < 0.1:
            args.insert(self.rng.randrange(len(args)), X("NULL", "NULL", "null"))
        ts = {x.t for x in args} - {"null"}
        tt = ts.pop() if len(ts) == 1 else ("double" if "double" in ts else
                                            "decimal" if "decimal" in ts else "bigint")
        return X(f"coalesce({', '.join(x.r for x in args)})",
                 f"coalesce({', '.join(x.s for x in args)})", tt, ATOM, max(x.b for x in args),
                 agg_of(*args))

    # --- predicates ---------------------------------------------------------------------------
    def comparable(self, depth):
        t = self.rng.choice(["int", "double", "string", "string", "date", "ts", "bool", "decimal"])
        if self.rng.random() < 0.5 or depth <= 0 or t == "decimal":
            return self.column({"int": "intlike"}.get(t, t))
        return self.expr(t, depth - 1)

    def pred(self, depth):
        rng = self.rng
        k = rng.randrange(16) if depth > 0 else rng.randrange(3)
        if k in (0, 1, 2):  # comparison with a literal or another expression
            self.features["compare"] += 1
            a = self.comparable(depth)
            if a.t == "bool":
                b = self.pred(depth - 1) if rng.random() < 0.5 else self.lit_for("is_active")
                op = rng.choice(["=", "<>"])
            else:
                b = None
                if a.p == ATOM and a.r in COLTYPE and rng.random() < 0.3:
                    b = self.lit_like(a)
                if a.r in COLTYPE and b is None and rng.random() < 0.7:
                    b = self.cmp_lit(a)
                if b is None:
                    if a.t in NUMERIC and rng.random() < 0.4:
                        b = self.num_expr(depth - 1)
                    elif a.t in ("date", "ts") and rng.random() < 0.2:
                        b = self.expr(rng.choice(["date", "ts"]), depth - 1)
                    elif rng.random() < 0.5:
                        b = self.expr(a.t, depth - 1)
                    else:
                        b = self.cmp_lit(a)
                op = rng.choice(["=", "<>", "<", "<=", ">", ">=", "!="])
            if rng.random() < 0.5:
                a, b = b, a
            a, b = unify(a, b)
            (ar, as_), (br, bs) = par(a, CONCAT), par(b, CONCAT)
            return X(f"{ar} {op} {br}", f"{as_} {op} {bs}", "bool", CMP, 0, agg_of(a, b))
        if k == 3:
            self.features["in_list"] += 1
            a = self.comparable(depth)
            if a.t == "bool":
                a = self.column("int")
            items = [self.cmp_lit(a) for _ in range(rng.randint(1, 5))]
            if rng.random() < 0.2:  # an expression among the items
                self.features["in_expr_items"] += 1
                items.append(self.column("decimal") if a.t == "decimal" else
                             self.expr({"bigint": "int"}.get(a.t, a.t), 1))
            if rng.random() < 0.25:
                items.append(X("NULL", "NULL", "null"))
                self.features["in_null"] += 1
            rng.shuffle(items)
            a, *items = unify(a, *items)
            neg = " NOT" if rng.random() < 0.3 else ""
            ar, as_ = par(a, CONCAT)
            return X(f"{ar}{neg} IN ({', '.join(i.r for i in items)})",
                     f"{as_}{neg} IN ({', '.join(i.s for i in items)})", "bool", CMP, 0, a.agg)
        if k == 4:
            self.features["between"] += 1
            a = self.comparable(depth)
            if a.t == "bool":
                a = self.column("double")
            lo, hi = self.cmp_lit(a), self.cmp_lit(a)
            if rng.random() < 0.2:  # a bound that is an expression
                self.features["in_expr_items"] += 1
                e = (self.column("decimal") if a.t == "decimal" else
                     self.expr({"bigint": "int"}.get(a.t, a.t), 1))
                lo, hi = (e, hi) if rng.random() < 0.5 else (lo, e)
            if rng.random() < 0.05:
                hi = X("NULL", "NULL", "null")
            a, lo, hi = unify(a, lo, hi)
            neg = " NOT" if rng.random() < 0.25 else ""
            (ar, as_), (lr, ls), (hr, hs) = par(a, CONCAT), par(lo, ADD), par(hi, ADD)
            return X(f"{ar}{neg} BETWEEN {lr} AND {hr}",
                     f"{as_}{neg} BETWEEN {ls} AND {hs}", "bool", CMP, 0, agg_of(a, lo, hi))
        if k == 5:
            self.features["is_null"] += 1
            a = self.any_expr(depth - 1) if rng.random() < 0.4 else self.column(
                rng.choice(["int", "double", "string", "date", "ts", "bool"]))
            neg = " NOT" if rng.random() < 0.4 else ""
            ar, as_ = par(a, CONCAT)
            return X(f"{ar} IS{neg} NULL", f"{as_} IS{neg} NULL", "bool", CMP, 0, a.agg)
        if k in (6, 7):
            return self.like_pred(depth)
        if k == 8 and rng.random() < 0.3:
            self.features["more_functions"] += 1
            if rng.random() < 0.5:
                a = self.str_expr(depth - 1)
                suf = quote(self.like_source()[-rng.randint(0, 4):])
                return X(f"ends_with({a.r}, {suf})", f"pg_ends_with({a.s}, {suf})", "bool", ATOM,
                         0, a.agg)
            self.features["cast"] += 1
            a = self.int_expr(depth - 1)
            if a.t != "int":  # PostgreSQL casts only INT (int4) to BOOLEAN
                a = self.column("int")
            ar, _ = par(a, CAST_P + 1)
            return X(rng.choice([f"CAST({a.r} AS BOOLEAN)", f"{ar}::BOOLEAN"]), f"({a.s} <> 0)",
                     "bool", CAST_P, 0, a.agg)
        if k == 8:
            self.features["starts_contains"] += 1
            a = self.str_expr(depth - 1)
            p = self.like_source()
            p = p[: rng.randint(0, min(len(p), 6))]
            if rng.random() < 0.5:
                return X(f"starts_with({a.r}, {quote(p)})",
                         f"(substr({a.s}, 1, length({quote(p)})) = {quote(p)})", "bool", ATOM, 0,
                         a.agg)
            return X(f"contains({a.r}, {quote(p)})", f"(instr({a.s}, {quote(p)}) > 0)", "bool",
                     ATOM, 0, a.agg)
        if k == 9:
            self.features["bool_col"] += 1
            c = self.column("bool")
            form = rng.randrange(4)
            if form == 0:
                return c
            if form == 1:
                return X(f"NOT {c.r}", f"NOT {c.s}", "bool", NOT_P)
            v = rng.choice(["TRUE", "FALSE"])
            neg = " NOT" if rng.random() < 0.5 else ""
            return X(f"{c.r} IS{neg} {v}", f"{c.s} IS{neg} {v}", "bool", CMP)
        if k == 10:
            self.features["distinct_from"] += 1
            a = self.comparable(depth)
            b = self.cmp_lit(a) if rng.random() < 0.6 else X("NULL", "NULL", "null")
            a, b = unify(a, b)
            neg = " NOT" if rng.random() < 0.5 else ""
            ar, as_ = par(a, CONCAT)
            br, bs = par(b, CONCAT)
            return X(f"{ar} IS{neg} DISTINCT FROM {br}", f"{as_} IS{'' if neg else ' NOT'} {bs}",
                     "bool", CMP, 0, agg_of(a, b))
        if k in (11, 12):
            self.features["and_or"] += 1
            op, p = ("AND", AND_P) if rng.random() < 0.5 else ("OR", OR_P)
            a, b = self.pred(depth - 1), self.pred(depth - 1)
            (ar, as_), (br, bs) = par(a, p), par(b, p)
            return X(f"{ar} {op} {br}", f"{as_} {op} {bs}", "bool", p, 0, agg_of(a, b))
        if k == 13:
            self.features["not"] += 1
            a = self.pred(depth - 1)
            ar, as_ = par(a, NOT_P)
            return X(f"NOT {ar}", f"NOT {as_}", "bool", NOT_P, 0, a.agg)
        if k == 14:
            if rng.random() < 0.5:
                return self.case_expr("bool", depth)
            return self.coalesce_expr("bool", depth)
        self.features["dates"] += 1
        c = self.column(rng.choice(["date", "ts"]))
        lit = self.cmp_lit(c)
        c, lit = unify(c, lit)
        op = rng.choice(["<", "<=", ">", ">=", "="])
        return X(f"{c.r} {op} {lit.r}", f"{c.s} {op} {lit.s}", "bool", CMP)

    def like_source(self):
        col = self.rng.choice(["email", "country", "region", "plan", "email"])
        return self.rng.choice(self.pools[col])

    def like_pattern(self):
        if self.rng.random() < 0.1:
            return self.rng.choice(["%", "", "_", "%%", "_%_", "%@%"])
        return self.like_pattern_from(self.like_source())

    def like_pattern_from(self, v):
        rng = self.rng
        i = rng.randint(0, len(v))
        j = rng.randint(i, min(len(v), i + 8))
        body = list(v[i:j])
        for n in range(len(body)):
            if rng.random() < 0.15:
                body[n] = "_"
        pat = "".join(body)
        if i > 0 or rng.random() < 0.3:
            pat = "%" + pat
        if j < len(v) or rng.random() < 0.3:
            pat = pat + "%"
        if rng.random() < 0.1:
            pat = pat.replace("%", "%_", 1)
        return pat

    def like_pred(self, depth):
        rng = self.rng
        self.features["like"] += 1
        a = self.column("string") if rng.random() < 0.7 else self.str_expr(depth - 1)
        pat = self.like_pattern()
        neg = " NOT" if rng.random() < 0.25 else ""
        ar, as_ = par(a, CONCAT)
        r = rng.random()
        if r < 0.15:  # '%' and '_' taken literally: ESCAPE '!', or PostgreSQL's default '\'
            self.features["like_escape"] += 1
            esc = rng.choice(["!", "\\"])
            src = self.rng.choice(self.pools["email"] + ["first_last%", "100%", "a_b"])
            i = rng.randint(0, len(src))
            body = "".join(esc + c if c in "%_" + esc else ("_" if rng.random() < 0.1 else c)
                           for c in src[i:i + rng.randint(1, 10)])
            pat = quote(rng.choice(["%", ""]) + body + rng.choice(["%", ""]))
            if esc == "!":
                return X(f"{ar}{neg} LIKE {pat} ESCAPE '!'", f"{as_}{neg} LIKE {pat} ESCAPE '!'",
                         "bool", CMP, 0, a.agg)
            return X(f"{ar}{neg} LIKE {pat}", f"{as_}{neg} LIKE {pat} ESCAPE '\\'", "bool", CMP, 0,
                     a.agg)
        if r < 0.22:  # the pattern is an expression
            self.features["like_expr_pattern"] += 1
            b = self.str_expr(1)
            br, bs = par(b, CONCAT + 1)
            tail = rng.choice(["", " || '%'"])
            return X(f"{ar}{neg} LIKE {br}{tail}", f"{as_}{neg} LIKE {bs}{tail}", "bool", CMP, 0,
                     agg_of(a, b))
        if rng.random() < 0.3:
            self.features["ilike"] += 1
            pat = "".join(_fold(c, rng.random() < 0.5) for c in pat)
            return X(f"{ar}{neg} ILIKE {quote(pat)}",
                     f"pg_lower({as_}){neg} LIKE pg_lower({quote(pat)})", "bool", CMP, 0, a.agg)
        return X(f"{ar}{neg} LIKE {quote(pat)}", f"{as_}{neg} LIKE {quote(pat)}", "bool", CMP, 0,
                 a.agg)

    # --- aggregates ---------------------------------------------------------------------------
    def aggregate(self, depth):
        rng = self.rng
        k = rng.randrange(12)
        self.features["aggregate"] += 1
        if k == 0:
            return X("count(*)", "count(*)", "bigint", ATOM, N_ROWS, True)
        if k in (1, 2):
            a = self.any_expr(depth) if rng.random() < 0.4 else self.column(
                rng.choice(["int", "double", "string", "date", "bool"]))
            if k == 2:
                self.features["count_distinct"] += 1
                return X(f"count(DISTINCT {a.r})", f"count(DISTINCT {a.s})", "bigint", ATOM,
                         N_ROWS, True)
            return X(f"count({a.r})", f"count({a.s})", "bigint", ATOM, N_ROWS, True)
        if k in (3, 4, 5):
            r = rng.random()
            a = (self.num_expr(depth) if r < 0.4 else self.decimal_expr(depth) if r < 0.55 else
                 self.column(rng.choice(["int", "double", "decimal"])))
            if a.t in ("int", "bigint") and a.b * N_ROWS > BIGINT_MAX:
                a = self.column("int")
            # DISTINCT only over values both sides hold exactly
            exact = a.t != "decimal" or a.r == "balance"
            d = "DISTINCT " if rng.random() < 0.15 and exact else ""
            if d:
                self.features["agg_distinct"] += 1
            if k == 5:
                return X(f"avg({d}{a.r})", f"avg({d}{a.s})", "double", ATOM, 0, True)
            t = {"int": "bigint"}.get(a.t, a.t)
            return X(f"sum({d}{a.r})", f"sum({d}{a.s})", t, ATOM, a.b * N_ROWS, True)
        if k in (6, 7, 8):
            fn = rng.choice(["min", "max"])
            t = rng.choice(["int", "double", "string", "date", "ts", "decimal"])
            if rng.random() < 0.4:
                a = self.expr(t, depth)
            else:
                a = self.column({"int": "intlike"}.get(t, t))
            return X(f"{fn}({a.r})", f"{fn}({a.s})", a.t, ATOM, a.b, True)
        if k == 9:
            self.features["stddev"] += 1
            if rng.random() < 0.7:
                a = self.column(rng.choice(["int", "double", "decimal"]))
            else:
                a = self.num_expr(depth)
            return X(f"stddev({a.r})", f"pg_stddev({a.s})", "double", ATOM, 0, True)
        if k == 10:  # conditional count
            p = self.pred(depth)
            return X(f"sum(CASE WHEN {p.r} THEN 1 ELSE 0 END)",
                     f"sum(CASE WHEN {p.s} THEN 1 ELSE 0 END)", "bigint", ATOM, N_ROWS, True)
        # arithmetic over aggregates
        self.features["agg_arith"] += 1
        a = self.aggregate(depth)
        while a.t not in NUMERIC:
            a = self.aggregate(depth)
        count = X("count(*)", "count(*)", "bigint", ATOM, N_ROWS, True)
        b = self.lit_int(1, 10) if rng.random() < 0.5 else count
        return self.arith(rng.choice("+-*"), a, b) or count

    def having_pred(self, keys, depth):
        rng = self.rng
        k = rng.randrange(5)
        if k <= 2:
            a = self.aggregate(depth)
            lit = self.lit_like(a) if a.t != "bigint" or a.r != "count(*)" else self.lit_int(0, 40)
            if a.t in ("string", "date", "ts"):
                lit = self.lit_like(a)
            op = rng.choice(["=", "<>", "<", "<=", ">", ">="])
            return X(f"{a.r} {op} {lit.r}", f"{a.s} {op} {lit.s}", "bool", CMP, 0, True)
        if k == 3 and keys:
            key = rng.choice(keys)
            if key.t == "bool":
                kr, ks = par(key, CONCAT)
                return X(f"{kr} IS NOT NULL", f"{ks} IS NOT NULL", "bool", CMP)
            lit = self.lit_like(key) if key.r not in COLTYPE else self.lit_for(key.r)
            op = rng.choice(["=", "<>", "<", ">="])
            kr, ks = par(key, CONCAT)
            return X(f"{kr} {op} {lit.r}", f"{ks} {op} {lit.s}", "bool", CMP)
        a, b = self.having_pred(keys, depth), self.having_pred(keys, depth)
        op, p = ("AND", AND_P) if rng.random() < 0.5 else ("OR", OR_P)
        (ar, as_), (br, bs) = par(a, p), par(b, p)
        return X(f"{ar} {op} {br}", f"{as_} {op} {bs}", "bool", p, 0, True)

    # --- whole queries ------------------------------------------------------------------------
    def order_key(self, r, s, direction=None):
        rng = self.rng
        d = direction or rng.choice(["", " ASC", " DESC"])
        nulls = rng.choice(["", "", " NULLS FIRST", " NULLS LAST"])
        self.features["order_by"] += 1
        if nulls:
            self.features["nulls_first_last"] += 1
        snulls = nulls or (" NULLS FIRST" if d == " DESC" else " NULLS LAST")
        return f"{r}{d}{nulls}", f"{s}{d}{snulls}"

    def limit(self, ordered):
        rng = self.rng
        if not ordered or rng.random() < 0.5:
            return "", ""
        self.features["limit_offset"] += 1
        k = rng.randrange(5)
        n, m = rng.choice([0, 1, 3, 10, 50]), rng.choice([0, 1, 5, 40, 5000])
        if k == 0:
            return f" LIMIT {n}", f" LIMIT {n}"
        if k == 1:
            return f" OFFSET {m}", f" LIMIT -1 OFFSET {m}"
        if k == 2:
            return f" LIMIT ALL OFFSET {m}", f" LIMIT -1 OFFSET {m}"
        return f" LIMIT {n} OFFSET {m}", f" LIMIT {n} OFFSET {m}"

    def where(self, depth=2):
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            return None
        if r < 0.30:
            return self.probe_pred()
        return self.pred(depth)

    def probe_pred(self):
        """Equality and IN on the primary key, the indexed columns and the partition column."""
        rng = self.rng
        col = rng.choice(["customer_id", "customer_id", "email", "email", "region", "region",
                          "segment"])
        self.features["probe_" + col] += 1

        def key():
            lit = self.lit_for(col)
            if col in ("customer_id", "segment") and rng.random() < 0.1:  # 5.0, 5.5 for an integer
                self.features["cmp_lit_convert"] += 1
                text = f"{lit.r}.{rng.choice(['0', '5'])}"
                return X(text, text, "decimal", lit.p)
            if col in ("customer_id", "segment") and rng.random() < 0.1:  # '12345' for an integer
                return X(quote(lit.r), quote(lit.r), "string")
            return lit

        if col == "region" and rng.random() < 0.35:
            p = self.region_pred()
        elif rng.random() < 0.5:
            lit = key()
            p = X(f"{col} = {lit.r}", f"{col} = {lit.s}", "bool", CMP)
        elif col == "region" and rng.random() < 0.25:
            neg = rng.choice(["", " NOT"])
            p = X(f"region IS{neg} NULL", f"region IS{neg} NULL", "bool", CMP)
        else:
            items = [key() for _ in range(rng.randint(1, 6))]
            if rng.random() < 0.15:  # many keys, some twice, some absent
                self.features["probe_many_keys"] += 1
                items = [key() for _ in range(rng.randint(20, 80))]
                items += rng.sample(items, 5)
            if rng.random() < 0.2:
                items.append(X("NULL", "NULL", "null"))
            neg = " NOT" if col == "region" and rng.random() < 0.2 else ""
            p = X(f"{col}{neg} IN ({', '.join(i.r for i in items)})",
                  f"{col}{neg} IN ({', '.join(i.s for i in items)})", "bool", CMP)
        k = rng.randrange(8)
        if k in (0, 1):  # a probe and a residual filter, or two probes
            q = self.pred(1) if k == 0 else self.probe_pred()
            (pr, ps), (qr, qs) = par(p, AND_P), par(q, AND_P)
            return X(f"{pr} AND {qr}", f"{ps} AND {qs}", "bool", AND_P)
        if k == 2:
            q = self.probe_pred() if rng.random() < 0.7 else self.pred(1)
            (pr, ps), (qr, qs) = par(p, OR_P), par(q, OR_P)
            return X(f"{pr} OR {qr}", f"{ps} OR {qs}", "bool", OR_P)
        if k == 3:
            pr, ps = par(p, NOT_P)
            return X(f"NOT {pr}", f"NOT {ps}", "bool", NOT_P)
        return p

    def region_pred(self):
        """A condition on the partition column alone (pruning evaluates it per partition)."""
        rng = self.rng
        self.features["region_only"] += 1
        lit = self.lit_for("region")
        pat = quote(self.like_pattern_from(rng.choice(self.pools["region"])))
        sw = quote(lit.r[1:3])
        forms = [  # (rETL, SQLite)
            (f"lower(region) = {quote(_fold(lit.r[1:-1], False))}",
             f"pg_lower(region) = {quote(_fold(lit.r[1:-1], False))}"),
            (f"region LIKE {pat}", None),
            (f"coalesce(region, 'none') = {lit.r}", None),
            (f"NOT (region IN ({lit.r}, 'emea'))", None),
            (f"region IS DISTINCT FROM {lit.r}", f"region IS NOT {lit.r}"),
            (f"length(region) > {rng.randint(0, 8)}", None),
            (f"region BETWEEN 'a' AND {lit.r}", None),
            (f"region IS NULL OR region >= {lit.r}", None),
            (f"starts_with(region, {sw})", f"(substr(region, 1, length({sw})) = {sw})"),
            (f"CASE WHEN region = {lit.r} THEN FALSE ELSE TRUE END",
             f"CASE WHEN region = {lit.r} THEN 0 ELSE 1 END"),
        ]
        r, s_ = rng.choice(forms)
        s_ = s_ or r
        return X(r, s_, "bool", OR_P)

    def select_query(self):
        """Returns (rETL SQL, SQLite SQL, ordered, indexes of the DECIMAL output columns)."""
        rng = self.rng
        w = self.where()
        wr, ws = (f" WHERE {w.r}", f" WHERE {w.s}") if w else ("", "")
        distinct = rng.random() < 0.15
        inexact = set()  # items with DECIMAL arithmetic: not to be ordered by
        if rng.random() < 0.08:
            self.features["star"] += 1
            items, distinct = None, False
        else:
            items = []
            for i in range(rng.randint(1, 4)):
                r = rng.random()
                if r < 0.12 and not distinct:
                    x = self.decimal_expr(2)
                    inexact.add(i)
                elif r < 0.6:
                    x = self.any_expr(2)
                else:
                    x = self.column(rng.choice(["int", "double", "string", "date", "ts", "bool",
                                                "bigint", "decimal"]))
                items.append(x)
        if items is None:
            sel_r = sel_s = "*"
        else:
            sel_r = ", ".join(f"{x.r} AS c{i}" for i, x in enumerate(items))
            sel_s = ", ".join(f"{x.s} AS c{i}" for i, x in enumerate(items))
        ordered = False
        order_r = order_s = ""
        if distinct:
            self.features["distinct"] += 1
            if rng.random() < 0.6:
                keys = [self.order_key(str(i + 1), str(i + 1))
                        for i in rng.sample(range(len(items)), len(items))]
                order_r = " ORDER BY " + ", ".join(k[0] for k in keys)
                order_s = " ORDER BY " + ", ".join(k[1] for k in keys)
                ordered = True
        elif rng.random() < 0.6:
            keys = []
            for _ in range(rng.randint(0, 2)):
                exact = [i for i in range(len(items or [])) if i not in inexact]
                if exact and rng.random() < 0.4:
                    i = rng.choice(exact)
                    n = str(i + 1) if rng.random() < 0.7 else f"c{i}"  # ordinal or alias
                    keys.append(self.order_key(n, n))
                else:
                    x = self.any_expr(1)
                    if not has_column(x):
                        x = self.column("string")
                    keys.append(self.order_key(x.r, x.s))
            total = rng.random() < 0.85
            if total:
                keys.append(self.order_key("customer_id", "customer_id"))
            if keys:
                order_r = " ORDER BY " + ", ".join(k[0] for k in keys)
                order_s = " ORDER BY " + ", ".join(k[1] for k in keys)
                ordered = total
        lr, ls = self.limit(ordered)
        d = "DISTINCT " if distinct else ""
        dec = ({len(COLUMNS) - 1} if items is None else
               {i for i, x in enumerate(items) if x.t == "decimal"})
        return (f"SELECT {d}{sel_r} FROM customers{wr}{order_r}{lr}",
                f"SELECT {d}{sel_s} FROM customers{ws}{order_s}{ls}", ordered, dec)

    def group_key(self):
        rng = self.rng
        if rng.random() < 0.6:
            c = rng.choice(["country", "region", "plan", "segment", "is_active", "signup_date",
                            "orders", "ltv", "email", "balance"])
            return X(c, c, COLTYPE[c])
        self.features["group_by_expr"] += 1
        x = rng.choice([
            lambda: self.int_expr(1), lambda: self.str_expr(1), lambda: self.pred(1),
            lambda: self.date_expr(1), lambda: self.ts_expr(1)])()
        return x if has_column(x) else self.column("int")

    def group_query(self):
        rng = self.rng
        self.features["group_by"] += 1
        keys = [self.group_key() for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        aggs = [self.aggregate(1) for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3]))]
        hidden = rng.random() < 0.1 and len(keys) > 1  # a GROUP BY column not selected
        shown = keys[1:] if hidden else keys
        items = [("k", x) for x in shown] + [("a", x) for x in aggs]
        if rng.random() < 0.3:
            rng.shuffle(items)
        # A bare column may be spelt `c`, `customers.c` or `"c"`, differently in the select list
        # and in GROUP BY: all name the same column.
        spell = {}

        def spelling(x):
            if x.r not in COLTYPE or rng.random() < 0.9:
                return x.r, x.s
            self.features["qualified_names"] += 1
            name = rng.choice([f"customers.{x.r}", f'"{x.r}"'])
            return name, name

        for kind, x in items:
            spell[id(x)] = spelling(x)
        sel_r = ", ".join(f"{spell[id(x)][0]} AS c{i}" for i, (_, x) in enumerate(items))
        sel_s = ", ".join(f"{spell[id(x)][1]} AS c{i}" for i, (_, x) in enumerate(items))
        group_r, group_s = [], []
        for x in keys:
            pos = next((i for i, (kind, y) in enumerate(items) if y is x), None)
            form = rng.randrange(3) if pos is not None else 0
            if form == 1:
                group_r.append(str(pos + 1))
                group_s.append(str(pos + 1))
            elif form == 2:
                self.features["group_by_alias"] += 1
                group_r.append(f"c{pos}")
                group_s.append(f"c{pos}")
            elif x.r in COLTYPE:
                name = spelling(x)[0]
                group_r.append(name)
                group_s.append(name)
            else:
                group_r.append(x.r)
                group_s.append(x.s)
        w = self.where()
        wr, ws = (f" WHERE {w.r}", f" WHERE {w.s}") if w else ("", "")
        hr = hs = ""
        if rng.random() < 0.35:
            self.features["having"] += 1
            h = self.having_pred(keys, 1)
            hr, hs = f" HAVING {h.r}", f" HAVING {h.s}"
        ordered = False
        order_r = order_s = ""
        if rng.random() < 0.6:
            okeys = []
            if rng.random() < 0.3:
                okeys.append(self.order_key("count(*)", "count(*)"))
            if not hidden:
                kpos = [i for i, (kind, _) in enumerate(items) if kind == "k"]
                rng.shuffle(kpos)
                okeys += [self.order_key(str(i + 1), str(i + 1)) for i in kpos]
                ordered = True
            order_r = " ORDER BY " + ", ".join(k[0] for k in okeys) if okeys else ""
            order_s = " ORDER BY " + ", ".join(k[1] for k in okeys) if okeys else ""
        lr, ls = self.limit(ordered)
        return (f"SELECT {sel_r} FROM customers{wr} GROUP BY {', '.join(group_r)}{hr}{order_r}{lr}",
                f"SELECT {sel_s} FROM customers{ws} GROUP BY {', '.join(group_s)}{hs}{order_s}{ls}",
                ordered, {i for i, (_, x) in enumerate(items) if x.t == "decimal"})

    def agg_query(self):
        self.features["global_aggregate"] += 1
        aggs = [self.aggregate(1) for _ in range(self.rng.randint(1, 4))]
        w = self.where()
        wr, ws = (f" WHERE {w.r}", f" WHERE {w.s}") if w else ("", "")
        if self.rng.random() < 0.1:  # HAVING without GROUP BY: one group, or none
            self.features["having"] += 1
            h = self.having_pred([], 1)
            wr, ws = wr + f" HAVING {h.r}", ws + f" HAVING {h.s}"
        sel_r = ", ".join(f"{x.r} AS c{i}" for i, x in enumerate(aggs))
        sel_s = ", ".join(f"{x.s} AS c{i}" for i, x in enumerate(aggs))
        return (f"SELECT {sel_r} FROM customers{wr}", f"SELECT {sel_s} FROM customers{ws}",
                True, {i for i, x in enumerate(aggs) if x.t == "decimal"})

    def count_query(self):
        """count(*) under a random predicate: the cheapest check of WHERE."""
        self.features["count_where"] += 1
        p = self.pred(3) if self.rng.random() < 0.8 else self.probe_pred()
        return (f"SELECT count(*) AS c0 FROM customers WHERE {p.r}",
                f"SELECT count(*) AS c0 FROM customers WHERE {p.s}", True, set())

    def query(self):
        r = self.rng.random()
        q = (self.select_query() if r < 0.35 else self.group_query() if r < 0.60 else
             self.agg_query() if r < 0.75 else self.count_query())
        r = self.rng.random()
        if r < 0.06:  # time travel: version 2 holds the first two thirds of the rows
            self.features["as_of_version"] += 1
            version, table = (2, "customers_v2 AS customers") if r < 0.04 else (3, "customers")
            q = (q[0].replace(" FROM customers", f" FROM customers AS OF VERSION {version}", 1),
                 q[1].replace(" FROM customers", f" FROM {table}", 1)) + q[2:]
        if self.rng.random() < 0.05:  # line breaks, tabs and comments between the tokens
            self.features["layout"] += 1
            spaces = [" ", "  ", "\n", "\t", " /* ; */ ", "\n-- ; comment\n", "\r\n"]
            q = ("".join(self.rng.choice(spaces) if t.isspace() else t
                         for t in _TOKENS.findall(q[0])),) + q[1:]
        return q


# Hand-picked queries run before the generated ones: WORKLOAD.md's Q1..Q8 (with a total order
# where they LIMIT) and edges the generator reaches only by chance. (rETL SQL, SQLite SQL or None
# when the same, ordered).
FIXED_QUERIES = [
    ("SELECT count(*) FROM customers", None, True),
    ("SELECT country, count(*), avg(ltv) FROM customers GROUP BY country ORDER BY 2 DESC",
     "SELECT country, count(*), avg(ltv) FROM customers GROUP BY country ORDER BY 2 DESC", False),
    ("SELECT plan, segment, sum(orders), max(churn_score) FROM customers "
     "WHERE signup_date >= DATE '2024-01-01' GROUP BY plan, segment",
     "SELECT plan, segment, sum(orders), max(churn_score) FROM customers "
     "WHERE signup_date >= '2024-01-01' GROUP BY plan, segment", False),
    ("SELECT count(DISTINCT country), count(DISTINCT segment) FROM customers", None, True),
    ("SELECT customer_id, ltv FROM customers WHERE plan = 'pro' AND is_active "
     "ORDER BY ltv DESC, customer_id LIMIT 10",
     "SELECT customer_id, ltv FROM customers WHERE plan = 'pro' AND is_active "
     "ORDER BY ltv DESC NULLS FIRST, customer_id LIMIT 10", True),
    ("SELECT region, plan, count(*), sum(ltv), avg(orders) FROM customers "
     "WHERE country IN ('US', 'DE', 'FR') AND churn_score > 0.5 GROUP BY region, plan", None,
     False),
    ("SELECT count(*) FROM customers WHERE email LIKE '%example7%'", None, True),
    ("SELECT * FROM customers WHERE email = 'user1234@example70.com'", None, False),
    # -0.0 and 0.0 are one value; stddev of equal values is 0
    ("SELECT count(DISTINCT ltv) AS c0, count(DISTINCT -ltv) AS c1 FROM customers", None, True),
    ("SELECT ltv AS c0, count(*) AS c1 FROM customers WHERE ltv = 0 GROUP BY ltv", None, True),
    ("SELECT DISTINCT ltv * -1 AS c0 FROM customers WHERE ltv BETWEEN -1 AND 1 ORDER BY 1",
     "SELECT DISTINCT ltv * -1 AS c0 FROM customers WHERE ltv BETWEEN -1 AND 1 "
     "ORDER BY 1 NULLS LAST", True),
    ("SELECT stddev(ltv) AS c0, stddev(orders) AS c1 FROM customers WHERE ltv = 100",
     "SELECT pg_stddev(ltv) AS c0, pg_stddev(orders) AS c1 FROM customers WHERE ltv = 100", True),
    ("SELECT segment AS c0, stddev(churn_score) AS c1, stddev(DISTINCT orders) AS c2 "
     "FROM customers GROUP BY segment",
     "SELECT segment AS c0, pg_stddev(churn_score) AS c1, pg_stddev(DISTINCT orders) AS c2 "
     "FROM customers GROUP BY segment", False),
    # literals outside the column's type or range, against index probes and block statistics
    ("SELECT count(*) AS c0 FROM customers WHERE orders < 3000000000", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE orders > -2147483649 AND segment < 2147483648",
     None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE segment = 5.5", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE segment = 5.0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE segment IN (5.0, 6.5, NULL)", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE customer_id = 12345.5", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE customer_id IN (12345.0, '0', -1)", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE customer_id > 1e12", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE orders BETWEEN 2.5 AND 7.5", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv > 100", None, True),
    # -0.0 and 0.0 against block statistics
    ("SELECT count(*) AS c0 FROM customers WHERE ltv >= 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv <= 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv < 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv > 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv = 0.0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE -ltv = 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE ltv IN (0, -1, 100)", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE balance = 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE balance = 10", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE balance = 10.001", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE balance > 9999999999.98", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE last_seen >= DATE '2024-01-01'",
     "SELECT count(*) AS c0 FROM customers WHERE last_seen >= '2024-01-01 00:00:00'", True),
    ("SELECT count(*) AS c0 FROM customers WHERE signup_date < TIMESTAMP '2024-01-01 00:00:00'",
     "SELECT count(*) AS c0 FROM customers "
     "WHERE signup_date || ' 00:00:00' < '2024-01-01 00:00:00'",
     True),
    ("SELECT count(*) AS c0 FROM customers WHERE signup_date = TIMESTAMP '2024-02-29 00:00:00'",
     "SELECT count(*) AS c0 FROM customers WHERE signup_date = '2024-02-29'", True),
    ("SELECT count(*) AS c0 FROM customers WHERE signup_date >= '2024-01-01'", None, True),
    # empty and duplicate keys, the NULL and '' partitions
    ("SELECT customer_id FROM customers WHERE email = '' ORDER BY 1", None, True),
    ("SELECT email, count(*) FROM customers GROUP BY email HAVING count(*) > 1", None, False),
    ("SELECT * FROM customers WHERE customer_id IN (0, -1, -1099511627776, 1099511627783, 12346)",
     None, False),
    ("SELECT count(*) AS c0 FROM customers WHERE region = ''", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region = NULL", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region IN (NULL)", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE NOT (region <> 'emea')", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region IS NULL", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region IN ('', NULL)", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region <> ''", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE region NOT IN ('emea', NULL)", None, True),
    ("SELECT region AS c0, count(*) AS c1 FROM customers GROUP BY region", None, False),
    # aggregates of nothing; HAVING without GROUP BY
    ("SELECT sum(orders), count(*), count(ltv), avg(ltv), min(email), max(signup_date), "
     "stddev(ltv) FROM customers WHERE FALSE",
     "SELECT sum(orders), count(*), count(ltv), avg(ltv), min(email), max(signup_date), "
     "pg_stddev(ltv) FROM customers WHERE 0", True),
    ("SELECT count(*) AS c0 FROM customers HAVING count(*) > 0", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE FALSE GROUP BY plan",
     "SELECT count(*) AS c0 FROM customers WHERE 0 GROUP BY plan", True),
    ("SELECT count(*) AS c0 FROM customers WHERE email LIKE NULL OR email NOT LIKE NULL", None,
     True),
    ("SELECT count(*) AS c0 FROM customers WHERE orders = -999 HAVING count(*) > 0", None, True),
    # strings: byte order, Unicode letters, ILIKE
    ("SELECT DISTINCT country AS c0 FROM customers ORDER BY 1 NULLS FIRST", None, True),
    ("SELECT count(*) AS c0 FROM customers WHERE country ILIKE 'us'",
     "SELECT count(*) AS c0 FROM customers WHERE pg_lower(country) LIKE 'us'", True),
    ("SELECT count(*) AS c0 FROM customers WHERE country LIKE 'S_o%'", None, True),
    ("SELECT upper(email) AS c0, lower(email) AS c1 FROM customers WHERE email NOT LIKE 'user%'",
     "SELECT pg_upper(email) AS c0, pg_lower(email) AS c1 FROM customers "
     "WHERE email NOT LIKE 'user%'",
     False),
    ("SELECT count(*) AS c0 FROM customers WHERE email ILIKE '%ÀÉÎ%'",
     "SELECT count(*) AS c0 FROM customers WHERE pg_lower(email) LIKE pg_lower('%ÀÉÎ%')", True),
    ("SELECT length(email) AS c0, substr(email, 2, 3) AS c1 FROM customers "
     "WHERE email > 'z' ORDER BY email, customer_id", None, True),
    ("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 5 OFFSET 2995", None, True),
    ("SELECT customer_id FROM customers ORDER BY customer_id DESC LIMIT 0", None, True),
]


# ----------------------------------------------------------------------------------------------
# Running and comparing

def parse_json_results(text):
    """The JSON arrays retl-query printed, one per statement; a trailing partial one is dropped."""
    dec = json.JSONDecoder(object_pairs_hook=lambda pairs: [v for _, v in pairs])
    out, i, n = [], 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return out
        try:
            value, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            return out
        out.append(value)


def run_retl(ds, statements):
    """Runs the statements through as few retl-query processes as errors allow. Returns, per
    statement, ("ok", rows) or ("error", message)."""
    results = []
    start = 0
    while start < len(statements):
        chunk = statements[start:start + BATCH]
        text = "".join(s + ";\n" for s in chunk)
        proc = subprocess.run([str(RETL_QUERY), str(ds), "--format", "json"], input=text.encode(),
                              capture_output=True, timeout=600)
        # Invalid UTF-8 in an answer stays visible (as lone surrogates) to the comparison.
        got = parse_json_results(proc.stdout.decode("utf-8", errors="surrogateescape"))
        got = got[:len(chunk)]
        results += [("ok", rows) for rows in got]
        start += len(got)
        if len(got) < len(chunk):
            if proc.returncode == 0:
                raise AssertionError(f"retl-query printed {len(got)} results for {len(chunk)} "
                                     f"statements and exited 0; stderr: {proc.stderr.decode()}")
            what = (f"crashed with signal {-proc.returncode}" if proc.returncode < 0 else
                    f"exit {proc.returncode}")
            results.append(("error", f"{what}: {proc.stderr.decode('utf-8', 'replace').strip()}"))
            start += 1
    return results


def norm(v):
    if v is True:
        return 1
    if v is False:
        return 0
    return v


def sort_key(row):
    key = []
    for v in row:
        v = norm(v)
        if v is None:
            key.append((0, 0))
        elif isinstance(v, (int, float)):
            key.append((1, v))
        else:
            key.append((2, str(v)))
    return key


def same_value(a, b):
    a, b = norm(a), norm(b)
    if a is None or b is None:
        return a is None and b is None
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-7)
    return type(a) is type(b) and a == b


def decimals_as_floats(row, dec):
    """DECIMAL values come as strings with the column's scale ("12.50"); SQLite has REALs."""
    return [float(v) if i in dec and isinstance(v, str) and _DECIMAL_RE.match(v) else v
            for i, v in enumerate(row)]


_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")


def same_row(a, b):
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def compare(retl_rows, lite_rows, ordered):
    """None when the answers agree, else a description of the first difference."""
    if len(retl_rows) != len(lite_rows):
        return f"row count: rETL {len(retl_rows)}, SQLite {len(lite_rows)}"
    # Fast path: exactly equal (True == 1, 5 == 5.0 and their hashes agree).
    got = [tuple(r) for r in retl_rows]
    if ordered and got == lite_rows:
        return None
    if not ordered and collections.Counter(got) == collections.Counter(lite_rows):
        return None
    for i, (a, b) in enumerate(zip(got, lite_rows)):
        if len(a) != len(b):
            return f"row {i}: rETL has {len(a)} columns, SQLite {len(b)}"
    if ordered:
        for i, (a, b) in enumerate(zip(got, lite_rows)):
            if not same_row(a, b):
                return f"row {i}: rETL {list(a)!r}, SQLite {list(b)!r}"
        return None
    # As multisets, with a tolerance for doubles: group the rows by their exact columns (those
    # where neither side has a float), then match each group's rows up to the tolerance.
    ncols = len(got[0]) if got else 0
    inexact = {j for j in range(ncols)
               if any(isinstance(r[j], float) for r in got + lite_rows)}

    def buckets(rows):
        out = collections.defaultdict(list)
        for r in rows:
            out[tuple(norm(v) for j, v in enumerate(r) if j not in inexact)].append(r)
        return out

    ga, gb = buckets(got), buckets(lite_rows)
    for key in sorted(set(ga) | set(gb), key=sort_key):
        ra, rb = ga.get(key, []), gb.get(key, [])
        if len(ra) != len(rb):
            return (f"rows whose exact columns are {list(key)!r}: rETL has {len(ra)}, SQLite "
                    f"{len(rb)} (e.g. rETL {[list(r) for r in ra[:2]]!r}, "
                    f"SQLite {[list(r) for r in rb[:2]]!r})")
        ra, rb = sorted(ra, key=sort_key), sorted(rb, key=sort_key)
        if all(same_row(a, b) for a, b in zip(ra, rb)):
            continue
        # Values within the tolerance sorted apart: match each row to its nearest equal one.
        def distance(a, b):
            return sum(abs(x - y) for x, y in zip(a, b)
                       if isinstance(x, (int, float)) and isinstance(y, (int, float)))

        unmatched = list(rb)
        for a in ra:
            candidates = [j for j, b in enumerate(unmatched) if same_row(a, b)]
            if not candidates:
                near = min(unmatched, key=lambda b: (
                    sum(not same_value(x, y) for x, y in zip(a, b)), distance(a, b)))
                return f"rETL row {list(a)!r} has no match in SQLite's (nearest: {list(near)!r})"
            unmatched.pop(min(candidates, key=lambda j: distance(a, unmatched[j])))
    return None


def show_rows(rows, ordered, limit=12):
    if not ordered:
        rows = sorted(rows, key=sort_key)
    lines = [repr([norm(v) for v in r]) for r in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"... ({len(rows)} rows)")
    return "\n    ".join(lines) if lines else "(no rows)"


def known_bug(sql, error):
    for bug in KNOWN_ENGINE_BUGS:
        if "error" in bug and (error is None or bug["error"] not in error):
            continue
        if "matches" in bug and not bug["matches"](sql):
            continue
        return bug["name"]
    return None


def plan_stats(plans):
    stats = collections.Counter()
    for rows in plans:
        text = "\n".join(str(r[0]) for r in rows)
        if "INDEX PROBE" in text:
            stats["index probe"] += 1
        m = re.findall(r"partitions (\d+)/(\d+)", text)
        if any(int(a) < int(b) for a, b in m):
            stats["pruned partitions"] += 1
        m = re.findall(r"blocks (\d+)/(\d+)", text)
        if any(int(a) < int(b) for a, b in m):
            stats["skipped blocks"] += 1
    return stats


def test_differential_against_sqlite(tmp_path):
    t0 = time.monotonic()
    rng = random.Random(SEED)
    rows = make_rows(rng, N_ROWS)

    # The same rows in rETL DB, in three versions so that partitions hold several segments:
    # create with two thirds of the rows, append the rest, replace one partition with its rows.
    cols = [c for c, _ in COLUMNS]

    def write(name, part):
        path = tmp_path / name
        path.write_text(",".join(cols) + "\n" + "".join(
            ",".join(csv_field(r[c]) for c in cols) + "\n" for r in part), encoding="utf-8")
        return path

    schema = tmp_path / "customers.sql"
    schema.write_text(SCHEMA)
    ds = tmp_path / "ds"
    run("init", ds)
    cut = N_ROWS * 2 // 3
    common = ["--table", "customers", "--block-rows", BLOCK_ROWS, "--no-progress"]
    run("import", ds, *common, "--input", write("first.csv", rows[:cut]), "--schema", schema)
    run("import", ds, *common, "--input", write("rest.csv", rows[cut:]), "--mode", "append")
    run("import", ds, *common, "--mode", "replace-partition", "--partition", "emea",
        "--input", write("emea.csv", [r for r in rows if r["region"] == "emea"]))
    # ... and in SQLite.
    db = open_sqlite(rows, rows[:cut])
    assert sqlite3.sqlite_version_info >= (3, 30), "NULLS FIRST/LAST needs SQLite 3.30"
    assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == N_ROWS

    gen = Gen(random.Random(SEED * 7919 + 1), rows)
    corpus = [(r, s or r, o, {len(COLUMNS) - 1} if r.startswith("SELECT * ") else set())
              for r, s, o in FIXED_QUERIES]
    corpus += [gen.query() for _ in range(N_QUERIES)]
    t_gen = time.monotonic()

    statements = []
    for n, (r_sql, *_) in enumerate(corpus):  # every 4th plan with ANALYZE: it runs the query
        statements += [("EXPLAIN ANALYZE " if n % 4 == 0 else "EXPLAIN ") + r_sql, r_sql]
    # retl-query runs in a thread (waiting on its processes) while SQLite answers in this one.
    def timed_run_retl():
        answers = run_retl(ds, statements)
        return answers, time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(timed_run_retl)
        answers = []
        for _, s_sql, _, _ in corpus:
            try:
                answers.append(db.execute(s_sql).fetchall())
            except sqlite3.Error as e:  # a translation bug in this file
                answers.append(e)
        t_sqlite = time.monotonic()
        results, t_retl = future.result()
    t_both = time.monotonic()
    plans = [res[1] for res in results[0::2] if res[0] == "ok"]

    failures, known = [], collections.Counter()
    for n, ((r_sql, s_sql, ordered, dec), (status, got), want) in enumerate(
            zip(corpus, results[1::2], answers)):
        if isinstance(want, Exception):
            failures.append(f"query {n} (seed {SEED}): SQLite rejected the translation (a bug "
                            f"of this file): {want}\n  rETL:   {r_sql}\n  SQLite: {s_sql}")
            continue
        explain = results[2 * n]
        analyzed = re.search(r"^total: (\d+) rows", str(explain[1][-1][0]) if explain[0] == "ok"
                             and explain[1] else "", re.M)
        if explain[0] != "ok":
            diff = f"EXPLAIN failed: {explain[1]}"
        elif status != "ok":
            diff = f"rETL failed: {got}"
        elif n % 4 == 0 and (analyzed is None or int(analyzed.group(1)) != len(got)):
            said = analyzed.group(1) if analyzed else "?"
            diff = (f"EXPLAIN ANALYZE says {said} rows, the query returned {len(got)}: "
                    f"{[r[0] for r in explain[1]]}")
        else:
            if dec:
                got = [decimals_as_floats(row, dec) for row in got]
            diff = compare(got, want, ordered)
        if diff is None:
            continue
        bug = known_bug(r_sql, diff if diff.startswith(("rETL failed", "EXPLAIN failed")) else None)
        if bug:
            known[bug] += 1
            continue
        failures.append(
            f"query {n} (seed {SEED}): {diff}\n  rETL:   {r_sql}\n  SQLite: {s_sql}\n"
            f"  rETL rows:\n    {show_rows(got, ordered) if status == 'ok' else got}\n"
            f"  SQLite rows:\n    {show_rows(want, ordered)}\n"
            f"  run: {RETL_QUERY} {ds} --format jsonl -c {shlex.quote(r_sql)}")
    t_end = time.monotonic()

    stats = plan_stats(plans)
    summary = (f"differential: {len(corpus)} queries compared with SQLite {sqlite3.sqlite_version} "
               f"(seed {SEED}, {N_ROWS} rows, {BLOCK_ROWS}-row blocks); "
               f"{len(corpus) - len(failures) - sum(known.values())} agree, "
               f"{len(failures)} differ, {sum(known.values())} known engine bugs {dict(known)}; "
               f"plans: {dict(stats)}; time: data+build {t_gen - t0:.1f}s, SQLite "
               f"{t_sqlite - t_gen:.1f}s, rETL (at the same time) {t_retl - t_gen:.1f}s, compare "
               f"{t_end - t_both:.1f}s")
    print(summary)
    print("features:", dict(sorted(gen.features.items())))
    assert not failures, (f"{len(failures)} of {len(corpus)} queries differ (seed {SEED}; "
                          f"dataset {ds}); reproduce with RETL_DIFF_SEED={SEED} "
                          f"RETL_DIFF_QUERIES={N_QUERIES}\n\n" + "\n\n".join(failures[:15])
                          + "\n\n" + summary)
    # The corpus must keep exercising the planner's paths and every feature it is meant to.
    assert stats["index probe"] >= N_QUERIES // 50, summary
    assert stats["pruned partitions"] >= N_QUERIES // 50, summary
    assert stats["skipped blocks"] >= N_QUERIES // 50, summary
    for f in ["arith_int", "arith_double", "decimal", "div_mod", "compare", "cmp_lit_convert",
              "date_vs_ts", "in_list", "in_null", "in_expr_items", "between", "is_null", "like",
              "ilike", "like_escape", "case", "coalesce", "string_fn", "more_functions", "cast",
              "group_by", "group_by_expr", "having", "order_by", "nulls_first_last",
              "limit_offset", "distinct", "count_distinct", "agg_distinct", "stddev", "dates",
              "probe_customer_id", "probe_email", "probe_region", "probe_segment", "region_only",
              "as_of_version", "qualified_names", "layout"]:
        assert gen.features[f] >= N_QUERIES // 200, (f, dict(gen.features))
