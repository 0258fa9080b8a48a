"""The words of the "timeline" set: people, channels, changing facts, events, recurring discussions, filler chat."""

from __future__ import annotations

from typing import NamedTuple

# fmt: off
# (name, role); the first seven are there from the start, the last three are hired during the period
PEOPLE = (
    ("Maya", "engineering manager"), ("Liam", "backend engineer"), ("Priya", "staff engineer"),
    ("Tomás", "frontend engineer"), ("Sofia", "product manager"), ("Kenji", "SRE"), ("Noor", "data engineer"),
    ("Ana", "backend engineer"), ("Ben", "product designer"), ("Zoe", "SRE"),
)
HIRED = 3
CHANNELS = {"general": "820000000000000101", "engineering": "820000000000000102",
            "incidents": "820000000000000103", "random": "820000000000000104"}
# fmt: on


class Topic(NamedTuple):
    """How one changing fact is talked about: {v} is its value, {when} when an early announcement takes effect."""

    noun: str
    channel: str
    ahead_p: float  # how often a change is announced before it takes effect
    values: tuple[str, ...]  # the pool values are drawn from (empty: made by the builder)
    state: tuple[str, ...]  # saying the value (the first time, or again when someone asks)
    change: tuple[str, ...]  # a change that holds from the moment it is said
    ahead: tuple[str, ...]  # a change announced early
    remind: tuple[str, ...]  # the day an announced change takes effect
    ask: tuple[str, ...]  # someone asking for the value
    now: tuple[str, ...]  # questions about the value in force


