"""Which skip-logic conditions the browser is given, and in what form."""

from __future__ import annotations

import json

from survey_app.definitions import load_directory
from survey_app.web.enhance import client_rules
from tests.support.apps import ROOT


def test_same_page_conditions_become_client_rules_and_others_do_not() -> None:
    survey = load_directory(ROOT / "surveys").surveys["service-feedback"]
    about_you = survey.page_of("gender")
    rules = {qid: json.loads(rule) for qid, rule in client_rules(about_you).items()}
    assert rules == {
        "gender_self_described": {
            "tree": ["op", "=", ["ref", "gender"], ["str", "self_described"]],
            "fields": {"gender": ["c", None, None]},
        }
    }
    # Conditions on earlier pages are the server's alone: the usefulness page gets no rules.
    assert client_rules(survey.page_of("useful_legal")) == {}
