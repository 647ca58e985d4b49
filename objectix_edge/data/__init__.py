"""COCO data: loading and validation, datasets, training transforms, synthetic sets, splits."""
