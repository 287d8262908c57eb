"""The mistake catalogue's machinery: scripted entries (broken and fixed code run side by side), entries derived
from an exercise's known wrong answers, and the report both produce. The entries themselves live in the lessons."""
from .contract import CatalogueEntry, Variant
from .entry import Mistake
from .report import SymptomReport

__all__ = ["CatalogueEntry", "Mistake", "Variant", "SymptomReport"]
