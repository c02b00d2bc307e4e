"""What importing detlab costs a training script, over a bare interpreter.

Runs each statement in fresh processes, alternating them, and prints the median wall time
minus the bare interpreter's, next to MLflow's and pycocotools' when they are installed.

    python bench/import_time.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "bare interpreter": "pass",
    "import detlab": "import detlab",
    "detlab COCO reader": "from detlab.data.formats import read_coco",
    "detlab CLI": "import detlab.cli.app",
    "import numpy": "import numpy",
    "pycocotools COCO": "from pycocotools.coco import COCO",
    "import mlflow": "import mlflow",
}


def wall_time(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - started


def available(statement: str) -> bool:
    words = statement.split()
    module = words[1] if words[0] in {"import", "from"} and len(words) > 1 else None
    return module is None or importlib.util.find_spec(module.split(".")[0]) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    chosen = {name: s for name, s in STATEMENTS.items() if available(s)}
    times: dict[str, list[float]] = {name: [] for name in chosen}
    for _ in range(args.repeat):
        for name, statement in chosen.items():
            times[name].append(wall_time(statement))
    bare = statistics.median(times["bare interpreter"])
    print(f"median of {args.repeat} fresh processes; bare interpreter {bare * 1000:.0f} ms")
    print(f"{'statement':<22}{'over bare (ms)':>16}")
    for name in chosen:
        if name != "bare interpreter":
            print(f"{name:<22}{(statistics.median(times[name]) - bare) * 1000:>16.0f}")
    print("target: import detlab under 200 ms over a bare interpreter")


if __name__ == "__main__":
    main()
