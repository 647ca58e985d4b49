"""Library code leaves process-wide state alone: third-party prints are silenced per module (other threads
still print), ORT's root-logger warnings are filtered without changing the root level, and atomic writes
read the umask without setting it."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from objectix_edge.fileio import write_text_atomic
from objectix_edge.quiet import module_prints_silenced, quiet_root_warnings_from


def test_silencing_a_module_does_not_swallow_other_threads_output(capsys: pytest.CaptureFixture[str]) -> None:
    coco = COCO()
    coco.dataset = {"images": [], "annotations": [], "categories": []}
    with module_prints_silenced("pycocotools.coco"):
        coco.createIndex()  # prints "creating index..." unless silenced
        other = threading.Thread(target=print, args=("from another thread",))
        other.start()
        other.join()
    assert capsys.readouterr().out == "from another thread\n"
    coco.createIndex()
    assert "creating index" in capsys.readouterr().out  # restored once the block ends


def test_ort_quantization_warnings_are_filtered_without_changing_the_root_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    level = logging.getLogger().level
    quiet_root_warnings_from("onnxruntime/quantization/")
    root = logging.getLogger()
    ort = root.makeRecord("root", logging.WARNING, "/x/onnxruntime/quantization/quant_utils.py", 1, "ort", (), None)
    ours = root.makeRecord("root", logging.WARNING, "/x/app.py", 1, "app", (), None)
    assert not root.filter(ort) and root.filter(ours)
    assert logging.getLogger().level == level


def test_atomic_writes_keep_the_umask_and_apply_it(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        assert os.umask(0o027) == 0o027  # still what the application set
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
