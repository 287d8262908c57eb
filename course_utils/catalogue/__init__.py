"""The mistake catalogue's machinery: scripted entries (broken and fixed code run side by side), entries derived
from an exercise's known wrong answers, and the report both produce. The entries themselves live in the lessons."""
from .entry import Mistake, Variant
from .report import SymptomReport

__all__ = ["Mistake", "Variant", "SymptomReport"]
