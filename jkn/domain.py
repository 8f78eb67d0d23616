"""Names the domain fixes (DOMAIN.md), shared by the generator, the reports and the tests.

The SQL models spell the same lists out; ``tests/test_marts_rules.py`` checks the marts carry
exactly these, in this order.
"""

from __future__ import annotations

# The coverage bridge, in the order its categories are checked.
BRIDGE_CATEGORIES: tuple[str, ...] = (
    "quarantined",
    "duplicate",
    "deceased",
    "moved_out",
    "domiciled_elsewhere",
    "not_in_population",
    "resident",
)

# The PBI reconciliation, in the order its categories are checked.
PBI_CATEGORIES: tuple[str, ...] = (
    "listed_deceased",
    "listed_active_pbi",
    "listed_inactive_pbi",
    "listed_paying_segment",
    "listed_not_member",
    "pbi_not_listed",
)
