"""Search strategies behind one ask/tell seam."""
from nas.strategies.base import Candidate, Failure, Outcome, Result, Strategy

__all__ = ["Candidate", "Failure", "Outcome", "Result", "Strategy"]
