"""`make run` and `make serve`: the web server and, beside it, the scheduler process.

`make run` (no argument): Flask's development server on 127.0.0.1:5000, plain log lines.
`make serve` (`--production`): migrate, then gunicorn (gunicorn.conf.py) and `flask scheduler`,
JSON log lines, Prometheus figures shared by the workers: what the systemd units in deploy/ run.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask"]


def main() -> None:
    """Start the scheduler (when the app has one) and serve until interrupted."""
    if "--production" in sys.argv[1:]:
        sys.exit(production())
    env = dict(os.environ, FLASK_APP="app")
    scheduler = None
    has_scheduler = (
        subprocess.run([*FLASK, "scheduler", "--help"], env=env, capture_output=True).returncode
        == 0
    )
    if has_scheduler:
        scheduler = subprocess.Popen([*FLASK, "scheduler"], env=env)
    try:
        subprocess.run([*FLASK, "run", "--host", "127.0.0.1", "--port", "5000"], env=env)
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=10)


def production_env() -> dict[str, str]:
    """The environment of `make serve`: JSON logs and a fresh Prometheus directory."""
    env = dict(os.environ, FLASK_APP="app")
    env.setdefault("LOG_FORMAT", "json")
    metrics = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / "instance" / "metrics")))
    # Figures of processes from an earlier start would be added to this one's.
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True, exist_ok=True)
    return env


def production() -> int:
    """Migrate, then run gunicorn and the scheduler until either stops or we are told to."""
    env = production_env()
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    children = [
        subprocess.Popen([*FLASK, "scheduler"], env=env, cwd=ROOT),
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "app:app"],
            env=env,
            cwd=ROOT,
        ),
    ]
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: stopping.append(signum))
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    # One stopped, or we were asked to: stop the other gracefully (both finish their work
    # in hand: gunicorn its requests, the scheduler its job between two units of work).
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    codes = []
    for child in children:
        try:
            codes.append(child.wait(timeout=30))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(child.wait())
    return 0 if stopping else max(abs(c) for c in codes) or 1


if __name__ == "__main__":
    main()
