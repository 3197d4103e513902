"""retl-query's SQL front end: -c, stdin, the interactive shell, formats,
exit statuses and errors. Query semantics are covered by tests/sql."""
import json
import os
import pty
import select
import subprocess
import time

import pytest

from conftest import RETL_QUERY, query, run, write_csv

SCHEMA = ("CREATE TABLE people (id BIGINT PRIMARY KEY, name STRING, city STRING, "
          "score DOUBLE, joined DATE, INDEX (name)) PARTITION BY (city);\n")
ROWS = [
    ["1", "ann", "oslo", "1.5", "2024-01-02"],
    ["2", "bob", "rome", None, "2023-05-06"],
    ["3", "cid", "oslo", "-2", None],
    ["4", "dee", None, "0.25", "2024-12-31"],
    ["5", "", "rome", "3", "2022-02-28"],
]


@pytest.fixture
def people(tmp_path):
    ds = tmp_path / "ds"
    run("init", ds)
    (tmp_path / "people.sql").write_text(SCHEMA)
    write_csv(tmp_path / "people.csv", ["id", "name", "city", "score", "joined"], ROWS)
    run("import", ds, "--table", "people", "--input", tmp_path / "people.csv",
        "--schema", tmp_path / "people.sql")
    return ds


def test_command_prints_each_statement_as_a_table(people):
    r = query(people, "-c", "SELECT id, name FROM people WHERE city = 'oslo' ORDER BY id; "
                            "SELECT count(*) AS n FROM people")
    assert r.out == (" id     | name\n"
                     " bigint | string\n"
                     "--------+--------\n"
                     "      1 | ann\n"
                     "      3 | cid\n"
                     "(2 rows)\n"
                     " n\n"
                     " bigint\n"
                     "--------\n"
                     "      5\n"
                     "(1 row)\n"), r


def test_csv_and_json_formats(people):
    sql = "SELECT id, name, score, joined FROM people ORDER BY id"
    r = query(people, "-c", sql, "--format", "csv")
    assert r.out.splitlines() == [
        "id,name,score,joined", "1,ann,1.5,2024-01-02", "2,bob,,2023-05-06", "3,cid,-2,",
        "4,dee,0.25,2024-12-31", '5,"",3,2022-02-28'], r
    r = query(people, "-c", sql, "--format", "jsonl")
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert rows[1] == {"id": 2, "name": "bob", "score": None, "joined": "2023-05-06"}
    assert rows[2]["score"] == -2 and rows[4]["name"] == ""
    r = query(people, "-c", sql + " LIMIT 0", "--format", "json")
    assert r.out == "[]\n"


def test_statements_on_stdin_stop_at_the_first_error(people):
    proc = subprocess.run([str(RETL_QUERY), str(people), "--format", "csv"], capture_output=True,
                          input=b"SELECT 1 AS a;\nSELECT nope FROM people;\nSELECT 2 AS b;\n")
    assert proc.returncode == 1
    assert proc.stdout.decode() == "a\n1\n"
    assert proc.stderr.decode() == 'retl-query: error: line 2, column 8: column "nope" does not exist\n'


def test_errors_exit_1_with_position(people):
    r = query(people, "-c", "SELECT id FROM people WHERE", expect=1)
    assert "line 1, column 28: expected an expression, found end of input" in r.err, r
    assert r.out == ""
    r = query(people, "-c", "SELECT 1/0", expect=1)
    assert "division by zero" in r.err
    r = query(people, "-c", "SELECT * FROM nope", expect=1)
    assert 'table "nope" does not exist' in r.err and "people" in r.err
    r = query(people / "missing", "-c", "SELECT 1", expect=1)
    r = query(people, "-c", "SELECT 1", "--version", "99", expect=1)
    assert "99" in r.err


def test_version_and_as_of_select_the_snapshot(people, tmp_path):
    write_csv(tmp_path / "more.csv", ["id", "name", "city", "score", "joined"],
              [["6", "eve", "oslo", "1", "2024-01-01"]])
    run("import", people, "--table", "people", "--input", tmp_path / "more.csv", "--mode", "append")
    assert query(people, "-c", "SELECT count(*) FROM people", "--format", "csv").out == "count(*)\n6\n"
    assert query(people, "-c", "SELECT count(*) FROM people", "--format", "csv",
                 "--version", "2").out == "count(*)\n5\n"
    assert query(people, "-c", "SELECT count(*) FROM people AS OF VERSION 2",
                 "--format", "csv").out == "count(*)\n5\n"


