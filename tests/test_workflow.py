"""The publishing workflow, which cannot run here: it does what the README says it does.
(`make lint` checks it against GitHub's workflow schema.)"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def workflow():
    return yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())


def runs(job):
    return "\n".join(step.get("run", "") for step in job["steps"])


def uses(job):
    return {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}


def test_every_push_and_pull_request_runs_lint_and_the_readmes_test_command():
    flow = workflow()
    triggers = flow[True]  # YAML reads the key "on" as True
    assert "push" in triggers and "pull_request" in triggers
    commands = runs(flow["jobs"]["test"]).splitlines()
    assert "make lint" in commands and "make test" in commands


def test_the_default_branch_publishes_the_book_and_its_pdf():
    job = workflow()["jobs"]["publish"]
    assert job["needs"] == "test"
    assert "github.event.repository.default_branch" in job["if"]
    commands = runs(job).splitlines()
    assert commands.index("make book") < commands.index("make pdf")
    steps = uses(job)
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in steps
    assert (
        job["permissions"]["pages"] == "write"
        and job["permissions"]["id-token"] == "write"
    )
