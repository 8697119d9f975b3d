"""Run every benchmark in turn (``make bench``); each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = (("tap.py",), ("tap_concurrency.py",), ("tap_concurrency.py", "--streams", "8"),
           ("tap_concurrency.py", "--children"), ("target_rest_api.py",),
           ("target_rest_api.py", "--in-flight"), ("target_delta.py",), ("main_job.py",),
           ("spark.py",), ("delta_merge.py",), ("delta_appends.py",),
           ("streamed_download.py",))

if __name__ == "__main__":
    here = Path(__file__).parent
    failed = [" ".join(bench) for bench in BENCHES
              if subprocess.run([sys.executable, str(here / bench[0]), *bench[1:]],
                                check=False).returncode]
    sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
