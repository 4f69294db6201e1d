"""Records: the only package that knows SQL.

Most of it still lives in :mod:`somequiz.records.store` (one ``Store`` for every caller); new record
kinds get a module here, one per caller, over the store's transactions.
"""
