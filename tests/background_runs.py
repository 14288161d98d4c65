"""Waiting for the web process's background threads (imports, campaign queueing): for tests."""

from support import background


def wait_for_imports(timeout: float = 60) -> None:
    """Wait for this process's import threads."""
    background.wait("import", timeout)


def wait_for_campaigns(timeout: float = 60) -> None:
    """Wait for this process's campaign-queueing threads."""
    background.wait("campaign", timeout)


def wait_for_mass_actions(timeout: float = 60) -> None:
    """Wait for this process's mass opt-out threads."""
    background.wait("mass_action", timeout)


def wait_for_approvals(timeout: float = 60) -> None:
    """Wait for this process's threads applying approvals."""
    background.wait("approval", timeout)


def wait_for_freezes(timeout: float = 60) -> None:
    """Wait for this process's threads recording filed requests' selections."""
    background.wait("freeze", timeout)
