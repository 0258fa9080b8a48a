"""The words of the "conversations" set's cast: channels, value pools, how each fact is said and reacted to."""

from __future__ import annotations

# Channels of the fictional server; "general" is the busiest, as on most servers.
CHANNELS: tuple[tuple[str, str, int], ...] = (
    ("general", "800000000000000101", 5),
    ("travel", "800000000000000102", 2),
    ("food", "800000000000000103", 2),
    ("work", "800000000000000104", 2),
    ("games", "800000000000000105", 2),
    ("pets", "800000000000000106", 2),
)

# Where each fact kind is usually said; any channel is possible too (people drift off-topic).
FACT_CHANNELS: dict[str, tuple[str, ...]] = {
    "home": ("general", "travel"),
    "move": ("general",),
    "pet": ("pets",),
    "job": ("work",),
    "hq": ("work",),
    "hobby": ("games", "general"),
    "trip": ("travel",),
    "family": ("general", "food"),
    "purchase": ("general", "games"),
    "milestone": ("general",),
}

NAMES = (
    "Priya", "Omar", "Lena", "Mateo", "Yuki", "Sam", "Aisha", "Jonas",
    "Chloe", "Diego", "Nadia", "Felix", "Ines", "Tariq", "Hana", "Ravi",
)  # fmt: skip

# (city, country, continent): where personas live; never a trip destination or a head office.
HOMES = (
    ("Leeds", "the United Kingdom", "Europe"),
    ("Lyon", "France", "Europe"),
    ("Porto", "Portugal", "Europe"),
    ("Lisbon", "Portugal", "Europe"),
    ("Tallinn", "Estonia", "Europe"),
    ("Gdansk", "Poland", "Europe"),
    ("Austin", "the United States", "North America"),
    ("Toronto", "Canada", "North America"),
    ("Denver", "the United States", "North America"),
    ("Glasgow", "the United Kingdom", "Europe"),
    ("Rotterdam", "the Netherlands", "Europe"),
    ("Valencia", "Spain", "Europe"),
    ("Wellington", "New Zealand", "Oceania"),
    ("Montreal", "Canada", "North America"),
    ("Munich", "Germany", "Europe"),
    ("Cork", "Ireland", "Europe"),
    ("Bristol", "the United Kingdom", "Europe"),
    ("Adelaide", "Australia", "Oceania"),
    ("Curitiba", "Brazil", "South America"),
    ("Osaka", "Japan", "Asia"),
)

# (city, country, continent, language, currency): trip destinations.
DESTINATIONS = (
    ("Lima", "Peru", "South America", "Spanish", "the Peruvian sol"),
    ("Kyoto", "Japan", "Asia", "Japanese", "the Japanese yen"),
    ("Oslo", "Norway", "Europe", "Norwegian", "the Norwegian krone"),
    ("Nairobi", "Kenya", "Africa", "Swahili and English", "the Kenyan shilling"),
    ("Reykjavik", "Iceland", "Europe", "Icelandic", "the Icelandic króna"),
    ("Hanoi", "Vietnam", "Asia", "Vietnamese", "the Vietnamese dong"),
    ("Marrakesh", "Morocco", "Africa", "Arabic (and Berber, with French widely used)", "the Moroccan dirham"),
    ("Buenos Aires", "Argentina", "South America", "Spanish", "the Argentine peso"),
    ("Melbourne", "Australia", "Oceania", "English", "the Australian dollar"),
    ("Seoul", "South Korea", "Asia", "Korean", "the South Korean won"),
    ("Mexico City", "Mexico", "North America", "Spanish", "the Mexican peso"),
    ("Cape Town", "South Africa", "Africa", "English, Afrikaans and Xhosa", "the South African rand"),
    ("Vancouver", "Canada", "North America", "English", "the Canadian dollar"),
    ("Bangkok", "Thailand", "Asia", "Thai", "the Thai baht"),
)

