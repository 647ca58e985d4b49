"""A TensorRT optimization profile's batch sizes (min, opt, max), parsed from the command line or a sidecar."""

from __future__ import annotations

from dataclasses import dataclass

from objectix_edge.errors import InputError


@dataclass(frozen=True)
class BatchProfile:
    """Dynamic batch range of the optimization profile: kernels are tuned for ``opt``."""

    min: int = 1
    opt: int = 4
    max: int = 16

    @classmethod
    def parse(cls, text: str) -> BatchProfile:
        """ "1,4,16" → BatchProfile(1, 4, 16); a single "8" means 8,8,8."""
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) == 1:
            values = values * 3
        if len(values) != 3 or not 1 <= values[0] <= values[1] <= values[2]:
            raise InputError(f"--batch {text!r}: give MIN,OPT,MAX with 1 ≤ MIN ≤ OPT ≤ MAX, e.g. --batch 1,4,16")
        return cls(*values)
