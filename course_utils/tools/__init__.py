"""The maintainers' tools: re-executing notebooks (`make execute`) and generating exercises/ (`make exercises`).

Learners never import these: nothing else in course_utils does (tests/test_codebase.py checks it), so importing
course_utils or the `course` command loads none of them. May import anything below the command line.
"""
