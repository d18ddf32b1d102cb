"""Multi-task training: configuration, data streams, mixtures, the trainer, checkpoints and logs."""
