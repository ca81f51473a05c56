"""The chapter-5 experiments, each writing a Markdown report with figures."""

from .vanishing import VanishingConfig, run_vanishing

__all__ = ["VanishingConfig", "run_vanishing"]
