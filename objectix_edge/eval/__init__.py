"""Evaluation: COCO mAP for detectors, classification figures for the ROI classifier."""
