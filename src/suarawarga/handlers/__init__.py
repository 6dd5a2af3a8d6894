"""Conversation flows and global commands, written against the neutral message types only."""
