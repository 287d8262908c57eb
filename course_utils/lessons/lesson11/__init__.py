"""Lesson 11: exercises, answers and catalogue entries."""
