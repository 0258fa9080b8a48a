"""The "python-reference" eval set: reference pages of Python standard-library modules uploaded as markdown files
(written from the running interpreter's own docstrings), and questions that describe a module or one of its
functions in the reference's words without naming it; the right page must be among the sources."""

from __future__ import annotations

import importlib
import inspect
import random
import re
from types import ModuleType

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets._documents import Asked, numbered_questions
from memory import FileDocument, utc_iso

GUILD, CHANNEL = "800000000000000004", "800000000000000401"
MODULES = (
    "argparse", "base64", "bisect", "calendar", "collections", "contextlib", "copy", "csv", "datetime", "decimal",
    "difflib", "enum", "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "hmac", "html",
    "inspect", "ipaddress", "itertools", "json", "logging", "math", "operator", "os.path", "pathlib", "pickle",
    "pprint", "queue", "random", "re", "secrets", "shlex", "shutil", "sqlite3", "statistics", "string", "struct",
    "tarfile", "tempfile", "textwrap", "threading", "time", "timeit", "unicodedata", "urllib.parse", "uuid",
    "warnings", "weakref", "zipfile", "zlib",
)  # fmt: skip
MEMBERS_PER_PAGE = 30  # functions and classes written on a module's page, at most
DOC_CHARS = 700  # of each member's docstring
MEMBER_QUESTIONS = 2  # questions about a module's functions, per module
# How people ask for a function they can describe but not name; {what} is its summary, as a verb phrase.
MEMBER_WORDINGS = (
    "Which Python function would I use to {what}?",
    "How do I {what} in Python?",
    "Is there something in the standard library to {what}?",
    "What should I call to {what}?",
)
TOPIC_WORDINGS = (
    "Which standard library module is this: {what}?",
    "Where is the reference for this: {what}?",
    'I need the module described as "{what}", which one is it?',
)
# The verbs a summary may start with to become a question's verb phrase ("Return x" -> "get x").
_VERBS = {"return": "get", "returns": "get"} | {
    v: v for v in (
        "create", "make", "convert", "compute", "calculate", "encode", "decode", "serialize", "deserialize",
        "update", "determine", "split", "join", "read", "write", "open", "copy", "move", "remove", "delete", "find",
        "search", "match", "compile", "parse", "format", "wrap", "fill", "build", "construct", "generate", "choose",
        "shuffle", "sort", "insert", "locate", "apply", "call", "run", "measure", "print", "escape", "quote",
        "unquote", "normalize", "compare", "filter", "count", "register", "load", "dump", "extract", "change",
        "translate", "decompress", "compress", "pack", "unpack", "test", "check", "initialize", "get", "set",
    )
}  # fmt: skip


def _summary(doc: str | None) -> str:
    """A docstring's first sentence, on one line."""
    first = re.split(r"\n\s*\n", (doc or "").strip())[0]
    # A sentence ends where the next begins with a capital: "(e.g. &gt;)" and "(a.k.a. priority queue)" go on.
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(first.split()))[0].rstrip(".")


def _members(module: ModuleType) -> list[tuple[str, str, str]]:
    """The public functions and classes a module defines, with their signature and docstring, in name order."""
    out = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_") or not (
            inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value)
        ):
            continue
        if getattr(value, "__module__", None) not in (module.__name__, f"_{module.__name__}", None):
            continue
        doc = inspect.getdoc(value)
        if not doc:
            continue
        try:
            signature = f"{name}{inspect.signature(value)}"
        except (TypeError, ValueError):
            signature = name
        out.append((name, signature, doc))
    return out[:MEMBERS_PER_PAGE]


def _page(name: str, module: ModuleType, members: list[tuple[str, str, str]]) -> str:
    """The module's reference page: its docstring, then a section per member."""
    head = (inspect.getdoc(module) or "").strip()
    sections = [f"## {member}\n\n    {signature}\n\n{doc[:DOC_CHARS].strip()}" for member, signature, doc in members]
    return f"# {name}\n\n{head}\n\n" + "\n\n".join(sections) + "\n"


def _verb_phrase(summary: str) -> str | None:
    """ "Return the median of the data" -> "get the median of the data", "Return True if x is y" -> "check whether
    x is y"; None when the summary is no instruction."""
    words = summary.split()
    if len(words) < 5 or words[0].lower() not in _VERBS:
        return None
    if words[0].lower().startswith("return") and words[1] in ("True", "true") and words[2] == "if":
        return " ".join(["check whether", *words[3:]])
    return " ".join([_VERBS[words[0].lower()], *words[1:]])


def build(seed: int = 17) -> EvalSet:
    """~55 reference pages (markdown), a question about each module and two about its functions."""
    rng = random.Random(seed)
    files: list[FileDocument] = []
    asked: list[Asked] = []
    seen: set[str] = set()
    for n, name in enumerate(MODULES):
        module = importlib.import_module(name)
        members = _members(module)
        filename = f"{name.replace('.', '-')}.md"
        uploaded = utc_iso(f"2025-05-{1 + n % 28:02d}T09:00:00Z")
        page = _page(name, module, members).encode()
        files.append(
            FileDocument(GUILD, CHANNEL, f"python/{filename}", filename, page, "text/markdown", created_at=uploaded)
        )
        gold = (frozenset({filename}),)
        topic = _summary(inspect.getdoc(module))
        if len(topic.split()) >= 4 and name.split(".")[-1] not in topic.lower() and topic not in seen:
            seen.add(topic)
            asked.append((rng.choice(TOPIC_WORDINGS).format(what=topic[0].lower() + topic[1:]), "topic", gold, name))
        candidates = [(m, _verb_phrase(_summary(doc))) for m, _, doc in members]
        usable = [(m, what) for m, what in candidates if what and what not in seen and m.lower() not in what.lower()]
        for member, what in rng.sample(usable, min(MEMBER_QUESTIONS, len(usable))):
            seen.add(what)
            asked.append((rng.choice(MEMBER_WORDINGS).format(what=what), "function", gold, f"{name}.{member}"))
    rng.shuffle(asked)
    return EvalSet("python-reference", GUILD, files=tuple(files), questions=numbered_questions("py-ref", asked))
