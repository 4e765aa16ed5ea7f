"""How long `survey-app --help` takes to start, beside what it would cost to load the web app.

    .venv/bin/python benchmarks/cli_start.py [ROUNDS]   (default 7)

Runs, side by side in each round, a bare Python start, `survey-app --help`, and a Python that
imports the web app (`survey_app.app`, which the command line loads only to serve). Prints the
median CPU time (user + system) of each, which a busy machine disturbs less than wall time,
and the ratios. The command line should cost well under the web app.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys

PROGRAMS = {
    "python": "pass",
    "survey-app --help": (
        "import sys; sys.argv = ['survey-app', '--help']\nfrom survey_app.cli import main\nmain()"
    ),
    "import the web app": "import survey_app.app",
}


def cpu_seconds(code: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(rounds: int) -> None:
    samples: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    for _ in range(rounds):
        for name, code in PROGRAMS.items():
            samples[name].append(cpu_seconds(code))
    median = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in median.items():
        print(f"{name:<20} {value * 1000:7.0f} ms CPU (median of {rounds})")
    bare = median["python"]
    help_cost = median["survey-app --help"] - bare
    web_cost = median["import the web app"] - bare
    print(f"--help beyond a bare Python: {help_cost * 1000:.0f} ms")
    print(f"web app import beyond a bare Python: {web_cost * 1000:.0f} ms")
    print(f"ratio --help / web app import: {help_cost / web_cost:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
