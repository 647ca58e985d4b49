"""One-command deployment: export → FP16 → INT8 → TensorRT → parity → bench → report."""