def test_explain_shows_probe_and_pruning(people):
    r = query(people, "-c", "EXPLAIN SELECT * FROM people WHERE name = 'bob'")
    assert "INDEX PROBE people using index name (1 key)" in r.out, r
    r = query(people, "-c", "EXPLAIN SELECT * FROM people WHERE city = 'rome'")
    assert "partitions 1/3 (rome)" in r.out, r
    r = query(people, "-c", "EXPLAIN ANALYZE SELECT city, count(*) FROM people GROUP BY city")
    assert "rows=5" in r.out and "total: 3 rows" in r.out, r


def test_timer_goes_to_stderr_for_machine_formats(people):
    r = query(people, "-c", "SELECT 1 AS x", "--format", "csv", "--timer")
    assert r.out == "x\n1\n" and r.err.startswith("Time: "), r


def read_until(fd, marker, timeout=20):
    out = b""
    deadline = time.time() + timeout
    while marker not in out and time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", errors="replace")


def test_interactive_shell(people, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), TERM="dumb")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(RETL_QUERY), [str(RETL_QUERY), str(people)], env)
    try:
        banner = read_until(fd, b"retl> ")
        assert "retl-query on" in banner and "version 2" in banner, banner
        os.write(fd, b"SELECT name\r")
        assert "...>" in read_until(fd, b"...> ")
        os.write(fd, b"FROM people WHERE id = 4;\r")
        out = read_until(fd, b"retl> ")
        assert "dee" in out and "(1 row)" in out, out
        os.write(fd, b".mode csv\r")
        read_until(fd, b"retl> ")
        os.write(fd, b"SELECT id FROM people WHERE id < 3 ORDER BY id;\r")
        out = read_until(fd, b"retl> ")
        assert "id\r\n1\r\n2\r\n" in out, out
        os.write(fd, b"SELECT nope;\r")
        out = read_until(fd, b"retl> ")
        assert 'column "nope" does not exist' in out, out
        os.write(fd, b".tables\r")
        out = read_until(fd, b"retl> ")
        assert "people" in out, out
        os.write(fd, b".quit\r")
        read_until(fd, b"\n\n", timeout=5)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.WEXITSTATUS(status) == 0
    # libedit's history file escapes blanks as \040.
    history = (tmp_path / ".retl_query_history").read_text().replace("\\040", " ")
    assert "SELECT id FROM people WHERE id < 3" in history, history


def test_csv_and_jsonl_stream_large_results(tmp_path):
    ds = tmp_path / "big"
    run("init", ds)
    (tmp_path / "n.sql").write_text("CREATE TABLE n (id BIGINT PRIMARY KEY, sq BIGINT);\n")
    write_csv(tmp_path / "n.csv", ["id", "sq"], [[str(i), str(i * i)] for i in range(5000)])
    run("import", ds, "--table", "n", "--input", tmp_path / "n.csv", "--schema", tmp_path / "n.sql")
    r = query(ds, "--format", "csv", "-c", "SELECT id, sq FROM n WHERE id % 2 = 0; SELECT count(*) AS c FROM n")
    lines = r.out.splitlines()
    assert lines[0] == "id,sq" and len(lines) == 1 + 2500 + 2, lines[:3]
    assert lines.count("id,sq") == 1 and lines[-2:] == ["c", "5000"]
    assert lines[1:2501] == [f"{i},{i * i}" for i in range(0, 5000, 2)]
    r = query(ds, "--format", "jsonl", "-c", "SELECT id FROM n")
    assert [json.loads(line)["id"] for line in r.out.splitlines()] == list(range(5000))
    # An error after rows were streamed: those rows stay printed, the run fails.
    r = query(ds, "--format", "csv", "-c", "SELECT 10 / (id - 4000) AS x FROM n", expect=1)
    assert r.out.startswith("x\n") and "division by zero" in r.err, r


