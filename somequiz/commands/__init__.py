"""Subcommands of ``somequiz``, one module per audience."""
