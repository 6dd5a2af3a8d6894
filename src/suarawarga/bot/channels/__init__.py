"""One thin adapter per platform: platform payload -> Inbound, Outbound -> platform call."""
