"""The words of the "two-documents" set (`two_documents.py`): a fictional country's encyclopedia, questions."""

from __future__ import annotations

TOWN_PARTS = (
    ("Ash", "Bram", "Cold", "Dun", "Elm", "Fal", "Glen", "Hart", "Ivel", "Kil", "Lang", "Mar", "Nor", "Oak", "Pen",
     "Quen", "Ros", "Stan", "Tor", "Wex", "Brack", "Carn", "Hol", "Sel"),
    ("ford", "by", "wick", "mouth", "haven", "stead", "bury", "dale", "more", "ton", "field", "bridge"),
)  # fmt: skip
RIVERS = (
    "Ousel", "Tamsin", "Brede", "Wenlow", "Caddon", "Lyne", "Averill", "Skell", "Morrow", "Idle", "Teign", "Harrow",
    "Keld", "Sorrel", "Dwyn", "Elvan", "Gaunt", "Fenner", "Rill", "Aske", "Colne", "Yare", "Marden", "Loddon",
)  # fmt: skip
MOUNTAINS = (
    "Mount Arvel", "Mount Caithe", "Brenna Peak", "Mount Doran", "Eskdale Pike", "Mount Felder", "Grimsay Fell",
    "Mount Hollin", "Islet Crag", "Mount Jurra", "Kestle Peak", "Mount Lorne", "Morven Height", "Mount Nessa",
    "Orrick Fell", "Mount Pallis", "Rhune Peak", "Mount Sulvan",
)  # fmt: skip
RANGES = ("the Grey Spine", "the Harran Hills", "the Vellum Range", "the Cald Mountains", "the Northern Fells")
SEAS = ("the Marrow Sea", "Lake Ilsen", "the Gulf of Varra", "the Salt Reach", "Lake Corran", "the Western Ocean")
PROVINCES = ("Estmark", "Vellary", "Highcombe", "the Lowlands", "Orland", "Sarrow")
UNIVERSITIES = (
    "Ellery College", "Marchmont Institute", "St Aldric University", "Holmwood College", "the Royal Polytechnic",
    "Carbury University", "Lantern Hall College", "Westerly Institute of Technology", "Greyfriars University",
    "Tollis College", "the Academy of Arts and Sciences", "Northbridge University", "Quayside College",
)  # fmt: skip
COMPANY_WORDS = (
    "Kestrel", "Heron", "Lark", "Basalt", "Cobalt", "Osprey", "Juniper", "Falcon", "Meridian", "Granite", "Harbour",
    "Beacon", "Corona", "Delta", "Ember", "Fathom", "Garnet", "Halcyon", "Indigo", "Jasper", "Keystone", "Lumen",
    "Magpie", "Nimbus", "Onyx", "Pilot", "Quarry", "Raven", "Sable", "Talon", "Umbra", "Vesper", "Wren", "Zephyr",
    "Anvil", "Bramble", "Cinder", "Drover", "Estuary", "Flint", "Gannet", "Hazel", "Ironbark", "Larch", "Mallard",
)  # fmt: skip
TRADES = (
    ("Optics", "lenses and precision optics"), ("Shipworks", "ships and harbour craft"), ("Mills", "flour and feed"),
    ("Textiles", "woollen cloth"), ("Instruments", "scientific instruments"), ("Foods", "tinned and dried foods"),
    ("Chemicals", "dyes and industrial chemicals"), ("Motors", "engines and motor vehicles"),
    ("Press", "books and newspapers"), ("Glassworks", "bottles and window glass"), ("Ceramics", "tiles and pottery"),
)  # fmt: skip
BAND_WORDS = (
    ("Copper", "Velvet", "Silent", "Paper", "Hollow", "Northern", "Midnight", "Broken", "Golden", "Wandering",
     "Electric", "Iron", "Crimson", "Lonely", "Restless"),
    ("Lanterns", "Foxes", "Sparrows", "Engines", "Harbours", "Kites", "Ghosts", "Tides", "Orchards", "Choirs",
     "Comets", "Bells", "Rivals", "Shepherds", "Wolves"),
)  # fmt: skip
GENRES = ("folk", "jazz", "rock", "post-punk", "country", "synth-pop", "blues", "chamber pop")
ALBUM_WORDS = (
    "Low Light",
    "Salt and Iron",
    "Harbour Songs",
    "The Long Field",
    "Winter Roads",
    "Quiet Engines",
    "Paper Crowns",
    "North of Here",
    "Glass Houses",
    "Small Hours",
    "Borrowed Time",
    "Open Water",
)
SHIP_NAMES = (
    "Marigold", "Albatross", "Endeavour", "Cormorant", "Resolute", "Seraphine", "Valiant", "Northern Star", "Calypso",
    "Gallant", "Amethyst", "Petrel", "Intrepid", "Meadowsweet", "Sovereign", "Tern", "Undaunted", "Wayfarer",
    "Halberd", "Clementine", "Steadfast", "Larkspur", "Orion", "Perseverance", "Rosalie", "Thistle",
)  # fmt: skip
SHIP_TYPES = ("cargo steamer", "passenger liner", "paddle steamer", "coastal freighter", "research vessel", "ferry")
INVENTIONS = (
    ("seed drill", "sowing grain in even rows"), ("tide clock", "predicting high water"),
    ("sorting frame", "grading wool by fibre length"), ("arc lamp", "lighting streets and docks"),
    ("signal telegraph", "sending messages between stations"), ("pressure cooker", "preserving vegetables"),
    ("rope winch", "hauling boats up a slipway"), ("flax loom", "weaving linen"), ("rain gauge", "measuring rainfall"),
    ("bread oven", "baking in large batches"), ("ice press", "making block ice"), ("pump valve", "draining mines"),
)  # fmt: skip
INVENTION_WORDS = ("rotary", "folding", "double", "steam", "spring", "compound", "balanced", "portable", "vented")
PROFESSIONS = {
    "founder": ("industrialist", "engineer", "merchant", "chemist"), "singer": ("singer", "songwriter", "musician"),
    "captain": ("sea captain", "naval officer", "navigator"), "inventor": ("inventor", "mechanic", "physicist"),
    "other": ("painter", "poet", "botanist", "historian", "architect", "astronomer"),
}  # fmt: skip
ROLES = {
    "founder": "{Pron} is best known as the founder of {link}.", "singer": "{Pron} sang with {link}.",
    "captain": "{Pron} commanded the {link} for many years.", "inventor": "{Pron} is credited with the {link}.",
    "other": "{Pron} left a large body of work, much of it now held in public collections.",
}  # fmt: skip
LEADS = {
    "person": "{title} ({life}) was a {profession} born in {born_town}. {Pron} studied at "
              "{university} and later settled in {moved_town}. {role}",
    "town": "{title} is a town in the province of {province}, on the banks of the {river}. It was founded in "
            "{founded} and had {population} inhabitants at the last census.",
    "river": "The {title} is a river {length} kilometres long. It rises on the slopes of {mountain} and flows "
             "into {mouth}.",
    "mountain": "{title} is a peak of {range}, rising to {height} metres. It was first climbed in {ascent}.",
    "university": "{title} is a university in {town}, founded in {founded}. It teaches about {students} students.",
    "company": "{title} is a maker of {product} founded in {founded} by {founder}. Its headquarters are in {hq}, "
               "and it employs about {employees} people.",
    "band": "{title} are a {genre} band formed in {town} in {formed}. They were fronted by {singer}, and their "
            "first album, {album}, made their name.",
    "ship": "The {title} was a {ship_type} launched in {launched} by {builder}. Her home port was {port}, and for "
            "most of her service she was commanded by {captain}.",
    "invention": "The {title} is a device for {purpose}, devised by {inventor} in {year}.",
}  # fmt: skip
FILLERS = {
    "person": ("{Pron} travelled widely and kept detailed diaries.", "{Pron} married in {year2} and had {small} "
               "children.", "Letters from {pron_obj} survive in an archive in {other_town}.", "A street in "
               "{other_town} bears {pron_pos} name.", "{Pron} spent {small} years abroad before returning home.",
               "Contemporaries described {pron_obj} as patient and exacting.", "{Pron} died after a short illness."),
    "town": ("Its market has been held every week since {year2}.", "The parish church dates from {year2}.",
             "A railway station opened in {year2}, linking it with {other_town}.", "Many residents work in "
             "{other_town}.", "The town hall was rebuilt after a fire.", "Its annual fair draws visitors from the "
             "whole province.", "Local industry once centred on tanning and brewing."),
    "river": ("Its waters were used to power mills from {year2}.", "Several stone bridges cross it.", "Salmon "
              "return to it each autumn.", "Floods in {year2} damaged farmland along its banks.", "A towpath "
              "follows part of its course.", "It passes close to {other_town}."),
    "mountain": ("Its summit is often hidden in cloud.", "A hut below the summit was built in {year2}.", "Its "
                 "lower slopes are covered in pine forest.", "Several routes lead to the top.", "Snow lies on its "
                 "north face until early summer."),
    "university": ("Its library holds about {num} volumes.", "A school of medicine was added in {year2}.", "Its "
                   "main hall is a listed building.", "It has partnerships with colleges in {other_town}.",
                   "Alumni include several ministers and judges."),
    "company": ("It opened a second works in {other_town} in {year2}.", "During the depression it cut its "
                "workforce by a third.", "Its products were exported to {small} countries.", "It was listed on "
                "the stock exchange in {year2}.", "A company museum opened in {year2}.", "It later diversified "
                "into repair and servicing."),
    "band": ("They toured the province every summer.", "Their second record was recorded in {other_town}.",
             "They split in {year2} and reunited years later.", "Critics praised their harmonies.", "They played "
             "more than {num} concerts.", "A documentary about them appeared in {year2}."),
    "ship": ("She carried mail as well as cargo.", "She was refitted in {year2}.", "She once ran aground near "
             "{other_town} but was refloated.", "She made {num} crossings in her career.", "She was laid up for a "
             "winter in {year2}.", "A model of her is displayed in a museum in {other_town}."),
    "invention": ("It was patented in {year2}.", "Early models were built by hand.", "It spread quickly to "
                  "{other_town} and beyond.", "Improved versions were sold for decades.", "About {num} were made "
                  "before rival designs replaced it.", "An original example is kept in {other_town}."),
}  # fmt: skip
GENERAL = (
    "Records from the period are incomplete, and some dates given in older sources are disputed.",
    "Local historians have written at length about {its} place in the life of the province.",
    "Several guidebooks of the period mention {it}, usually with a short description and an engraving.",
    "The provincial archive holds correspondence, photographs and accounts relating to {it}.",
    "{Its} story is told in a small exhibition that is open to visitors during the summer months.",
    "Newspapers of the time reported on {it} regularly, and not always favourably.",
    "A detailed account was published in the provincial yearbook on an anniversary.",
    "Interest in {its} history revived in recent decades, helped by a popular radio series.",
    "Some accounts confuse {it} with others of a similar name, which has led to errors in reference works.",
    "Much of what is known comes from the recollections of people who knew {it} well.",
)
BRIDGE_QUESTIONS = {
    "company.founder.born_town": ("In which town was the founder of {a} born?", "Where was the person who "
                                  "started {a} born?"),
    "company.founder.born_year": ("In what year was the founder of {a} born?", "What is the birth year of the "
                                  "person who founded {a}?"),
    "company.founder.university": ("Where did the founder of {a} study?",),
    "company.hq.river": ("On which river does the town where {a} has its headquarters stand?",),
    "company.hq.population": ("How many people live in the town where {a} is headquartered?",),
    "band.singer.born_town": ("Where was the lead singer of {a} born?", "What is the birthplace of the singer "
                              "who fronted {a}?"),
    "band.singer.born_year": ("In what year was the frontman or frontwoman of {a} born?",),
    "band.town.river": ("Which river flows through the town where {a} formed?",),
    "ship.captain.born_town": ("In which town was the longtime captain of the {a} born?",),
    "ship.port.river": ("On which river lies the home port of the {a}?",),
    "ship.builder.founded": ("When was the company that built the {a} founded?", "In what year was the builder "
                             "of the {a} established?"),
    "invention.inventor.born_town": ("Where was the inventor of the {a} born?",),
    "invention.inventor.university": ("At which institution did the person who devised the {a} study?",),
    "town.river.mouth": ("Into what does the river that runs through {a} empty?", "Where does the river on which "
                         "{a} stands end?"),
    "town.river.length": ("How long is the river on which {a} lies?",),
    "river.mountain.height": ("How high is the mountain where the {a} has its source?",),
    "river.mountain.range": ("To which range does the peak where the {a} rises belong?",),
    "person.born_town.river": ("On which river is the birthplace of {a}?", "The town where {a} was born lies on "
                               "which river?"),
    "person.born_town.province": ("In which province was {a} born?",),
    "person.university.town": ("In which town is the university where {a} studied?",),
    "university.town.river": ("Which river runs through the town that is home to {a}?",),
}  # fmt: skip
COMPARISONS = {
    "company": ("founded", "Which was founded first, {a} or {b}?", "Which company is younger, {a} or {b}?"),
    "town": ("founded", "Which town is older, {a} or {b}?", "Which was founded more recently, {a} or {b}?"),
    "person": ("born_year", "Who was born first, {a} or {b}?", "Who was born later, {a} or {b}?"),
    "river": ("length", "Which river is longer, the {a} or the {b}?", "Which is the shorter river, the {a} or the "
              "{b}?"),
    "mountain": ("height", "Which is higher, {a} or {b}?", "Which peak is lower, {a} or {b}?"),
    "ship": ("launched", "Which ship was launched earlier, the {a} or the {b}?", "Which is the newer ship, the {a} "
             "or the {b}?"),
    "band": ("formed", "Which band formed first, {a} or {b}?", "Which band got together later, {a} or {b}?"),
    "university": ("founded", "Which university is older, {a} or {b}?", "Which was established later, {a} or {b}?"),
}  # fmt: skip
