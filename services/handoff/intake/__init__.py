"""Qualified leads in: each becomes (or refreshes) a handoff with a dossier, routed to a rep."""
