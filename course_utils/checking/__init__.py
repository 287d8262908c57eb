"""The grading engine: runs a learner's answer safely and reports one CheckResult."""
