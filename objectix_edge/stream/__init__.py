"""The frame stream around the cascade: sources (files, folders, cameras, RTSP), the hand-over channels, the
real-time loop, sinks (JSONL, video, window), overlay drawing, run statistics and camera health."""
