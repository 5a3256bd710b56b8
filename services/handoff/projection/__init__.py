"""handoff's own view of the leads and definitions topics: contacts, accounts, touches, the agreed SLA."""
