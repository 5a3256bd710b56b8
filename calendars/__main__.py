"""`python -m calendars > contracts/calendar.schema.json` writes the calendars file's JSON Schema."""

from calendars.config import schema_text

print(schema_text(), end="")
