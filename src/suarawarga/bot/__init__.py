"""The platform-neutral messaging core and the channel adapters."""
