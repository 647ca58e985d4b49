"""eval/judge.judge_parity: what parity runs on when neither labelled images nor footage is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from objectix_edge.errors import InputError
from objectix_edge.eval.judge import judge_parity


@pytest.mark.parametrize("given", [{}, {"data": Path("images")}, {"ann": Path("instances.json")}])
def test_without_labelled_images_or_footage_it_says_what_to_judge_on(given: dict[str, Path], tmp_path: Path) -> None:
    options = {"data": None, "ann": None, "video": None, "images": None, **given}
    if "ann" in given:  # a folder of frames with labels is labelled data, not footage: --data is still missing
        options["images"] = tmp_path
    with pytest.raises(InputError, match="say what to judge on: --data COCO_IMAGES --ann JSON"):
        judge_parity(
            tmp_path / "det.onnx",
            tmp_path / "det.pt",
            frames=None,
            every=1,
            max_frames=10,
            max_images=10,
            batch=1,
            device="cpu",
            **options,  # type: ignore[arg-type]
        )
