"""Lesson 08: exercises, answers and catalogue entries."""
