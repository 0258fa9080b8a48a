"""The wording of the "conversations" set's questions, by question shape (`conversations_questions.py`)."""

from __future__ import annotations

# Which attribute is in which fact kind, for the questions.
ATTR_KIND = {
    "pet_kind": "pet", "pet_name": "pet", "employer": "job", "role": "job", "hobby": "hobby", "trip": "trip",
    "family": "family", "purchase": "purchase", "milestone": "milestone",
}  # fmt: skip
# How people say the time between two events, by its most days.
SPANS = ((4, "a few days"), (9, "the week"), (20, "a couple of weeks"), (45, "about a month"))

# Single-hop, by asked attribute: question templates (about {name}) and the answer.
SINGLE: dict[str, tuple[tuple[str, ...], str]] = {
    "pet_kind": (("What kind of animal does {name} keep as a pet?", "Which species is {name}'s pet?",
                  "What type of pet lives with {name}?"), "a {kind} ({pet})"),
    "pet_name": (("What is {name}'s {kind} called?", "What name did {name} give the {kind}?",
                  "How is {name}'s pet {kind} named?"), "{pet}"),
    "employer": (("Which company employs {name}?", "Who does {name} work for?",
                  "What's the name of {name}'s employer?"), "{company}"),
    "role": (("What is {name}'s job?", "What does {name} do for a living?",
              "What position does {name} hold at work?"), "{role} (at {company})"),
    "city_now": (("Which city is {name} based in these days?", "Where does {name} currently reside?",
                  "What city is home for {name} at the moment?"), "{city}"),
    "city_before": (("Which city did {name} live in before relocating?",
                     "Where was {name} living prior to the move?"), "{city}"),
    "hobby": (("What pastime is {name} into lately?", "What does {name} do for fun these days?",
               "Which hobby has {name} picked up?"), "{hobby}"),
    "trip": (("Which city is the destination of {name}'s trip?", "What place did {name} pick for a holiday?",
              "Where was {name}'s getaway?"), "{dest}"),
    "family": (("What is the name of {name}'s {rel}?", "What's {name}'s {rel} called?",
                "Who is {name}'s {rel}?"), "{fam}"),
    "purchase": (("What did {name} splurge on?", "What big-ticket item did {name} get?",
                  "What new thing did {name} buy?"), "{thing}"),
    "milestone": (("What achievement did {name} share with the server?",
                   "What personal milestone did {name} celebrate?",
                   "What big moment did {name} tell everyone about?"), "{done}"),
    "hq": (("In which city is {company} headquartered?", "Where is {company_s} head office?",
            "Which city hosts the main office of {company}?"), "{hq}"),
}  # fmt: skip

# Multi-hop: who someone is, by one fact (the bridge is the person, never named) ...
WHO: dict[str, tuple[str, ...]] = {
    "move": ("the member who relocated to {city}", "whoever recently moved to {city}",
             "the person who swapped {old} for {city}"),
    "home": ("the person who lives in {city}", "the member based in {city}", "whoever calls {city} home"),
    "home_before": ("the person who used to live in {city}", "whoever moved away from {city}"),
    "pet": ("the owner of the {kind}", "the member who has a pet {kind}", "whoever looks after {pet}"),
    "job": ("the person employed at {company}", "whoever works for {company}", "the {company} employee"),
    "hobby": ("the member who's into {hobby}", "the person whose hobby is {hobby}",
              "whoever spends free time on {hobby}"),
    "trip": ("the member with the trip to {dest}", "the person with a {dest} holiday"),
    "family": ("the person whose {rel} is named {fam}", "the member with a {rel} called {fam}"),
    "purchase": ("the person who bought {item}", "whoever splashed out on {item}", "the member who got {item}"),
    "milestone": ("the person who {done}", "the member who recently {done}"),
}  # fmt: skip
# ... and what is asked about them (the other fact): templates with {who}, and the answer.
ASK: dict[str, tuple[tuple[str, ...], str]] = {
    "pet_name": (("What is the pet of {who} called?", "What name does the pet of {who} have?"), "{pet} (a {kind})"),
    "pet_kind": (("What animal does {who} have at home?", "Which kind of pet belongs to {who}?"), "a {kind} ({pet})"),
    "employer": (("Which company does {who} work for?", "Who is the employer of {who}?"), "{company}"),
    "role": (("What does {who} do for work?", "What is the job of {who}?"), "{role}"),
    "city_now": (("Which city does {who} live in now?", "Where is {who} based at the moment?"), "{city}"),
    "hobby": (("What hobby does {who} have?", "What does {who} do in their free time?"), "{hobby}"),
    "trip": (("Which city was the destination of the trip by {who}?", "Where did {who} travel to?"), "{dest}"),
    "family": (("What is the {rel} of {who} called?", "What is the name of the {rel} of {who}?"), "{fam}"),
    "purchase": (("What did {who} buy?", "What purchase did {who} make?"), "{thing}"),
    "milestone": (("What milestone did {who} celebrate?", "What did {who} achieve?"), "{done}"),
}  # fmt: skip
# Person -> employer -> head office; the company is the bridge.
CHAIN = (
    "In which city is the company {name} works for headquartered?",
    "Where is the head office of {name}'s employer?",
    "Which city is home to the headquarters of the firm that employs {name}?",
)

