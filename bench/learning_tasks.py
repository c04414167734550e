"""Generated tasks for bench/learning.py, each with a held-out set from a shifted distribution.

Every task draws training rows from one distribution and held-out rows from another: other
sentence frames and phrasings, entity names never seen in training (the pools are disjoint),
other word orders, more turns or items. The atomic forms an answer depends on (a currency
sign, a date format, a size word, a number word) occur in training too, so the shift tests
generalisation rather than facts the data never gave; the one deliberate exception is
release_notes, where half the held-out change verbs are synonyms training never shows.
Answers are deterministic functions of the input, so exact scoring is fair. Rows depend only
on (task, seed, sizes).

- routing: message → one of 6 invented team codes; held out: paraphrases, greetings and
  sign-offs, lower case, distractor topics. Exact match.
- extraction: order message → 4-field JSON; held out: other frames and field orders,
  multi-word names, products and cities. Whole-object match (field accuracy too).
- rewrite: payment sentence → "date | currency amount | payee"; held out: other frames,
  unseen payees. Normalised exact match.
- multiturn: cafe order over several turns → final summary; held out: 3–5 changes (2–4 in
  training), other phrasings, unseen items. Exact match on the last turn.
- release_notes: prose changelog → sectioned notes (5–11 lines); held out: passive voice,
  bullets, 4–6 items (3–5 in training), new verbs. Token F1 (exact match too).
- sku: prompt/completion, product description → code like "NV-SH-L"; held out: colour,
  garment and size combinations no training row has, unseen brands, other word orders.
  Exact match.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workers.ml.metrics import normalize_answer

Row = dict[str, Any]


def _chat(system: str, user: str, answer: str) -> Row:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": answer},
        ]
    }


def _pick(rng: random.Random, pools: tuple[list[str], list[str]], held_out: bool) -> str:
    """From the training pool or the disjoint held-out one."""
    return rng.choice(pools[held_out])


def _order_id(rng: random.Random) -> str:
    return f"#{rng.randint(10000, 99999)}"


NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _count(rng: random.Random, n: int) -> str:
    """A count as digits or (up to twelve) as a word, in training and held-out rows alike."""
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) and rng.random() < 0.3 else str(n)


# -- scoring ---------------------------------------------------------------------------------------


def exact(reference: str, answer: str) -> dict[str, float]:
    return {"exact": float(normalize_answer(reference) == normalize_answer(answer))}


def token_f1(reference: str, answer: str) -> float:
    """SQuAD-style F1 over lower-cased words and punctuation marks."""
    ref, ans = (re.findall(r"\w+|[^\w\s]", text.casefold()) for text in (reference, answer))
    overlap = sum((Counter(ref) & Counter(ans)).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(ans), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_and_f1(reference: str, answer: str) -> dict[str, float]:
    return {**exact(reference, answer), "token_f1": token_f1(reference, answer)}


def json_fields(reference: str, answer: str) -> dict[str, float]:
    """Whole-object match, share of fields right, and whether the answer parses as an object."""
    expected = json.loads(reference)
    try:
        got = json.loads(answer)
    except json.JSONDecodeError:
        got = None
    if not isinstance(got, dict):
        return {"exact": 0.0, "field_accuracy": 0.0, "valid_json": 0.0}
    right = [got.get(key) == value for key, value in expected.items()]
    return {
        "exact": float(all(right) and set(got) == set(expected)),
        "field_accuracy": sum(right) / len(right),
        "valid_json": 1.0,
    }


def parts(reference: str, answer: str) -> dict[str, float]:
    """Exact match, plus the share of ` | `-separated parts that are right."""
    ref, ans = reference.split("|"), answer.split("|")
    right = sum(r.strip() == a.strip() for r, a in zip(ref, ans, strict=False))
    return {**exact(reference, answer), "part_accuracy": right / len(ref)}


# -- routing: classification -------------------------------------------------------------------

ROUTING_SYSTEM = "Route the customer message to the right team. Answer with the team code only."
# Invented codes with no link to their topic: the model must learn the mapping.
ROUTES: dict[str, tuple[list[str], list[str]]] = {
    "COBALT": (  # billing
        [
            "I was charged twice for my {product} order. Can you refund one of the payments?",
            "The invoice for the {product} shows {amount} but I agreed to pay less.",
            "Why did my card get billed {amount} this month?",
            "Please send me a corrected invoice, the VAT number is missing.",
            "My {product} subscription renewed at the wrong price.",
            "There's an unexpected fee of {amount} on my statement.",
            "I need a receipt for the {product} I bought last week.",
            "The payment for order {order} went through two times.",
        ],
        [
            "Looking at my bank app, {amount} left my account for something I never ordered. What's going on?",
            "The price on the bill doesn't match the quote you gave me for the {product}.",
            "Could someone explain the extra {amount} charge that appeared after I upgraded?",
            "Where can I download last month's invoice? Our accountant needs it.",
            "The {product} arrived fine, but I was billed for it twice.",
            "We were overcharged on order {order}; please credit the difference.",
        ],
    ),
    "HERON": (  # delivery
        [
            "My {product} still hasn't arrived after {days} days.",
            "The tracking for order {order} hasn't updated since Monday.",
            "Where is my package? It was supposed to come yesterday.",
            "The courier left my {product} at the wrong address.",
            "Can I change the delivery address for order {order}?",
            "Shipping says delivered but there's nothing at my door.",
            "How long does delivery to my area usually take?",
            "The parcel with my {product} is stuck at the depot.",
        ],
        [
            "It's been {days} days and no sign of the {product}. Is it lost?",
            "The driver never showed up although the app said out for delivery.",
            "Our office moved; please reroute order {order} before it leaves the warehouse.",
            "I paid for express but the {product} is taking longer than standard would.",
            "Tracking number for {order} returns 'not found'. Has it even been sent?",
            "A neighbour got my parcel instead of me. Can you sort this out?",
        ],
    ),
    "MAPLE": (  # account access
        [
            "I can't log in to my account.",
            "The password reset email never arrives.",
            "My account got locked after too many attempts.",
            "Two-factor codes are not working on my phone.",
            "How do I change the email address on my account?",
            "I keep getting 'invalid credentials' even with the right password.",
            "Please unlock the account for {name}.",
            "The login page just reloads when I sign in.",
        ],
        [
            "Locked out since this morning, and the reset link says it expired.",
            "I switched phones and now the authenticator codes are rejected.",
            "Every time I enter my password it tells me it's wrong, but I just changed it.",
            "Can't get past the sign-in screen of the {product} app.",
            "Our new colleague {name} never received the invite to create a login.",
            "I forgot which email I registered with. How do I get back in?",
        ],
    ),
    "FENNEL": (  # defective product
        [
            "My {product} stopped working after two days.",
            "The {product} arrived with a cracked screen.",
            "The battery of my {product} drains in an hour.",
            "The {product} makes a loud buzzing noise.",
            "One of the buttons on the {product} is stuck.",
            "The {product} won't turn on anymore.",
            "The {product} overheats when I use it.",
            "There's a scratch across the front of my new {product}.",
        ],
        [
            "Out of the box the {product} flickers and then goes dark.",
            "The hinge on my {product} snapped the first time I opened it.",
            "Is it normal that the {product} smells like burning plastic?",
            "Delivery was quick, but the {product} refuses to charge.",
            "Since the last update the {product} reboots every few minutes.",
            "Half the keys on the {product} don't register.",
        ],
    ),
    "ORBIT": (  # cancellation
        [
            "Please cancel my subscription.",
            "I want to cancel order {order}.",
            "How do I close my account for good?",
            "Stop my membership at the end of this month.",
            "I no longer need the {product}, cancel the order please.",
            "Cancel the renewal, I don't want to be billed again.",
            "Please end my plan and delete my data.",
            "I changed my mind about the {product}, please don't ship it.",
        ],
        [
            "We're winding down the team, so please terminate our plan.",
            "Kindly call off order {order}; we found it elsewhere.",
            "Don't renew us next cycle, we're moving to another provider.",
            "Is there a way to back out of the {product} purchase before it ships?",
            "I'd like to leave the paid tier entirely.",
            "Remove my account and everything attached to it.",
        ],
    ),
    "SAFFRON": (  # feature request
        [
            "It would be great if the {product} had a dark mode.",
            "Could you add an export to CSV option?",
            "Please add support for more languages.",
            "I'd love a way to schedule reports weekly.",
            "Any plans to offer an API for the {product}?",
            "Suggestion: let us share dashboards with guests.",
            "Can you make the {product} work with calendar apps?",
            "Please consider adding keyboard shortcuts.",
        ],
        [
            "Wish list: a widget that shows my usage at a glance.",
            "Would you consider integrating the {product} with chat tools?",
            "The {product} is great; the one thing missing is an offline mode.",
            "Have you thought about letting admins define custom roles?",
            "If the app could remind me before renewals, that would help a lot.",
            "Idea: bulk editing on the {product} settings page.",
        ],
    ),
}
ROUTING_PRODUCTS = (
    ["Aurora lamp", "Nimbus router", "Pixel kettle", "Orbit speaker", "Zephyr fan", "Quill tablet", "Vega camera"],
    ["Halcyon blender", "Tessera monitor", "Lumen doorbell", "Corvid drone", "Basalt scale", "Juniper watch"],
)
FIRST_NAMES = (
    ["Maria", "John", "Aisha", "Tom", "Lena", "Carlos", "Priya", "Oliver", "Sofia", "Ken", "Emma", "Raj"],
    ["Anne-Marie", "Bartholomew", "Xiu", "Oluwaseun", "Dagny", "Ignatius", "Mireille", "Tadeo", "Yevgenia"],
)
LAST_NAMES = (
    ["Lopez", "Smith", "Khan", "Berg", "Rossi", "Nguyen", "Patel", "Brown", "Keller", "Sato", "Dubois"],
    ["Okonkwo-Reyes", "Van der Berg", "Fitzgerald", "Szymanska", "MacAllister", "Oyelaran", "Ferreira Lima"],
)
# Training messages are bare or lightly wrapped; held-out ones come with greetings, sign-offs,
# lower case and chat-style shorthand.
ROUTING_WRAPPERS = (
    ["{m}", "{m}", "Hi, {m}", "{m} Thanks."],
    ["Hello team!\n\n{m}\n\nBest,\n{name}", "{lower}", "hey there, {lower} thx", "{name} here. {m}", "{m} Cheers"],
)


def _name(rng: random.Random, held_out: bool) -> str:
    return f"{_pick(rng, FIRST_NAMES, held_out)} {_pick(rng, LAST_NAMES, held_out)}"


def routing(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    code = rng.choice(sorted(ROUTES))
    name = _name(rng, held_out)
    message = rng.choice(ROUTES[code][held_out]).format(
        product=_pick(rng, ROUTING_PRODUCTS, held_out),
        amount=f"${rng.randint(5, 400)}",
        days=rng.randint(3, 20),
        order=_order_id(rng),
        name=name,
    )
    text = rng.choice(ROUTING_WRAPPERS[held_out]).format(m=message, lower=message.lower(), name=name)
    return _chat(ROUTING_SYSTEM, text, code), text


# -- extraction: JSON ------------------------------------------------------------------------------

EXTRACTION_SYSTEM = "Extract the order as JSON with the keys customer, product, quantity and city."
EXTRACTION_FRAMES = (
    [
        "Hi, this is {name}. Please send {qty} x {product} to {city}.",
        "{name} would like {units} of {product}, delivered to {city}.",
        "Order from {name}: {product}, quantity {qty}, ship to {city}.",
        "Please ship {units} of {product} to {city} for {name}.",
        "New order: customer {name}, {qty} x {product}, destination {city}.",
        "I'm {name} from {city} and I need {units} of {product}.",
    ],
    [
        "Ship to {city}: {qty} x {product}. Ordered by {name}.",
        "Could you get {units} of {product} over to our {city} office? Thanks, {name}",
        "{product}, {units}, for the {city} store (requested by {name})",
        "Quantity {qty} of {product} please; deliver in {city}.\n-- {name}",
        "For {name}: {product} (qty {qty}), shipping address in {city}.",
        "Our {city} branch needs {qty} x {product}; the contact person is {name}.",
    ],
)
EXTRACTION_PRODUCTS = (
    [
        "Aurora desk lamp",
        "steel water bottle",
        "Nimbus router",
        "oak bookshelf",
        "USB-C cable",
        "yoga mat",
        "Pixel kettle",
        "wool blanket",
        "ceramic mug",
        "laptop stand",
        "LED strip",
        "travel adapter",
    ],
    [
        "Halcyon blender",
        "bamboo cutting board",
        "Tessera 27-inch monitor",
        "linen tablecloth",
        "solar charger",
        "cast-iron skillet",
        "Lumen video doorbell",
        "noise-cancelling headset",
    ],
)
CITIES = (
    ["Lyon", "Denver", "Osaka", "Leeds", "Porto", "Graz", "Austin", "Turin", "Malmo", "Perth", "Quebec"],
    ["Cape Town", "Ho Chi Minh City", "Santa Cruz", "Rio de Janeiro", "Kuala Lumpur", "Salt Lake City", "Tbilisi"],
)


def extraction(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    name = _name(rng, held_out)
    product, city = _pick(rng, EXTRACTION_PRODUCTS, held_out), _pick(rng, CITIES, held_out)
    quantity = rng.randint(1, 20)
    qty = _count(rng, quantity)
    units = f"{qty} unit" if quantity == 1 else f"{qty} units"
    text = rng.choice(EXTRACTION_FRAMES[held_out]).format(name=name, product=product, city=city, qty=qty, units=units)
    answer = json.dumps({"customer": name, "product": product, "quantity": quantity, "city": city})
    return _chat(EXTRACTION_SYSTEM, text, answer), text


# -- rewrite: format conversion ------------------------------------------------------------------

REWRITE_SYSTEM = "Rewrite the payment as: date (YYYY-MM-DD) | currency amount | payee."
REWRITE_FRAMES = (
    [
        "Paid {amount} to {payee} on {date}.",
        "{date}: {amount} to {payee}.",
        "Payment of {amount} sent to {payee} ({date}).",
        "On {date} I paid {payee} {amount}.",
        "Transfer to {payee}, {amount}, dated {date}.",
    ],
    [
        "{payee} received {amount} from us on {date}.",
        "We settled the invoice from {payee} for {amount} on {date}.",
        "{amount} went to {payee}; booked {date}.",
        "Dated {date}, a transfer of {amount} reached {payee}.",
        "Expense / {payee} / {date} / {amount}",
    ],
)
PAYEES = (
    [
        "Green Leaf Bakery",
        "Northwind Traders",
        "City Gym",
        "Blue Harbor Cafe",
        "Apex Plumbing",
        "Maple Books",
        "Sunrise Dental",
        "Quick Print",
        "Harbor Insurance",
        "Silver Taxi",
    ],
    [
        "Okavango Outfitters",
        "Bright Spark Electric",
        "Lantern & Loom",
        "Juniper Vet Clinic",
        "Rolling Pin Deli",
        "Tidewater Marina",
        "Copperfield Legal",
    ],
)
MONTHS = "January February March April May June July August September October November December".split()
CURRENCIES = {
    "USD": ("${v}", "{v} dollars", "USD {v}"),
    "EUR": ("€{v}", "{v} euros", "EUR {v}"),
    "GBP": ("£{v}", "{v} pounds", "GBP {v}"),
}


def _date(rng: random.Random) -> tuple[str, str]:
    """(surface form, ISO date); every form occurs in training and held-out rows alike."""
    year, month, day = rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28)
    name = MONTHS[month - 1]
    surface = rng.choice(
        [f"{year}-{month:02d}-{day:02d}", f"{name} {day}, {year}", f"{day} {name} {year}", f"{name[:3]} {day}, {year}"]
    )
    return surface, f"{year}-{month:02d}-{day:02d}"


def rewrite(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    date, iso = _date(rng)
    currency = rng.choice(sorted(CURRENCIES))
    value = rng.randint(3, 900) + (rng.choice([0, 0, 25, 50, 99]) / 100)
    shown = f"{value:.2f}" if value % 1 else f"{value:.0f}"
    amount = rng.choice(CURRENCIES[currency]).format(v=shown)
    payee = _pick(rng, PAYEES, held_out)
    text = rng.choice(REWRITE_FRAMES[held_out]).format(amount=amount, payee=payee, date=date)
    return _chat(REWRITE_SYSTEM, text, f"{iso} | {currency} {value:.2f} | {payee}"), text


# -- multiturn: state over a conversation --------------------------------------------------------

CAFE_SYSTEM = "You take cafe orders. Confirm each change, then summarise the order when the customer is done."
CAFE_ITEMS = (
    ["latte", "muffin", "espresso", "croissant", "bagel", "cappuccino", "scone", "mocha", "brownie", "green tea"],
    ["flat white", "cinnamon roll", "chai", "macchiato", "danish", "cortado", "banana bread", "americano"],
)
CAFE_ADD = (
    ["I'd like {k} {item}.", "Add {k} {item}.", "{k} {item}, please.", "Can I have {k} {item}?"],
    ["Could I also get {k} {item}?", "Throw in {k} {item} too.", "And {k} {item}.", "Put me down for {k} {item}."],
)
CAFE_REMOVE = (
    ["Remove one {item}.", "Take off one {item}."],
    ["Actually, one less {item}.", "Drop one {item}, please."],
)
CAFE_DONE = (["That's all.", "Done, thanks."], ["That's everything, please confirm.", "OK, wrap it up."])


def multiturn(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    """Adds and removes over several turns (3–5 held out, 2–4 in training); the last answer
    lists every item still ordered, in the order first asked for."""
    counts: dict[str, int] = {}
    messages = [{"role": "system", "content": CAFE_SYSTEM}]
    n_changes = rng.randint(3, 5) if held_out else rng.randint(2, 4)
    for turn in range(n_changes):
        removable = [item for item, n in counts.items() if n > 0 and sum(counts.values()) > 1]
        if turn and removable and rng.random() < 0.35:
            item = rng.choice(removable)
            counts[item] -= 1
            user, answer = rng.choice(CAFE_REMOVE[held_out]).format(item=item), f"Removed 1 x {item}."
        else:
            item, k = _pick(rng, CAFE_ITEMS, held_out), rng.randint(1, 3)
            counts[item] = counts.get(item, 0) + k
            user, answer = rng.choice(CAFE_ADD[held_out]).format(k=_count(rng, k), item=item), f"Added {k} x {item}."
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    summary = ", ".join(f"{n} x {item}" for item, n in counts.items() if n > 0)
    messages += [
        {"role": "user", "content": rng.choice(CAFE_DONE[held_out])},
        {"role": "assistant", "content": f"Order: {summary}."},
    ]
    return {"messages": messages}, json.dumps(messages)


# -- release_notes: a long, structured answer ----------------------------------------------------

NOTES_SYSTEM = "Turn the change description into release notes with Added, Changed, Fixed and Removed sections."
SECTIONS = ("Added", "Changed", "Fixed", "Removed")
# Verbs per section; held-out rows also use verbs training never shows.
NOTES_VERBS = {
    "Added": (["added", "introduced"], ["added", "brought in"]),
    "Changed": (["changed", "reworked"], ["reworked", "revamped"]),
    "Fixed": (["fixed", "resolved"], ["resolved", "repaired"]),
    "Removed": (["removed", "dropped"], ["dropped", "retired"]),
}
NOTES_ITEMS = (
    [
        "dark mode",
        "CSV export",
        "the login timeout",
        "slow search",
        "the legacy importer",
        "keyboard shortcuts",
        "the sidebar layout",
        "a crash on startup",
        "the beta dashboard",
        "email digests",
        "the settings page",
        "broken thumbnails",
        "the old API keys",
        "two-factor login",
        "the pricing table",
        "a memory leak",
    ],
    [
        "offline sync",
        "the calendar widget",
        "a race in checkout",
        "PDF invoices",
        "the onboarding tour",
        "stale notifications",
        "the XML feed",
        "bulk tagging",
        "the audit log",
        "a typo in the footer",
        "team folders",
        "the font picker",
    ],
)


def _notes_text(rng: random.Random, version: str, changes: list[tuple[str, str]], held_out: bool) -> str:
    verbs = [rng.choice(NOTES_VERBS[section][held_out]) for section, _ in changes]
    if not held_out:
        clauses = [f"{verb} {item}" for verb, (_, item) in zip(verbs, changes, strict=True)]
        return f"Release {version}. We {', '.join(clauses[:-1])} and {clauses[-1]}."
    shape = rng.randrange(3)
    if shape == 0:  # passive voice
        clauses = [f"{item} was {verb}" for verb, (_, item) in zip(verbs, changes, strict=True)]
        return f"In {version}, {'; '.join(clauses)}."
    if shape == 1:  # a bulleted list
        lines = [f"* {verb} {item}" for verb, (_, item) in zip(verbs, changes, strict=True)]
        return f"Changes for {version}:\n" + "\n".join(lines)
    clauses = [f"{verb} {item}" for verb, (_, item) in zip(verbs, changes, strict=True)]
    return f"Version {version} {' and '.join(clauses)}."


def release_notes(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    """3–5 changes in training, 4–6 held out; the notes list sections in a fixed order and items
    in the order the description mentions them."""
    version = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    n = rng.randint(4, 6) if held_out else rng.randint(3, 5)
    items = rng.sample(NOTES_ITEMS[held_out], n)
    changes = [(rng.choice(SECTIONS), item) for item in items]
    text = _notes_text(rng, version, changes, held_out)
    lines = [f"Release {version}"]
    for section in SECTIONS:
        mentioned = [item for s, item in changes if s == section]
        if mentioned:
            lines += [f"{section}:", *(f"- {item}" for item in mentioned)]
    return _chat(NOTES_SYSTEM, text, "\n".join(lines)), text


# -- sku: prompt/completion ----------------------------------------------------------------------

COLOURS = {
    "red": "RD",
    "blue": "BL",
    "green": "GR",
    "black": "BK",
    "white": "WH",
    "grey": "GY",
    "navy": "NV",
    "yellow": "YL",
    "pink": "PK",
    "brown": "BR",
}
GARMENTS = {
    "shirt": "SH",
    "jacket": "JK",
    "hoodie": "HD",
    "trousers": "TR",
    "skirt": "SK",
    "dress": "DR",
    "sweater": "SW",
    "shorts": "ST",
    "coat": "CT",
    "scarf": "SF",
}
SIZES = {"S": ("S", "small"), "M": ("M", "medium"), "L": ("L", "large"), "XL": ("XL", "extra large")}
BRANDS = (
    ["Northwind", "Fjord", "Alder", "Kestrel", "Mistral", "Cobble", "Tamarack"],
    ["Ouseburn", "Saltmarsh", "Quillon", "Brackenridge", "Velde"],
)
ADJECTIVES = (["cotton", "classic", "lightweight"], ["slim-fit", "organic cotton", "limited edition", "recycled"])


def sku(rng: random.Random, held_out: bool) -> tuple[Row, str]:
    """The code is colour-garment-size from fixed tables; held-out rows use combinations no
    training row has (see ``key``), unseen brands, other word orders and distractor adjectives."""
    colour, garment, size = rng.choice(sorted(COLOURS)), rng.choice(sorted(GARMENTS)), rng.choice(sorted(SIZES))
    brand, adjective = _pick(rng, BRANDS, held_out), _pick(rng, ADJECTIVES, held_out)
    size_text = rng.choice(SIZES[size])
    if held_out:
        description = rng.choice(
            [
                f"{garment} in {colour} by {brand}, {size_text}",
                f"{brand} {adjective} {garment} ({colour}, size {size_text})",
                f"size {size_text} {colour} {adjective} {garment} from {brand}",
            ]
        )
    else:
        description = rng.choice(
            [
                f"{brand} {colour} {garment}, size {size_text}",
                f"{brand} {adjective} {colour} {garment}, size {size_text}",
            ]
        )
    code = f"{COLOURS[colour]}-{GARMENTS[garment]}-{size}"
    return {"prompt": f"Product: {description}\nSKU:", "completion": f" {code}"}, code


# -- the suite -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    name: str
    kind: str
    metric: str  # the primary score, one of the keys ``score`` returns
    # (row, key): rows are distinct by key, and no held-out key is a training key.
    make: Callable[[random.Random, bool], tuple[Row, str]]
    score: Callable[[str, str], dict[str, float]]  # (reference, answer) -> metrics in [0, 1]

    def rows(self, seed: int, n_train: int, n_test: int) -> tuple[list[Row], list[Row]]:
        """Training rows and held-out rows, each distinct, none of the held-out in training."""
        rng = random.Random(f"{self.name}-{seed}")
        train, seen = self._draw(rng, False, n_train, set())
        test, _ = self._draw(rng, True, n_test, seen)
        return train, test

    def _draw(self, rng: random.Random, held_out: bool, n: int, exclude: set[str]) -> tuple[list[Row], set[str]]:
        rows: list[Row] = []
        keys: set[str] = set()
        for _ in range(n * 50):
            if len(rows) == n:
                return rows, keys
            row, key = self.make(rng, held_out)
            if key in keys or key in exclude:
                continue
            rows.append(row)
            keys.add(key)
        raise ValueError(f"{self.name}: could not draw {n} distinct {'held-out' if held_out else 'training'} rows")


def reference_answer(row: Row) -> str:
    return row["completion"] if "completion" in row else row["messages"][-1]["content"]


TASKS = {
    task.name: task
    for task in (
        Task("routing", "classification, paraphrased and unseen phrasings", "exact", routing, exact),
        Task("extraction", "extraction to JSON, unseen entities and sentence shapes", "exact", extraction, json_fields),
        Task("rewrite", "format conversion", "exact", rewrite, parts),
        Task("multiturn", "multi-turn chat with state", "exact", multiturn, exact),
        Task("release_notes", "long structured answer", "token_f1", release_notes, exact_and_f1),
        Task("sku", "prompt/completion", "exact", sku, exact),
    )
}
