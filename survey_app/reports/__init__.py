"""Aggregate reports: statistics, disclosure control and redaction of free text."""
