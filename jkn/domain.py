"""Names the domain fixes (DOMAIN.md), shared by the generator, the reports and the tests.

Their one home is ``warehouse/rules`` (``bridge_categories.csv``, ``pbi_categories.csv``,
``segments.csv``), which the SQL models join as ``ref.*``; these are the same lists read by
:mod:`jkn.rules`. ``tests/test_marts_rules.py`` checks the marts carry exactly these, in this
order.
"""

from __future__ import annotations

from jkn import rules

# The coverage bridge, in the order its categories are checked.
BRIDGE_CATEGORIES: tuple[str, ...] = rules.bridge_categories()

# The PBI reconciliation, in the order its categories are checked.
PBI_CATEGORIES: tuple[str, ...] = rules.pbi_categories()

# The current JKN segment codes.
SEGMENTS: tuple[str, ...] = rules.segments()
