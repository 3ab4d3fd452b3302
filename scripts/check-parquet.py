#!/usr/bin/env python3
"""Opens a Parquet export with pyarrow, DuckDB and polars and prints what each reads.

Usage: scripts/check-parquet.py FILE

A check by hand that the analysis tools researchers use read `streamvault export --format
parquet` files, with the column types they should see (timestamps in UTC, INT64 ids, a list of
withheld countries). Not run in CI: install the readers with
`pip install --user pyarrow duckdb polars`. Exits 1 if a reader fails or the readers disagree
on the row count.
"""
import sys


def with_pyarrow(path):
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    table = pq.read_table(path)
    print(f"pyarrow {__import__('pyarrow').__version__}: {table.num_rows} rows, "
          f"{meta.num_row_groups} row groups")
    print(table.schema.to_string(show_schema_metadata=False))
    if table.num_rows:
        print("  first row:", {k: v for k, v in table.slice(0, 1).to_pylist()[0].items() if k != "raw"})
    return table.num_rows


def with_duckdb(path):
    import duckdb

    con = duckdb.connect()
    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchone()[0]
    print(f"duckdb {duckdb.__version__}: {rows} rows")
    for name, kind, *_ in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall():
        print(f"  {name}: {kind}")
    if rows:
        first = con.execute(
            "SELECT tweet_id, created_at, withheld_in_countries, length(raw) "
            "FROM read_parquet(?) ORDER BY tweet_id LIMIT 1", [path]).fetchone()
        print("  first by tweet_id (id, created_at, withheld, len(raw)):", first)
    return rows


def with_polars(path):
    import polars as pl

    frame = pl.read_parquet(path)
    print(f"polars {pl.__version__}: {frame.height} rows")
    for name, kind in frame.schema.items():
        print(f"  {name}: {kind}")
    return frame.height


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    path = sys.argv[1]
    counts = {}
    failed = False
    for name, reader in [("pyarrow", with_pyarrow), ("duckdb", with_duckdb), ("polars", with_polars)]:
        try:
            counts[name] = reader(path)
        except Exception as error:  # each reader's own failure is what this check reports
            print(f"{name}: FAILED: {error!r}")
            failed = True
        print()
    print("row counts:", counts)
    if failed or len(set(counts.values())) > 1:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
