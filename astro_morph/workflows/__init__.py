"""Workflows: the seed's science runs built on the public API (the demo, fine-tuning on
another survey, recursive training)."""

from astro_morph.workflows.demo import DEMO_FRAMING, run_demo
from astro_morph.workflows.selftrain import self_train
from astro_morph.workflows.transfer import fine_tune

__all__ = ["fine_tune", "self_train", "run_demo", "DEMO_FRAMING"]