# fmt: off
TOPICS = {
    "standup": Topic(
        "the daily standup time", "general", 0.6, ("09:30", "10:00", "09:15", "10:15", "09:45", "10:30"),
        ("standup is at {v} every day, calendar invite is in your inbox", "daily standup: {v}, same video link"),
        ("ok team, standup is at {v} from today on", "we're shifting standup to {v}, effective immediately"),
        ("heads up: {when} standup moves to {v}", "after the poll: {when} our daily standup will be at {v}"),
        ("reminder: standup is at {v} starting today", "new standup slot kicks in today: {v}"),
        ("what time is standup these days?", "when's standup, I keep forgetting"),
        ("What time is standup now?", "When is the daily standup these days?", "What's our current standup slot?",
         "standup time at the moment?"),
    ),
    "oncall": Topic(
        "the on-call person", "incidents", 0.35, (),
        ("on call this week: {v} 📟", "{v} has the pager this week", "pager handover done, {v} is on call"),
        ("swap: {v} takes the pager for the rest of the week, {prev} is out sick",),
        ("next week's on-call is {v}", "heads up {v}, you're on call from Monday"),
        ("morning! {v} is on call from today", "pager is with {v} now"),
        ("who's on call right now?", "who do I ping about this prod alert?"),
        ("Who is on call right now?", "Who has the pager at the moment?", "Who should I page if prod breaks now?",
         "Who's currently on call?"),
    ),
    "wifi": Topic(
        "the office wifi password", "general", 0.0, (),
        ("office wifi password is {v}", "wifi: network KestrelHQ, password {v}"),
        ("we rotated the office wifi password, new one is {v}", "IT changed the wifi pw, it's {v} now",
         "security asked us to change the wifi password after the visitor day: {v}"),
        (), (),
        ("what's the wifi password?", "can someone DM me the wifi pw? my laptop forgot it"),
        ("What's the office wifi password now?", "Which password gets me on the office wifi today?",
         "What is the current wifi password?", "I'm at the office, what's the wifi password at the moment?"),
    ),
    "release": Topic(
        "the release version", "engineering", 0.0, (),
        ("prod is on {v}", "current release is {v}"),
        ("{v} is out 🎉 release notes are in the doc", "tagged and shipped {v} to production",
         "{v} released, smooth rollout"),
        (), (),
        ("what version is prod on?", "which release are we on currently?"),
        ("What's the latest release?", "Which version is in production now?", "What release are we on at the moment?",
         "What's the newest version we've shipped?"),
    ),
    "freeze": Topic(
        "the deploy freeze schedule", "engineering", 0.5,
        ("Fridays", "Thursday afternoons and Fridays", "Fridays after 14:00", "Mondays before noon and Fridays",
         "the last two days of every sprint"),
        ("reminder: no prod deploys on {v}", "deploy freeze is {v}, plan merges around it"),
        ("new rule: deploy freeze on {v} from now on", "we're changing the freeze, no prod deploys on {v}"),
        ("{when} the deploy freeze will be {v}", "heads up, {when} we freeze deploys on {v}"),
        ("freeze rule changes today: no deploys on {v}",),
        ("can I deploy today or are we frozen?", "when is the deploy freeze again?"),
        ("When are deploys frozen these days?", "Which days can't we deploy right now?",
         "What are the current deploy freeze days?"),
    ),
    "lead": Topic(
        "the team lead", "general", 0.5, (),
        ("{v} is our team lead, take escalations there", "for anything people-related, {v} is the lead"),
        ("news: {v} is taking over as team lead, effective today", "{v} is the new team lead, congrats!"),
        ("heads up: {when} {v} takes over as team lead", "org update: {when} the team will be led by {v}"),
        ("today's the day: {v} is officially our team lead",),
        ("who is the team lead now? need approval for leave", "who signs off on hiring stuff, who's lead?"),
        ("Who is the team lead now?", "Who leads the team at the moment?", "Who's our current team lead?"),
    ),
    "office": Topic(
        "the office address and floor", "general", 0.8,
        ("Harbour Street 12, 3rd floor", "Harbour Street 12, 5th floor", "Canal Road 88, 2nd floor",
         "Mill Lane 4, 1st floor", "Quayside 21, 6th floor"),
        ("our office is at {v}", "visitors: the address is {v}, ring the Kestrel bell"),
        ("we've moved! new office: {v}", "move done, we're now at {v}"),
        ("we're moving: {when} the new address is {v}", "logistics: {when} we'll be working from {v}"),
        ("first day at {v}! keys at reception",),
        ("what's the office address? ordering a delivery", "which floor are we on again?"),
        ("What's our office address now?", "Where is the office these days (address and floor)?",
         "Which address and floor is the team at right now?"),
    ),
    "sprint": Topic(
        "the sprint length", "engineering", 0.6, ("2 weeks", "3 weeks", "1 week", "4 weeks"),
        ("sprints are {v} long", "reminder, our sprint length is {v}"),
        ("retro outcome: sprints are now {v}", "we're switching the sprint length to {v}, starting with this one"),
        ("{when} sprints become {v} long", "planning note: {when} we go to {v} sprints"),
        ("first sprint on the new cadence starts today: {v}",),
        ("how long are sprints again?", "is the sprint still the same length?"),
        ("How long is a sprint currently?", "What's our sprint length these days?",
         "How many weeks does a sprint last now?"),
    ),
    "coffee": Topic(
        "the coffee machine status", "random", 0.0, (),
        ("coffee machine status: {v}", "☕ the machine: {v}"),
        ("coffee machine update: {v}", "☕ PSA: {v}", "kitchen news, coffee machine is {v}"),
        (), (),
        ("is the coffee machine working?", "anyone know what's up with the coffee machine?"),
        ("Is the coffee machine working right now?", "What's the coffee machine situation at the moment?",
         "Can I get coffee from the machine today?"),
    ),
    "demo": Topic(
        "the demo room", "general", 0.4, ("Fjord", "Atlas", "Orbit", "Juniper", "Lighthouse"),
        ("demos are in the {v} room", "sprint demo happens in {v} as usual"),
        ("we lost our usual slot, demos move to the {v} room", "demo room is now {v}, it has the bigger screen"),
        ("{when}, demos will be in the {v} room", "booking change: {when} the sprint demo is in {v}"),
        ("demo today is in the {v} room, the new place",),
        ("where's the demo today?", "which room for the demo?"),
        ("Which room are demos in now?", "Where do we hold sprint demos these days?",
         "What's the current demo room?"),
    ),
    "staging": Topic(
        "the staging URL", "engineering", 0.5,
        ("https://staging.kestrel.dev", "https://stg.kestrel-internal.net", "https://staging-eu.kestrel.cloud",
         "https://preview.kestrel.dev", "https://qa.kestrel.cloud"),
        ("staging lives at {v}", "staging url: {v}"),
        ("staging moved to {v}, update your bookmarks", "new staging environment is up at {v}, the old one is gone"),
        ("{when} staging moves to {v}", "infra note: {when} staging will be served from {v}"),
        ("staging cut-over done: {v}",),
        ("what's the staging link again?", "staging url? the old one 404s"),
        ("What's the staging URL now?", "Where is staging hosted at the moment?",
         "Which URL should I use for staging?"),
    ),
}
WIFI_WORDS = (("Quiet", "Amber", "Salty", "Brave", "Lucky", "Misty", "Rapid"),
              ("Otter", "Heron", "Walrus", "Falcon", "Badger", "Lynx", "Puffin"))
