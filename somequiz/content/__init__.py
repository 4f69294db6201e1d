"""What trainers write, and everything that reads it without running the course.

``models`` (the scenario file format, strict pydantic), ``loader`` (YAML with line numbers),
``folder`` (a content folder: course, catalogue, scenarios), ``checks`` and ``itemwriting``
(errors and warnings for ``somequiz validate``), ``graph`` (a scenario's step graph: edges,
reachability, best path, points), ``schema``, ``hashing``, ``diff``, ``fingerprint`` (the
guideline's fingerprint against pasted sentences) and ``text`` (translated strings).
Nothing here imports the engine, the records or the UI.
"""
