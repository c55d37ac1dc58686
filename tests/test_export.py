"""scripts/export.py: the TorchScript file computes exactly what the checkpoint's net computes."""

from __future__ import annotations

import io

import pytest
import torch

from litzoo.cli import cli_main
from litzoo.export import load_task, main
from tests.conftest import CONFIGS, QUIET, run_folders

TINY = ["--data.init_args.train_size", "64", "--data.init_args.val_size", "64", "--trainer.max_epochs", "1"]


def test_exported_net_matches_checkpoint(in_tmp_dir, capsys):
    cli_main(["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), *TINY, *QUIET])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    checkpoint = run / "checkpoints" / "last.ckpt"
    out = main([str(checkpoint), "-o", str(in_tmp_dir / "net.pt")])
    exported = torch.jit.load(str(out))
    task = load_task(checkpoint)
    x = torch.rand(7, 1) + 0.05  # another batch size than the trace's example
    with torch.no_grad():
        # TorchScript may fuse operations differently: equal up to float32 rounding.
        torch.testing.assert_close(exported(x), task(x))

    # The tutorial's DenseLayer looks its activation up in a dict, which TorchScript cannot compile.
    with pytest.raises(SystemExit):
        main([str(checkpoint), "-o", str(in_tmp_dir / "scripted.pt"), "--method", "script"])
    assert "--method trace" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clear_error(in_tmp_dir, capsys):
    with pytest.raises(SystemExit):
        main([str(in_tmp_dir / "nope.ckpt")])
    assert "does not exist" in capsys.readouterr().err


def test_truncated_checkpoint_is_a_clear_error(in_tmp_dir, capsys):
    """One paragraph naming the file and the fix, exit code 2, no traceback (issue 14, family 5)."""
    truncated = in_tmp_dir / "truncated.ckpt"
    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, buffer)
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(SystemExit) as exit_:
        main([str(truncated)])
    assert exit_.value.code == 2
    assert "Cannot read checkpoint" in capsys.readouterr().err
    assert not (in_tmp_dir / "truncated.pt").exists()