COFFEE = (
    "working fine",
    ("out of order, the grinder jammed", "leaking water everywhere, do not use it",
     "showing a descale error and won't brew"),
    ("working again after the repair", "fixed, the technician came by this morning",
     "replaced with a brand-new bean-to-cup machine"),
)

# one-off events: what each is about, and its script (see SCRIPTS)
OUTAGES = (
    ("payments API", "502s on checkout", "an expired TLS certificate on the load balancer"),
    ("login service", "nobody can sign in", "the session store running out of memory"),
    ("search", "search returning empty results", "a bad index migration"),
    ("image CDN", "broken images across the app", "a misconfigured cache rule"),
    ("email queue", "password reset emails not arriving", "a stuck worker after the mail provider rotated keys"),
    ("public API", "timeouts for every API client", "a runaway database query from the reports job"),
    ("webhooks", "customer webhooks firing twice", "a retry loop introduced by the deploy"),
    ("mobile push", "push notifications not delivered", "an expired APNs key"),
    ("DNS", "the site unreachable for some users", "our DNS provider's regional outage"),
)
LAUNCHES = (
    ("dark mode", "the toggle is in settings"), ("the new billing page", "customers can switch plans themselves"),
    ("the mobile app beta", "500 testers invited"), ("public API v2", "docs are live too"),
    ("scheduled reports", "the first reports went out at 06:00"),
)
OFFSITES = (("Lisbon", "a co-working loft in Alfama"), ("Kraków", "a villa outside the old town"),
            ("Ghent", "a canal-side studio"), ("Porto", "a wine lodge in Gaia"))
EVENT_CHANNEL = {"hire": "general", "launch": "general", "offsite": "general", "outage": "incidents",
                 "decision": "engineering"}
# kind -> steps: (first day, last day relative to the event, first hour, last hour, chance, templates, by the hire)
SCRIPTS = {
    "hire": (
        (-5, -3, 8, 17, 1.0, ("{name} joins on Monday as our new {role} 🎉",
                              "good news: we hired a {role}, {name}, starting next Monday"), False),
        (0, 0, 7.5, 9.5, 1.0, ("welcome {name}! first day today, say hi",
                               "please welcome {name}, our new {role}, who started today"), False),
        (0, 0, 9.6, 12, 1.0, ("hi all, I'm {name}, the new {role}. excited to be here!",
                              "hello! {name} here, just started. where are the snacks?"), True),
    ),
    "launch": (
        (0, 0, 8, 15, 1.0, ("🚀 {name} is live! {detail}", "we just shipped {name} to everyone, {detail}",
                            "{name} launched today. {detail}"), False),
        (1, 3, 8, 17, 0.7, ("{name}: first-day numbers look good, no errors so far",
                            "update on {name} after launch: support tickets are flat, nice work all"), False),
    ),
    "offsite": (
        (-35, -21, 8, 17, 1.0, ("team offsite is booked: {city}, {day}, at {venue}",
                                "save the date: offsite in {city} on {day} ({venue})"), False),
        (-1, -1, 8, 17, 1.0, ("reminder: the {city} offsite is tomorrow, travel details are in the calendar",), False),
        (1, 1, 8, 17, 1.0, ("thanks all for the {city} offsite, session notes are in the drive",
                            "{city} was great, photos from the offsite are in the album"), False),
    ),
    "outage": (
        (0, 0, 7, 11, 1.0, ("🔥 {service} is down: {symptom}. looking into it",
                            "anyone else seeing {symptom}? {service} looks broken",
                            "incident open for {service}: {symptom}"), False),
        (0, 0, 11.5, 14, 1.0, ("{service} is back up. cause was {cause}", "all clear on {service}: it was {cause}",
                               "resolved: {service} recovered, root cause {cause}"), False),
        (1, 5, 8, 17, 0.6, ("postmortem for the {service} outage is in the wiki: {cause}, about {minutes} minutes down",
                            "wrote up the {service} incident ({cause}), action items assigned"), False),
    ),
    "decision": ((0, 0, 8, 17, 1.0, ("{decision}",), False),),
}
# fmt: on


