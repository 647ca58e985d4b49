"""The detector → tracker → ROI classifier cascade on one frame: tracking, per-track labels, the second
stage that decides which boxes are classified, and the classifier's own worker thread."""
