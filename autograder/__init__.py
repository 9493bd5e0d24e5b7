"""Grading machinery of the course, built around nbgrader's Python API.

nbgrader strips solutions, keeps hidden tests, autogrades and writes feedback; this package adds
what it lacks around it: intake checks, a record for every submission, the sample class, mutants.
"""
