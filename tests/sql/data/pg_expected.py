#!/usr/bin/env python3
"""Computes and checks the expected results of tests/sql/*.test in PostgreSQL.

Every expected row in the .test files came from this script: it loads the
datasets of tests/sql/data/ into PostgreSQL (one schema per dataset, one table
per version of each table), runs each query block's SQL after a documented
rewrite (below), renders PostgreSQL's answer the way rETL DB prints values and
compares it with the file. With --update it writes PostgreSQL's rows into the
files instead.

    pip install "psycopg[binary]"                   # once
    python3 tests/sql/data/pg_expected.py           # check; exit 1 on a mismatch
    python3 tests/sql/data/pg_expected.py --update  # rewrite expected rows
    python3 tests/sql/data/pg_expected.py where.test --verbose

Server: with --dsn it uses that server (PostgreSQL 15, loopback only);
otherwise it initdb's a throw-away cluster in /tmp/retl_sql_pg (as user
postgres when run as root), listening on 127.0.0.1:54329 only, and stops it by
its PID at the end (--keep-server leaves it running for the next run).

How rETL DB's deliberate differences from PostgreSQL are bridged
----------------------------------------------------------------
1. Session: UTF8 database with C collation (rETL compares strings by bytes),
   TimeZone UTC, DateStyle ISO, extra_float_digits 1 (shortest floats),
   search_path = retl, <dataset>, pg_catalog, so that the objects of schema
   `retl` override built-ins of the same signature:
     avg(int2|int4|int8|numeric|float4)  -> double precision (exact sum / count)
     stddev(int2|int4|int8|numeric|float4) -> double precision
     sum(int8)                -> bigint, "bigint out of range" on overflow
     round(float8[, int])     -> half away from zero (PG rounds doubles half
                                 to even); raises "ambiguous round tie" when
                                 the value is within 1e-9 of a tie, so no
                                 test depends on binary rounding noise
     numeric / numeric        -> double precision (DECIMAL/DECIMAL is DOUBLE)
     date_trunc(text, date)   -> timestamp (PG would pick timestamptz)
     contains(text, text)     -> strpos(s, needle) > 0
     TINYINT                  -> domain over int2 checked to -128..127
2. Text rewrites of the query (outside string literals), in this order:
     a. type names: STRING -> text, DOUBLE -> float8, FLOAT -> float4,
        TINYINT -> retl.tinyint, BINARY -> bytea
     b. `name AS OF VERSION n` -> `name__vn AS name` (a table per version)
     c. `approx_count_distinct(` -> `count(DISTINCT ` (exact on small inputs)
     d. `extract(...)` -> `(extract(...))::int8` (PG 14+ returns numeric)
     e. `SHOW TABLES` and `DESCRIBE t` -> queries on tables the loader fills
        from the schema files (__retl_tables, __retl_columns)
3. Per query, a `# pg: <sql>` comment right before the `query`/`statement`
   line replaces the SQL sent to PostgreSQL (several `# pg:` lines are joined
   with spaces; the rewrites of 2. still apply). Used where no automatic
   rewrite exists (GROUP BY ALL, SHOW VERSIONS).
4. `statement error` blocks: PostgreSQL must fail too (its message is not
   compared: rETL's wording differs, e.g. `relation "x"` vs `table "x"`),
   unless the block carries `# pg-noerror: <why>` for errors that only rETL
   raises (TINYINT, BIGINT sum overflow, a missing version...).

Rendering (README.md): NULL, (empty), true/false, integers, DOUBLE and FLOAT
in std::to_chars shortest form (from PostgreSQL's shortest digits), DECIMAL as
PostgreSQL prints it (scale digits), DATE, TIMESTAMP (PostgreSQL drops
trailing fraction zeros as rETL does), BINARY as \\x hex.

Extra checks per query: the result is the same when every table is stored
in reverse and in shuffled row order (catches ORDER BY ties under nosort,
LIMIT without a total order, float sums that depend on order); `nosort`
needs an ORDER BY; a numeric column without a declared scale whose values
have different scales is reported (rETL gives DECIMAL one scale per column).
"""

import argparse
import decimal
import glob
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SQL_DIR = os.path.dirname(HERE)
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_DIR = "/tmp/retl_sql_pg"
PG_PORT = 54329

