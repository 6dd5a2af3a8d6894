"""Scheduled work: every job is a plain async function; only `scheduler.py` says when they run."""
