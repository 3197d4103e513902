#!/usr/bin/env python3
"""Generates the CSV files of the SQL logic test datasets (tests/sql/data/*/).

Deterministic: every dataset uses its own seeded random.Random, so running
this script again rewrites byte-identical files. The outputs are committed;
the .test files' expected results were computed from exactly these files (see
tests/sql/README.md and pg_expected.py). Changing a value here means
regenerating the expectations with `pg_expected.py --update` and reviewing the
diff.

    python3 tests/sql/data/generate.py        # writes tests/sql/data/*/*.csv

CSV form (what retl-build import reads): header row, comma separated, RFC 4180
quoting, NULL is an empty unquoted field, the empty string is "".
"""

import datetime
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def csv_field(v):
    """One CSV field: None -> NULL (empty), '' -> "", quoted when needed."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    if s == "":
        return '""'
    if any(c in s for c in ',"\r\n') or s != s.strip():
        return '"' + s.replace('"', '""') + '"'
    return s


def write_csv(dataset, name, header, rows):
    path = os.path.join(HERE, dataset, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            assert len(row) == len(header), (name, row)
            f.write(",".join(csv_field(v) for v in row) + "\n")


def ts_text(t):
    """TIMESTAMP as the canonical text: fraction only when non-zero."""
    s = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        s += ("." + "%06d" % t.microsecond).rstrip("0")
    return s


# ---------------------------------------------------------------------------
# shop: customers (WORKLOAD.md, scaled down) and orders
# ---------------------------------------------------------------------------

COUNTRIES = ["US", "DE", "FR", "GB", "JP", "KR", "BR", "CA", "IN", "AU"]
COUNTRY_WEIGHTS = [30, 12, 9, 9, 8, 6, 6, 8, 6, 6]
REGION_OF = {"US": "na", "CA": "na", "DE": "emea", "FR": "emea", "GB": "emea",
             "JP": "apac", "KR": "apac", "IN": "apac", "AU": "apac", "BR": "latam"}
PLANS = ["free", "starter", "pro", "business", "enterprise"]
PLAN_WEIGHTS = [50, 25, 15, 7, 3]


def gen_shop():
    rng = random.Random(20240401)
    n = 300
    customers = []
    ids = []
    for i in range(n):
        cid = (i * 2654435761 + 12345) % (1 << 40)
        ids.append(cid)
        email = "user%d@example%d.com" % (i, i % 97)
        # A few hand-picked emails for LIKE escapes and ILIKE.
        if i == 7:
            email = "john_doe@example7.com"
        elif i == 13:
            email = "100%real@example13.com"
        elif i == 21:
            email = "Mixed.Case@Example21.com"
        if rng.random() < 0.05:
            country = None
        else:
            country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        region = REGION_OF[country] if country else None
        r = rng.random()
        if r < 0.04:
            plan = None
        elif r < 0.05:
            plan = ""
        else:
            plan = rng.choices(PLANS, PLAN_WEIGHTS)[0]
        start = datetime.date(2018, 1, 1)
        span = (datetime.date(2026, 10, 31) - start).days
        signup = start + datetime.timedelta(days=rng.randrange(span + 1))
        seen = datetime.datetime.combine(signup, datetime.time()) + datetime.timedelta(
            seconds=rng.randrange(1, 400 * 86400))
        if rng.random() < 0.1:
            seen = seen.replace(microsecond=rng.choice([500000, 250000, 123456, 1]))
        if rng.random() < 0.05:
            ltv = None
        else:
            ltv = "%.2f" % min(rng.lognormvariate(4, 1.2), 99999.0)
        orders = min(int(rng.expovariate(1 / 12.0)), 200)
        churn = "%.4f" % rng.random()
        segment = rng.randrange(100)
        active = rng.random() < 0.7
        customers.append([cid, email, country, region, plan, signup.isoformat(), ts_text(seen),
                          ltv, orders, churn, segment, active])
    write_csv("shop", "customers.csv",
              ["customer_id", "email", "country", "region", "plan", "signup_date", "last_seen",
               "ltv", "orders", "churn_score", "segment", "is_active"], customers)

    statuses = ["pending", "paid", "shipped", "cancelled", "refunded"]
    status_w = [10, 35, 40, 10, 5]
    orders = []
    for k in range(500):
        order_id = 100000 + k * 7
        if rng.random() < 0.03:
            cust = 999999999  # no such customer
        else:
            cust = ids[min(int(rng.expovariate(1 / 60.0)), n - 1)]
        status = rng.choices(statuses, status_w)[0]
        if rng.random() < 0.04:
            amount = None
        else:
            cents = int(rng.lognormvariate(8, 1.0))
            if status == "refunded":
                cents = -cents
            amount = "%d.%02d" % (abs(cents) // 100, abs(cents) % 100)
            if cents < 0:
                amount = "-" + amount
        created = datetime.datetime(2023, 1, 1) + datetime.timedelta(
            seconds=rng.randrange(3 * 365 * 86400))
        qty = rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 10, 20])
        orders.append([order_id, cust, amount, status, ts_text(created), qty])
    write_csv("shop", "orders.csv",
              ["order_id", "customer_id", "amount", "status", "created_at", "quantity"], orders)


# ---------------------------------------------------------------------------
# types: one column of every type, kv with a composite key, an empty table
# ---------------------------------------------------------------------------

def gen_types():
    N = None
    # id, b, i8, i16, i32, i64, f, d, dec, bigdec, s, bin, dt, ts
    rows = [
        [1, True, 0, 0, 0, 0, "0", "0", "0.00", "0.00000", "zero", "\\x00",
         "2000-01-01", "2000-01-01 00:00:00"],
        [2, False, 127, 32767, 2147483647, 9223372036854775807, "3.4028235e+38",
         "1.7976931348623157e+308", "99999999.99", "9999999999999999999999999.99999", "max",
         "\\xff", "9999-12-31", "9999-12-31 23:59:59.999999"],
        [3, False, -128, -32768, -2147483648, -9223372036854775807 - 1, "-1.5", "-2.5",
         "-99999999.99", "-9999999999999999999999999.99999", "min", "\\x", "0001-01-01",
         "0001-01-01 00:00:00"],
        [4, N, N, N, N, N, N, N, N, N, N, N, N, N],
        [5, True, 1, 1, 1, 1, "1", "1", "1.00", "1.00000", "", "\\x0102",
         "2024-02-29", "2024-02-29 12:34:56.789"],
        [6, True, -1, -1, -1, -1, "-1", "-1", "-1.00", "-1.00000", " padded ", "\\xdeadbeef",
         "2023-02-28", "2023-02-28 23:59:59"],
        [7, False, 42, 1000, 123456, 1234567890123, "0.5", "0.1", "12.50", "1234567890.12345",
         "Zürich", "\\x00ff", "1999-12-31", "1999-12-31 23:59:59.5"],
        [8, True, 7, 300, 70000, 5000000000, "0.25", "1e+20", "-0.05", "-0.00001", "naïve",
         "\\x41", "2000-02-29", "2000-02-29 00:00:00"],
        [9, False, 100, -300, -70000, -5000000000, "-0.25", "1e-07", "3.14", "3.14159",
         "hello world", "\\x68656c6c6f", "1970-01-01", "1970-01-01 00:00:00"],
        [10, True, -100, 12345, 999999, 999999999999, "1024", "123456.75", "0.01", "0.00001",
         "a_b", "\\x00", "1969-12-31", "1969-12-31 23:59:59"],
        [11, N, 5, 5, 5, 5, "5", "5", "5.00", "5.00000", "a%b", N, "2020-12-31",
         "2020-12-31 12:00:00"],
        [12, False, N, 6, 6, 6, "6.5", "6.5", "6.50", "6.50000", "back\\slash", "\\x06",
         "2021-01-03", "2021-01-03 08:15:00"],
        [13, True, 13, N, 13, 13, "13", "13.25", "13.25", "13.25000", "O'Brien", "\\x0d",
         "2021-01-04", "2021-01-04 00:00:00.000001"],
        [14, False, 14, 14, N, 14, "14", "14", "14.00", "14.00000", "comma, inside", "\\x0e",
         "2016-02-29", "2016-02-29 16:00:00"],
        [15, True, 15, 15, 15, N, "15", "-15.5", "-15.50", "-15.50000", 'say "hi"', "\\x0f",
         "1900-03-01", "1900-03-01 06:30:00"],
        [16, False, 16, 16, 16, 16, N, "16", "16.00", "16.00000", "UPPER", "\\x10",
         "2024-12-30", "2024-12-30 10:00:00"],
        [17, True, 17, 17, 17, 17, "17", N, "17.00", "17.00000", "MiXeD Case", "\\x11",
         "2025-01-01", "2025-01-01 00:00:00"],
        [18, False, 18, 18, 18, 18, "18", "18", N, "18.00000", "日本語", "\\x12",
         "2024-03-01", "2024-03-01 00:00:00"],
        [19, True, 19, 19, 19, 19, "19", "19", "19.00", N, "trailing ", "\\x13",
         "2024-06-15", "2024-06-15 18:45:30.25"],
        [20, False, 20, 20, 20, 20, "20", "20", "20.00", "20.00000", N, "\\x14",
         "2024-07-04", "2024-07-04 09:00:00"],
        [21, True, 21, 21, 21, 21, "21", "21", "21.00", "21.00000", "  leading", N,
         "2024-09-30", "2024-09-30 23:00:00"],
        [22, False, 22, 22, 22, 22, "22", "22", "22.00", "22.00000", "abc", "\\x16", N,
         "2024-10-01 01:02:03"],
        [23, True, 23, 23, 23, 23, "23", "23", "23.00", "23.00000", "abcdef", "\\x17",
         "2024-11-11", N],
        [24, False, 24, 24, 24, 24, "inf", "inf", "24.00", "24.00000", "ABC", "\\x18",
         "2023-01-01", "2023-01-01 00:00:00"],
        [25, True, 25, 25, 25, 25, "-inf", "-inf", "25.00", "25.00000", "abc", "\\x19",
         "2022-01-01", "2022-01-01 00:00:00"],
        [26, False, -26, -26, -26, -26, "-26", "-26", "-26.00", "-26.00000", "x", "\\x1a",
         "2019-05-05", "2019-05-05 05:05:05"],
        [27, True, 27, 27, 27, 27, "27.75", "27.75", "27.75", "27.75000", "y", "\\x1b",
         "2018-08-08", "2018-08-08 08:08:08"],
        [28, False, 28, 28, 28, 28, "28", "28", "28.00", "28.00000", "z", "\\x1c",
         "2017-07-07", "2017-07-07 07:07:07"],
        [29, True, 29, 29, 29, 29, "29", "29", "29.00", "29.00000", "Abc", "\\x1d",
         "2016-06-06", "2016-06-06 06:06:06"],
        [30, N, 30, 30, 30, 30, "30", "30", "30.00", "30.00000", "abc%", "\\x1e",
         "2015-05-05", "2015-05-05 05:05:05"],
    ]
    write_csv("types", "t.csv",
              ["id", "b", "i8", "i16", "i32", "i64", "f", "d", "dec", "bigdec", "s", "bin", "dt",
               "ts"], rows)

    kv = [
        [1, "a", "1.5"], [1, "b", "2.5"], [1, "c", None], [2, "a", "-1"], [2, "", "0"],
        [2, "b", "10"], [3, "a", "0.25"], [3, "Zürich", "3.25"], [10, "a", "100"],
        [10, "x y", None], [-1, "neg", "-0.5"], [0, "zero", "0"],
    ]
    write_csv("types", "kv.csv", ["a", "b", "value"], kv)
    write_csv("types", "empty.csv", ["id", "x", "s"], [])


# ---------------------------------------------------------------------------
# history: a table replaced and appended to, and a partition replaced
# ---------------------------------------------------------------------------

def gen_history():
    header = ["sku", "price", "category"]
    v2 = [["A001", "10.00", "fruit"], ["A002", "12.50", "fruit"], ["B001", "3.99", "dairy"],
          ["B002", "4.49", "dairy"], ["C001", "100.00", "tools"], ["C002", None, "tools"],
          ["D001", "0.99", None]]
    v3 = [["A001", "11.00", "fruit"], ["A002", "12.50", "fruit"], ["B001", "4.19", "dairy"],
          ["C001", "95.00", "tools"], ["C002", "20.00", "tools"], ["D001", "0.99", "snacks"],
          ["E001", "7.77", "garden"]]
    v4 = [["F001", "1.00", "toys"], ["F002", "2.00", "toys"], ["G001", None, "toys"]]
    write_csv("history", "prices_v2.csv", header, v2)
    write_csv("history", "prices_v3.csv", header, v3)
    write_csv("history", "prices_v4_append.csv", header, v4)

    sheader = ["stock_id", "sku", "warehouse", "qty"]
    s5 = [[1, "A001", "north", 10], [2, "A002", "north", 0], [3, "A001", "south", 5],
          [4, "B001", "south", 7], [5, "C001", "east", 2], [6, "D001", None, 3],
          [7, "E001", None, None]]
    s6 = [[8, "A001", "north", 12], [9, "F001", "north", 4], [10, "G001", None, 1]]
    write_csv("history", "stock_v5.csv", sheader, s5)
    write_csv("history", "stock_v6_partitions.csv", sheader, s6)


if __name__ == "__main__":
    gen_shop()
    gen_types()
    gen_history()
