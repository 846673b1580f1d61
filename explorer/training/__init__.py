"""Training: lagged features, models, the trainer, its background worker, charts and the export script."""
