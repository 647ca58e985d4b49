"""Training: typed config, CenterNet targets and losses, the loop (resume, early stop, DDP)."""