# ---------------------------------------------------------------------------
# PostgreSQL server
# ---------------------------------------------------------------------------


def as_postgres(cmd):
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def start_server():
    if not os.path.exists(os.path.join(PG_DIR, "PG_VERSION")):
        os.makedirs(PG_DIR, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres:postgres", PG_DIR], check=True)
        as_postgres([PG_BIN + "/initdb", "-D", PG_DIR, "-E", "UTF8", "--locale=C",
                     "-A", "trust", "-U", "postgres"])
    pidfile = os.path.join(PG_DIR, "postmaster.pid")
    if not os.path.exists(pidfile):
        as_postgres([PG_BIN + "/pg_ctl", "-D", PG_DIR, "-w", "-l", PG_DIR + "/log.txt",
                     "-o", "-c listen_addresses=127.0.0.1 -p %d -k /tmp" % PG_PORT,
                     "start"])
    return "host=127.0.0.1 port=%d user=postgres dbname=postgres" % PG_PORT


def stop_server():
    pidfile = os.path.join(PG_DIR, "postmaster.pid")
    if not os.path.exists(pidfile):
        return
    with open(pidfile) as f:
        pid = int(f.readline())
    os.kill(pid, 15)  # SIGTERM: smart shutdown of the postmaster we started
    for _ in range(100):
        if not os.path.exists(pidfile):
            return
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# Schema files and datasets
# ---------------------------------------------------------------------------

PG_TYPES = {"BOOLEAN": "boolean", "TINYINT": "retl.tinyint", "SMALLINT": "int2",
            "INT": "int4", "BIGINT": "int8", "FLOAT": "float4", "DOUBLE": "float8",
            "STRING": "text", "BINARY": "bytea", "DATE": "date", "TIMESTAMP": "timestamp"}


def split_top(text):
    parts, depth, cur = [], 0, ""
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_schema(path):
    """The CREATE TABLE files of tests/sql/data (a subset of the dialect)."""
    text = open(path, encoding="utf-8").read().strip()
    m = re.match(r"CREATE TABLE (\w+) \((.*?)\)\s*(?:PARTITION BY \((\w+)\))?\s*;?$", text,
                 re.S | re.I)
    assert m, path
    name, body, part = m.group(1), m.group(2), m.group(3)
    cols, pk = [], []
    for el in split_top(body):
        mk = re.match(r"PRIMARY KEY \((.*)\)$", el, re.I)
        if mk:
            pk += [c.strip() for c in mk.group(1).split(",")]
            continue
        if re.match(r"INDEX\b", el, re.I):
            continue
        mc = re.match(r"(\w+)\s+(\w+(?:\s*\(\s*\d+\s*,\s*\d+\s*\))?)(.*)$", el)
        assert mc, el
        col, typ, rest = mc.group(1), mc.group(2).upper().replace(" ", ""), mc.group(3)
        notnull = bool(re.search(r"NOT NULL", rest, re.I))
        if re.search(r"PRIMARY KEY", rest, re.I):
            pk.append(col)
        cols.append([col, typ, notnull])
    for c in cols:
        if c[0] in pk:
            c[2] = True
    return {"name": name, "cols": cols, "pk": pk, "part": part}


def pg_type(typ):
    m = re.match(r"DECIMAL\((\d+),(\d+)\)$", typ)
    if m:
        return "numeric(%s,%s)" % m.groups()
    return PG_TYPES[typ]


def load_dataset(conn, ds):
    """Replays build.txt: schema <ds> (row order as imported), <ds>__rev
    (reversed) and <ds>__shuf (shuffled) hold <table>__v<N> for every version
    N that has the table, and <table> for the last version."""
    d = os.path.join(HERE, ds)
    variants = [ds, ds + "__rev", ds + "__shuf"]
    with conn.cursor() as cur:
        for s in variants:
            cur.execute("DROP SCHEMA IF EXISTS %s CASCADE" % s)
            cur.execute("CREATE SCHEMA %s" % s)
        version = 1
        tables = {}  # name -> schema dict
        for line in open(os.path.join(d, "build.txt"), encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cmd, table, schema_file, csv_file, mode = line.split()
            assert cmd == "import"
            sch = parse_schema(os.path.join(d, schema_file))
            assert sch["name"] == table
            coldefs = ", ".join("%s %s" % (c, pg_type(t)) for c, t, _ in sch["cols"])
            cols = ", ".join(c for c, _, _ in sch["cols"])
            cur.execute("DROP TABLE IF EXISTS %s.__stage" % ds)
            cur.execute("CREATE TABLE %s.__stage (%s)" % (ds, coldefs))
            with open(os.path.join(d, csv_file), "rb") as f:
                data = f.read()
            with cur.copy("COPY %s.__stage (%s) FROM STDIN WITH (FORMAT csv, HEADER true)"
                          % (ds, cols)) as cp:
                cp.write(data)
            curt = "%s.__cur_%s" % (ds, table)
            stage = "(SELECT row_number() OVER () + coalesce((SELECT max(__ord) FROM %s), 0) " \
                    "AS __ord, * FROM %s.__stage) s" % (curt, ds)
            if mode in ("create", "replace-table"):
                assert (mode == "create") == (table not in tables), line
                cur.execute("DROP TABLE IF EXISTS %s" % curt)
                cur.execute("CREATE TABLE %s (__ord bigint, %s)" % (curt, coldefs))
            elif mode == "append":
                assert table in tables
            elif mode == "replace-partition":
                p = sch["part"]
                assert table in tables and p
                cur.execute("DELETE FROM %s c WHERE EXISTS (SELECT 1 FROM %s.__stage s "
                            "WHERE s.%s IS NOT DISTINCT FROM c.%s)" % (curt, ds, p, p))
            else:
                raise ValueError(line)
            cur.execute("INSERT INTO %s SELECT * FROM %s" % (curt, stage))
            # Key check, as retl-build import does.
            pk = ", ".join(sch["pk"])
            cur.execute("SELECT count(*) - count(DISTINCT (%s)) FROM %s" % (pk, curt))
            assert int(cur.fetchone()[0]) == 0, "duplicate key after " + line
            tables[table] = sch
            version += 1
            for name in tables:
                snapshot(cur, ds, variants, name, "%s__v%d" % (name, version))
        for name in tables:
            snapshot(cur, ds, variants, name, name)
        for s in variants:
            cur.execute("CREATE TABLE %s.__retl_tables AS SELECT unnest(%%s::text[]) AS name"
                        % s, (sorted(tables),))
            cur.execute("CREATE TABLE %s.__retl_columns (table_name text, ord int, "
                        "column_name text, column_type text, \"null\" text, key text)" % s)
            for name, sch in tables.items():
                for i, (c, t, nn) in enumerate(sch["cols"]):
                    key = "PRI" if c in sch["pk"] else ("PART" if c == sch["part"] else None)
                    cur.execute("INSERT INTO %s.__retl_columns VALUES (%%s, %%s, %%s, %%s, %%s, "
                                "%%s)" % s, (name, i, c, t, "NO" if nn else "YES", key))
        cur.execute("DROP TABLE %s.__stage" % ds)
    return version


def snapshot(cur, ds, variants, table, target):
    cols = "%s.__cur_%s" % (ds, table)
    orders = ["__ord", "__ord DESC", "md5(__ord::text || 'retl')"]
    for s, order in zip(variants, orders):
        cur.execute("CREATE TABLE %s.%s AS SELECT * FROM %s ORDER BY %s" % (s, target, cols, order))
        cur.execute("ALTER TABLE %s.%s DROP COLUMN __ord" % (s, target))


RETL_SCHEMA_SQL = r"""
DROP SCHEMA IF EXISTS retl CASCADE;
CREATE SCHEMA retl;
SET search_path = pg_catalog;
CREATE DOMAIN retl.tinyint AS int2 CHECK (VALUE BETWEEN -128 AND 127);

CREATE FUNCTION retl.avg_exact(numeric[]) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT CASE WHEN $1[2] = 0 THEN NULL ELSE $1[1]::float8 / $1[2]::float8 END $$;
""" + "".join("""
CREATE FUNCTION retl.acc_exact(numeric[], {t}) RETURNS numeric[] LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT ARRAY[$1[1] + $2, $1[2] + 1] $$;
CREATE AGGREGATE retl.avg({t}) (SFUNC = retl.acc_exact, STYPE = numeric[],
  FINALFUNC = retl.avg_exact, INITCOND = '{{0,0}}');""".format(t=t)
              for t in ["int2", "int4", "int8", "numeric"]) + "".join("""
CREATE FUNCTION retl.acc_f8(float8[], {t}) RETURNS float8[] LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT pg_catalog.float8_accum($1, $2::float8) $$;
CREATE AGGREGATE retl.stddev({t}) (SFUNC = retl.acc_f8, STYPE = float8[],
  FINALFUNC = pg_catalog.float8_stddev_samp, INITCOND = '{{0,0,0}}');""".format(t=t)
              for t in ["int2", "int4", "int8", "numeric", "float4"]) + """
CREATE AGGREGATE retl.avg(float4) (SFUNC = retl.acc_f8, STYPE = float8[],
  FINALFUNC = pg_catalog.float8_avg, INITCOND = '{0,0,0}');
CREATE AGGREGATE retl.sum(int8) (SFUNC = pg_catalog.int8pl, STYPE = int8);

CREATE FUNCTION retl.round(x float8, n int4) RETURNS float8 LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog SET extra_float_digits = 1 AS $$
DECLARE
  exact numeric;
  scaled numeric;
BEGIN
  IF x = 'Infinity'::float8 OR x = '-Infinity'::float8 OR x = 'NaN'::float8 THEN
    RETURN x;
  END IF;
  -- The shortest decimal that reads back as x (not PG's 15-digit x::numeric).
  exact := x::text::numeric;
  scaled := abs(exact) * power(10::numeric, n);
  -- A tie that is exact in binary (2.5, 0.125) rounds away from zero in any
  -- implementation; one that is not (1.005) depends on how it is computed.
  IF scaled < 1e15 AND abs(scaled - trunc(scaled) - 0.5) < greatest(1e-9, scaled * 1e-14)
     AND (scale(exact) > 30 OR exact * power(2::numeric, scale(exact))
          <> trunc(exact * power(2::numeric, scale(exact)))) THEN
    RAISE EXCEPTION 'ambiguous round tie: round(%, %)', x, n;
  END IF;
  RETURN round(exact, n)::float8;
END $$;
CREATE FUNCTION retl.round(float8) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT retl.round($1, 0) $$;

CREATE FUNCTION retl.numeric_div_f8(numeric, numeric) RETURNS float8 LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog AS $$
BEGIN
  IF $2 = 0 THEN RAISE EXCEPTION 'division by zero' USING ERRCODE = '22012'; END IF;
  RETURN $1::float8 / $2::float8;
END $$;
CREATE OPERATOR retl./ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = retl.numeric_div_f8);

CREATE FUNCTION retl.date_trunc(text, date) RETURNS timestamp LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT pg_catalog.date_trunc($1, $2::timestamp) $$;
CREATE FUNCTION retl.contains(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT pg_catalog.strpos($1, $2) > 0 $$;
"""

# ---------------------------------------------------------------------------
# .test files
# ---------------------------------------------------------------------------


class Record:
    def __init__(self, kind, header, pragmas, sql_lines, expected, start, end, file):
        self.kind = kind          # "query", "ok", "error", "dataset"
        self.header = header      # the header line
        self.pragmas = pragmas    # {"pg": sql, "pg-noerror": text}
        self.sql = "\n".join(sql_lines)
        self.expected = expected  # list of lines (query only)
        self.start, self.end = start, end  # line range of the result rows
        self.file = file
        self.dataset = None


def parse_test_file(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    records = []
    i = 0
    dataset = None
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        pragmas = {}
        # Comments before the header; `# pg:` / `# pg-noerror:` are pragmas.
        while i < len(lines) and lines[i].startswith("#"):
            m = re.match(r"#\s*(pg|pg-noerror):\s?(.*)$", lines[i])
            if m:
                key = m.group(1)
                pragmas[key] = (pragmas[key] + " " if key in pragmas else "") + m.group(2)
            i += 1
        if i >= len(lines) or not lines[i].strip():
            continue
        header = lines[i]
        hdr_line = i
        i += 1
        words = header.split()
        if words[0] == "dataset":
            dataset = words[1]
            continue
        if words[0] == "query":
            kind = "query"
        elif words[:2] == ["statement", "ok"]:
            kind = "ok"
        elif words[:2] == ["statement", "error"]:
            kind = "error"
        else:
            raise SyntaxError("%s:%d: bad record header %r" % (path, hdr_line + 1, header))
        sql = []
        while i < len(lines) and lines[i].strip() and lines[i] != "----":
            sql.append(lines[i])
            i += 1
        expected, start = [], i
        if kind == "query":
            if i >= len(lines) or lines[i] != "----":
                raise SyntaxError("%s:%d: query without ----" % (path, hdr_line + 1))
            i += 1
            start = i
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i])
                i += 1
        r = Record(kind, header, pragmas, sql, expected, start, i, path)
        r.line = hdr_line + 1
        if dataset is None:
            raise SyntaxError("%s:%d: no dataset line before the first record" % (path, r.line))
        r.dataset = dataset
        records.append(r)
    return records


# ---------------------------------------------------------------------------
# SQL rewrite for PostgreSQL
# ---------------------------------------------------------------------------

TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\w+|--[^\n]*|\s+|.", re.S)
TYPE_WORDS = {"string": "text", "double": "float8", "float": "float4",
              "tinyint": "retl.tinyint", "binary": "bytea"}


def rewrite_for_pg(sql):
    toks = TOKEN.findall(sql)
    words = [(i, t) for i, t in enumerate(toks) if not t.isspace()]

    def nxt(k, n=1):
        return words[k + n][1].lower() if k + n < len(words) else ""

    out = list(toks)
    for k, (i, t) in enumerate(words):
        low = t.lower()
        if low in TYPE_WORDS:
            if low == "double" and nxt(k) == "precision":
                continue
            out[i] = TYPE_WORDS[low]
        elif low == "as" and nxt(k) == "of" and nxt(k, 2) == "version":
            table_i, table = words[k - 1]
            n = words[k + 3][1]
            out[table_i] = "%s__v%s" % (table, n)
            out[i] = "AS " + table
            for j in (1, 2, 3):
                out[words[k + j][0]] = ""
        elif low == "approx_count_distinct" and nxt(k) == "(":
            out[i] = "count"
            out[words[k + 1][0]] = "(DISTINCT "
        elif low == "extract" and nxt(k) == "(":
            depth = 0
            for j in range(k + 1, len(words)):
                if words[j][1] == "(":
                    depth += 1
                elif words[j][1] == ")":
                    depth -= 1
                    if depth == 0:
                        out[i] = "(extract"
                        out[words[j][0]] = ")::int8)"
                        break
    pg = "".join(out)
    m = re.match(r"\s*SHOW\s+TABLES\s*$", pg, re.I)
    if m:
        pg = "SELECT name FROM __retl_tables ORDER BY name"
    m = re.match(r"\s*DESCRIBE\s+(\w+)\s*$", pg, re.I)
    if m:
        pg = ("SELECT column_name, column_type, \"null\", key FROM __retl_columns "
              "WHERE table_name = '%s' ORDER BY ord" % m.group(1))
    if re.search(r"\bGROUP\s+BY\s+ALL\b", pg, re.I):
        raise ValueError("GROUP BY ALL needs a `# pg:` rewrite")
    return pg


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def shortest(text):
    """PostgreSQL's shortest float text -> std::to_chars(value) text."""
    if text == "NaN":
        return "nan"
    if text == "Infinity":
        return "inf"
    if text == "-Infinity":
        return "-inf"
    d = decimal.Decimal(text)
    sign = "-" if d.is_signed() else ""
    if d == 0:
        return sign + "0"
    _, digits, exp = d.as_tuple()
    digits = "".join(map(str, digits)).lstrip("0")
    while digits.endswith("0"):
        digits = digits[:-1]
        exp += 1
    n = len(digits)
    e10 = exp + n - 1
    sci = digits[0] + ("." + digits[1:] if n > 1 else "") + "e" + ("+" if e10 >= 0 else "-") \
        + "%02d" % abs(e10)
    if exp >= 0:
        fixed = digits + "0" * exp
    elif n + exp > 0:
        fixed = digits[:n + exp] + "." + digits[n + exp:]
    else:
        fixed = "0." + "0" * (-(n + exp)) + digits
    if len(fixed) <= len(sci):
        if exp > 0 and abs(d) >= 2 ** 53:
            # to_chars prints such a value in fixed notation; whether its
            # digits past the shortest ones are zeros or the exact binary
            # value's is up to the library: keep such values out of tests.
            raise ValueError("float %s >= 2^53 in fixed notation" % text)
        return sign + fixed
    return sign + sci


class Renderer:
    def __init__(self, conn):
        self.kind = {}
        with conn.cursor() as cur:
            cur.execute("SELECT t.oid, coalesce(b.typname, t.typname) FROM pg_type t "
                        "LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype")
            for oid, name in cur.fetchall():
                self.kind[int(oid)] = name

    def value(self, oid, v):
        if v is None:
            return "NULL"
        k = self.kind.get(oid, "?")
        if k == "bool":
            return {"t": "true", "f": "false"}[v]
        if k in ("int2", "int4", "int8", "numeric", "date", "timestamp", "bytea"):
            return v
        if k in ("float4", "float8"):
            return shortest(v)
        if k in ("text", "varchar", "bpchar", "name", "unknown"):
            if "\t" in v or "\n" in v:
                raise ValueError("tab or newline in a result string")
            return v if v != "" else "(empty)"
        raise ValueError("result type %s has no rETL rendering (missing rewrite?)" % k)


def raw_loaders(conn):
    from psycopg.adapt import Loader

    class Raw(Loader):
        def load(self, data):
            return bytes(data).decode("utf-8")

    for name in ["bool", "int2", "int4", "int8", "float4", "float8", "numeric", "date",
                 "timestamp", "timestamptz", "interval", "bytea", "text", "varchar", "bpchar",
                 "name", "oid", "time"]:
        conn.adapters.register_loader(name, Raw)


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def run(conn, renderer, schema, sql):
    """Returns (column count, rows as lists of strings, notes) or raises."""
    import psycopg
    notes = []
    with conn.cursor() as cur:
        cur.execute("SET search_path = retl, %s, pg_catalog" % schema)
        cur.execute(sql, prepare=False)
        if cur.description is None:
            return 0, [], notes
        rows = cur.fetchall()
        desc = cur.description
        out = [[renderer.value(desc[c].type_code, r[c]) for c in range(len(desc))] for r in rows]
        for c, col in enumerate(desc):
            if renderer.kind.get(col.type_code) == "numeric" and col.scale is None:
                scales = {len(v.split(".")[1]) if "." in v else 0
                          for v in (r[c] for r in out) if v != "NULL"}
                if len(scales) > 1:
                    notes.append("column %d: numeric of mixed scales %s" % (c + 1, sorted(scales)))
    return len(desc), out, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help=".test files (default: tests/sql/*.test)")
    ap.add_argument("--update", action="store_true", help="write PostgreSQL's rows into the files")
    ap.add_argument("--dsn", help="libpq connection string of a running PostgreSQL 15")
    ap.add_argument("--keep-server", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    import psycopg
    files = args.files or sorted(glob.glob(os.path.join(SQL_DIR, "*.test")))
    files = [f if os.path.exists(f) else os.path.join(SQL_DIR, f) for f in files]
    started = args.dsn is None
    dsn = args.dsn or start_server()
    try:
        admin = psycopg.connect(dsn, autocommit=True)
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = 'retl_sql'")
            if not cur.fetchone():
                cur.execute("CREATE DATABASE retl_sql ENCODING 'UTF8' LC_COLLATE 'C' "
                            "LC_CTYPE 'C' TEMPLATE template0")
        admin.close()
        conn = psycopg.connect(re.sub(r"dbname=\S+", "", dsn) + " dbname=retl_sql",
                               autocommit=True)
        raw_loaders(conn)
        with conn.cursor() as cur:
            cur.execute("SET client_min_messages = warning")
            cur.execute(RETL_SCHEMA_SQL)
            for s in ["SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'",
                      "SET extra_float_digits = 1", "SET IntervalStyle = 'postgres'",
                      "SET bytea_output = 'hex'", "SET statement_timeout = '20s'"]:
                cur.execute(s)
        for ds in sorted(os.listdir(HERE)):
            if os.path.exists(os.path.join(HERE, ds, "build.txt")):
                load_dataset(conn, ds)
        renderer = Renderer(conn)
        problems = 0
        total = {"query": 0, "error": 0, "ok": 0}
        for path in files:
            records = parse_test_file(path)
            edits = []
            counts = {"query": 0, "error": 0, "ok": 0}
            for r in records:
                counts[r.kind] += 1
                where = "%s:%d" % (os.path.basename(path), r.line)
                try:
                    pg_sql = rewrite_for_pg(r.pragmas.get("pg") or r.sql)
                except ValueError as e:
                    print("%s: %s" % (where, e))
                    problems += 1
                    continue
                results = []
                for variant in ["", "__rev", "__shuf"]:
                    try:
                        results.append(("ok",) + run(conn, renderer, r.dataset + variant, pg_sql))
                    except psycopg.Error as e:
                        results.append(("error", str(e).strip().split("\n")[0]))
                    except ValueError as e:
                        results.append(("bad", str(e)))
                first = results[0]
                if r.kind == "error":
                    if first[0] == "ok" and "pg-noerror" not in r.pragmas:
                        print("%s: PostgreSQL does not fail: %s" % (where, r.sql))
                        problems += 1
                    elif first[0] == "error" and "pg-noerror" in r.pragmas:
                        print("%s: pg-noerror, yet PostgreSQL fails: %s" % (where, first[1]))
                        problems += 1
                    elif args.verbose and first[0] == "error":
                        print("%s: PG error: %s" % (where, first[1]))
                    continue
                if first[0] != "ok":
                    print("%s: PostgreSQL: %s\n    %s" % (where, first[1], pg_sql))
                    problems += 1
                    continue
                if r.kind == "ok":
                    continue
                mode = r.header.split()[2] if len(r.header.split()) > 2 else "nosort"
                ncols, rows, notes = first[1], first[2], first[3]
                letters = r.header.split()[1]
                if ncols != len(letters):
                    print("%s: %d columns, header says %s" % (where, ncols, letters))
                    problems += 1
                lines = ["\t".join(row) for row in rows]
                if any(l != l.strip() for l in lines):
                    print("%s: a result line starts or ends with white space" % where)
                    problems += 1
                if mode == "rowsort":
                    lines.sort()
                elif mode == "nosort" and len(rows) > 1 and \
                        not re.search(r"\border\s+by\b", r.sql, re.I) and \
                        not re.match(r"\s*(SHOW|DESCRIBE)\b", r.sql, re.I):
                    print("%s: nosort without ORDER BY" % where)
                    problems += 1
                for other in results[1:]:
                    olines = ["\t".join(row) for row in other[2]] if other[0] == "ok" else other
                    if mode == "rowsort" and other[0] == "ok":
                        olines.sort()
                    if olines != lines:
                        print("%s: result depends on the row order of the tables" % where)
                        problems += 1
                        break
                for n in notes:
                    print("%s: %s" % (where, n))
                    problems += 1
                if lines != r.expected:
                    if args.update:
                        edits.append((r.start, r.end, lines))
                    else:
                        print("%s: expected differs from PostgreSQL\n  sql: %s\n  pg:  %s\n"
                              "  got: %s\n  exp: %s" % (where, r.sql.replace("\n", " "),
                                                        pg_sql.replace("\n", " "),
                                                        lines[:10], r.expected[:10]))
                        problems += 1
            for k in total:
                total[k] += counts[k]
            print("%-22s %4d query  %3d statement error  %3d statement ok"
                  % (os.path.basename(path), counts["query"], counts["error"], counts["ok"]))
            if edits:
                text = open(path, encoding="utf-8").read().split("\n")
                for start, end, lines in sorted(edits, reverse=True):
                    text[start:end] = lines
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(text))
                print("  updated %d blocks" % len(edits))
        print("%-22s %4d query  %3d statement error  %3d statement ok"
              % ("total", total["query"], total["error"], total["ok"]))
        print("%d problems" % problems)
        conn.close()
    finally:
        if started and not args.keep_server:
            stop_server()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
