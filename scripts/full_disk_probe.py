"""What a command says and leaves when the disk fills up at each of its writes, on a real small tmpfs.

    sudo python scripts/full_disk_probe.py                      # fit, resume, test; 0-40 KB left
    sudo python scripts/full_disk_probe.py --free-kb 0 8 16 --commands fit

A new ``fit`` of ``configs/regression/mlp.yaml`` (tiny data, 2 epochs) writes its lock file, config.yaml,
hparams.yaml, the events file, metrics.csv and checkpoints in turn: leaving a few kilobytes more room
moves the point where the disk fills from one file to the next. For each free size this mounts a 4 MB
tmpfs (root only), trains a first run there when the command needs one (``resume``: ``fit --ckpt_path
last``; ``test``: ``test --ckpt_path last``), fills the disk up to that size, runs the command, and
prints its exit code, the first line of its ``error:`` paragraph, whether a traceback was printed,
and what it left: temporary files, and the run's files that changed (other than the lock file).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "--config", str(REPO_ROOT / "configs" / "regression" / "mlp.yaml"),
    "--data.init_args.train_size", "256", "--data.init_args.val_size", "256",
    "--trainer.enable_progress_bar", "false", "--trainer.max_epochs", "2",
]  # fmt: skip
COMMANDS = {
    "fit": ["fit", *SMALL],
    "resume": ["fit", *SMALL, "--ckpt_path", "last", "--trainer.max_epochs", "4"],
    "test": ["test", *SMALL, "--ckpt_path", "last"],
}
LOCK_FILE = ".litzoo.lock"


def litzoo(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("LITZOO_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "litzoo", *args], cwd=cwd, env=environment, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` but lock files -> its md5."""
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


def probe(command: str, free_kb: int, mount: Path) -> str:
    """One row: the command on a disk with ``free_kb`` kilobytes left."""
    mount.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        if command != "fit":
            first = litzoo(COMMANDS["fit"], mount)
            if first.returncode != 0:
                return f"| {command} | {free_kb} | first run failed: {first.stderr.strip().splitlines()[-1]} | | |"
        logs = mount / "lightning_logs"
        before = digests(logs) if logs.exists() else {}
        room = shutil.disk_usage(mount).free - free_kb * 1024
        (mount / "filler").write_bytes(bytes(max(room, 0)))
        result = litzoo(COMMANDS[command], mount)
        error = next((line for line in result.stderr.splitlines() if line.startswith("error: ")), "")
        after = digests(logs) if logs.exists() else {}
        temporary = [name for name in after if name.rsplit("/", 1)[-1].startswith(".") and "tmp" in name]
        changed = sorted(
            name
            for name in set(before) | set(after)
            if before.get(name) != after.get(name) and name not in temporary
        )
        left = ", ".join(temporary + changed) or "nothing"
        traceback = "yes" if "Traceback" in result.stderr or "Exception in thread" in result.stderr else "no"
        error = error.split(" (No space left on device")[0]  # the rest of the paragraph is the same each time
        return f"| {command} | {free_kb} | {result.returncode} | {error} | {traceback} | {left[:200]} |"
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--free-kb", type=int, nargs="+", default=[0, 4, 8, 12, 16, 24, 40])
    parser.add_argument("--commands", nargs="+", choices=sorted(COMMANDS), default=["fit", "resume", "test"])
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("mounting a tmpfs needs root: run it with sudo")
    print("| command | KB left | exit | the error, up to its cause | traceback | changed or left |")
    print("|---|---:|---:|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for command in options.commands:
            for free_kb in options.free_kb:
                print(probe(command, free_kb, Path(scratch) / f"{command}-{free_kb}"), flush=True)


if __name__ == "__main__":
    main()
