"""Run the benchmark: `python -m bench [--quick] [--only NAME ...]`.

Every case runs in this one process so figures compare fairly. SQLite always;
PostgreSQL too when BENCH_DATABASE_URL names a database the bench may fill and empty.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys

from .harness import Bench, backends

# name → full size (the figure); --quick runs each at 1/100.
CASES = {
    "contacts": 1_000_000,
    "import": 1_000_000,
    "import_pair": 1_000_000,
    "requests": 1_000_000,
    "queue": 100_000,
    "campaigns": 100_000,
    "sla": 100_000,
    "lookup": 1_000_000,
    "feedback": 100_000,
    "small_beside_large": 1_000_000,
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the cases that exist, print and save the results."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="run every case at 1/100 size")
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="cases to run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help="one database only")
    args = parser.parse_args(argv)
    bench = Bench()
    print(f"Consent Desk bench · Python {platform.python_version()} · {platform.machine()}")
    for name, full in CASES.items():
        if args.only and name not in args.only:
            continue
        try:
            module = importlib.import_module(f"bench.cases_{name}")
        except ModuleNotFoundError:
            continue
        size = full // 100 if args.quick else full
        for backend, url in backends():
            if args.backend and backend != args.backend:
                continue
            print(f"-- {name} on {backend} ({size:,})", flush=True)
            module.run(bench, backend, url, size)
    bench.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
