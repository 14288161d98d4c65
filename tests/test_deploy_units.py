"""The systemd units in deploy/ run what `make serve` runs (support/serve.py), nothing else."""

from __future__ import annotations

import inspect

from support import ROOT, serve


def unit(name: str) -> dict[str, list[str]]:
    """The [Service] section of a unit file, every key with all its values."""
    values: dict[str, list[str]] = {}
    text = (ROOT / "deploy" / name).read_text()
    for line in text.split("[Service]")[1].split("[Install]")[0].splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def test_the_web_unit_migrates_then_runs_gunicorn_with_the_shared_config():
    web = unit("consent-desk-web.service")
    assert any(v.endswith("-m flask db upgrade") for v in web["ExecStartPre"])
    assert web["ExecStart"] == [
        "/opt/consent-desk/.venv/bin/python -m gunicorn -c /opt/consent-desk/gunicorn.conf.py "
        "app:app"
    ]
    assert "LOG_FORMAT=json" in web["Environment"]
    assert any(v.startswith("PROMETHEUS_MULTIPROC_DIR=") for v in web["Environment"])
    source = inspect.getsource(serve.production)
    assert '"db", "upgrade"' in source and '"gunicorn", "-c"' in source


def test_the_scheduler_unit_runs_flask_scheduler_and_stops_on_sigterm():
    scheduler = unit("consent-desk-scheduler.service")
    assert scheduler["ExecStart"] == ["/opt/consent-desk/.venv/bin/python -m flask scheduler"]
    assert scheduler["KillSignal"] == ["SIGTERM"] and "LOG_FORMAT=json" in scheduler["Environment"]
    assert int(scheduler["TimeoutStopSec"][0]) >= 10  # the scheduler stops within ten seconds
    assert '"scheduler"' in inspect.getsource(serve.production)
