# Drives a server the way applications use psycopg2 (libpq underneath): client-side parameter
# interpolation over the simple query protocol, implicit transactions, server-side (named)
# cursors, COPY, and errors as exception classes. Prints one "check: value" line per check;
# pgwire/clients_test.go runs it against ankaflow and PostgreSQL and compares the lines.
import datetime
import decimal
import io
import os
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extras

psycopg2.extras.register_uuid()
target = os.environ["ANKA_TARGET"]


def show(name, value):
    print(f"{name}: {value!r}")


def typed(value):
    if isinstance(value, memoryview):  # bytea; its repr is an address
        return f"memoryview {bytes(value)!r}"
    return f"{type(value).__name__} {value!r}"


conn = psycopg2.connect(
    host=os.environ["ANKA_HOST"],
    port=os.environ["ANKA_PORT"],
    user=os.environ["ANKA_USER"],
    password=os.environ["ANKA_PASSWORD"],
    dbname=os.environ["ANKA_DATABASE"],
    sslmode="prefer",  # ask for TLS first, as libpq does by default; both servers decline
    application_name="client-py",
)
show("server major version", conn.server_version // 10000)
show("encoding", conn.encoding)
show("application_name", conn.get_parameter_status("application_name"))
show("standard_conforming_strings", conn.get_parameter_status("standard_conforming_strings"))
show("integer_datetimes", conn.get_parameter_status("integer_datetimes"))
show("status idle", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE)

cur = conn.cursor()
cur.execute(
    """CREATE TABLE py_items (
        id integer PRIMARY KEY, name text, price numeric(10,2), weight double precision,
        active boolean, born date, seen timestamp, seen_tz timestamptz, tag uuid, raw bytea,
        scores integer[], doc json)"""
)
show("in transaction after DDL", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS)
conn.commit()

row = (
    1,
    "O'Reilly \u2013 caf\u00e9",
    decimal.Decimal("12.50"),
    0.1,
    True,
    datetime.date(2024, 2, 29),
    datetime.datetime(2024, 2, 29, 13, 45, 30, 123456),
    datetime.datetime(2024, 2, 29, 13, 45, 30, tzinfo=datetime.timezone.utc),
    uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    b"\x00\x01\xfe\xff'\\",
    [3, 1, 2],
    psycopg2.extras.Json({"k": [1, "two", None]}),
)
cur.execute("INSERT INTO py_items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
show("insert rowcount", cur.rowcount)
cur.executemany(
    "INSERT INTO py_items (id, name, price) VALUES (%s, %s, %s)",
    [(i, f"item {i}", decimal.Decimal(i) / 4) for i in range(2, 12)],
)
conn.commit()

cur.execute("SELECT * FROM py_items WHERE id = %s", (1,))
show("columns", [d.name for d in cur.description])
show("type codes", [d.type_code for d in cur.description])
got = cur.fetchone()
for d, v in zip(cur.description, got):
    show("value " + d.name, typed(v))
show("rowcount after select", cur.rowcount)

cur.execute("SELECT id, name, price FROM py_items WHERE id > %(low)s AND name LIKE %(pat)s ORDER BY id", {"low": 3, "pat": "item%"})
show("named params rows", cur.fetchall())

cur.execute("SELECT count(*), sum(price), min(name), max(id) FROM py_items")
show("aggregates", [typed(v) for v in cur.fetchone()])

cur.execute("SELECT NULL::integer, NULL::text, ''::text, ARRAY['a', NULL, 'c b']::text[]")
show("nulls and text array", cur.fetchone())

cur.execute("UPDATE py_items SET price = price * 2 WHERE id BETWEEN %s AND %s", (2, 4))
show("update rowcount", cur.rowcount)
cur.execute("DELETE FROM py_items WHERE id = %s", (11,))
show("delete rowcount", cur.rowcount)
conn.rollback()
cur.execute("SELECT count(*) FROM py_items WHERE id = 11")
show("rolled back delete", cur.fetchone()[0])
conn.commit()

# Errors arrive as the exception class of their SQLSTATE.
try:
    cur.execute("SELECT * FROM py_missing_table")
except psycopg2.errors.UndefinedTable as e:
    show("undefined table", e.pgcode)
try:
    cur.execute("SELECT 1")
except psycopg2.errors.InFailedSqlTransaction as e:
    show("failed transaction", e.pgcode)
show("status in error", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR)
conn.rollback()
try:
    cur.execute("INSERT INTO py_items (id, name) VALUES (1, 'duplicate')")
except psycopg2.errors.UniqueViolation as e:
    show("unique violation", e.pgcode)
conn.rollback()
try:
    cur.execute("SELECT no_such_column FROM py_items")
except psycopg2.errors.UndefinedColumn as e:
    show("undefined column", e.pgcode)
conn.rollback()
try:
    cur.execute("SELEC 1")
except psycopg2.errors.SyntaxError as e:
    show("syntax error", e.pgcode)
conn.rollback()

# Autocommit: every statement stands alone.
conn.autocommit = True
cur.execute("INSERT INTO py_items (id, name) VALUES (%s, %s)", (20, "autocommitted"))
show("autocommit status idle", conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE)
conn.autocommit = False

# A named cursor is a server-side cursor: DECLARE, then FETCH FORWARD itersize at a time.
named = conn.cursor(name="py_cursor")
named.itersize = 3
named.execute("SELECT id, name FROM py_items ORDER BY id")
show("named cursor rows", [r[0] for r in named])
named.close()
conn.commit()

# COPY in both directions.
buf = io.StringIO("30\tcopied one\n31\t\\N\n32\ttab\\there\n")
cur.copy_from(buf, "py_items", columns=("id", "name"))
show("copy_from rowcount", cur.rowcount)
out = io.StringIO()
cur.copy_expert("COPY (SELECT id, name FROM py_items WHERE id >= 30 ORDER BY id) TO STDOUT WITH CSV HEADER", out)
show("copy to stdout", out.getvalue())
conn.commit()

# A new connection sees committed rows.
other = psycopg2.connect(
    host=os.environ["ANKA_HOST"], port=os.environ["ANKA_PORT"], user=os.environ["ANKA_USER"],
    password=os.environ["ANKA_PASSWORD"], dbname=os.environ["ANKA_DATABASE"],
)
ocur = other.cursor()
ocur.execute("SELECT count(*) FROM py_items")
show("rows seen by a second connection", ocur.fetchone()[0])
other.close()

try:
    psycopg2.connect(
        host=os.environ["ANKA_HOST"], port=os.environ["ANKA_PORT"], user=os.environ["ANKA_USER"],
        password="wrong", dbname=os.environ["ANKA_DATABASE"],
    )
except psycopg2.OperationalError as e:
    show("wrong password", "password authentication failed" in str(e))

if target == "ankaflow":
    cur.execute("SELECT customer, amount FROM tap('Orders') WHERE amount > %s ORDER BY id", (10,))
    print("ankaflow tap:", cur.fetchall())
    cur.execute("SELECT * FROM show_schema(%s)", ("Orders",))
    print("ankaflow show_schema columns:", [d.name for d in cur.description])
    print("ankaflow show_schema rows:", cur.fetchall())
    conn.rollback()

cur.execute("DROP TABLE py_items")
conn.commit()
conn.close()
