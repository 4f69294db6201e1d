"""Widgets of the staff pages: ``hr`` (HR dashboard) and ``studio`` (trainer studio)."""
