"""The demo's dataset, generated (nothing is downloaded): route support tickets to made-up
team codes, a task the base model cannot guess and a fine-tune learns in minutes on a CPU."""

import json
import random

TEAMS = {
    "BLX": [
        "My invoice shows the wrong amount",
        "I was charged twice this month",
        "How do I get a refund",
        "Can I pay by bank transfer",
        "Where do I download my receipt",
        "Please update my billing address",
    ],
    "QRV": [
        "The app crashes when I open it",
        "I cannot log in since the update",
        "The page loads forever",
        "Export to CSV gives an error",
        "Notifications stopped working",
        "The search returns nothing",
    ],
    "ZMT": [
        "Where is my parcel",
        "My order arrived damaged",
        "Can I change the delivery date",
        "The courier never came",
        "I received the wrong item",
        "How long does shipping take",
    ],
}
SYSTEM = "Route the support ticket to a team. Answer with the team code only."


def demo_rows(copies: int = 4, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for n in range(copies):
        for team, tickets in TEAMS.items():
            for ticket in tickets:
                text = ticket if n == 0 else f"{ticket} (order {rng.randint(1000, 9999)})"
                rows.append(
                    {
                        "messages": [
                            {"role": "system", "content": SYSTEM},
                            {"role": "user", "content": text},
                            {"role": "assistant", "content": team},
                        ]
                    }
                )
    rng.shuffle(rows)
    return rows


def demo_jsonl() -> bytes:
    return "".join(json.dumps(row) + "\n" for row in demo_rows()).encode()
