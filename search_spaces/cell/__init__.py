"""The NASNet-style cell space (Zoph et al. 2018; DARTS wiring, Liu et al. 2019)."""
from search_spaces.cell.archs import NAMED
from search_spaces.cell.space import CellSpace, parse, parse_dict, space_for
from search_spaces.cell.spec import PREFIX, CellSpec

NAME = "cell"
Space = CellSpace
__all__ = ["NAME", "NAMED", "PREFIX", "CellSpec", "Space", "parse", "parse_dict", "space_for"]
