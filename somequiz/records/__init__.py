"""Records: the only package that knows SQL.

One module per caller over a :class:`~somequiz.records.database.Database`: ``course`` (the
learner's writes and reads), ``admin`` (roster, erasure, retention), ``reports`` (read-only
frames), ``signing`` (tamper evidence), ``sessions`` (browser sign-ins); ``rows`` holds the plain
records they return and ``dialects`` what differs between SQLite and PostgreSQL.
"""
