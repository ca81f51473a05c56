"""The chapter-5 experiments, each writing a Markdown report with PNG figures."""

from .depth import DepthConfig, run_depth
from .exploding import ExplodingConfig, exploding_chain, run_exploding
from .foundations import FoundationsConfig, run_foundations
from .remedies import RemediesConfig, run_remedies
from .snapshots import snapshots
from .through_time import ThroughTimeConfig, run_through_time
from .vanishing import VanishingConfig, run_vanishing

__all__ = ["DepthConfig", "ExplodingConfig", "FoundationsConfig", "RemediesConfig",
           "ThroughTimeConfig", "VanishingConfig", "exploding_chain", "run_depth",
           "run_exploding", "run_foundations", "run_remedies", "run_through_time",
           "run_vanishing", "snapshots"]
