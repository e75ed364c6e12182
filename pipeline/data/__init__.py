"""The dataset builder: raw posts -> SFT examples + preference pairs + quality report + card."""

from .build import BuildReport, BuildSettings, build_dataset
from .formats import FORMATS, convert_file

__all__ = ["BuildReport", "BuildSettings", "build_dataset", "FORMATS", "convert_file"]
