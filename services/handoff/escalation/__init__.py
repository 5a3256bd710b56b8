"""The SLA's timers fired: the warning, the breach and its policy, and retries of the unrouted queue."""
