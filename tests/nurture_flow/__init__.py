"""Tests of nurture running: enrollment, steps, caps at send time, exits, reporting."""
