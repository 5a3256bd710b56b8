"""webhooks: marketing automation that cannot read Kafka subscribes over HTTP to leadflow's outgoing events."""
