"""scripts/cpu_threads.py times one optimizer step's samples at each thread count and writes its table."""

from __future__ import annotations

from scripts import cpu_threads


def test_a_chunked_config_is_timed_on_one_chunk(tmp_path):
    out = tmp_path / "threads.md"
    cpu_threads.main(["--configs", "configs/regression/mlp.yaml", "--steps", "1", "--out", str(out)])
    (row,) = [line for line in out.read_text().splitlines() if line.startswith("| `configs/")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:2] == ["`configs/regression/mlp.yaml`", "64"]  # the chunk, not the 2000 it loads
    assert float(cells[2]) > 0 and all(float(ms) > 0 for ms in cells[3:])
