"""retl-build import of Parquet files.

Files are written with pyarrow in many shapes (codecs, page versions, dictionary
on and off, every supported encoding, many pages and row groups per file) and
read back with `retl-build dump`; every value is compared with what was written,
rendered the way rETL renders canonical text (format/text.cc). Damaged files
must fail with the file's name in the message and commit nothing.
"""
import datetime
import decimal
import functools
import math
import pathlib
import random
import struct

import pyarrow as pa  # scripts/install-deps.sh installs it (build/pyenv): never skipped
import pyarrow.parquet as pq
import pytest

from conftest import data_files, live_version, read_csv, run, write_csv  # noqa: E402

# Small pages and row groups, so a table of a thousand rows spans many of each.
N_ROWS = 1200
ROW_GROUP = 300
# Rows of this row group (0-based) are NULL in every nullable column.
ALL_NULL_GROUP = 2
SMALL_PAGES = dict(row_group_size=ROW_GROUP, data_page_size=1024, write_batch_size=37,
                   max_rows_per_page=97)
CODECS = ["none", "snappy", "gzip", "zstd", "lz4", "brotli"]


# ---- canonical text, as format/text.cc writes it ---------------------------------

def fmt_date(days):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=days)).isoformat()


def fmt_ts(micros):
    days, rem = divmod(micros, 86_400_000_000)  # floor: times before 1970 count up from midnight
    seconds, fraction = divmod(rem, 1_000_000)
    out = "%s %02d:%02d:%02d" % (fmt_date(days), seconds // 3600, seconds // 60 % 60, seconds % 60)
    if fraction:
        out += "." + ("%06d" % fraction).rstrip("0")
    return out


def fmt_dec(unscaled, scale):
    digits = str(abs(unscaled))
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        digits = digits[:-scale] + "." + digits[-scale:]
    return ("-" if unscaled < 0 else "") + digits


def fmt_bin(b):
    return "\\x" + b.hex()


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def to_decimal(unscaled, scale):
    return decimal.Decimal(f"{unscaled}E-{scale}")  # exact, whatever the context precision


# ---- the sample table ------------------------------------------------------------

class Col:
    """One column: arrow field, values as written, expected text (None = NULL), rETL type."""

    def __init__(self, name, typ, values, render, retl, kind="exact", nullable=True):
        self.name, self.type, self.values, self.retl, self.kind = name, typ, values, retl, kind
        self.nullable = nullable
        # Float columns (render None) are compared as numbers: expect the float itself.
        self.expected = [None if v is None else v if render is None else render(v)
                         for v in values]

    def arrow_values(self):
        return self.values


class DecimalCol(Col):
    def __init__(self, name, precision, scale, unscaled):
        super().__init__(name, pa.decimal128(precision, scale), unscaled,
                         lambda u: fmt_dec(u, scale), f"DECIMAL({precision},{scale})")
        self.scale = scale

    def arrow_values(self):
        return [None if u is None else to_decimal(u, self.scale) for u in self.values]


TS_UNITS = {"ms": lambda v: v * 1000, "us": lambda v: v, "ns": lambda v: v // 1000}
MIN_DAYS = -719162        # 0001-01-01
MAX_DAYS = 2932896        # 9999-12-31
MIN_US = MIN_DAYS * 86_400_000_000
MAX_US = (MAX_DAYS + 1) * 86_400_000_000 - 1

STRING_EDGES = ["", "Zoë", "日本語のテキスト", "emoji 🎉 ok", 'quote " and, comma',
                "line\nbreak\r\nend", "x" * 1500, " lead and trail space ", "NULL", "\\x00"]
BINARY_EDGES = [b"", b"\x00", b"\xff\x00\x10", bytes(range(256)), b"\x00" * 1100, b"NULL"]


@functools.lru_cache(maxsize=None)
def sample(n=N_ROWS, seed=1, null_group=ALL_NULL_GROUP, row_group=ROW_GROUP):
    """A list of Cols covering every supported type with edge values and NULLs."""
    rng = random.Random(seed)
    null_rows = range(null_group * row_group, (null_group + 1) * row_group) if null_group is not None \
        else range(0)

    def gen(edges, rand, nullable=True):
        out = []
        for i in range(n):
            if nullable and (i in null_rows or rng.random() < 0.1):
                out.append(None)
            elif i % 7 == 0:
                out.append(edges[(i // 7) % len(edges)])
            else:
                out.append(rand())
        return out

    def int_col(name, typ, bits, signed, retl, nullable=True):
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        edges = [lo, hi, 0, lo + 1, hi - 1] + ([-1, 1] if signed else [1])
        return Col(name, typ, gen(edges, lambda: rng.randint(lo, hi), nullable), str, retl,
                   nullable=nullable)

    ids = [-(1 << 63), (1 << 63) - 1] + rng.sample(range(-10**9, 10**9), n - 2)
    rng.shuffle(ids)
    cols = [Col("id", pa.int64(), ids, str, "BIGINT", nullable=False)]
    cols.append(Col("b", pa.bool_(), gen([True, False], lambda: rng.random() < 0.5),
                    lambda v: "true" if v else "false", "BOOLEAN"))
    cols.append(int_col("i8", pa.int8(), 8, True, "TINYINT"))
    cols.append(int_col("i16", pa.int16(), 16, True, "SMALLINT"))
    cols.append(int_col("i32", pa.int32(), 32, True, "INT"))
    cols.append(int_col("i64", pa.int64(), 64, True, "BIGINT"))
    cols.append(int_col("req_i32", pa.int32(), 32, True, "INT", nullable=False))
    cols.append(int_col("u8", pa.uint8(), 8, False, "SMALLINT"))
    cols.append(int_col("u16", pa.uint16(), 16, False, "INT"))
    cols.append(int_col("u32", pa.uint32(), 32, False, "BIGINT"))
    cols.append(int_col("u64", pa.uint64(), 64, False, "DECIMAL(20,0)"))
    inf, nan = float("inf"), float("nan")
    cols.append(Col("f32", pa.float32(), gen(
        [f32(v) for v in (inf, -inf, nan, -0.0, 0.0, 1.5, 3.4028234663852886e38,
                          -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38,
                          0.1)],
        lambda: f32(rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30))),
        None, "FLOAT", kind="float32"))
    cols.append(Col("f64", pa.float64(), gen(
        [inf, -inf, nan, -0.0, 0.1, 1e300, -1e-300, 5e-324, 1.7976931348623157e308,
         float(2**53 + 2)],
        lambda: rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300)),
        None, "DOUBLE", kind="float64"))

    def rand_string():
        r = rng.random()
        if r < 0.5:
            return "customer-%07d" % rng.randrange(10**7)  # long shared prefixes
        if r < 0.8:
            return "cat%d" % rng.randrange(5)
        if r < 0.9:
            return "long-" + "ab" * rng.randint(520, 700)  # > 1 KB
        return "".join(rng.choice("aé€𝄞 \"',\n") for _ in range(rng.randint(1, 12)))

    cols.append(Col("s", pa.string(), gen(STRING_EDGES, rand_string), lambda v: v, "STRING"))
    cols.append(Col("cat", pa.string(), gen(["red", "green"], lambda: rng.choice(
        ["red", "green", "blue", "ä"])), lambda v: v, "STRING"))
    cols.append(Col("nothing", pa.string(), [None] * n, lambda v: v, "STRING"))
    cols.append(Col("bin", pa.binary(), gen(
        BINARY_EDGES, lambda: b"prefix-" + rng.randbytes(rng.randint(0, 30))), fmt_bin, "BINARY"))
    cols.append(Col("fbin", pa.binary(4), gen(
        [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"], lambda: rng.randbytes(4)), fmt_bin, "BINARY"))
    cols.append(DecimalCol("d9", 9, 2, gen(
        [0, -1, 1, 10**9 - 1, -(10**9 - 1), -100, 5],
        lambda: rng.randint(-(10**9 - 1), 10**9 - 1))))
    cols.append(DecimalCol("d18", 18, 4, gen(
        [0, -1, 10**18 - 1, -(10**18 - 1), 1 << 32, -(1 << 31) - 1],
        lambda: rng.randint(-(10**18 - 1), 10**18 - 1))))
    cols.append(DecimalCol("d38", 38, 10, gen(
        [0, -1, 10**38 - 1, -(10**38 - 1), 1 << 64, -(1 << 64) - 1, 1 << 63, -(1 << 63)],
        lambda: rng.randint(-(10**38 - 1), 10**38 - 1))))
    cols.append(Col("dt", pa.date32(), gen(
        [0, -1, MIN_DAYS, MAX_DAYS, -25567, -25508, 19753],
        lambda: rng.randint(MIN_DAYS, MAX_DAYS)), fmt_date, "DATE"))

    def ts_col(name, unit, edges, lo, hi, tz=None):
        to_us = TS_UNITS[unit]
        return Col(name, pa.timestamp(unit, tz=tz), gen(edges, lambda: rng.randint(lo, hi)),
                   lambda v: fmt_ts(to_us(v)), "TIMESTAMP")

    cols.append(ts_col("ts_ms", "ms", [0, -1, -1001, 1, MIN_US // 1000, MAX_US // 1000,
                                       -86_400_000 * 365 * 70 + 123],
                       MIN_US // 1000, MAX_US // 1000))
    cols.append(ts_col("ts_us", "us", [0, -1, -999_999, -1_000_001, 1, MIN_US, MAX_US],
                       MIN_US, MAX_US))
    cols.append(ts_col("ts_ns", "ns", [0, -1, -1500, 1500, 999, -999, -1_000_000_001,
                                       -(1 << 63), (1 << 63) - 1],
                       -(1 << 63), (1 << 63) - 1))
    cols.append(ts_col("ts_us_utc", "us", [0, -1, MIN_US, MAX_US], MIN_US, MAX_US, tz="UTC"))
    cols.append(ts_col("ts_ns_tz", "ns", [0, -1, -1001], -(1 << 63), (1 << 63) - 1, tz="+05:30"))
    return cols


def arrow_table(cols, rows=None):
    fields = [pa.field(c.name, c.type, nullable=c.nullable) for c in cols]
    arrays = []
    for c in cols:
        values = c.arrow_values()
        if rows is not None:
            values = values[rows]
        arrays.append(pa.array(values, type=c.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def expected_rows(cols, rows=None):
    """Expected dump rows (header first), sorted by the first column (the integer key)."""
    n = len(cols[0].values)
    idx = range(n)[rows] if rows is not None else range(n)
    body = [[c.expected[i] for c in cols] for i in idx]
    body.sort(key=lambda r: int(r[0]))
    return [[c.name for c in cols]] + body


def float_matches(text, want, kind):
    if text is None or want is None:
        return text is None and want is None
    if math.isnan(want):
        return text == "nan"
    try:
        got = float(text)
    except ValueError:
        return False
    if kind == "float32":
        got = f32(got)
    return got == want


def assert_same_rows(actual, expected, cols=None):
    """Compares dump output with expected rows; float columns as numbers."""
    assert actual[0] == expected[0], (actual[0], expected[0])
    assert len(actual) == len(expected), (len(actual) - 1, "rows, expected", len(expected) - 1)
    kinds = [c.kind for c in cols] if cols else ["exact"] * len(expected[0])
    mismatches = []
    for got_row, want_row in zip(actual[1:], expected[1:]):
        for name, kind, got, want in zip(expected[0], kinds, got_row, want_row):
            ok = got == want if kind == "exact" else float_matches(got, want, kind)
            if not ok:
                mismatches.append((f"row with {expected[0][0]}={want_row[0]}", name,
                                   ("got", got[:80] if got else got),
                                   ("want", want[:80] if isinstance(want, str) else want)))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:8]}"


def dump(ds, table="t"):
    return read_csv(run("dump", ds, "--table", table).out)


def column_types(ds):
    """{column: (type, not_null)} from `retl-build info` (one table)."""
    info = run("info", ds).out
    lines = info.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "columns:")
    out = {}
    for line in lines[start + 1:]:
        parts = line.split()
        if not line.startswith("    ") or len(parts) < 2:
            break
        out[parts[0]] = (parts[1], "NOT NULL" in line)
    return out


def write(table, path, **options):
    opts = dict(SMALL_PAGES)
    opts.update(options)
    pq.write_table(table, str(path), **opts)
    return pathlib.Path(path)


def import_parquet(ds, *inputs, table="t", key="id", expect=0, extra=()):
    args = ["import", ds, "--table", table]
    for i in inputs:
        args += ["--input", i]
    if key:
        args += ["--primary-key", key]
    return run(*args, *extra, expect=expect)


def assert_nothing_committed(ds, version, files):
    assert live_version(ds) == version
    assert data_files(ds) == files
    assert sorted(p.name for p in (pathlib.Path(ds) / "manifests").iterdir()) == [
        f"{v:020d}.manifest" for v in range(1, version + 1)]
    run("verify", ds)


def assert_clean_error(r, *needles):
    """Exit 1 with a retl-build error (no sanitizer report) containing every needle."""
    assert r.code == 1, r
    assert "retl-build: error:" in r.err, r
    assert "Sanitizer" not in r.err and "runtime error:" not in r.err, r
    for needle in needles:
        assert needle in r.err, (needle, r)


def physical_types(path):
    meta = pq.ParquetFile(str(path)).metadata
    return {meta.schema.column(i).name: meta.schema.column(i).physical_type
            for i in range(meta.num_columns)}


def encodings(path):
    """{column: set of encodings over all row groups}."""
    meta = pq.ParquetFile(str(path)).metadata
    out = {}
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            chunk = meta.row_group(g).column(c)
            out.setdefault(chunk.path_in_schema, set()).update(chunk.encodings)
    return out


# ---- 1. codecs x page versions x dictionary ---------------------------------------

@pytest.mark.parametrize("dictionary", [True, False], ids=["dict", "plain"])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
@pytest.mark.parametrize("codec", CODECS)
def test_codecs_page_versions_and_dictionary(ds, tmp_path, codec, page_version, dictionary):
    cols = sample()
    # Decimals as INT32/INT64 with the dictionary, as FIXED_LEN_BYTE_ARRAY without.
    path = write(arrow_table(cols), tmp_path / "data.parquet", compression=codec,
                 data_page_version=page_version, use_dictionary=dictionary,
                 dictionary_pagesize_limit=4096, store_decimal_as_integer=dictionary)
    meta = pq.ParquetFile(str(path)).metadata
    assert meta.num_row_groups == N_ROWS // ROW_GROUP
    phys = physical_types(path)
    if dictionary:
        assert (phys["d9"], phys["d18"], phys["d38"]) == ("INT32", "INT64", "FIXED_LEN_BYTE_ARRAY")
        enc = encodings(path)
        assert "RLE_DICTIONARY" in enc["cat"] or "PLAIN_DICTIONARY" in enc["cat"]
    else:
        assert phys["d9"] == phys["d18"] == "FIXED_LEN_BYTE_ARRAY"
    r = import_parquet(ds, path)
    assert f"created with {N_ROWS} rows" in r.out, r
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def test_inferred_types(ds, tmp_path):
    cols = sample()
    path = write(arrow_table(cols), tmp_path / "data.parquet")
    import_parquet(ds, path)
    types = column_types(ds)
    assert list(types) == [c.name for c in cols]
    want = {c.name: (c.retl, c.name == "id") for c in cols}
    assert types == want
    run("verify", ds)


def test_arrow_variants_map_to_plain_types(ds, tmp_path):
    """large/view strings and binaries, dictionary arrays, JSON: STRING / BINARY."""
    n = 500
    strings = [None if i % 11 == 0 else ("", "ü", "k%03d" % i)[i % 3] for i in range(n)]
    blobs = [None if i % 13 == 0 else bytes([i % 256, 0]) for i in range(n)]
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "ls": pa.array(strings, pa.large_string()),
        "sv": pa.array(strings, pa.string_view()),
        "lb": pa.array(blobs, pa.large_binary()),
        "bv": pa.array(blobs, pa.binary_view()),
        "dc": pa.array(strings, pa.string()).dictionary_encode(),
        "js": pa.array([None if s is None else '{"k": "%s"}' % s for s in strings], pa.json_()),
    })
    path = write(table, tmp_path / "v.parquet")
    import_parquet(ds, path)
    assert column_types(ds) == {"id": ("BIGINT", True), "ls": ("STRING", False),
                                "sv": ("STRING", False), "lb": ("BINARY", False),
                                "bv": ("BINARY", False), "dc": ("STRING", False),
                                "js": ("STRING", False)}
    want = [["id", "ls", "sv", "lb", "bv", "dc", "js"]]
    for i in range(n):
        s, b = strings[i], blobs[i]
        hb = None if b is None else fmt_bin(b)
        want.append([str(i), s, s, hb, hb, s, None if s is None else '{"k": "%s"}' % s])
    assert dump(ds) == want


def test_zero_row_file_creates_an_empty_table(ds, tmp_path):
    # Like a CSV file with only a header: the table is created, with the file's types.
    table = pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string()),
                      "day": pa.array([], pa.date32())})
    path = write(table, tmp_path / "empty.parquet")
    r = import_parquet(ds, path)
    assert "created with 0 rows" in r.out
    assert column_types(ds) == {"id": ("BIGINT", True), "name": ("STRING", False),
                                "day": ("DATE", False)}
    assert dump(ds) == [["id", "name", "day"]]


# ---- 2. encodings ------------------------------------------------------------------

INT_PHYSICAL = ["id", "i8", "i16", "i32", "i64", "req_i32", "u8", "u16", "u32", "u64", "d9", "d18",
                "dt", "ts_ms", "ts_us", "ts_ns", "ts_us_utc", "ts_ns_tz"]
ENCODING_CASES = {
    "DELTA_BINARY_PACKED": INT_PHYSICAL,
    "DELTA_LENGTH_BYTE_ARRAY": ["s", "cat", "nothing", "bin"],
    "DELTA_BYTE_ARRAY": ["s", "cat", "nothing", "bin", "fbin", "d38"],
    "BYTE_STREAM_SPLIT": ["f32", "f64"],
    "RLE": ["b"],
}


@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
@pytest.mark.parametrize("encoding", list(ENCODING_CASES))
def test_encodings(ds, tmp_path, encoding, page_version):
    cols = sample()
    names = ENCODING_CASES[encoding]
    path = write(arrow_table(cols), tmp_path / "enc.parquet", use_dictionary=False,
                 column_encoding={name: encoding for name in names},
                 store_decimal_as_integer=True, data_page_version=page_version,
                 compression="none" if page_version == "1.0" else "zstd")
    enc = encodings(path)
    for name in names:
        assert encoding in enc[name], (name, enc[name])
    import_parquet(ds, path)
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def test_byte_stream_split_on_integers_and_fixed_len(ds, tmp_path):
    """Parquet 2.11 allows BYTE_STREAM_SPLIT for INT32, INT64 and FIXED_LEN_BYTE_ARRAY too."""
    cols = sample()
    names = ["i32", "i64", "dt", "ts_us", "fbin", "d38"]
    path = write(arrow_table(cols), tmp_path / "bss.parquet", use_dictionary=False,
                 column_encoding={name: "BYTE_STREAM_SPLIT" for name in names})
    enc = encodings(path)
    for name in names:
        assert "BYTE_STREAM_SPLIT" in enc[name]
    import_parquet(ds, path)
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def test_delta_encodings_on_sorted_and_constant_runs(ds, tmp_path):
    """Deltas of zero, of one, with wraparound, and long miniblocks of equal bit widths."""
    n = 3000
    ids = list(range(n))
    const = [7] * n
    steps = [(i * 1_000_003) % (1 << 31) - (1 << 30) for i in range(n)]
    wrap = [(1 << 63) - 1 if i % 2 else -(1 << 63) for i in range(n)]
    prefixes = ["same-prefix-" * 3 + "%05d" % (i // 3) for i in range(n)]
    table = pa.table({"id": pa.array(ids, pa.int64()), "const": pa.array(const, pa.int32()),
                      "steps": pa.array(steps, pa.int32()), "wrap": pa.array(wrap, pa.int64()),
                      "prefixes": pa.array(prefixes, pa.string())})
    path = write(table, tmp_path / "delta.parquet", use_dictionary=False,
                 column_encoding={"id": "DELTA_BINARY_PACKED", "const": "DELTA_BINARY_PACKED",
                                  "steps": "DELTA_BINARY_PACKED", "wrap": "DELTA_BINARY_PACKED",
                                  "prefixes": "DELTA_BYTE_ARRAY"},
                 row_group_size=1000, max_rows_per_page=333, data_page_size=1 << 20)
    import_parquet(ds, path)
    want = [["id", "const", "steps", "wrap", "prefixes"]] + [
        [str(i), "7", str(steps[i]), str(wrap[i]), prefixes[i]] for i in range(n)]
    assert dump(ds) == want


# ---- INT96, decimals --------------------------------------------------------------

@pytest.mark.parametrize("dictionary", [True, False], ids=["dict", "plain"])
def test_int96_timestamps(ds, tmp_path, dictionary):
    cols = [c for c in sample() if c.name in ("id", "ts_ms", "ts_us", "ts_ns", "ts_us_utc")]
    path = write(arrow_table(cols), tmp_path / "int96.parquet",
                 use_deprecated_int96_timestamps=True, use_dictionary=dictionary)
    phys = physical_types(path)
    assert [phys[c.name] for c in cols[1:]] == ["INT96"] * 4
    import_parquet(ds, path)
    assert [t for t, _ in column_types(ds).values()] == ["BIGINT"] + ["TIMESTAMP"] * 4
    assert_same_rows(dump(ds), expected_rows(cols), cols)


# ---- 3. many files in one import ----------------------------------------------------

def split_files(tmp_path, cols, names, dirname="parts"):
    """Writes the sample's rows into len(names) files, each with different writer settings."""
    d = tmp_path / dirname
    d.mkdir(exist_ok=True)
    settings = [dict(compression="snappy"),
                dict(compression="zstd", data_page_version="2.0", use_dictionary=False),
                dict(compression="none", store_decimal_as_integer=True),
                dict(compression="gzip", data_page_version="2.0")]
    n = len(cols[0].values)
    step = (n + len(names) - 1) // len(names)
    paths = []
    for k, name in enumerate(names):
        rows = slice(k * step, min(n, (k + 1) * step))
        paths.append(write(arrow_table(cols, rows), d / name, **settings[k % len(settings)]))
    return d, paths


def test_directory_input_skips_hidden_and_marker_files(ds, tmp_path):
    cols = sample()
    d, _ = split_files(tmp_path, cols, ["part-00000.parquet", "part-00001.parq",
                                       "part-00002.parquet"])
    (d / "_SUCCESS").write_bytes(b"")
    (d / "_common_metadata").write_bytes(b"garbage that is not parquet")
    (d / ".hidden.parquet").write_bytes(b"garbage that is not parquet")
    (d / ".part-00000.parquet.crc").write_bytes(b"crc")
    (d / "notes.txt").write_text("not an input: unsupported extension\n")
    r = import_parquet(ds, d)
    assert f"created with {N_ROWS} rows" in r.out, r
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def test_directory_with_an_empty_file_among_others(ds, tmp_path):
    cols = sample()
    d, _ = split_files(tmp_path, cols, ["a.parquet", "c.parquet"])
    write(arrow_table(cols, slice(0, 0)), d / "b.parquet")  # a file with no rows
    import_parquet(ds, d)
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def test_glob_input(ds, tmp_path):
    cols = sample()
    d, _ = split_files(tmp_path, cols, ["a.parquet", "b.parquet", "c.parq"])
    import_parquet(ds, str(d / "*.parquet"))  # one argv element; the tool expands it
    two_thirds = slice(0, 2 * N_ROWS // 3)
    assert_same_rows(dump(ds), expected_rows(cols, two_thirds), cols)
    # A pattern in the file part only, and one with a character class.
    import_parquet(ds, str(d / "[ac].parq*"), extra=["--mode", "replace-table"])
    rows = expected_rows(cols, slice(0, N_ROWS // 3))
    rows += expected_rows(cols, slice(2 * N_ROWS // 3, N_ROWS))[1:]
    rows[1:] = sorted(rows[1:], key=lambda r: int(r[0]))
    assert_same_rows(dump(ds), rows, cols)


def test_repeated_and_multi_valued_input(ds, tmp_path):
    cols = sample()
    _, paths = split_files(tmp_path, cols, ["a.parquet", "b.parquet", "c.parquet", "d.parquet"])
    # --input A --input B, and --input C D (one flag, two values), and a mix with a glob.
    r = run("import", ds, "--table", "t", "--input", paths[0], "--input", paths[1], paths[2],
            "--input", str(paths[3].parent / "d.parq*"), "--primary-key", "id")
    assert f"created with {N_ROWS} rows" in r.out, r
    assert_same_rows(dump(ds), expected_rows(cols), cols)


@pytest.mark.parametrize("what", ["empty-dir", "only-markers", "glob-no-match"])
def test_inputs_matching_nothing_are_an_error(ds, tmp_path, what):
    d = tmp_path / "in"
    d.mkdir()
    if what == "only-markers":
        (d / "_SUCCESS").write_bytes(b"")
        (d / ".hidden.parquet").write_bytes(b"x")
    arg = str(d / "*.parquet") if what == "glob-no-match" else str(d)
    r = import_parquet(ds, arg, expect=1)
    assert_clean_error(r, arg)
    assert data_files(ds) == [] and live_version(ds) == 1


def test_mixed_formats_in_one_import_are_an_error(ds, tmp_path):
    cols = sample()
    _, paths = split_files(tmp_path, cols, ["a.parquet"])
    csv_path = write_csv(tmp_path / "b.csv", ["id"], [["1"]])
    r = import_parquet(ds, paths[0], csv_path, expect=1)
    assert_clean_error(r)
    assert "b.csv" in r.err or "a.parquet" in r.err, r
    assert live_version(ds) == 1
    # The same through a directory holding both.
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "a.parquet").write_bytes(paths[0].read_bytes())
    (d / "b.csv").write_bytes(csv_path.read_bytes())
    assert_clean_error(import_parquet(ds, d, expect=1))
    assert live_version(ds) == 1


# ---- 4. format detection ------------------------------------------------------------

def test_format_detection_and_flag(ds, tmp_path):
    cols = [c for c in sample() if c.name in ("id", "s", "d38", "ts_ns")]
    data = write(arrow_table(cols), tmp_path / "w.parquet").read_bytes()
    plain = tmp_path / "export"            # no extension: detected by the PAR1 magic
    plain.write_bytes(data)
    import_parquet(ds, plain)
    assert_same_rows(dump(ds), expected_rows(cols), cols)
    odd = tmp_path / "export.dat"          # unknown extension, forced
    odd.write_bytes(data)
    import_parquet(ds, odd, extra=["--format", "parquet", "--mode", "replace-table"])
    assert_same_rows(dump(ds), expected_rows(cols), cols)
    import_parquet(ds, odd, extra=["--format", "auto", "--mode", "replace-table"])
    assert live_version(ds) == 4
    # A CSV file with an unknown extension is still CSV, and --format csv forces it.
    text = write_csv(tmp_path / "rows.txt", ["id", "name"], [["1", "a"], ["2", "b"]])
    import_parquet(ds, text, table="c")
    assert dump(ds, "c") == [["id", "name"], ["1", "a"], ["2", "b"]]
    import_parquet(ds, text, table="c", extra=["--format", "csv", "--mode", "replace-table"])
    # --format parquet on a CSV file: not a Parquet file.
    r = import_parquet(ds, text, table="c", expect=1,
                       extra=["--format", "parquet", "--mode", "replace-table"])
    assert_clean_error(r, "rows.txt")
    # A Parquet name on CSV content.
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,name\n1,a\n")
    assert_clean_error(import_parquet(ds, fake, table="c", expect=1,
                                      extra=["--mode", "replace-table"]), "fake.parquet")
    r = import_parquet(ds, odd, table="c", expect=None, extra=["--format", "orc"])
    assert r.code in (1, 2) and "orc" in r.err, r


# ---- 5. schema and table matching ---------------------------------------------------

def conversion_table(n=300):
    ids = list(range(n))
    counter = [None if i % 17 == 0 else (i * 7919) % (1 << 31) - (1 << 30) for i in range(n)]
    counter[1], counter[2] = 2147483647, -2147483648
    day = [None if i % 19 == 0 else fmt_date(-30000 + i * 97) for i in range(n)]
    seen = [None if i % 23 == 0 else fmt_ts(-10**15 + i * 123_456_789_123) for i in range(n)]
    wide = [None if i % 5 == 0 else i - 150 for i in range(n)]
    ratio = [None if i % 6 == 0 else (i - 150) / 4 for i in range(n)]
    amount = [None if i % 7 == 0 else "%d.%d" % (i - 150, i % 10) for i in range(n)]
    table = pa.table({
        "id": pa.array(ids, pa.int64()),
        "counter": pa.array(counter, pa.int64()),
        "day": pa.array(day, pa.string()),
        "seen": pa.array(seen, pa.string()),
        "wide": pa.array(wide, pa.int32()),
        "ratio": pa.array(ratio, pa.float32()),
        "amount": pa.array(amount, pa.string()),
    })
    return table


CONVERSION_SCHEMA = """CREATE TABLE t (
  day DATE, id INT NOT NULL, counter INT, seen TIMESTAMP, wide BIGINT, ratio DOUBLE,
  amount DECIMAL(12,2), PRIMARY KEY (id))"""


def test_schema_with_compatible_types(ds, tmp_path):
    table = conversion_table()
    path = write(table, tmp_path / "conv.parquet", row_group_size=100)
    schema = tmp_path / "t.sql"
    schema.write_text(CONVERSION_SCHEMA)
    import_parquet(ds, path, key=None, extra=["--schema", schema])
    assert column_types(ds) == {"day": ("DATE", False), "id": ("INT", True),
                                "counter": ("INT", False), "seen": ("TIMESTAMP", False),
                                "wide": ("BIGINT", False), "ratio": ("DOUBLE", False),
                                "amount": ("DECIMAL(12,2)", False)}
    c = table.to_pydict()
    want = [["day", "id", "counter", "seen", "wide", "ratio", "amount"]]
    for i in range(table.num_rows):
        a = c["amount"][i]
        want.append([c["day"][i], str(i), None if c["counter"][i] is None else str(c["counter"][i]),
                     c["seen"][i], None if c["wide"][i] is None else str(c["wide"][i]),
                     None if c["ratio"][i] is None else c["ratio"][i],
                     None if a is None else a + "0"])
    got = dump(ds)
    # ratio: FLOAT -> DOUBLE widening is exact; compare as numbers.
    for row in got[1:]:
        row[5] = None if row[5] is None else float(row[5])
    assert got == want


def test_type_overrides(ds, tmp_path):
    table = conversion_table()
    path = write(table, tmp_path / "conv.parquet", row_group_size=100)
    import_parquet(ds, path, extra=["--type", "counter=INT", "--type", "day=DATE",
                                    "--type", "wide=BIGINT", "--type", "seen=TIMESTAMP"])
    types = column_types(ds)
    assert types["counter"] == ("INT", False) and types["day"] == ("DATE", False)
    assert types["wide"] == ("BIGINT", False) and types["seen"] == ("TIMESTAMP", False)
    assert types["amount"] == ("STRING", False) and types["ratio"] == ("FLOAT", False)
    c = table.to_pydict()
    got = dump(ds)
    assert [r[2] for r in got[1:]] == c["day"]
    assert [r[3] for r in got[1:]] == c["seen"]


@pytest.mark.parametrize("column,value,needle", [
    ("counter", 2147483648, "counter"),
    ("counter", -2147483649, "counter"),
    ("day", "2024-02-30", "day"),
    ("amount", "12345678901.5", "amount"),   # 11 integer digits in DECIMAL(12,2)
    ("amount", "not a number", "amount"),
])
def test_schema_conversion_errors(ds, tmp_path, column, value, needle):
    good = write(conversion_table(), tmp_path / "good.parquet")
    schema = tmp_path / "t.sql"
    schema.write_text(CONVERSION_SCHEMA)
    import_parquet(ds, good, key=None, extra=["--schema", schema])
    files = data_files(ds)
    values = conversion_table().to_pydict()
    values[column][217] = value  # row group 2 (0-based), row 17
    typed = conversion_table().schema
    bad = write(pa.Table.from_pydict(values, schema=typed), tmp_path / "bad_values.parquet",
                row_group_size=100)
    r = import_parquet(ds, bad, key=None, expect=1,
                       extra=["--schema", schema, "--mode", "replace-table"])
    assert_clean_error(r, "bad_values.parquet", needle)
    assert "row" in r.err, r
    assert_nothing_committed(ds, 2, files)


def test_schema_column_missing_from_the_file(ds, tmp_path):
    path = write(conversion_table(), tmp_path / "conv.parquet")
    schema = tmp_path / "t.sql"
    schema.write_text(CONVERSION_SCHEMA.replace("PRIMARY KEY", "remark TEXT, PRIMARY KEY"))
    r = import_parquet(ds, path, key=None, expect=1, extra=["--schema", schema])
    assert_clean_error(r, "conv.parquet", "remark")
    assert live_version(ds) == 1 and data_files(ds) == []


def test_file_column_missing_from_the_schema(ds, tmp_path):
    table = conversion_table().append_column("surprise", pa.array(["x"] * 300))
    path = write(table, tmp_path / "conv.parquet")
    schema = tmp_path / "t.sql"
    schema.write_text(CONVERSION_SCHEMA)
    r = import_parquet(ds, path, key=None, expect=1, extra=["--schema", schema])
    assert_clean_error(r, "conv.parquet", "surprise")
    assert live_version(ds) == 1 and data_files(ds) == []


def test_append_to_a_csv_table_converts_and_checks_columns(ds, tmp_path):
    src = write_csv(tmp_path / "a.csv", ["id", "name", "score", "day"],
                    [["1", "a", "1.5", "2024-01-31"]])
    run("import", ds, "--table", "t", "--input", src, "--primary-key", "id")
    # INT32 into BIGINT, FLOAT into DOUBLE, DATE into DATE, columns in another order.
    more = pa.table({"day": pa.array([None, 18000], pa.date32()),
                     "score": pa.array([-0.25, None], pa.float32()),
                     "id": pa.array([2, 3], pa.int32()),
                     "name": pa.array(["b", None])})
    path = write(more, tmp_path / "more.parquet")
    import_parquet(ds, path, key=None, extra=["--mode", "append"])
    assert dump(ds) == [["id", "name", "score", "day"], ["1", "a", "1.5", "2024-01-31"],
                        ["2", "b", "-0.25", None], ["3", None, None, fmt_date(18000)]]
    files = data_files(ds)
    thin = write(more.drop_columns(["score"]).set_column(1, "id", pa.array([4, 5], pa.int32())),
                 tmp_path / "thin.parquet")
    r = import_parquet(ds, thin, key=None, expect=1, extra=["--mode", "append"])
    assert_clean_error(r, "thin.parquet", "score")
    dup = write(more, tmp_path / "dup.parquet")
    r = import_parquet(ds, dup, key=None, expect=1, extra=["--mode", "append"])
    assert_clean_error(r, "duplicate primary key (id)=(2)")
    assert_nothing_committed(ds, 3, files)


# ---- 6. unsupported columns ---------------------------------------------------------

@pytest.mark.parametrize("name,array", [
    ("tags", lambda n: pa.array([[i, i + 1] if i % 3 else None for i in range(n)],
                                pa.list_(pa.int32()))),
    ("address", lambda n: pa.array([{"city": "c%d" % i, "zip": i} for i in range(n)],
                                   pa.struct([("city", pa.string()), ("zip", pa.int32())]))),
    ("attrs", lambda n: pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int32()))),
    ("events", lambda n: pa.array([[{"at": i}] for i in range(n)],
                                  pa.list_(pa.struct([("at", pa.int64())])))),
], ids=["list", "struct", "map", "list-of-struct"])
def test_nested_columns_are_rejected(ds, tmp_path, name, array):
    n = 50
    table = pa.table({"id": pa.array(range(n), pa.int64()), name: array(n),
                      "after": pa.array(["x"] * n)})
    path = write(table, tmp_path / "nested.parquet")
    r = import_parquet(ds, path, expect=1)
    assert_clean_error(r, "nested.parquet", name, "nested")
    assert live_version(ds) == 1 and data_files(ds) == []


@pytest.mark.parametrize("typ", [pa.time32("s"), pa.time32("ms"), pa.time64("us"),
                                 pa.time64("ns")], ids=["s", "ms", "us", "ns"])
def test_time_columns_are_rejected(ds, tmp_path, typ):
    n = 20
    table = pa.table({"id": pa.array(range(n), pa.int64()),
                      "clock": pa.array(list(range(n)), typ)})
    path = write(table, tmp_path / "times.parquet")
    r = import_parquet(ds, path, expect=1)
    assert_clean_error(r, "times.parquet", "clock")
    assert "TIME" in r.err or "not supported" in r.err, r
    assert live_version(ds) == 1 and data_files(ds) == []


# ---- 7. key errors -------------------------------------------------------------------

def test_null_in_the_primary_key(ds, tmp_path):
    ids = list(range(300))
    ids[217] = None  # row group 2 (0-based), row 17
    table = pa.table({"id": pa.array(ids, pa.int64()), "v": pa.array(["x"] * 300)})
    path = write(table, tmp_path / "nullkey.parquet", row_group_size=100)
    r = import_parquet(ds, path, expect=1)
    assert_clean_error(r, "nullkey.parquet", "id", "NULL")
    assert "row" in r.err
    assert live_version(ds) == 1 and data_files(ds) == []


def test_null_in_a_not_null_column(ds, tmp_path):
    schema = tmp_path / "t.sql"
    schema.write_text("CREATE TABLE t (id BIGINT PRIMARY KEY, label TEXT NOT NULL)")
    labels = ["l%d" % i for i in range(300)]
    labels[123] = None
    table = pa.table({"id": pa.array(range(300), pa.int64()), "label": pa.array(labels)})
    path = write(table, tmp_path / "nulllabel.parquet", row_group_size=100)
    r = import_parquet(ds, path, key=None, expect=1, extra=["--schema", schema])
    assert_clean_error(r, "nulllabel.parquet", "label", "NULL")
    assert live_version(ds) == 1 and data_files(ds) == []


def test_duplicate_key_across_files(ds, tmp_path):
    a = write(pa.table({"id": pa.array(range(0, 100), pa.int64())}), tmp_path / "a.parquet")
    b = write(pa.table({"id": pa.array(range(99, 200), pa.int64())}), tmp_path / "b.parquet")
    r = import_parquet(ds, a, b, expect=1)
    assert_clean_error(r, "duplicate primary key (id)=(99)")
    assert live_version(ds) == 1 and data_files(ds) == []


# ---- values outside rETL's ranges, invalid UTF-8 ---------------------------------------

@pytest.mark.parametrize("name,typ,value", [
    ("late_ms", pa.timestamp("ms"), MAX_US // 1000 + 1),       # 10000-01-01
    ("early_us", pa.timestamp("us"), MIN_US - 1),               # 0000-12-31 23:59:59.999999
    ("late_day", pa.date32(), MAX_DAYS + 1),
    ("early_day", pa.date32(), MIN_DAYS - 1),
])
def test_values_outside_the_supported_range(ds, tmp_path, name, typ, value):
    values = [0] * 150
    values[120] = value
    table = pa.table({"id": pa.array(range(150), pa.int64()), name: pa.array(values, typ)})
    path = write(table, tmp_path / "range.parquet", row_group_size=50)
    r = import_parquet(ds, path, expect=1)
    assert_clean_error(r, "range.parquet", name)
    assert live_version(ds) == 1 and data_files(ds) == []


def test_invalid_utf8_in_a_string_column(ds, tmp_path):
    # Build a STRING array holding invalid UTF-8 without pyarrow validating it.
    raw = [b"ok"] * 9 + [b"bad\xff\xfe"]
    data = b"".join(raw)
    offsets = [0]
    for v in raw:
        offsets.append(offsets[-1] + len(v))
    arr = pa.Array.from_buffers(pa.string(), len(raw),
                                [None, pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)),
                                 pa.py_buffer(data)])
    table = pa.table({"id": pa.array(range(10), pa.int64()), "text": arr})
    path = write(table, tmp_path / "utf8.parquet", use_dictionary=False)
    r = import_parquet(ds, path, expect=1)
    assert_clean_error(r, "utf8.parquet", "text")
    assert live_version(ds) == 1 and data_files(ds) == []


# ---- 8. damaged files -------------------------------------------------------------------

def good_file_bytes(tmp_path, **options):
    n = 400
    rng = random.Random(5)
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "payload": pa.array([rng.randint(-(1 << 62), 1 << 62) for _ in range(n)], pa.int64()),
        "name": pa.array(["name-%d" % rng.randrange(50) for _ in range(n)]),
    })
    opts = dict(compression="none", row_group_size=200, use_dictionary=["name"])
    opts.update(options)
    path = write(table, tmp_path / "source.parquet", **{**SMALL_PAGES, **opts,
                                                        "max_rows_per_page": None,
                                                        "data_page_size": 1 << 20})
    return path.read_bytes(), pq.ParquetFile(str(path)).metadata


def footer_len(data):
    return struct.unpack("<I", data[-8:-4])[0]


def with_footer_len(data, n):
    return data[:-8] + struct.pack("<I", n & 0xFFFFFFFF) + b"PAR1"


def replace_footer(data, footer):
    return data[:-8 - footer_len(data)] + footer + struct.pack("<I", len(footer)) + b"PAR1"


def page_offset(meta, column="payload", group=0):
    chunk = meta.row_group(group).column(meta.schema.names.index(column))
    return chunk.data_page_offset, chunk.total_compressed_size


def overwrite(data, at, patch):
    return data[:at] + patch + data[at + len(patch):]


DAMAGE = {
    "empty": lambda d, m: b"",
    "magic-only": lambda d, m: b"PAR1",
    "two-magics": lambda d, m: b"PAR1PAR1",
    "zero-footer-length": lambda d, m: b"PAR1" + struct.pack("<I", 0) + b"PAR1",
    "truncated-1": lambda d, m: d[:-1],
    "truncated-4": lambda d, m: d[:-4],
    "truncated-8": lambda d, m: d[:-8],
    "truncated-100": lambda d, m: d[:-100],
    "truncated-half": lambda d, m: d[:len(d) // 2],
    "head-only": lambda d, m: d[:100],
    "bad-head-magic": lambda d, m: b"PAR0" + d[4:],
    "bad-tail-magic": lambda d, m: d[:-4] + b"PAR0",
    "encrypted-footer-magic": lambda d, m: d[:-4] + b"PARE",
    "footer-length-past-start": lambda d, m: with_footer_len(d, len(d) - 8 + 1),
    "footer-length-huge": lambda d, m: with_footer_len(d, 0xFFFFFFFF),
    "footer-length-negative": lambda d, m: with_footer_len(d, 0x80000000),
    "footer-length-short": lambda d, m: with_footer_len(d, footer_len(d) - 10),
    "footer-zeroed": lambda d, m: replace_footer(d, bytes(footer_len(d))),
    "footer-ff": lambda d, m: replace_footer(d, b"\xff" * footer_len(d)),
    "footer-garbage": lambda d, m: replace_footer(d, random.Random(3).randbytes(footer_len(d))),
    "footer-cut": lambda d, m: replace_footer(d, d[-8 - footer_len(d):-8][:footer_len(d) // 2]),
    "data-section-cut": lambda d, m: d[:4] + d[4:len(d) - 8 - footer_len(d)][:300]
    + d[-8 - footer_len(d):],
    "garbage-with-magics": lambda d, m: b"PAR1" + random.Random(4).randbytes(3000)
    + struct.pack("<I", 1000) + b"PAR1",
    "page-header-ff": lambda d, m: overwrite(d, page_offset(m)[0], b"\xff" * 12),
    "page-header-zero": lambda d, m: overwrite(d, page_offset(m)[0], b"\x00" * 12),
    "page-header-garbage": lambda d, m: overwrite(d, page_offset(m, "name", 1)[0],
                                                  random.Random(6).randbytes(24)),
}


def test_damaged_file_among_good_ones_in_a_directory(ds, tmp_path):
    data, meta = good_file_bytes(tmp_path)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.parquet").write_bytes(data)
    (d / "b.parquet").write_bytes(DAMAGE["truncated-100"](data, meta))
    r = import_parquet(ds, d, expect=None)
    assert_clean_error(r, "b.parquet")
    assert live_version(ds) == 1 and data_files(ds) == []


@pytest.mark.parametrize("codec", ["none", "zstd", "snappy"])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
def test_flipped_byte_fails_the_page_checksum(ds, tmp_path, codec, page_version):
    data, meta = good_file_bytes(tmp_path, compression=codec, data_page_version=page_version,
                                 write_page_checksum=True, use_dictionary=False)
    # The chunk is one page (1 MB page size): header, then the values; flip one near the end.
    offset, size = page_offset(meta, "payload", 1)
    at = offset + size - 6
    flipped = bytearray(data)
    flipped[at] ^= 0x10
    good = tmp_path / "good.parquet"
    good.write_bytes(data)
    import_parquet(ds, good)  # the unflipped file (with CRCs) imports
    files = data_files(ds)
    bad = tmp_path / "flipped.parquet"
    bad.write_bytes(bytes(flipped))
    r = import_parquet(ds, bad, expect=None, extra=["--mode", "replace-table"])
    assert_clean_error(r, "flipped.parquet")
    assert "checksum" in r.err.lower() or "crc" in r.err.lower(), r
    assert_nothing_committed(ds, 2, files)


# ---- footers and page headers edited field by field (Thrift compact protocol) -----------

class Struct:
    """A decoded Thrift struct: [field id, type, value] in file order, so it re-encodes as it was."""

    def __init__(self, fields):
        self.fields = fields

    def get(self, fid):
        return next(f[2] for f in self.fields if f[0] == fid)

    def set(self, fid, value):
        next(f for f in self.fields if f[0] == fid)[2] = value

    def drop(self, fid):
        self.fields = [f for f in self.fields if f[0] != fid]


class ThriftReader:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, typ):
        if typ in (1, 2):
            return typ == 1
        if typ == 3:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if typ in (4, 5, 6):
            return self.zigzag()
        if typ == 7:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if typ == 8:
            n = self.varint()
            self.pos += n
            return bytes(self.data[self.pos - n:self.pos])
        if typ in (9, 10):
            head = self.byte()
            n, elem = head >> 4, head & 15
            if n == 15:
                n = self.varint()
            items = [(self.byte() == 1) if elem in (1, 2) else self.value(elem) for _ in range(n)]
            return (elem, items)
        if typ == 12:
            return self.struct()
        raise ValueError(f"thrift type {typ} not handled")

    def struct(self):
        fields, last = [], 0
        while True:
            head = self.byte()
            if head == 0:
                return Struct(fields)
            delta, typ = head >> 4, head & 15
            fid = last + delta if delta else self.zigzag()
            fields.append([fid, typ, self.value(typ)])
            last = fid


class ThriftWriter:
    def __init__(self):
        self.out = bytearray()

    def varint(self, v):
        while True:
            if v < 0x80:
                self.out.append(v)
                return
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7

    def zigzag(self, v):
        self.varint((v << 1) ^ (v >> 63))

    def value(self, typ, v):
        if typ in (1, 2):
            return  # in the field header
        if typ == 3:
            self.out += struct.pack("b", v)
        elif typ in (4, 5, 6):
            self.zigzag(v)
        elif typ == 7:
            self.out += struct.pack("<d", v)
        elif typ == 8:
            self.varint(len(v))
            self.out += v
        elif typ in (9, 10):
            elem, items = v
            if len(items) < 15:
                self.out.append(len(items) << 4 | elem)
            else:
                self.out.append(0xF0 | elem)
                self.varint(len(items))
            for item in items:
                if elem in (1, 2):
                    self.out.append(1 if item else 2)
                else:
                    self.value(elem, item)
        elif typ == 12:
            self.struct(v)

    def struct(self, s):
        last = 0
        for fid, typ, v in s.fields:
            if typ in (1, 2):
                typ = 1 if v else 2
            if 0 < fid - last <= 15:
                self.out.append((fid - last) << 4 | typ)
            else:
                self.out.append(typ)
                self.zigzag(fid)
            self.value(typ, v)
            last = fid
        self.out.append(0)


def encode(s):
    w = ThriftWriter()
    w.struct(s)
    return bytes(w.out)


def read_footer(data):
    n = footer_len(data)
    return ThriftReader(data[-8 - n:-8]).struct()


def with_footer(data, meta):
    return replace_footer(data, encode(meta))


def edit_footer(edit):
    """A DAMAGE entry: decodes the footer, applies edit(FileMetaData), re-encodes it."""
    def damage(data, meta):
        footer = read_footer(data)
        assert encode(footer) == data[-8 - footer_len(data):-8]  # the codec round-trips
        footer.start = len(data) - 8 - footer_len(data)
        edit(footer)
        return with_footer(data, footer)
    return damage


# FileMetaData: 2 schema, 3 num_rows, 4 row_groups. RowGroup: 1 columns, 3 num_rows.
# ColumnChunk: 1 file_path, 3 meta_data. ColumnMetaData: 4 codec, 5 num_values,
# 7 total_compressed_size, 9 data_page_offset. SchemaElement: 1 type, 4 name, 5 num_children.
def row_groups(f):
    return f.get(4)[1]


def chunk_meta(f, group, column):
    return row_groups(f)[group].get(1)[1][column].get(3)


def add_rows(f, delta, group=0):
    row_groups(f)[group].set(3, row_groups(f)[group].get(3) + delta)
    f.set(3, f.get(3) + delta)


def set_schema(f, index, fid, value):
    f.get(2)[1][index].set(fid, value)


def set_chunk(f, group, column, fid, value):
    chunk_meta(f, group, column).set(fid, value)


def add_chunk(f, group, column, fid, delta):
    m = chunk_meta(f, group, column)
    m.set(fid, m.get(fid) + delta)


def set_file_path(f):
    row_groups(f)[0].get(1)[1][1].fields.insert(0, [1, 8, b"elsewhere.parquet"])


# Columns of good_file_bytes: 0 id, 1 payload (PLAIN INT64), 2 name (dictionary); 2 row groups
# of 200 rows. Schema element 0 is the root, 1..3 the columns.
FOOTER_DAMAGE = {
    "row-group-claims-more-rows": lambda f: add_rows(f, 1),
    "row-group-claims-fewer-rows": lambda f: add_rows(f, -1),
    "row-group-claims-no-rows": lambda f: add_rows(f, -200),
    "file-claims-more-rows": lambda f: f.set(3, f.get(3) + 5),
    "chunk-num-values-short": lambda f: add_chunk(f, 0, 1, 5, -1),
    "chunk-size-short": lambda f: add_chunk(f, 0, 1, 7, -20),
    "chunk-size-huge": lambda f: set_chunk(f, 0, 1, 7, 1 << 40),
    "chunk-offset-negative": lambda f: set_chunk(f, 1, 1, 9, -5),
    "chunk-offset-into-footer": lambda f: set_chunk(f, 1, 1, 9, f.start + 3),
    "chunk-offset-other-chunk": lambda f: add_chunk(f, 1, 1, 9, 37),
    "codec-none-read-as-zstd": lambda f: set_chunk(f, 0, 1, 4, 6),
    "codec-unknown": lambda f: set_chunk(f, 0, 1, 4, 99),
    "physical-type-unknown": lambda f: set_schema(f, 2, 1, 42),
    "physical-type-int64-as-int32": lambda f: (set_schema(f, 2, 1, 1), set_chunk(f, 0, 1, 1, 1),
                                               set_chunk(f, 1, 1, 1, 1)),
    "root-claims-more-children": lambda f: set_schema(f, 0, 5, 4),
    "root-claims-fewer-children": lambda f: set_schema(f, 0, 5, 2),
    "duplicate-column-name": lambda f: set_schema(f, 2, 4, b"id"),
    "chunk-in-another-file": set_file_path,
    "row-group-missing-a-column": lambda f: row_groups(f)[0].get(1)[1].pop(),
}
for _name, _edit in FOOTER_DAMAGE.items():
    DAMAGE["footer-" + _name] = edit_footer(_edit)


def edit_page_header(column, group, edit, dictionary=False):
    """A DAMAGE entry: re-encodes the first data (or the dictionary) page header of a chunk
    after edit(PageHeader); the edit keeps the header's length, so no offset moves."""
    def damage(data, meta):
        offset, _ = page_offset(meta, column, group)
        if dictionary:
            chunk = meta.row_group(group).column(meta.schema.names.index(column))
            assert chunk.has_dictionary_page
            offset = chunk.dictionary_page_offset
        reader = ThriftReader(data, offset)
        header = reader.struct()
        old = data[offset:reader.pos]
        assert encode(header) == old
        edit(header)
        new = encode(header)
        assert len(new) == len(old), (len(new), len(old))
        return data[:offset] + new + data[reader.pos:]
    return damage


def add_page_values(delta):
    def edit(h):
        dp = h.get(5)  # DataPageHeader: 1 num_values
        dp.set(1, dp.get(1) + delta)
    return edit


# PageHeader: 1 type, 2 uncompressed_page_size, 3 compressed_page_size, 5 data_page_header.
PAGE_DAMAGE = {
    "page-fewer-values": edit_page_header("payload", 0, add_page_values(-1)),
    "page-more-values": edit_page_header("payload", 0, add_page_values(1)),
    "page-type-index": edit_page_header("payload", 0, lambda h: h.set(1, 2)),  # INDEX_PAGE
    "page-compressed-size-short": edit_page_header(
        "payload", 0, lambda h: h.set(3, h.get(3) - 16)),
    "page-sizes-past-chunk": edit_page_header(
        "payload", 0, lambda h: (h.set(3, h.get(3) + 64), h.set(2, h.get(2) + 64))),
    "page-encoding-unknown": edit_page_header(
        "payload", 0, lambda h: h.get(5).set(2, 20)),
    "dictionary-page-fewer-values": edit_page_header(
        "name", 1, lambda h: h.get(7).set(1, h.get(7).get(1) - 1), dictionary=True),
}
DAMAGE.update(PAGE_DAMAGE)


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_files_fail_cleanly(ds, tmp_path, damage):
    data, meta = good_file_bytes(tmp_path)
    good = tmp_path / "good.parquet"
    good.write_bytes(data)
    import_parquet(ds, good)
    files = data_files(ds)
    bad = tmp_path / "damaged.parquet"
    bad.write_bytes(DAMAGE[damage](data, meta))
    r = import_parquet(ds, bad, expect=None, extra=["--mode", "replace-table", "--allow-schema-change"])
    assert_clean_error(r, "damaged.parquet")
    assert_nothing_committed(ds, 2, files)


def mutate(data, rng):
    data = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:                       # flip bits in one byte
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:                     # overwrite a few bytes with extremes
        at = rng.randrange(len(data))
        for k in range(rng.randint(1, 8)):
            if at + k < len(data):
                data[at + k] = rng.choice([0, 0xff, 0x7f, 0x80])
    elif kind == 2:                     # truncate
        del data[rng.randrange(len(data)):]
    elif kind == 3:                     # random bytes in the footer
        n = footer_len(bytes(data)) if len(data) >= 8 else 0
        if 0 < n <= len(data) - 8:
            at = len(data) - 8 - rng.randrange(1, n + 1)
            data[at] = rng.randrange(256)
    elif kind == 4:                     # delete a range in the middle
        at = rng.randrange(4, max(5, len(data) - 8))
        del data[at:at + rng.randint(1, 64)]
    else:                               # insert random bytes
        at = rng.randrange(4, max(5, len(data) - 8))
        data[at:at] = rng.randbytes(rng.randint(1, 16))
    return bytes(data)


@pytest.mark.parametrize("count,seed", [(25, 11), pytest.param(400, 12, marks=pytest.mark.slow)])
def test_mutated_files_never_crash(ds, tmp_path, count, seed):
    sources = [good_file_bytes(tmp_path, compression=codec, data_page_version=version)[0]
               for codec, version in [("none", "1.0"), ("snappy", "2.0"), ("zstd", "1.0"),
                                      ("gzip", "2.0")]]
    good = tmp_path / "good.parquet"
    good.write_bytes(sources[0])
    import_parquet(ds, good)
    rng = random.Random(seed)
    bad = tmp_path / "mutant.parquet"
    failures = 0
    for i in range(count):
        bad.write_bytes(mutate(rng.choice(sources), rng))
        r = import_parquet(ds, bad, expect=None, extra=["--mode", "replace-table"])
        assert r.code in (0, 1), (i, r)
        assert "Sanitizer" not in r.err and "runtime error:" not in r.err, (i, r)
        if r.code == 1:
            failures += 1
            assert "mutant.parquet" in r.err, (i, r)
    assert failures > 0
    run("verify", ds)


# ---- files pyarrow does not write: rewritten page by page ------------------------------

def rewrite_pages(data, page_fn, chunk_fn=None):
    """Rebuilds a file with every page passed through page_fn(header, payload, codec,
    optional) -> (header, payload), and every ColumnMetaData through chunk_fn; offsets and
    sizes are recomputed. Flat schemas only; assumes no page index and no bloom filters
    (pyarrow's defaults)."""
    footer = read_footer(data)
    # SchemaElement: 3 repetition_type (0 REQUIRED, 1 OPTIONAL), 4 name.
    optional = {e.get(4).decode(): e.get(3) == 1 for e in footer.get(2)[1][1:]}
    out = bytearray(b"PAR1")
    for group in row_groups(footer):
        group_start = len(out)
        for chunk in group.get(1)[1]:
            m = chunk.get(3)
            fids = [f[0] for f in m.fields]
            start = m.get(11) if 11 in fids else m.get(9)
            end = start + m.get(7)
            pos, new_start, uncompressed = start, len(out), 0
            data_offset = dict_offset = None
            while pos < end:
                reader = ThriftReader(data, pos)
                header = reader.struct()
                payload = data[reader.pos:reader.pos + header.get(3)]
                pos = reader.pos + header.get(3)
                name = m.get(3)[1][0].decode()
                header, payload = page_fn(header, payload, m.get(4), optional[name])
                if header.get(1) == 2 and dict_offset is None:
                    dict_offset = len(out)
                elif header.get(1) != 2 and data_offset is None:
                    data_offset = len(out)
                encoded = encode(header)
                out += encoded + payload
                uncompressed += len(encoded) + header.get(2)
            m.set(9, data_offset)
            if dict_offset is not None:
                m.set(11, dict_offset)
            m.set(7, len(out) - new_start)
            m.set(6, uncompressed)
            if 2 in [f[0] for f in chunk.fields]:
                chunk.set(2, new_start)
            if chunk_fn:
                chunk_fn(m)
        gfids = [f[0] for f in group.fields]
        if 5 in gfids:
            group.set(5, group_start)
        if 6 in gfids:
            group.set(6, len(out) - group_start)
    footer_bytes = encode(footer)
    return bytes(out) + footer_bytes + struct.pack("<I", len(footer_bytes)) + b"PAR1"


def set_sizes(header, payload, uncompressed=None):
    header.set(3, len(payload))
    if uncompressed is not None:
        header.set(2, uncompressed)
    header.drop(4)  # the CRC no longer matches
    return header, payload


def decode_hybrid(buf, bit_width, count):
    """RLE / bit-packed hybrid levels -> list of ints."""
    out, r = [], ThriftReader(buf)
    width_bytes = (bit_width + 7) // 8
    while len(out) < count:
        head = r.varint()
        assert head >> 1, "empty run"
        if head & 1:
            groups = head >> 1
            raw = buf[r.pos:r.pos + groups * bit_width]
            r.pos += groups * bit_width
            bits = int.from_bytes(raw, "little")
            out += [(bits >> (i * bit_width)) & ((1 << bit_width) - 1) for i in range(groups * 8)]
        else:
            value = int.from_bytes(buf[r.pos:r.pos + width_bytes], "little")
            r.pos += width_bytes
            out += [value] * (head >> 1)
    return out[:count]


def to_bit_packed_levels(header, payload, codec, optional):
    """v1 data page, no compression, max level 1: RLE definition levels -> BIT_PACKED."""
    assert codec == 0
    if header.get(1) != 0 or not optional:   # only DATA_PAGE (v1) has levels this way
        return header, payload
    dp = header.get(5)
    n = dp.get(1)
    assert dp.get(3) == 3    # RLE
    size = struct.unpack("<I", payload[:4])[0]
    levels = decode_hybrid(payload[4:4 + size], 1, n)
    packed = bytearray((n + 7) // 8)
    for i, level in enumerate(levels):   # most significant bit first
        if level:
            packed[i // 8] |= 0x80 >> (i % 8)
    dp.set(3, 4)             # BIT_PACKED
    payload = bytes(packed) + payload[4 + size:]
    return set_sizes(header, payload, len(payload))


def assert_same_for_pyarrow(path, cols):
    """The rewritten file is valid: pyarrow reads the values that were written."""
    got = pq.read_table(str(path))
    want = arrow_table(cols)
    for c in cols:
        if c.kind == "exact":
            assert got.column(c.name).equals(want.column(c.name)), c.name


def test_bit_packed_definition_levels(ds, tmp_path):
    """The deprecated BIT_PACKED level encoding (4) of v1 data pages, as old writers made it."""
    cols = [c for c in sample() if c.name in ("id", "b", "i32", "f64", "s", "bin", "fbin", "d38",
                                               "dt", "ts_ns", "nothing")]
    data = write(arrow_table(cols), tmp_path / "rle.parquet", compression="none",
                 use_dictionary=["s"], data_page_version="1.0").read_bytes()
    path = tmp_path / "bitpacked.parquet"
    def note_encoding(m):  # ColumnMetaData 2: encodings
        m.set(2, (5, sorted(set(m.get(2)[1]) | {4})))
    path.write_bytes(rewrite_pages(data, to_bit_packed_levels, note_encoding))
    assert "BIT_PACKED" in encodings(path)["b"]
    # Not checked against pyarrow: it reads BIT_PACKED levels least significant bit first,
    # while the format (Encodings.md, and parquet-mr) packs them most significant bit first.
    import_parquet(ds, path)
    assert_same_rows(dump(ds), expected_rows(cols), cols)


def hadoop_lz4(header, payload, codec, optional):
    """LZ4_RAW pages -> Hadoop framing: big-endian uncompressed and compressed sizes, block."""
    assert codec == 7
    prefix = b""
    uncompressed = header.get(2)
    if header.get(1) == 3:   # DATA_PAGE_V2: levels stay uncompressed, before the block
        v2 = header.get(8)
        n = v2.get(5) + v2.get(6)
        if [f[2] for f in v2.fields if f[0] == 7] == [False]:
            return set_sizes(header, payload)
        prefix, payload, uncompressed = payload[:n], payload[n:], uncompressed - n
    framed = prefix + struct.pack(">II", uncompressed, len(payload)) + payload
    return set_sizes(header, framed)


def raw_lz4_as_legacy_codec(header, payload, codec, optional):
    return set_sizes(header, payload)


@pytest.mark.parametrize("page_version", ["1.0", "2.0"], ids=["v1", "v2"])
@pytest.mark.parametrize("variant", ["hadoop-framed", "legacy-raw"])
def test_lz4_codec_5(ds, tmp_path, variant, page_version):
    """Codec LZ4 (5): Hadoop-framed blocks (parquet-mr), or bare blocks (old parquet-cpp)."""
    cols = [c for c in sample() if c.name in ("id", "i64", "s", "d38", "ts_us", "f32")]
    data = write(arrow_table(cols), tmp_path / "raw.parquet", compression="lz4",
                 data_page_version=page_version).read_bytes()
    fn = hadoop_lz4 if variant == "hadoop-framed" else raw_lz4_as_legacy_codec
    path = tmp_path / "lz4.parquet"
    path.write_bytes(rewrite_pages(data, fn, chunk_fn=lambda m: m.set(4, 5)))
    assert chunk_meta(read_footer(path.read_bytes()), 0, 1).get(4) == 5
    assert_same_for_pyarrow(path, cols)
    import_parquet(ds, path)
    assert_same_rows(dump(ds), expected_rows(cols), cols)


# ---- 9. partitions and modes ---------------------------------------------------------------

def people(ids, regions, prefix="n"):
    return pa.table({"id": pa.array(ids, pa.int64()),
                     "name": pa.array(["%s%d" % (prefix, i) for i in ids]),
                     "region": pa.array(regions, pa.string())})


def by_id(rows):
    return [rows[0]] + sorted(rows[1:], key=lambda r: int(r[0]))


def test_partitions_and_modes(ds, tmp_path):
    regions = ["eu", "us", "apac", None]
    ids = list(range(400))
    base = write(people(ids, [regions[i % 4] for i in ids]), tmp_path / "base.parquet",
                 row_group_size=64)
    run("import", ds, "--table", "c", "--input", base, "--primary-key", "id",
        "--partition-by", "region")
    state = {i: ["n%d" % i, regions[i % 4]] for i in ids}

    def check():
        want = [["id", "name", "region"]] + [[str(i)] + state[i] for i in sorted(state)]
        assert by_id(dump(ds, "c")) == want

    check()
    assert "4 partitions" in run("info", ds).out
    # Replace one partition from a file without the partition column.
    eu = write(pa.table({"id": pa.array([1000, 1001], pa.int64()),
                         "name": pa.array(["new", "newer"])}), tmp_path / "eu.parquet")
    run("import", ds, "--table", "c", "--input", eu, "--mode", "replace-partition",
        "--partition", "eu")
    state = {k: v for k, v in state.items() if v[1] != "eu"}
    state.update({1000: ["new", "eu"], 1001: ["newer", "eu"]})
    check()
    # The partitions present in the input (a directory of two files) are replaced.
    d = tmp_path / "us"
    d.mkdir()
    write(people([2000, 2001], ["us", "us"], "u"), d / "part-0.parquet")
    write(people([2002], [None], "u"), d / "part-1.parquet", compression="zstd")
    run("import", ds, "--table", "c", "--input", d, "--mode", "replace-partition")
    state = {k: v for k, v in state.items() if v[1] not in ("us", None)}
    state.update({2000: ["u2000", "us"], 2001: ["u2001", "us"], 2002: ["u2002", None]})
    check()
    # Append, a new partition and an existing one.
    app = write(people([3000, 3001], ["latam", "apac"], "a"), tmp_path / "app.parquet",
                use_dictionary=False)
    run("import", ds, "--table", "c", "--input", app, "--mode", "append")
    state.update({3000: ["a3000", "latam"], 3001: ["a3001", "apac"]})
    check()
    files = data_files(ds)
    version = live_version(ds)
    # Rows of another partition are refused when --partition is given.
    wrong = write(people([4000, 4001], ["eu", "us"], "w"), tmp_path / "wrong.parquet")
    for mode in ("append", "replace-partition"):
        r = run("import", ds, "--table", "c", "--input", wrong, "--mode", mode,
                "--partition", "eu", expect=1)
        assert_clean_error(r, "wrong.parquet", "'us'")
    # Append of an existing key.
    dup = write(people([4002, 1000], ["eu", "eu"]), tmp_path / "dup.parquet")
    r = run("import", ds, "--table", "c", "--input", dup, "--mode", "append", expect=1)
    assert_clean_error(r, "duplicate primary key (id)=(1000)")
    assert_nothing_committed(ds, version, files)
    run("verify", ds, "--all")


def test_files_with_columns_in_another_order(ds, tmp_path):
    """Inferring the schema, the files' columns are matched by name, as against a table."""
    a = write(pa.table({"id": pa.array([1, 2], pa.int64()), "v": pa.array(["x", None])}),
              tmp_path / "a.parquet")
    b = write(pa.table({"v": pa.array(["y", "z"]), "id": pa.array([3, 4], pa.int64())}),
              tmp_path / "b.parquet")
    import_parquet(ds, a, b)
    assert dump(ds) == [["id", "v"], ["1", "x"], ["2", None], ["3", "y"], ["4", "z"]]


def test_files_with_different_schemas(ds, tmp_path):
    a = write(pa.table({"id": pa.array([1, 2], pa.int64()), "v": pa.array(["x", None])}),
              tmp_path / "a.parquet")
    import_parquet(ds, a)
    # A column of another type, or a column more, is an error naming the file and column.
    c = write(pa.table({"id": pa.array([5], pa.int64()), "v": pa.array([7], pa.int32())}),
              tmp_path / "c.parquet")
    r = import_parquet(ds, a, c, expect=1, extra=["--mode", "replace-table"])
    assert_clean_error(r, "c.parquet", "'v'")
    d = write(pa.table({"id": pa.array([6], pa.int64()), "v": pa.array(["w"]),
                        "extra": pa.array([1.5])}), tmp_path / "d.parquet")
    r = import_parquet(ds, a, d, expect=1, extra=["--mode", "replace-table"])
    assert_clean_error(r, "d.parquet", "extra")
    assert live_version(ds) == 2


def test_composite_key_index_and_date_partitions(ds, tmp_path):
    n = 600
    table = pa.table({
        "day": pa.array([19000 + i % 4 for i in range(n)], pa.date32()),
        "seq": pa.array([i // 4 for i in range(n)], pa.int32()),
        "email": pa.array(["u%d@example.com" % (i % 50) for i in range(n)]),
        "amount": pa.array([to_decimal(i * 7 - 2000, 2) for i in range(n)], pa.decimal128(9, 2)),
    })
    path = write(table, tmp_path / "orders.parquet", row_group_size=128)
    run("import", ds, "--table", "o", "--input", path, "--primary-key", "day,seq",
        "--index", "email", "--partition-by", "day")
    info = run("info", ds).out
    assert "table o: 600 rows, 4 partitions" in info, info
    rows = dump(ds, "o")
    assert rows[0] == ["day", "seq", "email", "amount"]
    want = sorted([[fmt_date(19000 + i % 4), str(i // 4), "u%d@example.com" % (i % 50),
                    fmt_dec(i * 7 - 2000, 2)] for i in range(n)])
    assert sorted(rows[1:]) == want
    from conftest import query
    r = query(ds, "--lookup", "o", "--index", "email", "u7@example.com", "--format", "csv")
    assert len(read_csv(r.out)) == 1 + n // 50, r
    run("verify", ds)
