"""Running a deployment: the server, safe logs and request counts, backups, retention and
erasure, the checks of `survey-app doctor`, and the demo's secrets and generated data."""
