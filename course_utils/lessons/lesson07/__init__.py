"""Lesson 07: exercises, answers and catalogue entries."""
