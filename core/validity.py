"""A rule about dates written once, as a ``Q``, and asked two ways: by the database for many rows
(``QuerySet.filter``) and in Python for one row already loaded (``holds``).

Consents, emergency disclosures, council memberships and councils are valid "on a day" or
"at a moment". Written twice — once as an ORM filter, once as a Python property — the twins
drift, and a page would then call valid what the gate refuses. Each model writes its rule once
(a function returning a ``Q``); its manager filters with it and its ``is_…`` method evaluates
the same ``Q`` against the instance, with SQL's meaning of NULL (a comparison with NULL is not
true).

Only what such rules need is understood: AND/OR of comparisons of the row's own fields with a
value (``exact``, ``lt``, ``lte``, ``gt``, ``gte``, ``isnull``). Anything else raises, so a rule
cannot silently mean something else in Python than in SQL.
"""

import operator
from collections.abc import Callable
from typing import Any

from django.db.models import Q

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _condition_holds(instance: object, lookup: str, value: Any) -> bool:
    field, _, kind = lookup.partition("__")
    kind = kind or "exact"
    actual = getattr(instance, field)
    if kind == "isnull":
        return (actual is None) == bool(value)
    compare = _COMPARISONS.get(kind)
    if compare is None:
        raise ValueError(f"holds() does not understand the lookup {lookup!r}")
    if actual is None or value is None:
        return False
    return compare(actual, value)


def holds(rule: Q, instance: object) -> bool:
    """Whether ``instance`` is one of the rows ``Model.objects.filter(rule)`` would return."""
    if rule.negated:
        raise ValueError("holds() does not evaluate negated rules (NULL makes NOT ambiguous)")
    results = (
        holds(child, instance) if isinstance(child, Q) else _condition_holds(instance, *child)
        for child in rule.children
    )
    return all(results) if rule.connector == Q.AND else any(results)
