"""Search spaces as data (one file per space) and the papers' architectures as named specs."""
from search_spaces.base import Dimension, SearchSpace

__all__ = ["Dimension", "SearchSpace"]
