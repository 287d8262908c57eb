"""Lesson 05: exercises, answers and catalogue entries."""
