"""SLA arithmetic on business calendars: deadlines, warnings, time to accept."""