# Temporal: each dated fact kind as a verb phrase (base form) and as a gerund.
EVENT_BASE = {
    "move": "relocate to {city}", "pet": "adopt {pet}", "job": "start working at {company}",
    "trip": "get back from {dest}", "purchase": "get the {thing}", "milestone": "{do}",
}  # fmt: skip
EVENT_GERUND = {
    "move": "relocating to {city}", "pet": "adopting {pet}", "job": "starting at {company}",
    "trip": "returning from {dest}", "purchase": "getting the {thing}", "milestone": "{achieving}",
}  # fmt: skip
WHEN = ("When did {name} {base}?", "On what date did {name} {base}?", "What day did {name} {base}?",
        "Roughly when did {name} {base}?")  # fmt: skip
ORDER = ("Which came first for {name}: {a} or {b}?", "For {name}, which happened earlier, {a} or {b}?",
         "What did {name} do first, {a} or {b}?")  # fmt: skip
GAP = ("How many days after {anchor} did {name} {base}?", "How long after {anchor} did {name} {base}?")
# What happened close to another event, by the asked event's kind: question and answer.
RELATIVE: dict[str, tuple[str, str]] = {
    "purchase": ("What did {name} buy {when} {anchor}?", "{thing}"),
    "pet": ("Which animal did {name} adopt {when} {anchor}?", "a {kind} named {pet}"),
    "move": ("Which city did {name} move to {when} {anchor}?", "{city}"),
    "job": ("Which company did {name} join {when} {anchor}?", "{company}"),
    "milestone": ("What did {name} achieve {when} {anchor}?", "{done}"),
    "trip": ("Which city did {name} return from {when} {anchor}?", "{dest}"),
}

# Open-domain: a fact plus general knowledge, by what is asked: templates and the answer.
OPEN: dict[str, tuple[tuple[str, ...], str]] = {
    "trip_continent": (("On which continent is the city {name} {went}?",
                        "Which continent does {name}'s trip take place on?"), "{continent} ({dest}, {country})"),
    "trip_country": (("Which country is the city {name} {went} in?",
                      "In what country is {name}'s holiday destination?"), "{country} ({dest})"),
    "trip_language": (("Which language is mainly spoken where {name} {went}?",
                       "What language would {name} mostly hear at the holiday destination?"),
                      "{language} ({dest}, {country})"),
    "trip_currency": (("What currency would {name} pay with on the trip?",
                       "Which money does {name} need at the holiday destination?"), "{currency} ({dest}, {country})"),
    "city_country": (("Which country does {name} live in now?", "In what country is {name} currently based?"),
                     "{country} ({city})"),
    "city_continent": (("On which continent does {name} live these days?",
                        "Which continent is {name}'s current home on?"), "{continent} ({city})"),
    "pet_class": (("Is {name}'s pet a mammal, a bird, a reptile or an amphibian?",
                   "What class of animal is {name}'s pet?"), "{klass} (a {kind})"),
    "pet_cover": (("Does {name}'s pet have fur, feathers, scales or smooth skin?",
                   "What covers the body of {name}'s pet?"), "{cover} (a {kind})"),
    "hq_country": (("Which country are {company_s} headquarters in?", "In what country is {company} based?"),
                   "{hq_country} ({hq})"),
}  # fmt: skip
