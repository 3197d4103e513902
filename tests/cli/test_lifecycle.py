"""Dataset lifecycle commands of retl-build: rollback (point-in-time recovery)."""
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import GEN, RETL_BUILD, data_files, live_version, query, read_csv, run, write_csv


def rows_of(ds, table, version=None):
    args = ["--version", str(version)] if version is not None else []
    r = query(ds, *args, "-c", f"SELECT * FROM {table} ORDER BY id", "--format", "csv")
    return read_csv(r.out)[1:]  # without the header


@pytest.fixture
def history(ds, tmp_path):
    """Versions 2..4: t created, t replaced, u created."""
    a = write_csv(tmp_path / "a.csv", ["id", "name"], [[str(i), f"a{i}"] for i in range(10)])
    b = write_csv(tmp_path / "b.csv", ["id", "name"], [[str(i), f"b{i}"] for i in range(20)])
    run("import", ds, "--table", "t", "--input", a, "--primary-key", "id")
    run("import", ds, "--table", "t", "--input", b, "--primary-key", "id", "--mode", "replace-table")
    run("import", ds, "--table", "u", "--input", a, "--primary-key", "id")
    return ds


def test_rollback_makes_an_old_version_live_as_a_new_one(history):
    ds = history
    v2 = rows_of(ds, "t", 2)
    files = data_files(ds)
    r = run("rollback", ds, "--to-version", "2", "--message", "bad export on 11-24")
    assert "committed version 5: restored the tables of version 2 (1 table changed, 1 table dropped)" in r.out
    assert live_version(ds) == 5
    assert rows_of(ds, "t") == v2
    assert query(ds, "-c", "SELECT * FROM u", expect=1).err.count('table "u" does not exist') == 1
    # History is kept: the rolled-back versions stay readable, no file was copied.
    assert len(rows_of(ds, "t", 3)) == 20
    assert len(rows_of(ds, "u", 4)) == 10
    assert data_files(ds) == files
    versions = run("versions", ds).out
    assert "rollback" in versions and "bad export on 11-24" in versions
    run("verify", ds, "--all")
    # Rolling forward again is a rollback too.
    run("rollback", ds, "--to-version", "4")
    assert len(rows_of(ds, "t")) == 20 and len(rows_of(ds, "u")) == 10
    info = run("info", ds).out
    assert "last changed in version 6" in info  # t changed back; u was created again


@pytest.mark.parametrize("version, needle", [
    ("4", "version 4 is the live version already"),
    ("9", "version 9 does not exist (versions are 1 to 4"),
    ("0", "version 0 does not exist"),
])
def test_rollback_errors_commit_nothing(history, version, needle):
    ds = history
    r = run("rollback", ds, "--to-version", version, expect=1)
    assert needle in r.err
    assert live_version(ds) == 4


def test_rollback_refuses_when_a_file_is_gone(history):
    ds = history
    # The files of version 2's segment (t's first import) carry its number.
    victim = next(p for p in (ds / "data").iterdir() if p.name.startswith("00000000000000000002-") and p.suffix == ".seg")
    victim.unlink()
    r = run("rollback", ds, "--to-version", "2", expect=1)
    assert f"its file 'data/{victim.name}' is missing" in r.err
    assert "restore the dataset from a backup" in r.err
    assert live_version(ds) == 4
    run("rollback", ds, "--to-version", "3")  # other versions are intact


def test_rollback_usage_errors_exit_2(ds):
    assert run("rollback", ds, expect=2).code == 2
    assert run("rollback", ds, "--to-version", "x", expect=2).code == 2


