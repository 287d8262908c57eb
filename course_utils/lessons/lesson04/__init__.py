"""Lesson 04: exercises, answers and catalogue entries."""
