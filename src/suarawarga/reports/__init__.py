"""Reports built from the database for people: the weekly digest (and, with the surveys, the IKM exports)."""
