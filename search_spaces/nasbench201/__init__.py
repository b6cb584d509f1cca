"""NAS-Bench-201 (Dong & Yang 2020): the 15,625-cell topology space and its benchmark table."""
from search_spaces.nasbench201.archs import NAMED
from search_spaces.nasbench201.space import NB201Space, parse, parse_dict, space_for
from search_spaces.nasbench201.spec import SPACE, NB201Spec

NAME = SPACE
Space = NB201Space
__all__ = ["NAME", "NAMED", "SPACE", "NB201Spec", "Space", "parse", "parse_dict", "space_for"]