class Thread(NamedTuple):
    """A subject that comes up again and again; `decision` (if any) settles it, `subject` names it in questions."""

    key: str
    phrase: str  # "dropping Redis": for "when did we first talk about ..."
    subject: str  # "Redis": for "what did we decide about ..."
    decided: str  # "we decided to drop Redis": a reference to the decision
    mentions: tuple[str, ...]  # the first one is the first time it comes up
    decision: str = ""
    answer: str = ""


# fmt: off
THREADS = (
    Thread("redis", "dropping Redis", "Redis", "we decided to drop Redis",
           ("redis ate all its memory again overnight, honestly should we just get rid of it?",
            "another redis eviction storm today... the case for dropping it keeps growing",
            "spike result: caching in the main database instead of redis, latency barely moves"),
           "we decided: Redis goes, caching moves to the main database. migration ticket is up",
           "drop Redis and cache in the main database"),
    Thread("linear", "switching from Jira to Linear", "the issue tracker", "we chose Linear over Jira",
           ("jira is painfully slow today, has anyone tried linear?",
            "tried linear on a side project, the keyboard shortcuts alone are worth it",
            "exported a sample of our jira board into linear, looks workable"),
           "decision: we're moving from Jira to Linear, migration over the next sprint", "move from Jira to Linear"),
    Thread("nomeet", "a meeting-free day", "meetings", "we made Wednesdays meeting-free",
           ("my calendar is wall-to-wall meetings, could we protect one day a week from them?",
            "another week with zero focus time. the no-meetings-day idea again?",
            "sofia's survey: most of us would love one day without meetings"),
           "agreed: Wednesdays are meeting-free, decline anything that lands there", "Wednesdays are meeting-free"),
    Thread("trunk", "trunk-based development", "our branching model", "we went trunk-based",
           ("long-lived branches bit us again, merge hell on the search work. trunk-based anyone?",
            "read a good piece on trunk-based development, sharing in the doc",
            "if we merged to main daily we'd never have had last week's conflict mess"),
           "we decided to go trunk-based: short branches, merge to main every day", "trunk-based development"),
    Thread("sentry", "replacing Rollbar with Sentry", "error tracking", "we picked Sentry",
           ("rollbar grouped three different errors as one again, sentry does this better imo",
            "rollbar's bill went up 30%, the sentry quote is half that",
            "set up a sentry trial project, the stack traces are much nicer"),
           "decided: we replace Rollbar with Sentry, DSNs will be in the vault", "replace Rollbar with Sentry"),
    Thread("monorepo", "merging our repos into a monorepo", "the repo layout", "we agreed on the monorepo",
           ("bumping the shared lib in four repos took me all afternoon. monorepo?",
            "looked at how others run monorepos, the CI caching part is the tricky bit",
            "monorepo pros and cons doc is ready for comments"),
           "decision made: the web, api and worker repos merge into one monorepo", "merge the repos into a monorepo"),
    Thread("pg16", "upgrading to Postgres 16", "the database version", "we scheduled the Postgres 16 upgrade",
           ("postgres 12 goes end of life soon, we should plan an upgrade",
            "tested our migrations against postgres 16 locally, two warnings only",
            "the postgres upgrade needs a maintenance window, any objections to a weekend?"),
           "we're upgrading the main database to Postgres 16, maintenance window next weekend",
           "upgrade the main database to Postgres 16"),
    Thread("changelog", "a weekly changelog for customers", "release communication", "we started the changelog",
           ("customers keep asking what changed, should we post a changelog every week?",
            "support says a public changelog would cut tickets about 'what is this new button'",
            "drafted what a weekly changelog post could look like"),
           "decided: a changelog post goes out every Friday, the PM writes it", "a weekly changelog every Friday"),
    Thread("flags", "feature flags with Unleash", "feature flags", "we adopted Unleash",
           ("we keep hiding unfinished features behind env vars, time for proper feature flags?",
            "unleash looks like the self-hosted feature flag option that fits us",
            "ran unleash locally, the SDK is tiny"),
           "decision: feature flags go through Unleash, no more env-var toggles", "use Unleash for feature flags"),
    Thread("office", "moving office", "", "",
           ("we're running out of desks, time to look for a bigger office?",
            "toured a space across town today for a possible move, great light",
            "the landlord sent a lease draft for the new place")),
    Thread("hiring", "hiring another backend engineer", "", "",
           ("we're drowning in backend tickets, can we get headcount for another backend dev?",
            "budget approved for one more backend hire!", "interviewed two strong backend candidates today")),
    Thread("offsite", "a team offsite", "", "",
           ("we haven't all been in one place in ages, what about an offsite this spring?",
            "offsite poll: city break or cabin in the woods?", "shortlisted three cities for the offsite")),
    Thread("darkmode", "dark mode", "", "",
           ("third customer this week asking for dark mode 😅",
            "sketched a dark theme over the weekend, contrast needs work",
            "dark mode is behind a flag on staging, feedback welcome")),
    Thread("k8s", "moving to Kubernetes", "", "",
           ("our deploy scripts are held together with tape, should we look at kubernetes?",
            "k8s spike notes: a managed cluster would cost about the same as our VMs",
            "parking the kubernetes idea until after the summer, too much going on")),
    Thread("desks", "standing desks", "", "",
           ("my back hates me, any chance of standing desks?",
            "facilities said standing desks are possible if we order five or more",
            "standing desk survey: six of us want one")),
)

