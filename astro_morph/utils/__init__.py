"""Internal helpers shared by the subpackages (not part of the public API)."""
