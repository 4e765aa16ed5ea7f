"""Blueprints, one per audience, and the request plumbing they share."""
