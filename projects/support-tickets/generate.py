"""Writes data.csv: 900 made-up customer-support tickets and the team each went to, reproducibly.

    python generate.py            # (re)writes data.csv beside this file

Each ticket (column ``ticket``) is a greeting, one or two sentences about its
problem and a sign-off, in the words of one of three teams (column ``team``):
``billing`` (charges, refunds, invoices), ``technical`` (crashes, errors, the
app) and ``account`` (passwords, e-mail addresses, logins). Sentences share
much of their wording, 15% of the tickets add a sentence in another team's
words, and 5% went to a team their words do not suggest (people file tickets
in the wrong place), so no model is perfect. Standard library only, seed 11:
the same file every time, so the project's scores are reproducible.
"""

import csv
import random
from pathlib import Path

SEED = 11
TICKETS = 900
TEAMS = ("billing", "technical", "account")

OPENINGS = ["Hi,", "Hello team,", "Good morning,", "Hi there,", "Dear support,", "Hey,", ""]
CLOSINGS = ["Thanks.", "Thank you!", "Regards.", "Please help.", "Cheers.", "Any update would be great.", ""]
THINGS = {
    "billing": ["my invoice", "the last payment", "my card", "the monthly plan", "a refund", "the receipt",
                "the annual subscription", "a discount code"],
    "technical": ["the app", "the mobile version", "the export button", "the dashboard", "the sync",
                  "the upload page", "the search", "the desktop client"],
    "account": ["my password", "my login", "my e-mail address", "the two-factor code", "my username",
                "my profile", "the account settings", "the reset link"],
}
PROBLEMS = {
    "billing": ["I was charged twice for {x}", "{x} shows the wrong amount", "I still have not received {x}",
                "I want to cancel {x} and get my money back", "the price of {x} went up without notice",
                "{x} was declined although it is valid", "please send me a copy of {x} for my accountant"],
    "technical": ["{x} crashes every time I open it", "{x} shows an error 500", "{x} is very slow since the update",
                  "{x} freezes and I lose my work", "{x} does not load on my phone",
                  "I get a blank screen when I use {x}", "{x} stopped working after the latest version"],
    "account": ["I cannot reset {x}", "I forgot {x} and the e-mail never arrives", "someone changed {x}",
                "{x} is locked after too many attempts", "I want to change {x}",
                "I never receive {x} when I sign in", "please delete {x} and all my data"],
}
SHARED = ["This has been going on since yesterday.", "My order number is {n}.", "It is quite urgent.",
          "I tried twice already.", "This is the second time I write about it.", "I use the free plan.",
          "I am on the business plan.", "Nothing in the help pages explains it."]


def sentence(team: str, rng: random.Random) -> str:
    text = rng.choice(PROBLEMS[team]).format(x=rng.choice(THINGS[team]))
    return text[0].upper() + text[1:] + "."


def ticket(team: str, rng: random.Random) -> str:
    parts = [rng.choice(OPENINGS), sentence(team, rng)]
    if rng.random() < 0.5:
        parts.append(rng.choice(SHARED).format(n=rng.randint(10000, 99999)))
    if rng.random() < 0.15:  # a second problem, in another team's words
        other = sentence(rng.choice([t for t in TEAMS if t != team]), rng)
        parts.append("Also, " + other[0].lower() + other[1:])
    if rng.random() < 0.3:
        parts.append(sentence(team, rng))
    parts.append(rng.choice(CLOSINGS))
    return " ".join(p for p in parts if p)


def generate(n: int = TICKETS, seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        team = TEAMS[i % len(TEAMS)]
        text = ticket(team, rng)
        if rng.random() < 0.05:  # filed with the wrong team
            team = rng.choice([t for t in TEAMS if t != team])
        rows.append((text, team))
    rng.shuffle(rows)
    return rows


def write(out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "team"])
        writer.writerows(generate())


def main() -> None:
    out = Path(__file__).with_name("data.csv")
    write(out)
    print(f"wrote {out} ({TICKETS} tickets)")


if __name__ == "__main__":
    main()
