"""The wording of the "timeline" set's questions by kind (`timeline_questions.py`; "now" is with its topic)."""

from __future__ import annotations

# fmt: off
IN_MONTH = {"fact": ("What was {noun} in {month}?", "Back in {month}, what was {noun}?",
                     "Remind me, {noun} during {month}?", "Thinking back to {month}: what was {noun}?"),
            "oncall": ("Who was on call in {month}?", "Who held the pager during {month}?",
                       "List the on-call people for {month}.")}
RECENT = {
    "last-week": {"fact": ("What did {noun} change to last week?", "Last week {noun} changed, to what?",
                           "What's {noun} after last week's change?"),
                  "oncall": ("Who was on call last week?", "Who had the pager last week?",
                             "Last week's on-call person was who?")},
    "yesterday": {"fact": ("What did {noun} change to yesterday?", "There was an update to {noun} yesterday, to what?",
                           "What was yesterday's change to {noun}?"),
                  "oncall": ("Who took over the pager yesterday?", "Who started on call yesterday?")},
}
BEFORE = ("What was {noun} before {event}?", "Before {event}, what was {noun}?",
          "Just before {event}, what was {noun}?",
          "What did we have as {noun} right before {event}?")
SINCE_ANY = ("What changed since {since}?", "I've been away since {since}, what's different?",
             "Catch me up on the changes since {since}.", "Which team logistics changed since {since}?")
SINCE_TOPIC = ("How has {noun} changed since {since}?", "What updates to {noun} have there been since {since}?",
               "Since {since}, what happened to {noun}?")
FIRST = ("When did we first talk about {phrase}?", "When did {phrase} first come up?",
         "What's the earliest mention of {phrase} in the chat?", "Who first brought up {phrase}, and when?",
         "When was {phrase} mentioned for the first time?")
EVENT_QUESTIONS = {  # kind -> question kind -> templates ({month}, {subject} where it applies)
    "outage": {"last-week": ("Which outage happened last week?", "What went down last week, and why?",
                             "Remind me what last week's incident was."),
               "yesterday": ("What broke yesterday?", "Which service had an outage yesterday?"),
               "in-month": ("Which outages did we have in {month}?", "What incidents hit us in {month}?")},
    "decision": {"last-week": ("What did we decide about {subject} last week?",
                               "Last week, where did we land on {subject}?", "What did the team decide last week?"),
                 "yesterday": ("What did we decide yesterday?", "What did we settle about {subject} yesterday?"),
                 "in-month": ("What did we decide in {month}?", "Which decisions were made in {month}?")},
    "launch": {"last-week": ("What did we launch last week?", "Which feature went live last week?"),
               "yesterday": ("What shipped to users yesterday?", "What went live yesterday?"),
               "in-month": ("What did we launch in {month}?", "Which launch happened in {month}?")},
    "hire": {"last-week": ("Who joined the team last week?", "Who was the new starter last week?"),
             "yesterday": ("Who started yesterday?", "Who's the new person who joined yesterday?"),
             "in-month": ("Who joined us in {month}?", "Which new people started in {month}?")},
    "offsite": {"last-week": ("Where was last week's offsite?", "Where did the team go for the offsite last week?"),
                "yesterday": ("Where was the offsite yesterday?",), "in-month": ("Where was the offsite in {month}?",)},
}
# fmt: on