def test_threads_change_nothing_but_speed(tmp_path):
    """--threads N: the same rows, in the same order, and the same errors, for any N."""
    ds = tmp_path / "t"
    run("init", ds)
    (tmp_path / "t.sql").write_text(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, g STRING, x DOUBLE, n INT) PARTITION BY (g);\n")
    rows = [[str(i), "abc"[i % 3], None if i % 11 == 0 else str(i * 0.37), str(i % 17)]
            for i in range(20000)]
    write_csv(tmp_path / "t.csv", ["id", "g", "x", "n"], rows)
    run("import", ds, "--table", "t", "--input", tmp_path / "t.csv", "--schema", tmp_path / "t.sql",
        "--block-rows", "700")
    sql = ("SELECT g, n, count(*), sum(x), avg(x), min(x), max(id) FROM t WHERE n <> 3 "
           "GROUP BY g, n; "
           "SELECT id, x FROM t WHERE x > 7000 AND n = 5; "
           "SELECT sum(x), stddev(x), count(DISTINCT n) FROM t; "
           "SELECT id FROM t ORDER BY x DESC LIMIT 5")
    outputs = {n: query(ds, "--threads", str(n), "--format", "csv", "-c", sql).out
               for n in (1, 2, 5)}
    assert outputs[1] == outputs[2] == outputs[5], outputs
    assert len(outputs[1].splitlines()) > 100, outputs[1][:500]
    errors = {n: query(ds, "--threads", str(n), "-c", "SELECT sum(1 / (id - 15000)) FROM t",
                       expect=1).err for n in (1, 3)}
    assert errors[1] == errors[3] and "division by zero" in errors[1], errors
    r = query(ds, "--threads", "-1", "-c", "SELECT 1", expect=2)
    assert "--threads" in r.err, r


def test_memory_limit_spills_to_temp_dir_and_leaves_nothing_behind(tmp_path):
    """--memory-limit: GROUP BY and ORDER BY past it spill to --temp-dir and give the same
    rows in the same order; spill files are never left behind, even by a killed process."""
    ds = tmp_path / "t"
    run("init", ds)
    (tmp_path / "t.sql").write_text(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, k STRING, x DOUBLE);\n")
    rows = [[str(i), f"key-{(i * 7919) % 45000}", None if i % 11 == 0 else str(i * 0.37)]
            for i in range(60000)]
    write_csv(tmp_path / "t.csv", ["id", "k", "x"], rows)
    run("import", ds, "--table", "t", "--input", tmp_path / "t.csv", "--schema", tmp_path / "t.sql",
        "--block-rows", "2000")
    spill = tmp_path / "spill"
    spill.mkdir()
    sql = ("SELECT k, count(*), sum(x), count(DISTINCT x) FROM t GROUP BY k; "
           "SELECT id, k FROM t ORDER BY k DESC, x")
    expected = query(ds, "--format", "csv", "-c", sql).out
    limited = ["--memory-limit", "1MB", "--temp-dir", spill]
    assert query(ds, *limited, "--format", "csv", "-c", sql).out == expected
    plan = query(ds, *limited, "-c", "EXPLAIN ANALYZE SELECT k, sum(x) FROM t GROUP BY k").out
    assert "spilled" in plan and f"memory_limit 1.0 MiB; spilled" in plan and str(spill) in plan, plan
    assert os.listdir(spill) == []
    # SET in the statements does the same.
    r = query(ds, "-c", f"SET temp_directory = '{spill}'; SET memory_limit = '1MB'; "
                        "EXPLAIN ANALYZE SELECT id FROM t ORDER BY k")
    assert "sorted runs" in r.out, r

    # Killed while spilling: the files were unlinked when created.
    proc = subprocess.Popen([str(RETL_QUERY), str(ds), *map(str, limited), "--format", "csv"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc.stdin.write(("SELECT k, count(*), sum(x) FROM t GROUP BY k;\n" * 200).encode())
    proc.stdin.close()
    seen = 0
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and seen == 0:
        try:
            fds = os.listdir(f"/proc/{proc.pid}/fd")
        except FileNotFoundError:
            break
        for fd in fds:
            try:
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}").startswith(str(spill) + "/"):
                    seen += 1
            except OSError:
                pass
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert seen > 0, "no spill file was seen open"
    assert os.listdir(spill) == []

    r = query(ds, "--memory-limit", "lots", "-c", "SELECT 1", expect=2)
    assert "--memory-limit: invalid size \"lots\"" in r.err, r
    r = query(ds, "--temp-dir", tmp_path / "missing", "-c", "SELECT 1", expect=2)
    assert "--temp-dir: " in r.err and "is not a directory" in r.err, r