# filler: an exchange is one or more lines, each by a different person ("|" separates them)
FILLER = {
    "general": (
        "morning all ☀️|morning!", "who's in today?|in after lunch|remote today, dentist in the morning",
        "reminder that the kitchen fridge gets cleared on {day}",
        "parcel for {person} at reception|thanks, grabbing it",
        "anyone have a spare HDMI adapter?|there's one in the drawer by the printer",
        "fire alarm test at 11, don't panic",
        "I'm off on {day}, {person} covers my reviews", "happy birthday {person}! 🎂|🎉🎉|cake in the kitchen at 3",
        "the printer is jammed again|of course it is", "who took the big whiteboard marker?|guilty, putting it back",
        "can we keep standup short today? I have a hard stop|sure",
        "running a few minutes late to standup, start without me",
        "lost a black umbrella, shout if you see it", "is anyone else cold? the heating seems off|freezing here too",
        "all-hands slides are in the drive|thanks!", "my 1:1 with {person} moved to tomorrow",
        "leaving early today, ping my phone if urgent", "quarterly goals draft is up for comments|will read tonight",
        "who's organising the summer party?|{person} volunteered 😄",
        "the plants by the window look sad, who waters them?",
        "there are leftover sandwiches from the customer visit|on my way",
    ),
    "engineering": (
        "can someone review PR #{pr}? small fix in {component}|on it|approved, one nit",
        "flaky test in {component} again 🙃|retrying CI|I'll quarantine it and open {ticket}",
        "found a bug: {bug}|ugh, is there a ticket?|{ticket}", "CI queue is 20 minutes today|runners are being updated",
        "pairing on {component} this afternoon if anyone wants to join|me!", "TIL {til}|nice",
        "should {component} return 404 or 422 here?|422, it's a validation error|agree",
        "lint is failing on main, who merged without checks?|my bad, fixing",
        "release notes draft is open, add your bits",
        "the {component} refactor is finally merged 🎉|huge",
        "does anyone understand the retry logic in {component}?|barely",
        "bumped the dependencies, tests green", "type errors in {component} after the upgrade, looking",
        "load test for {component}: p95 went from {n1}ms to {n2}ms|nice win",
        "who owns {component} these days?|{person}",
        "writing a design note for {component}, comments welcome", "sprint planning board is ready, add estimates pls",
        "{bug}, can anyone reproduce?|yes, on Firefox|fix incoming in PR #{pr}", "retro notes are in the doc|thanks",
        "{component} really needs a tidy-up after this sprint", "demo prep: who's showing {component}?|me",
    ),
    "incidents": (
        "pager was quiet last night 😴", "alert for disk usage on worker-{n0}, cleaned up old logs",
        "deploying {component} now|👀|done, looks healthy",
        "noisy alert on {component} latency again, tuning the threshold",
        "rolling back the {component} deploy, error rate went up|rolled back, investigating",
        "backup restore drill passed ✅",
        "status page updated for the scheduled maintenance", "grafana dashboards for {component} are cleaned up",
        "handover notes are in the on-call doc", "who acknowledged the 3am alert?|me, false positive",
        "staging is slow today, someone running a load test?|yeah me, done in 10",
        "certificate renewals for next month are scheduled", "error budget for {component} is fine this month",
    ),
    "random": (
        "lunch? thinking {food}|in|yes please|can't today", "best {food} near the office?|{place}, no contest",
        "what's everyone doing this weekend?|{weekend}|{weekend}", "anyone watching {show}?|no spoilers!!",
        "{sport} tonight, who's in?|me|maybe", "cake in the kitchen, help yourselves 🍰", "rain again. summer where",
        "weekend recap: {weekend}|nice!",
        "podcast recommendations?|{podcast}", "photo of my cat reviewing my PR 🐈|10/10",
        "someone's lunch has been in the fridge since {day}...", "brought fancy beans, they're in the cupboard",
        "{food} on {day} for the team lunch?|yes|👍", "the bakery downstairs has cinnamon buns today",
    ),
}
WEEKEND = ("quiet weekend, finally read a book", "anyone up for a hike on Sunday?|maybe, depends on the rain",
           "made sourdough, it's edible 😅")
