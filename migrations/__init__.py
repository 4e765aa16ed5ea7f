"""Alembic migrations, shipped in the wheel as ``survey_app.migrations`` (see setup.py)."""
