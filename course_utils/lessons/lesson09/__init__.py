"""Lesson 09: exercises, answers and catalogue entries."""
