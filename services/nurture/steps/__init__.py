"""Steps as durable timers: when one fires, consent, caps and quiet hours are checked and the action requested."""
