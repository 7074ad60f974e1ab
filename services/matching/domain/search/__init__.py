"""How a match is found fast: the façade (SearchIndex) over tables, postings and kernels.

Nothing here decides what a match is: the score is criteria.score_pair, the rules are in
constraints.py, and every total the search returns equals score_pair's for that pair
(tests/unit/matching/test_score_conformance.py).
"""

from services.matching.domain.search.index import SearchIndex
from services.matching.domain.search.memberships import Memberships
from services.matching.domain.search.pools import PoolEntry
from services.matching.domain.search.pruning import Contenders, PartRunner, Reaching, in_order
from services.matching.domain.search.tables import IntArray, MenteeRow

__all__ = [
    "Contenders",
    "IntArray",
    "Memberships",
    "MenteeRow",
    "PartRunner",
    "PoolEntry",
    "Reaching",
    "SearchIndex",
    "in_order",
]
