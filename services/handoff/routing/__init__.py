"""Routing: account owner, rules, weighted round robin under capacity, as pure decisions."""
