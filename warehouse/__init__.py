"""The DuckDB warehouse: DDL, mart views, merge of accepted rows, daily rollups, publishing."""
