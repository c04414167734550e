"""Small datasets the tests generate (nothing is downloaded)."""

import json

TOPICS = {"weather": "zorp", "cooking": "blick", "football": "quax"}
QUESTIONS = {
    "weather": ["Will it rain tomorrow?", "How hot is it today?", "Is a storm coming?", "What is the forecast?"],
    "cooking": [
        "How long do I boil an egg?",
        "What spice goes with lamb?",
        "How do I make bread rise?",
        "Can I freeze soup?",
    ],
    "football": ["Who won the match?", "What is an offside?", "How long is a half?", "Who scored the goal?"],
}


def chat_rows(n: int = 12) -> list[dict]:
    rows = []
    for i in range(n):
        topic = list(TOPICS)[i % 3]
        question = QUESTIONS[topic][(i // 3) % 4]
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": "Classify the topic."},
                    {"role": "user", "content": f"{question} (#{i})"},
                    {"role": "assistant", "content": TOPICS[topic]},
                ]
            }
        )
    return rows


def chat_jsonl(n: int = 12) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in chat_rows(n)).encode()


def csv_table(n: int = 12) -> bytes:
    lines = ["question,answer"] + [
        f'"{row["messages"][1]["content"]}",{row["messages"][2]["content"]}' for row in chat_rows(n)
    ]
    return ("\n".join(lines) + "\n").encode()
