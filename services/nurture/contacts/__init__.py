"""Nurture's own projection of the leads it may nurture: what lead_scoring and marketing automation told it."""
