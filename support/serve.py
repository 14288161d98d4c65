"""`make run`: the web server on 127.0.0.1:5000 and, beside it, the scheduler process."""

import os
import subprocess
import sys


def main() -> None:
    """Start the scheduler (when the app has one) and serve until interrupted."""
    env = dict(os.environ, FLASK_APP="app")
    scheduler = None
    flask = [sys.executable, "-m", "flask"]
    has_scheduler = (
        subprocess.run([*flask, "scheduler", "--help"], env=env, capture_output=True).returncode
        == 0
    )
    if has_scheduler:
        scheduler = subprocess.Popen([*flask, "scheduler"], env=env)
    try:
        subprocess.run([*flask, "run", "--host", "127.0.0.1", "--port", "5000"], env=env)
    except KeyboardInterrupt:
        pass
    finally:
        if scheduler is not None:
            scheduler.terminate()
            scheduler.wait(timeout=10)


if __name__ == "__main__":
    main()
