"""Runs every benchmark script in turn (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["litert_vs_openvino.py", "layer_profile.py", "headless_throughput.py",
           "memory_soak.py", "gui_responsiveness.py", "import_speed.py",
           "batch_scaling.py", "oversized_images.py", "compare_rate.py"]

if __name__ == "__main__":
    failed = 0
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script)], cwd=HERE)
    sys.exit(failed)
