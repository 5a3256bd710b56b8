"""The reps' API: the queue, the dossier and every action on a handoff."""
