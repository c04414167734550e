"""A made-up classification task no base model can know: topics answered as nonsense labels."""

from __future__ import annotations

import json
import random
from pathlib import Path

LABELS = {"sports": "zorp", "cooking": "blick", "space": "quax"}
WORDS = {
    "sports": [
        "the football match",
        "a tennis final",
        "the goalkeeper",
        "a marathon",
        "the league table",
        "the referee",
        "a penalty kick",
        "the swimming relay",
        "the coach",
        "a basketball dunk",
    ],
    "cooking": [
        "a garlic soup",
        "the oven",
        "fresh bread dough",
        "a frying pan",
        "the pasta sauce",
        "chopped onions",
        "a chocolate cake",
        "the spice rack",
        "a slow roast",
        "the recipe book",
    ],
    "space": [
        "a rocket launch",
        "the moon landing",
        "an astronaut",
        "a distant galaxy",
        "the space station",
        "a telescope",
        "the orbit of Mars",
        "a comet",
        "the launch pad",
        "a solar flare",
    ],
}
TEMPLATES = [
    "I read about {a} and {b} today.",
    "My friend keeps talking about {a}.",
    "Yesterday's news was all about {a} and {b}.",
    "Can you believe {a}?",
    "There was a documentary on {a} last night.",
    "We argued about {a} over dinner.",
]
SYSTEM = "Classify the topic of the user's message. Reply with the topic code only."


def example(topic: str, rng: random.Random) -> dict:
    a, b = rng.sample(WORDS[topic], 2)
    text = rng.choice(TEMPLATES).format(a=a, b=b)
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": text},
            {"role": "assistant", "content": LABELS[topic]},
        ]
    }


def write_task(folder: Path, n_train: int, n_validation: int, seed: int = 0) -> tuple[Path, Path]:
    rng = random.Random(seed)
    topics = list(LABELS)
    paths = []
    for name, n in (("train", n_train), ("validation", n_validation)):
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(example(topics[i % 3], rng)) + "\n" for i in range(n)))
        paths.append(path)
    return paths[0], paths[1]
