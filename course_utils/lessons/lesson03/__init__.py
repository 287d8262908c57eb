"""Lesson 03: exercises, answers and catalogue entries."""