@pytest.mark.slow
def test_sigkill_during_rollback_leaves_a_committed_version(history):
    ds = history
    expected = {v: rows_of(ds, "t", v) for v in (2, 3, 4)}
    rng = random.Random(7)
    start = time.monotonic()
    run("rollback", ds, "--to-version", "2")
    duration = time.monotonic() - start
    expected[5] = expected[2]
    for i in range(20):
        before = live_version(ds)
        target = 3 if i % 2 else 2
        proc = subprocess.Popen([str(RETL_BUILD), "rollback", str(ds), "--to-version", str(target)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = live_version(ds)
        assert after in (before, before + 1)
        if after == before + 1:
            expected[after] = expected[target]
        run("verify", ds)
        assert rows_of(ds, "t") == expected[after]


# ---------------------------------------------------------------------------
# gc: retention and cleanup


def imports(ds, tmp_path, count):
    """`count` replace-table imports of t after the first; returns the live version."""
    for i in range(count):
        f = write_csv(tmp_path / f"g{i}.csv", ["id", "name"], [[str(j), f"g{i}-{j}"] for j in range(50)])
        mode = "create" if live_version(ds) == 1 else "replace-table"
        run("import", ds, "--table", "t", "--input", f, "--primary-key", "id", "--mode", mode)
    return live_version(ds)


def test_gc_keeps_versions_and_removes_unreferenced_files(ds, tmp_path):
    live = imports(ds, tmp_path, 5)  # versions 2..6
    assert len(data_files(ds)) == 10
    dry = run("gc", ds, "--keep-versions", "2", "--dry-run")
    assert "dry run: would expire 4 versions (1-4); would remove 6 files" in dry.out
    assert len(data_files(ds)) == 10
    r = run("gc", ds, "--keep-versions", "2")
    assert "expired 4 versions (1-4); removed 6 files" in r.out
    assert "retained versions: 5-6" in r.out
    assert len(data_files(ds)) == 4
    assert live_version(ds) == live
    run("verify", ds, "--all")
    assert "no version to expire; removed 0 files" in run("gc", ds, "--keep-versions", "2").out
    err = query(ds, "--version", "3", "-c", "SELECT 1", expect=1).err
    assert "version 3 of" in err and "is no longer retained" in err
    # A rollback to an expired version says so; to a retained one it works.
    assert "version 3 cannot be restored" in run("rollback", ds, "--to-version", "3", expect=1).err
    run("rollback", ds, "--to-version", "5")


def test_gc_keep_for_and_usage_errors(ds, tmp_path):
    imports(ds, tmp_path, 3)
    r = run("gc", ds, "--keep-for", "1h")
    assert "no version to expire" in r.out
    time.sleep(1.2)
    r = run("gc", ds, "--keep-for", "1s")
    assert "expired 3 versions (1-3)" in r.out and "retained versions: 4" in r.out
    assert "say what to keep" in run("gc", ds, expect=1).err
    assert "not a duration" in run("gc", ds, "--keep-for", "3 days", expect=1).err
    assert "at least 1" in run("gc", ds, "--keep-versions", "0", expect=1).err


def test_gc_keeps_the_version_a_reader_holds(ds, tmp_path):
    imports(ds, tmp_path, 2)  # versions 2, 3
    # A reader holds version 2: a live lease file, as a process holding a snapshot keeps.
    leases = ds / "leases"
    leases.mkdir(exist_ok=True)
    (leases / "2-999999-test.lease").write_text("version=2\npid=999999\nttl_seconds=120\n")
    stale = leases / "3-999998-test.lease"
    stale.write_text("version=3\npid=999998\nttl_seconds=120\n")
    os.utime(stale, (1000, 1000))  # renewed long ago: its reader crashed
    imports(ds, tmp_path, 1)  # version 4
    r = run("gc", ds, "--keep-versions", "1")
    assert "retained versions: 2, 4 (2 only while a reader holds it)" in r.out
    assert "removed 1 expired reader lease" in r.out
    assert len(rows_of(ds, "t", 2)) == 50
    (leases / "2-999999-test.lease").unlink()
    r = run("gc", ds, "--keep-versions", "1")
    assert "expired 1 version (2)" in r.out


@pytest.mark.slow
def test_sigkill_during_gc_then_rerun_finishes(ds, tmp_path):
    rng = random.Random(11)
    for round_ in range(12):
        imports(ds, tmp_path, 4)
        live = live_version(ds)
        expected = rows_of(ds, "t")
        start = time.monotonic()
        proc = subprocess.Popen([str(RETL_BUILD), "gc", str(ds), "--keep-versions", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert live_version(ds) == live
        run("verify", ds)  # the live version is whole, whatever gc managed
        assert rows_of(ds, "t") == expected
        run("gc", ds, "--keep-versions", "2")  # finishes the job
        run("verify", ds, "--all")
        assert len(data_files(ds)) == 4, (round_, data_files(ds), time.monotonic() - start)


# ---------------------------------------------------------------------------
# ship: copy a version to another directory


def test_ship_links_then_sends_only_new_files(ds, tmp_path):
    imports(ds, tmp_path, 1)  # version 2
    dest = tmp_path / "dest"
    r = run("ship", ds, dest)
    assert "shipped version 2 to" in r.out and "2 files written (2 hard-linked, 0 copied" in r.out
    for name in data_files(ds):
        assert (dest / "data" / name).stat().st_ino == (ds / "data" / name).stat().st_ino
    assert rows_of(dest, "t") == rows_of(ds, "t")
    f = write_csv(tmp_path / "u.csv", ["id"], [[str(i)] for i in range(5)])
    run("import", ds, "--table", "u", "--input", f, "--primary-key", "id")  # version 3 adds u
    r = run("ship", ds, dest)
    assert "shipped version 3" in r.out and "2 files written" in r.out and "2 already there" in r.out
    assert live_version(dest) == 3 and rows_of(dest, "u") == rows_of(ds, "u")
    assert "is at version 3 already" in run("ship", ds, dest).out
    run("verify", dest, "--all")
    # Versions keep their numbers; an older one is refused.
    assert "newer than version 2" in run("ship", ds, dest, "--version", "2", expect=1).err


def test_ship_copies_and_checks_checksums(ds, tmp_path):
    imports(ds, tmp_path, 2)
    dest = tmp_path / "copy"
    r = run("ship", ds, dest, "--version", "2", "--copy")
    assert "2 files written (0 hard-linked, 2 copied" in r.out
    for name in (dest / "data").iterdir():
        assert name.stat().st_ino != (ds / "data" / name.name).stat().st_ino
    assert live_version(dest) == 2
    assert rows_of(dest, "t") == rows_of(ds, "t", 2)
    # A damaged source file is not shipped.
    seg = next(p for p in (ds / "data").iterdir() if p.name.startswith("00000000000000000003-") and p.suffix == ".seg")
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0xFF
    seg.write_bytes(bytes(data))
    r = run("ship", ds, dest, "--copy", expect=1)
    assert "does not match its manifest's checksum" in r.err
    assert live_version(dest) == 2
    assert not any(p.name.endswith(".tmp") for p in (dest / "data").iterdir())


def test_ship_refuses_other_destinations(ds, tmp_path):
    imports(ds, tmp_path, 1)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "is neither a dataset nor empty" in run("ship", ds, other, expect=1).err
    stranger = tmp_path / "stranger"
    run("init", stranger)
    f = write_csv(tmp_path / "x.csv", ["id"], [["1"]])
    run("import", stranger, "--table", "x", "--input", f, "--primary-key", "id")  # its own version 2
    assert "is not a copy of" in run("ship", ds, stranger, expect=1).err
    assert "does not exist" in run("ship", ds, tmp_path / "d3", "--version", "7", expect=1).err


@pytest.mark.slow
def test_sigkill_during_ship_never_shows_a_partial_version(tmp_path):
    from conftest import GEN
    src = tmp_path / "src"
    run("init", src)
    csvs = []
    for seed in (1, 2):
        path = tmp_path / f"c{seed}.csv"
        subprocess.run([str(GEN), "--rows", "40000", "--seed", str(seed), "--output", str(path)], check=True)
        csvs.append(path)
    run("import", src, "--table", "customers", "--input", csvs[0], "--primary-key", "customer_id",
        "--partition-by", "region")
    run("import", src, "--table", "customers", "--input", csvs[1], "--primary-key", "customer_id",
        "--partition-by", "region", "--mode", "replace-table")
    counts = {v: query(src, "--version", str(v), "-c", "SELECT count(*), sum(orders) FROM customers",
                       "--format", "csv").out for v in (2, 3)}
    dest = tmp_path / "dest"
    run("ship", src, dest, "--version", "2", "--copy")
    start = time.monotonic()
    run("ship", src, tmp_path / "timing", "--copy")
    duration = time.monotonic() - start
    rng = random.Random(5)
    for i in range(15):
        version = 3 if i % 2 == 0 else 2
        if live_version(dest) > version:
            version = 3
        proc = subprocess.Popen([str(RETL_BUILD), "ship", str(src), str(dest), "--copy", "--version", str(version)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        live = live_version(dest)
        assert live in (2, 3)
        assert query(dest, "-c", "SELECT count(*), sum(orders) FROM customers", "--format", "csv").out == counts[live]
    run("ship", src, dest, "--copy")
    run("verify", dest, "--all")
    assert live_version(dest) == 3


# ---------------------------------------------------------------------------
# Readers while partitions are replaced and old versions collected


@pytest.mark.slow
def test_readers_see_the_old_or_the_new_version_never_a_mix(ds, tmp_path):
    import threading
    rows = 3000
    files = {}
    for tag in ("A", "B"):
        files[tag] = write_csv(tmp_path / f"{tag}.csv", ["id", "region", "tag"],
                               [[str(i), "west", tag] for i in range(rows)])
    other = write_csv(tmp_path / "east.csv", ["id", "region", "tag"],
                      [[str(rows + i), "east", "E"] for i in range(100)])
    run("import", ds, "--table", "t", "--input", files["A"], "--primary-key", "id", "--partition-by", "region")
    run("import", ds, "--table", "t", "--input", other, "--mode", "replace-partition")
    stop = threading.Event()
    problems = []
    answers = {"query": 0, "lookup": 0}

    def reader():
        while not stop.is_set():
            r = query(ds, "-c", "SELECT count(*), min(tag), max(tag) FROM t WHERE region = 'west'; "
                                "SELECT count(*) FROM t WHERE region = 'east'", "--format", "csv", expect=None)
            if r.code != 0:
                problems.append(("query", r.err))
                continue
            lines = r.out.split("\n")
            if lines[1] not in (f"{rows},A,A", f"{rows},B,B") or lines[3] != "100":
                problems.append(("query", r.out))
            answers["query"] += 1
            r = query(ds, "--lookup", "t", "17", str(rows + 5), "--format", "csv", expect=None)
            if r.code != 0:
                problems.append(("lookup", r.err))
                continue
            got = r.out.split("\n")
            if got[1] not in ("17,west,A", "17,west,B") or got[2] != f"{rows + 5},east,E":
                problems.append(("lookup", r.out))
            answers["lookup"] += 1

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(40):
            tag = "B" if i % 2 == 0 else "A"
            run("import", ds, "--table", "t", "--input", files[tag], "--mode", "replace-partition",
                "--partition", "west")
            run("gc", ds, "--keep-versions", "1")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not problems, problems[:3]
    assert answers["query"] > 20 and answers["lookup"] > 20, answers
    run("verify", ds, "--all")


# ---------------------------------------------------------------------------
# Release safety: quality gates and lineage


def test_quality_gates_refuse_to_commit(ds, tmp_path):
    full = write_csv(tmp_path / "full.csv", ["id", "name"], [[str(i), f"n{i}"] for i in range(20)])
    half = write_csv(tmp_path / "half.csv", ["id", "name"], [[str(i), f"n{i}"] for i in range(10)])
    most = write_csv(tmp_path / "most.csv", ["id", "name"], [[str(i), f"n{i}"] for i in range(18)])
    wider = write_csv(tmp_path / "wider.csv", ["id", "name", "extra"], [[str(i), "x", "1"] for i in range(20)])
    base = ["--table", "t", "--primary-key", "id"]
    r = run("import", ds, *base, "--input", full, "--expect-rows", "100..", expect=1)
    assert "quality gate: table 't' would have 20 rows; --expect-rows wants at least 100. Nothing was committed." in r.err
    assert live_version(ds) == 1 and data_files(ds) == []
    run("import", ds, *base, "--input", full, "--expect-rows", "10..1,000")
    files = data_files(ds)
    replace = ["--mode", "replace-table", "--max-row-drop", "10%"]
    r = run("import", ds, *base, "--input", half, *replace, expect=1)
    assert "would drop from 20 to 10 rows (50.0%), more than --max-row-drop 10% allows" in r.err
    assert live_version(ds) == 2 and data_files(ds) == files
    run("import", ds, *base, "--input", most, *replace)  # 10% exactly: allowed
    assert live_version(ds) == 3
    r = run("import", ds, *base, "--input", wider, "--mode", "replace-table", expect=1)
    assert "the import changes the schema of table 't'; pass --allow-schema-change" in r.err
    assert "extra" in r.err and live_version(ds) == 3
    run("import", ds, *base, "--input", wider, "--mode", "replace-table", "--allow-schema-change",
        "--expect-rows", "..20")
    assert live_version(ds) == 4
    for bad, needle in (("--expect-rows=5..1", "use MIN..MAX"), ("--expect-rows=many", "use MIN..MAX"),
                        ("--max-row-drop=10", "use a percentage"), ("--max-row-drop=120%", "use a percentage")):
        assert needle in run("import", ds, *base, "--input", full, "--mode", "replace-table", bad, expect=1).err


def test_lineage_is_recorded_shown_and_queryable(ds, tmp_path):
    a = write_csv(tmp_path / "a.csv", ["id"], [[str(i)] for i in range(5)])
    b = write_csv(tmp_path / "b.csv", ["id"], [[str(i)] for i in range(5, 9)])
    same = write_csv(tmp_path / "same.csv", ["id"], [[str(i)] for i in range(5)])
    run("import", ds, "--table", "t", "--input", a, b, "--primary-key", "id", "--source", "bq-export 2026-11-24/17")
    run("import", ds, "--table", "u", "--input", same, "--primary-key", "id")
    out = run("versions", ds).out
    assert "source: bq-export 2026-11-24/17" in out
    assert f"input: {a} ({a.stat().st_size} B, xxh64 " in out and f"input: {b} (" in out
    rows = read_csv(query(ds, "-c", "SHOW VERSIONS", "--format", "csv").out)
    assert rows[0] == ["version", "committed_at", "operation", "message", "summary", "source", "inputs"]
    v2, v3 = rows[2], rows[3]
    assert v2[5] == "bq-export 2026-11-24/17" and v3[5] is None
    entries = v2[6].split("; ")
    assert [e.split(" ")[0] for e in entries] == [str(a), str(b)]
    assert entries[0].split(" ")[1] == str(a.stat().st_size)
    # Same bytes, same checksum; other bytes, another.
    assert v3[6].split(" ")[2] == entries[0].split(" ")[2] != entries[1].split(" ")[2]


def test_release_commits_several_imports_as_one_version(ds, tmp_path):
    a = write_csv(tmp_path / "a.csv", ["id", "region", "v"], [[str(i), "west" if i % 2 else "east", "a"] for i in range(10)])
    run("import", ds, "--table", "t", "--input", a, "--primary-key", "id", "--partition-by", "region")
    west = write_csv(tmp_path / "west.csv", ["id", "region", "v"], [[str(i), "west", "b"] for i in range(1, 10, 2)])
    u = write_csv(tmp_path / "u.csv", ["k", "name"], [["1", "one"], ["2", "two words"]])
    spec = tmp_path / "nightly.spec"
    spec.write_text(
        "# the nightly release\n"
        f"--table t --input {west} --mode replace-partition --partition west --max-row-drop 0%\n"
        f"--table u --input '{u}' \\\n"
        "    --primary-key k --expect-rows 1..5\n")
    r = run("release", ds, spec, "--message", "nightly 11-24", "--source", "dbx job 77")
    assert "committed version 3: t: replaced 1 partition" in r.out and "u: created with 2 rows" in r.out
    assert live_version(ds) == 3
    out = run("versions", ds).out
    assert "release" in out and "source: dbx job 77" in out and f"input: {west}" in out and f"input: {u}" in out
    assert [row[2] for row in rows_of_query(ds, "SELECT id, region, v FROM t WHERE region = 'west' ORDER BY id")] == ["b"] * 5
    # One failing step commits nothing, and names its line.
    files = data_files(ds)
    bad = tmp_path / "bad.spec"
    bad.write_text(f"--table t --input {a} --mode replace-table --primary-key id --partition-by region\n"
                   f"--table u --input {u} --mode replace-table --primary-key k --expect-rows 10..\n")
    r = run("release", ds, bad, expect=1)
    assert f"{bad}:2: quality gate: table 'u' would have 2 rows" in r.err
    assert live_version(ds) == 3 and data_files(ds) == files
    for text, needle in (("--table t --input 'x.csv\n", "unterminated ' quote"),
                         ("--table t --input x.csv --message hi\n", "go on the release command"),
                         ("# nothing\n", "the release lists no import"),
                         (f"--table t --input {a} --mode sideways\n", "sideways")):
        bad.write_text(text)
        assert needle in run("release", ds, bad, expect=1).err
    assert "cannot open release spec" in run("release", ds, tmp_path / "none.spec", expect=1).err


def rows_of_query(ds, sql):
    return read_csv(query(ds, "-c", sql, "--format", "csv").out)[1:]


# ---------------------------------------------------------------------------
# backup and restore


def test_backup_and_restore_every_retained_version(ds, tmp_path):
    imports(ds, tmp_path, 2)  # versions 2, 3
    bk = tmp_path / "backup"
    r = run("backup", ds, bk)
    assert "backed up versions 1-3 of" in r.out and "4 files copied" in r.out and "verified" in r.out
    for name in data_files(ds):
        assert (bk / "data" / name).stat().st_ino != (ds / "data" / name).stat().st_ino
    imports(ds, tmp_path, 1)  # version 4
    r = run("backup", ds, bk)
    assert "versions 1-4" in r.out and "2 files copied" in r.out and "4 already there" in r.out
    restored = tmp_path / "restored"
    r = run("restore", bk, restored)
    assert "restored versions 1-4" in r.out
    for v in (2, 3, 4):
        assert rows_of(restored, "t", v) == rows_of(ds, "t", v)
    assert live_version(restored) == 4
    run("verify", restored, "--all")
    assert "is a dataset already" in run("restore", bk, ds, expect=1).err
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_text("x")
    assert "neither a dataset nor empty" in run("backup", ds, other, expect=1).err
    # After a gc the backup keeps what the dataset let go.
    run("gc", ds, "--keep-versions", "1")
    assert len(rows_of(restored, "t", 2)) == 50


def test_backup_refuses_a_damaged_source(ds, tmp_path):
    imports(ds, tmp_path, 1)
    seg = next(p for p in (ds / "data").iterdir() if p.suffix == ".seg")
    data = bytearray(seg.read_bytes())
    data[100] ^= 0x40
    seg.write_bytes(bytes(data))
    r = run("backup", ds, tmp_path / "bk", expect=1)
    assert "does not match its manifest's checksum" in r.err and seg.name in r.err


# ---------------------------------------------------------------------------
# compact


def appended(ds, tmp_path, batches, per_batch=30):
    """A partitioned table built by one import and `batches` appends (one segment each per partition)."""
    def rows(b):
        return [[str(b * per_batch + i), "west" if i % 3 else "east", f"v{b}-{i}"] for i in range(per_batch)]
    first = write_csv(tmp_path / "b0.csv", ["id", "region", "v"], rows(0))
    run("import", ds, "--table", "t", "--input", first, "--primary-key", "id", "--partition-by", "region")
    for b in range(1, batches + 1):
        f = write_csv(tmp_path / f"b{b}.csv", ["id", "region", "v"], rows(b))
        run("import", ds, "--table", "t", "--input", f, "--mode", "append")


def test_compact_merges_appended_segments(ds, tmp_path):
    appended(ds, tmp_path, 5)  # 6 segments in each of 2 partitions
    before = rows_of(ds, "t")
    files = len(data_files(ds))
    assert "nothing to compact" in run("compact", ds, "--table", "t", "--auto", "--min-segments", "7").out
    r = run("compact", ds, "--table", "t", "--partition", "west", "--target-rows", "50")
    assert "t: compacted partition 'west' (6 segments into 3, 120 rows)" in r.out
    r = run("compact", ds, "--table", "t", "--auto")
    assert "compacted partition 'east' (6 segments into 1, 60 rows)" in r.out and "'west'" not in r.out
    assert rows_of(ds, "t") == before
    run("verify", ds, "--all")
    # Lookups and old versions still answer.
    assert query(ds, "--lookup", "t", "31", "--format", "csv").out.split("\n")[1].startswith("31,")
    assert rows_of(ds, "t", live_version(ds) - 2) == before
    run("gc", ds, "--keep-versions", "1")
    assert len(data_files(ds)) < files
    assert rows_of(ds, "t") == before
    assert "has no partition 'north'" in run("compact", ds, "--table", "t", "--partition", "north", expect=1).err
    assert "does not exist" in run("compact", ds, "--table", "nope", expect=1).err


@pytest.mark.slow
def test_sigkill_during_compact_keeps_the_rows(ds, tmp_path):
    appended(ds, tmp_path, 8, per_batch=2000)
    expected = rows_of(ds, "t")
    start = time.monotonic()
    run("compact", ds, "--table", "t", "--target-rows", "5000")
    duration = time.monotonic() - start
    rng = random.Random(3)
    for i in range(12):
        f = write_csv(tmp_path / f"x{i}.csv", ["id", "region", "v"], [[str(100000 + i), "west", "x"]])
        run("import", ds, "--table", "t", "--input", f, "--mode", "append")
        expected = rows_of(ds, "t")
        before = live_version(ds)
        proc = subprocess.Popen([str(RETL_BUILD), "compact", str(ds), "--table", "t", "--target-rows", "5000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert live_version(ds) in (before, before + 1)
        run("verify", ds)
        assert rows_of(ds, "t") == expected


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_threads_give_the_same_files(tmp_path, fmt):
    # 200,000 reference rows: over 16 MiB of CSV, so parsing is split too.
    csv_path = tmp_path / "customers.csv"
    subprocess.run([str(GEN), "--rows", "200000", "--output", str(csv_path)], check=True, capture_output=True)
    src = csv_path
    if fmt == "parquet":
        pa_csv = pytest.importorskip("pyarrow.csv")
        pq = pytest.importorskip("pyarrow.parquet")
        src = tmp_path / "customers.parquet"
        pq.write_table(pa_csv.read_csv(csv_path), src, compression="zstd", row_group_size=50000)
    digests = []
    for threads in (1, 2, 5):
        d = tmp_path / f"ds{threads}"
        run("init", d)
        run("import", d, "--table", "customers", "--input", src, "--primary-key", "customer_id",
            "--partition-by", "region", "--index", "email", "--threads", threads)
        files = sorted((d / "data").iterdir())
        digests.append([(f.name, f.read_bytes()) for f in files])
        run("verify", d)
    assert digests[0] == digests[1] == digests[2]
    run("import", tmp_path / "ds1", "--table", "x", "--input", src, "--threads", "-1", expect=2)
