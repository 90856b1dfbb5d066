"""Structure learning: the DAG from data, on the statistics seam.

The data are summarised once (:func:`sufficient_table`: distinct discrete
rows with their weights and continuous moments -- from pandas, file scans
or Dask); every score, test and tree is then computed from that summary.

- Score-based search: :func:`hill_climb`, :func:`tabu_search` with BIC, AIC,
  BDeu, K2 or BGe (:mod:`pgm.structure.scores`) and
  :class:`Constraints`.
- Constraint-based: :func:`pc` (PC-stable; G, chi-square or Fisher-z
  tests), returning a :class:`CPDAG`.
- Uncertainty: :func:`bootstrap` edge probabilities, the averaged network
  and a drawing with edge widths (:class:`EdgeConfidence`).
- Trees: :func:`chow_liu`, :func:`tree_augmented_naive_bayes` (and the
  scikit-learn :class:`pgm.structure.classifier.TANClassifier`).
"""

from pgm.structure.bootstrap import EdgeConfidence, bootstrap, learn
from pgm.structure.constraints import Constraints
from pgm.structure.cpdag import CPDAG, structural_hamming_distance
from pgm.structure.pc import OrientationConflictWarning, pc
from pgm.structure.scores import LocalScores, Score
from pgm.structure.search import SearchReport, hill_climb, tabu_search
from pgm.structure.statistics import FamilyStatistics
from pgm.structure.table import SufficientTable, sufficient_table
from pgm.structure.trees import chow_liu, tree_augmented_naive_bayes

__all__ = [
    "CPDAG", "EdgeConfidence", "bootstrap", "learn", "Constraints", "OrientationConflictWarning", "pc", "structural_hamming_distance", "FamilyStatistics", "LocalScores", "Score", "SearchReport", "SufficientTable",
    "chow_liu", "hill_climb", "sufficient_table", "tabu_search", "tree_augmented_naive_bayes",
]
