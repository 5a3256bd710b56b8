"""The sales org: reps, teams and routing rules as a versioned, audited document; its API, YAML and storage."""
