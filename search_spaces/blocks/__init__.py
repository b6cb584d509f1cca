"""The MnasNet-style factorized hierarchical block space (Tan et al. 2019)."""
from search_spaces.blocks.archs import NAMED
from search_spaces.blocks.space import BlockSpace, parse, parse_dict, space_for
from search_spaces.blocks.spec import PREFIX, BlockSpec

NAME = "blocks"
Space = BlockSpace
__all__ = ["NAME", "NAMED", "PREFIX", "BlockSpec", "Space", "parse", "parse_dict", "space_for"]
