"""Structure learning: the DAG from data, on the statistics seam.

The data are summarised once (:func:`sufficient_table`: distinct discrete
rows with their weights and continuous moments -- from pandas, file scans
or Dask); every score, test and tree is then computed from that summary.

- Score-based search: :func:`hill_climb`, :func:`tabu_search` with BIC, AIC,
  BDeu, K2 or BGe (:mod:`pgm.structure.scores`) and
  :class:`Constraints`.
"""

from pgm.structure.constraints import Constraints
from pgm.structure.scores import LocalScores, Score
from pgm.structure.search import SearchReport, hill_climb, tabu_search
from pgm.structure.statistics import FamilyStatistics
from pgm.structure.table import SufficientTable, sufficient_table

__all__ = [
    "Constraints", "FamilyStatistics", "LocalScores", "Score", "SearchReport", "SufficientTable",
    "hill_climb", "sufficient_table", "tabu_search",
]
