"""Lesson 06: exercises, answers and catalogue entries."""