SLOTS = {
    "food": ("ramen", "tacos", "falafel", "sushi", "pizza", "dumplings", "burritos", "pho", "curry"),
    "place": ("the ramen spot on Dock Street", "Mama Rosa's", "the food trucks by the station", "Green Bowl"),
    "weekend": ("hiking if the weather holds", "moving flats, send help", "my sister's wedding", "doing nothing",
                "climbing and a long brunch", "repainting the kitchen", "a bike trip to the coast", "board games"),
    "component": ("the billing service", "auth", "the search indexer", "the reports job", "the web client",
                  "the notifications worker", "the admin panel", "the export pipeline", "the API gateway"),
    "bug": ("times in the invoice PDF are off by an hour", "the date picker skips February 29",
            "CSV export drops the last row", "avatars don't load in Safari", "the retry button fires twice",
            "long names overflow the sidebar"),
    "show": ("Severance", "The Bear", "the Tour de France", "the new Dune"),
    "sport": ("five-a-side football", "padel", "bouldering", "table tennis"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "til": ("you can run a single pytest by node id", "git worktree exists", "jq can do arithmetic",
            "sqlite has a JSON extension"),
    "podcast": ("Darknet Diaries", "Software Engineering Daily", "99% Invisible", "Oxide and Friends"),
    "pr": tuple(str(n) for n in range(1200, 2900, 7)), "ticket": tuple(f"KES-{n}" for n in range(100, 999, 3)),
    "n0": ("1", "2", "3", "4", "5", "6"), "n1": tuple(str(n) for n in range(300, 900, 10)),
    "n2": tuple(str(n) for n in range(90, 290, 10)),
}
# fmt: on
