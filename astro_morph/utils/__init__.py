"""Utilities under every stage: provenance, atomic files, fingerprints, lazy namespaces."""
