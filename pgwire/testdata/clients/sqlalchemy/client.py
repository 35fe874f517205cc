# Drives a server the way SQLAlchemy 1.4 (with psycopg2) and pandas use it: connect, the
# inspector's catalog questions (tables, views, columns, keys, indexes, comments), reflection
# with Table(autoload_with=...), and pandas' read_sql_table / to_sql. Prints one "check: value"
# line per check; pgwire/clients_test.go runs it against ankaflow and PostgreSQL and compares.
import os

import pandas
import sqlalchemy
from sqlalchemy import inspect, text

url = "postgresql+psycopg2://{u}:{p}@{h}:{port}/{d}".format(
    u=os.environ["ANKA_USER"], p=os.environ["ANKA_PASSWORD"].replace(" ", "%20"),
    h=os.environ["ANKA_HOST"], port=os.environ["ANKA_PORT"], d=os.environ["ANKA_DATABASE"])


def show(name, value):
    print(f"{name}: {value!r}")


engine = sqlalchemy.create_engine(url)
with engine.begin() as c:
    for stmt in [
        "CREATE SCHEMA sales",
        "CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE, score numeric(10,2) DEFAULT 1.5)",
        "CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id integer, placed timestamp with time zone, note text)",
        "CREATE TABLE sales.lines (order_id bigint REFERENCES sales.orders (id), qty integer NOT NULL)",
        "CREATE INDEX orders_placed ON sales.orders (placed)",
        "CREATE VIEW big_customers AS SELECT id, email FROM customers WHERE score > 10",
        "COMMENT ON TABLE customers IS 'who buys'",
        "INSERT INTO customers VALUES (1, 'a@x', 20), (2, 'b@x', 5)",
    ]:
        c.execute(text(stmt))

insp = inspect(engine)
show("schemas", sorted(s for s in insp.get_schema_names() if s in ("public", "sales")))
show("tables", sorted(insp.get_table_names()))
show("tables sales", sorted(insp.get_table_names(schema="sales")))
show("views", sorted(insp.get_view_names()))
for col in insp.get_columns("customers"):
    show("column customers " + col["name"], (str(col["type"]), col["nullable"], col["default"]))
for col in insp.get_columns("orders", schema="sales"):
    show("column orders " + col["name"], (str(col["type"]), col["nullable"]))
show("pk customers", insp.get_pk_constraint("customers"))
show("pk orders", insp.get_pk_constraint("orders", schema="sales"))
show("fks lines", insp.get_foreign_keys("lines", schema="sales"))
show("indexes orders", insp.get_indexes("orders", schema="sales"))
show("unique customers", insp.get_unique_constraints("customers"))
show("comment customers", insp.get_table_comment("customers"))

meta = sqlalchemy.MetaData()
t = sqlalchemy.Table("customers", meta, autoload_with=engine)
show("autoload columns", [(c.name, str(c.type), c.primary_key) for c in t.columns])

df = pandas.read_sql_table("customers", engine)
show("read_sql_table", df.to_dict("list"))
pandas.DataFrame({"k": [1, 2], "v": ["x", "y"]}).to_sql("from_pandas", engine, index=False)
show("to_sql", pandas.read_sql_query("SELECT k, v FROM from_pandas ORDER BY k", engine).to_dict("list"))
