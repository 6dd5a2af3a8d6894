"""The public transparency site: the published IKM, complaint statistics, tracking by code, and Open311."""