COMPANIES = (
    "Brightloop",
    "Northwind Labs",
    "Quillstone",
    "Larkspur Health",
    "Tidewell",
    "Copperleaf Games",
    "Fernhill Analytics",
    "Bluefin Logistics",
    "Parcelry",
    "Kestrel Robotics",
    "Moonbeam Studios",
    "Greyhawk Insurance",
)
# (city, country): head offices of the companies.
HEAD_OFFICES = (
    ("Helsinki", "Finland"),
    ("Dublin", "Ireland"),
    ("Zurich", "Switzerland"),
    ("Copenhagen", "Denmark"),
    ("Seattle", "the United States"),
    ("Boston", "the United States"),
    ("Berlin", "Germany"),
    ("Amsterdam", "the Netherlands"),
    ("Edinburgh", "the United Kingdom"),
    ("Vienna", "Austria"),
    ("Barcelona", "Spain"),
    ("Prague", "the Czech Republic"),
)
# No role starts with a vowel, so "a {role}" always reads right.
ROLES = (
    "backend developer",
    "UX designer",
    "data analyst",
    "product manager",
    "QA engineer",
    "support lead",
    "marketing manager",
    "sound designer",
    "logistics coordinator",
    "hardware engineer",
    "recruiter",
    "copywriter",
)

# (kind, class, body covering); no kind starts with a vowel.
PETS = (
    ("dog", "a mammal", "fur"),
    ("cat", "a mammal", "fur"),
    ("parrot", "a bird", "feathers"),
    ("rabbit", "a mammal", "fur"),
    ("hamster", "a mammal", "fur"),
    ("tortoise", "a reptile", "scales and a shell"),
    ("ferret", "a mammal", "fur"),
    ("gecko", "a reptile", "scales"),
    ("guinea pig", "a mammal", "fur"),
    ("cockatiel", "a bird", "feathers"),
    ("bearded dragon", "a reptile", "scales"),
    ("tree frog", "an amphibian", "smooth, moist skin"),
)
PET_NAMES = (
    "Biscuit",
    "Miso",
    "Pickle",
    "Noodle",
    "Waffles",
    "Mango",
    "Pepper",
    "Ziggy",
    "Olive",
    "Tofu",
    "Basil",
    "Juniper",
)

# (hobby, what doing it sounds like in chat)
HOBBIES = (
    ("bouldering", "bouldering at the climbing gym"),
    ("pottery", "throwing bowls at the pottery studio"),
    ("chess", "playing chess online"),
    ("sourdough baking", "feeding my starter and baking loaves"),
    ("birdwatching", "out with binoculars spotting birds"),
    ("woodworking", "building shelves in the garage"),
    ("knitting", "knitting scarves"),
    ("salsa dancing", "going to salsa classes"),
    ("trail running", "running muddy trails"),
    ("watercolour painting", "painting watercolours"),
    ("beekeeping", "looking after my beehives"),
    ("sailing", "out sailing on the lake"),
    ("calligraphy", "practising calligraphy"),
    ("foraging", "foraging for mushrooms in the woods"),
)
# (as said, bare name)
ITEMS = (
    ("a kayak", "kayak"),
    ("an e-bike", "e-bike"),
    ("a 3D printer", "3D printer"),
    ("a telescope", "telescope"),
    ("a standing desk", "standing desk"),
    ("an espresso machine", "espresso machine"),
    ("a second-hand Vespa", "Vespa"),
    ("a drum kit", "drum kit"),
    ("a sewing machine", "sewing machine"),
    ("a drone", "drone"),
    ("a record player", "record player"),
    ("a projector", "projector"),
    ("a paddleboard", "paddleboard"),
    ("a mechanical keyboard", "mechanical keyboard"),
)
# (first person past, base form, third person past, gerund)
MILESTONES = (
    ("ran my first half marathon", "finish a half marathon", "finished a half marathon", "finishing a half marathon"),
    ("passed my driving test", "get a driving licence", "passed a driving test", "getting a driving licence"),
    ("got engaged", "get engaged", "got engaged", "getting engaged"),
    ("defended my PhD thesis", "defend a doctoral thesis", "defended a PhD thesis", "defending a doctoral thesis"),
    ("got my scuba diving certificate", "become a certified diver", "became a certified scuba diver",
     "becoming a certified diver"),
    ("played my first open mic night", "perform at an open mic", "performed at an open mic night",
     "performing at an open mic"),
    ("finished my first triathlon", "complete a triathlon", "completed a triathlon", "completing a triathlon"),
    ("won the pub quiz with my team", "win a pub quiz", "won a pub quiz", "winning a pub quiz"),
    ("launched my first app on the app store", "release an app", "released an app", "releasing an app"),
    ("hiked to the top of Snowdon", "climb Snowdon", "climbed Snowdon", "climbing Snowdon"),
    ("got my first tattoo", "get a first tattoo", "got a first tattoo", "getting a first tattoo"),
    ("finished the first draft of my novel", "complete a novel draft", "completed a novel draft",
     "completing a novel draft"),
)  # fmt: skip
# (relation, name): relations repeat (several members have a sister), names do not.
RELATIVES = (
    ("sister", "Ana"),
    ("brother", "Leo"),
    ("daughter", "Mia"),
    ("nephew", "Theo"),
    ("sister", "Zara"),
    ("son", "Noah"),
    ("niece", "Iris"),
    ("cousin", "Kai"),
    ("partner", "Rosa"),
    ("brother", "Eli"),
    ("daughter", "Maya"),
    ("cousin", "Finn"),
    ("partner", "Nora"),
    ("son", "Luca"),
)

