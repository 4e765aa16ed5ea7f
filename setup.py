"""Packaging beyond what pyproject.toml can say: the top-level migrations/ folder is shipped inside
the wheel as survey_app/migrations, so an installed copy can run `survey-app db upgrade`."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["survey_app", "survey_app.*"]), "survey_app.migrations"],
    package_dir={"survey_app.migrations": "migrations"},
)
