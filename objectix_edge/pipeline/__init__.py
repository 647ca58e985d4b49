"""Shared pre/post-processing and the real-time camera/video pipeline."""