# Fact statements, by (kind, variant). "event" facts happen on the day they are said; "reply" answers a prompt.
FACTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("home", "static"): (
        "been living in {city} for {years} years now and it still surprises me",
        "greetings from {city}, where I've lived since uni",
        "local knowledge from {city}, where I live: the buses never come on time",
        "my flat here in {city} has the thinnest walls known to science",
        "honestly {city} is a great place to live, can't complain",
        "the one thing about living in {city}: you learn to love the weather",
        "{city} has the best bakeries, and I say that as someone who has lived here {years} years",
    ),
    ("home", "reply"): (
        "{city}! been here a few years",
        "I'm in {city}",
        "{city} for me, born and raised",
        "{city}, for my sins",
    ),
    ("move", "event"): (
        "moved into my new flat in {city} today!! boxes everywhere",
        "officially a {city} resident as of today, the move is done",
        "the movers just left, I now live in {city}. goodbye {old}!",
        "said goodbye to {old} this morning, {city} is home now",
        "keys collected, I'm living in {city} from today on",
        "first night in the new place in {city}, it's so quiet compared to {old}",
    ),
    ("pet", "static"): (
        "my {kind} {pet} just knocked my coffee off the desk again",
        "{pet} (my {kind}) has decided my laptop is a bed",
        "I have a {kind} called {pet} and honestly it runs the household",
        "my {kind} {pet} sat on the keyboard and sent my boss gibberish",
        "{pet} the {kind} is judging me from across the room right now",
        "update on my {kind}: {pet} has learned to open the treat cupboard",
    ),
    ("pet", "reply"): (
        "yep, a {kind} named {pet}",
        "{pet}! my {kind}, total menace",
        "I've got a {kind}, {pet}. best decision ever",
    ),
    ("pet", "event"): (
        "we adopted a {kind} today! meet {pet}",
        "brought home a {kind} from the shelter this morning, named it {pet}",
        "new family member as of today: a {kind} called {pet}",
        "just adopted {pet}, a little {kind}. my heart is full",
    ),
    ("job", "static"): (
        "I work at {company} as a {role}, mostly meetings tbh",
        "being a {role} at {company} means my calendar is pure chaos",
        "the coffee at {company} is the only perk of being their {role}",
        "long day at {company}, the {role} life is not glamorous",
        "{company_s} new office chairs are the best thing about my {role} job so far",
        "as the {role} at {company} I have opinions about this meeting culture",
    ),
    ("job", "reply"): (
        "I'm a {role} at {company}",
        "{role} over at {company}, it pays the bills",
        "{company}, {role}. it's fine, mostly",
    ),
    ("job", "event"): (
        "first day at {company} today! new {role} role",
        "started my new job as a {role} at {company} this morning",
        "officially a {role} at {company} as of today, wish me luck",
    ),
    ("hq", "static"): (
        "fun fact, {company_s} headquarters are in {hq}",
        "{company} is based in {hq}, I visited their office once",
        "did you know {company_s} main office is in {hq}? they have a slide apparently",
        "the {company} head office is in {hq}, a friend gave me a tour",
        "{company} HQ is in {hq} btw, not where everyone thinks",
    ),
    ("hobby", "static"): (
        "been {doing} a lot lately, {hobby} is weirdly calming",
        "spent the whole weekend {doing}, zero regrets",
        "{hobby} is my thing these days, I'm fully hooked",
        "I got into {hobby} last year and now it's all I think about",
        "anyone else do {hobby}? I've been {doing} and could use a buddy",
        "my evenings are basically {doing} now, {hobby} has me",
    ),
    ("hobby", "reply"): (
        "{hobby}! I've been {doing} every week",
        "me, {hobby}, it's taken over my life",
        "try {hobby}, that's what I do, I'm {doing} most weekends",
    ),
    ("trip", "future"): (
        "flying to {dest} next week, any tips?",
        "booked a trip to {dest} for next month!!",
        "counting down the days until my {dest} holiday",
        "holiday booked: {dest} in a few weeks, send restaurant tips",
    ),
    ("trip", "reply"): ("{dest} next month, can't wait", "heading to {dest} soon!", "me! {dest}, flights booked"),
    ("trip", "event"): (
        "just got back from {dest}, the food was unreal",
        "landed home from {dest} this morning, already miss it",
        "back from my {dest} trip today, jet lag incoming",
        "home again after a week in {dest}, suitcase still unpacked",
    ),
    ("family", "static"): (
        "my {rel} {fam} is staying with me this weekend, send help",
        "{fam}, my {rel}, just beat me at Mario Kart again",
        "going to dinner with my {rel} {fam} tonight, they always pick the spot",
        "my {rel} is called {fam} and is easily the funniest one in the family",
        "{fam} (my {rel}) sent me the worst meme today, family group chat is chaos",
        "helping my {rel} {fam} move a sofa tomorrow, pray for my back",
    ),
    ("family", "reply"): (
        "seeing my {rel} {fam}, it's been ages",
        "my {rel} {fam} is visiting, so board games probably",
    ),
    ("purchase", "event"): (
        "finally bought {item} today, my wallet is crying",
        "treated myself to {item} this afternoon",
        "just picked up {item}, been wanting one for ages",
        "impulse buy of the day: {item}. no regrets yet",
        "it's here! {item} arrived today and I'm unreasonably excited",
    ),
    ("milestone", "event"): (
        "{did} today!! still buzzing",
        "{did} this morning, still can't believe it",
        "can't believe I {did} today",
        "big news: I {did} today",
        "ok I have to share: I {did} today 🎉",
    ),
}

