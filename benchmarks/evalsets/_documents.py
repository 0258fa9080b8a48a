"""What the two document sets (`filings`, `two_documents`) share: the people's names, and question numbering."""

from __future__ import annotations

import random

from benchmarks.evalsets import EvalQuestion

Asked = tuple[str, str, tuple[frozenset[str], ...], str]  # question, kind, gold, answer

FIRST_F = (
    "Ada", "Beatrix", "Clara", "Dagny", "Edith", "Freya", "Greta", "Hilde", "Ingrid", "Johanna", "Karin", "Lena",
    "Maren", "Nora", "Odile", "Petra", "Rosalind", "Sigrid", "Thea", "Ulla", "Vera", "Wilma", "Yvette", "Zora",
    "Agnes", "Brigit", "Cora", "Delphine", "Elin", "Fenna", "Gisela", "Helena", "Imke", "Livia", "Mirela", "Orla",
)  # fmt: skip
FIRST_M = (
    "Anton", "Bertil", "Caspar", "Dorian", "Emil", "Falk", "Gustav", "Hugo", "Ivo", "Jasper", "Konrad", "Leopold",
    "Magnus", "Nils", "Oskar", "Piet", "Rasmus", "Stellan", "Tobias", "Ulrich", "Viktor", "Wendel", "Yannick",
    "Aurel", "Bastian", "Cyril", "Dietmar", "Elias", "Florian", "Gideon", "Henrik", "Ansel", "Lorenz", "Matthis",
)  # fmt: skip
LAST = (
    "Voss", "Aldous", "Brennan", "Carrow", "Dunmore", "Eckhart", "Falconer", "Garrick", "Holloway", "Ingram",
    "Jessop", "Kettering", "Lindqvist", "Marchbank", "Nyberg", "Ormond", "Pellew", "Quarrie", "Rainsford", "Stroud",
    "Thackery", "Umber", "Vance", "Whitlock", "Yardley", "Asquith", "Blackwood", "Corliss", "Dalgety", "Everard",
    "Fairclough", "Goring", "Harkness", "Islay", "Jarrow", "Kinsella", "Lockhart", "Merriman", "Northcote",
    "Oakeshott", "Prideaux", "Rutherglen", "Sallow", "Tremayne", "Underhill", "Verity", "Wynford", "Abernethy",
    "Bellweather", "Calloway", "Dewhurst", "Elphick", "Fenwick", "Gillow", "Hazeldine", "Ironside", "Juniper",
    "Kilbride", "Lowther", "Maddox", "Netherby", "Ottley", "Pargeter", "Roscoe", "Stanforth", "Tolland",
)  # fmt: skip


def person_names(rng: random.Random) -> list[tuple[str, bool]]:
    """Every first-and-last name combination, shuffled, with whether the person is a woman."""
    names = [(f"{first} {last}", woman) for woman, firsts in ((True, FIRST_F), (False, FIRST_M))
             for first in firsts for last in LAST]  # fmt: skip
    return rng.sample(names, len(names))


def numbered_questions(prefix: str, asked: list[Asked]) -> tuple[EvalQuestion, ...]:
    """The questions as asked, numbered in order: "<prefix>-001", "<prefix>-002", ..."""
    return tuple(EvalQuestion(f"{prefix}-{n:03d}", *q[:3], answer=q[3]) for n, q in enumerate(asked, 1))
