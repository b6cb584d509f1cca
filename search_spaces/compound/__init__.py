"""EfficientNet's compound-scaling space (Tan & Le 2019): one decision, the (alpha, beta, gamma)
triple, applied to a base spec of any other space."""
from search_spaces.compound.space import NAMED, ScalingSpace, coefficient_grid, parse, parse_dict, space_for
from search_spaces.compound.spec import PREFIX, ScaledSpec

NAME = "compound"
Space = ScalingSpace
__all__ = ["NAME", "NAMED", "PREFIX", "ScaledSpec", "Space", "coefficient_grid", "parse", "parse_dict",
           "space_for"]
