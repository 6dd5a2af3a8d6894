"""The complaint domain: units, categories, complaints and their rules."""
