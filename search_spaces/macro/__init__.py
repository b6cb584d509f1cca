"""The macro (stage-wise) space: the classic networks as named specs, and searches around them."""
from search_spaces.macro.archs_all import NAMED
from search_spaces.macro.space import MacroSpace, parse, parse_dict, space_for
from search_spaces.macro.spec import PREFIX, MacroSpec, Stage

NAME = "macro"
Space = MacroSpace
__all__ = ["NAME", "NAMED", "PREFIX", "MacroSpec", "Space", "Stage", "parse", "parse_dict", "space_for"]
