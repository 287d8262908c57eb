"""Lesson 02: exercises, answers and catalogue entries."""
