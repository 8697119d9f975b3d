"""Singer records as Arrow: one schema mapping and one value conversion for every engine.

The tap writes Parquet batch files with it, target-delta writes Delta tables with it, so a
table written from either path has the same columns, types and values.
"""
