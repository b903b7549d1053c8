"""Evaluation: metrics tables, cross-survey comparisons, plots, galleries, t-SNE, reports."""

from astro_morph.evaluation.crosssurvey import (
    accuracy_by_bin,
    evaluate_across_surveys,
    results_table,
    survey_agreement,
)
from astro_morph.evaluation.gallery import (
    save_confident_gallery,
    save_misclassified_gallery,
    save_mosaic,
    save_vote_gallery,
)
from astro_morph.evaluation.metrics import (
    evaluate,
    plot_confusion,
    plot_roc,
    plot_roc_curves,
    plot_self_training,
)
from astro_morph.evaluation.report import Report, write_report
from astro_morph.evaluation.similar import (
    save_oddity_gallery,
    save_similarity_gallery,
    write_similarity_report,
)
from astro_morph.evaluation.tsne import embed_features, plot_embedding
from astro_morph.models.history import plot_history

__all__ = ["evaluate", "results_table", "survey_agreement", "accuracy_by_bin",
           "evaluate_across_surveys", "embed_features", "plot_embedding", "plot_roc",
           "plot_roc_curves", "plot_confusion", "plot_history", "plot_self_training",
           "save_mosaic", "save_confident_gallery", "save_misclassified_gallery",
           "save_vote_gallery", "save_similarity_gallery", "save_oddity_gallery", "Report",
           "write_report", "write_similarity_report"]
