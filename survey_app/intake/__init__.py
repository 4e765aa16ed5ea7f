"""How answers arrive and are kept: links and access codes, drafts in progress, sealing and
storing a response, the daily release, uploads from the offline page, help contacts shown to
respondents, and the checks a report runs again on opened answers."""
