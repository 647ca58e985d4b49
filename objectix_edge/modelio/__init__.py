"""Model I/O: what a ModelSpec says goes in and comes out.

``preprocess`` turns images (and ROIs) into the feeds a model's spec asks for; ``postprocess`` turns its
output rows back into detections in original-image pixels and logits into probabilities. It travels with
the model (like timm's data config or torchvision's ``Weights.transforms``) and is shared by every step
that runs one: data, train, calib, eval, the cascade, serve and bench.
"""
