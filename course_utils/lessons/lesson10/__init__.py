"""Lesson 10: exercises, answers and catalogue entries."""
