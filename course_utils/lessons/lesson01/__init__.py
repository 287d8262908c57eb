"""Lesson 01: exercises, answers and catalogue entries."""
