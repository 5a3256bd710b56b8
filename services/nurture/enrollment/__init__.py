"""Enrollments: one lead in one track version, from entry to exit, with the history of its steps."""
