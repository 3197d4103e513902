"""Dataset lifecycle commands of retl-build: rollback (point-in-time recovery)."""
import random
import signal
import subprocess
import time

import pytest

from conftest import RETL_BUILD, data_files, live_version, query, read_csv, run, write_csv


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
