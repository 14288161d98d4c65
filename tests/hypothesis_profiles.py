"""Hypothesis profiles: a short, reproducible one for `make test`, a long one for `make fuzz`.

HYPOTHESIS_PROFILE=fuzz (what `make fuzz` sets) selects the long one. The short profile is
derandomized, so `make test` tries the same sequences on every machine and never fails by
chance; the fuzz profile draws new ones each time and keeps failures in .hypothesis/ (not
committed) to replay them first next time.
"""

import os

from hypothesis import HealthCheck, settings

# The stateful test's steps hit a database, so they are slow by Hypothesis' standards.
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]

# Short: about 570 steps of the rule-book machine per database, 15-45 s each on the shared
# 2-core machine. Fuzz (`make fuzz`): about 5,000 steps per database, minutes each.
settings.register_profile(
    "default",
    max_examples=20,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW,
)
settings.register_profile(
    "fuzz",
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
