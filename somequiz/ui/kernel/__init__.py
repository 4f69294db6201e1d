"""What runs in every page kernel: ``page`` (the notebook's entry points), ``main`` (the lean
kernel itself), ``relay`` (widgets <-> course service), ``widgets`` and ``first_paint``.

A page kernel imports nothing heavy: no pydantic, SQLAlchemy, pandas or Jinja at start
(``tests/ui/kernel/test_kernel.py`` checks it), so each page's kernel stays small.
"""