# The question a "reply" fact answers, asked by someone else just before.
PROMPTS: dict[str, tuple[str, ...]] = {
    "home": ("where's everyone based btw?", "random q but what city are you all in?"),
    "pet": ("does anyone here have pets?", "pet check! who's got one?", "ok who here has a pet, I need pics"),
    "job": ("what do you all do for work btw?", "curious, what's everyone's job?"),
    "hobby": ("what are people doing for fun these days?", "any hobbies I should try?"),
    "trip": ("any travel plans coming up?", "who's going somewhere nice soon?"),
    "family": ("any fun plans this weekend?", "what's everyone doing on saturday?"),
}

# Someone's reaction to a fact: generic on purpose, so that it never restates the fact.
REACTIONS: dict[str, tuple[str, ...]] = {
    "home": ("oh nice, never been", "how's the rent there?", "heard the food scene is good"),
    "move": ("welcome to the new place!", "how's the unpacking going?", "congrats on the move!!"),
    "pet": ("pet tax please 📸", "omg I need pics immediately", "aww", "what a good name"),
    "job": ("congrats on the new gig!", "nice, how's the team?", "ooh fancy"),
    "hq": ("huh, I didn't know that", "TIL", "a slide?? sign me up"),
    "hobby": ("that sounds fun", "teach me sometime", "ok that's actually cool"),
    "trip": ("jealous!!", "pics please", "how was the flight?"),
    "family": ("haha sounds fun", "family chaos is the best chaos"),
    "purchase": ("nice, enjoy it!", "ooh how much was it?", "I'm jealous"),
    "milestone": ("congrats!!! 🎉", "that's huge, well done", "legend"),
}
