"""The steps of the complaint flow, persisted by name, and how its summaries shorten a description."""

from __future__ import annotations

from enum import StrEnum

SUMMARY_DESCRIPTION_MAX = 300


class ComplaintStep(StrEnum):
    """Steps of the complaint flow; persisted by name."""

    CONSENT = "consent"
    CATEGORY = "category"
    DESCRIPTION = "description"
    LOCATION = "location"
    LOCATION_CHECK = "location_check"
    KECAMATAN = "kecamatan"
    DUPLICATE = "duplicate"
    PHOTOS = "photos"
    IDENTITY = "identity"
    NAME = "name"
    CONTACT = "contact"
    CONFIRM = "confirm"


def clipped(description: str) -> str:
    """Return a description as a summary shows it: when longer, its first SUMMARY_DESCRIPTION_MAX characters and "…"."""
    if len(description) > SUMMARY_DESCRIPTION_MAX:
        return description[:SUMMARY_DESCRIPTION_MAX] + "…"
    return description
