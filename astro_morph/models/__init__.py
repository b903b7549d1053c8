"""Models: backbones, the network, the loss on votes, training (recipe, callbacks, the head
stage on cached features), calibration, model files, and the estimators
(`MorphologyClassifier` and the traditional `FeatureClassifier`)."""

from astro_morph.models.augmentation import GalaxyAugmentation
from astro_morph.models.backbones import BACKBONES, Backbone, get_backbone
from astro_morph.models.baseline import FEATURE_NAMES, FeatureClassifier, morphology_features
from astro_morph.models.callbacks import ProgressiveUnfreezing, TimeBudget
from astro_morph.models.classifier import MorphologyClassifier
from astro_morph.models.head_stage import fit_head_on_features, frozen_features
from astro_morph.models.history import plot_history
from astro_morph.models.network import build_network
from astro_morph.models.vote_loss import DirichletMultinomial, LogConcentration

__all__ = ["MorphologyClassifier", "FeatureClassifier", "morphology_features", "FEATURE_NAMES",
           "BACKBONES", "Backbone", "get_backbone", "build_network", "GalaxyAugmentation",
           "ProgressiveUnfreezing", "TimeBudget", "plot_history", "frozen_features",
           "fit_head_on_features", "DirichletMultinomial", "LogConcentration"]
