"""The "filings" eval set (FinanceBench-like): companies' annual reports as PDFs, questions on one page or two."""

from __future__ import annotations

import random
import re
import string
import textwrap
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets import filings_text as text
from benchmarks.evalsets._documents import Asked, numbered_questions, person_names
from memory import FileDocument, utc_iso
from tests.memory.test_extract import make_pdf

GUILD, CHANNEL = "800000000000000002", "800000000000000201"
PAGE_QUESTIONS, TWO_PAGE_QUESTIONS = 120, 20
MAX_LINES = 44  # make_pdf starts 72 pt from the top with a 14 pt leading: 44 lines stay above the bottom margin
WIDTH = 86  # characters of 12 pt Helvetica between the page's margins
NBSP = "\u00a0"  # joins a value's words while a paragraph is wrapped: "15 March 2031" never breaks across lines

Block = str | tuple[str, ...]  # a paragraph, or a table's "label|cell|cell" rows
Section = tuple[str, int, Sequence[Block]]  # title, pages it should span, blocks


def _share(total: int, parts: int, index: int) -> int:
    """Part `index` of `total` shared out evenly between `parts`."""
    return total // parts + (index < total % parts)


def _money(amount: float) -> str:
    return f"{amount:,.1f} million"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _number(value: str) -> float:
    """The number in a value as printed ("1,234.5 million", "11.4%", "12,480")."""
    return float(re.sub(r"[^\d.]", "", value.split()[0]))


@dataclass
class _Report:
    """One company's annual report as it is written: its values, its pages and the pages each value is stated on."""

    short: str
    legal: str
    year: int
    values: dict[str, str]
    segments: int
    pages: list[list[str]] = field(default_factory=lambda: [[]])  # page 1, the cover, is written last
    where: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    contents: list[tuple[str, int]] = field(default_factory=list)
    deck: list[str] = field(default_factory=list)  # filler sentences not used since the deck was last shuffled

    @property
    def filename(self) -> str:
        return f"{self.short.lower()}-{self.year}-annual-report.pdf"

    def pages_of(self, key: str) -> frozenset[str]:
        if not self.where[key]:  # a question about a value that no page states: a bug in the templates
            raise ValueError(f"no page of {self.filename} states {key!r}")
        return frozenset(f"{self.filename}#p{page}" for page in self.where[key])


def _results(rng: random.Random, names: Sequence[str]) -> dict[str, str]:
    """Each segment's revenue and margin, this year and last, and the company's totals: the sums, so tables add up."""
    values: dict[str, str] = {}
    weights = [rng.uniform(1, 3) for _ in names]
    scale = rng.uniform(300, 8000) / sum(weights)
    sums = [0.0, 0.0, 0.0, 0.0]  # revenue and operating income, this year and last
    margins = rng.sample(range(35, 260), len(names))  # distinct tenths of a percent: a comparison has a winner
    for i, (name, weight, tenths) in enumerate(zip(names, weights, margins, strict=True), 1):
        revenue, prior, margin = round(scale * weight, 1), scale * weight / rng.uniform(0.92, 1.15), tenths / 10
        prior_margin = max(1.0, margin + rng.uniform(-2.5, 2.5))
        figures = (revenue, prior, revenue * margin / 100, prior * prior_margin / 100)
        sums = [total + figure for total, figure in zip(sums, figures, strict=True)]
        values |= {f"seg{i}_name": name, f"seg{i}_revenue": _money(revenue), f"seg{i}_revenue_prior": _money(prior),
                   f"seg{i}_op": _money(figures[2]), f"seg{i}_op_prior": _money(figures[3]),
                   f"seg{i}_margin": _pct(margin), f"seg{i}_margin_prior": _pct(prior_margin)}  # fmt: skip
    net, net_prior, shares = sums[2] * rng.uniform(0.55, 0.8), sums[3] * rng.uniform(0.55, 0.8), rng.uniform(40, 400)
    return values | {
        "revenue": _money(sums[0]), "revenue_prior": _money(sums[1]), "op_income": _money(sums[2]),
        "op_income_prior": _money(sums[3]), "net_income": _money(net), "net_income_prior": _money(net_prior),
        "eps": f"{net / shares:.2f}", "eps_prior": f"{net_prior / shares:.2f}", "shares": f"{shares:.1f}",
        "fcf": _money(sums[0] * rng.uniform(0.04, 0.12)), "fcf_prior": _money(sums[1] * rng.uniform(0.04, 0.12)),
    }  # fmt: skip


def _capital(rng: random.Random, year: int, values: Mapping[str, str]) -> dict[str, str]:
    """Cash, investment, shareholder returns and debt."""
    revenue, net, shares = (_number(values[key]) for key in ("revenue", "net_income", "shares"))
    capex, dividends = revenue * rng.uniform(0.03, 0.09), net * rng.uniform(0.25, 0.6)
    # Plans and buybacks clearly above or below their comparison, so that "more or less" has one answer.
    guidance, buyback = (x * rng.choice((rng.uniform(0.6, 0.9), rng.uniform(1.1, 1.8))) for x in (capex, dividends))
    return {
        "cash": _money(revenue * rng.uniform(0.05, 0.25)), "capex": _money(capex), "capex_guidance": _money(guidance),
        "buyback": _money(buyback), "dividends_total": _money(dividends), "dps": f"{dividends / shares:.2f}",
        "dps_prior": f"{dividends / shares / rng.uniform(1.02, 1.12):.2f}", "payout": f"{dividends / net:.0%}",
        "pay_date": f"{rng.randint(1, 28)} {rng.choice(text.MONTHS[2:6])} {year + 1}",
        "notes_amount": f"{rng.randrange(250, 1500, 25):,} million", "coupon": rng.choice(text.COUPONS),
        "notes_maturity": f"{rng.randint(1, 28)} {rng.choice(text.MONTHS)} {year + rng.randint(3, 11)}",
        "revolver": f"{rng.randrange(300, 2000, 50):,} million", "bank": rng.choice(text.BANKS),
        "revolver_year": str(year + rng.randint(2, 6)),
    }  # fmt: skip


def _company(rng: random.Random, draw: dict[str, list[str]], year: int, revenue: float) -> dict[str, str]:
    """The company's history, people, risks, lawsuit and outlook (names drawn so no two companies share one)."""
    low = rng.randint(1, 6)
    return {
        "founded": str(rng.randint(1885, 2008)), "hq": draw["city"].pop(), "sites": f"{rng.randint(12, 400)} sites",
        "countries": f"{rng.randint(4, 70)} countries", "headcount": f"{int(revenue * rng.uniform(1.5, 9)):,}",
        "turnover": _pct(rng.uniform(4, 18)), "women": f"{rng.randint(22, 48)}%", "training": str(rng.randint(12, 60)),
        "plaintiff": draw["plaintiff"].pop(), "court": rng.choice(text.COURTS), "claim": _money(rng.uniform(5, 150)),
        "filed": f"{rng.choice(text.MONTHS)} {year}", "growth": f"{low}% to {low + rng.randint(1, 3)}%",
        "facility_town": draw["city"].pop(), "facility_year": str(year + rng.randint(1, 2)),
        "ceo": draw["person"].pop(), "cfo": draw["person"].pop(), "chair": draw["person"].pop(),
        "board_size": str(rng.randint(7, 13)), "auditor": rng.choice(text.AUDITORS),
        "audit_since": str(rng.randint(1990, year - 2)), "supplier": draw["supplier"].pop(),
        "supplier_share": f"{rng.randint(8, 40)}%", "customer": draw["customer"].pop(),
        "customer_share": f"{rng.randint(6, 35)}%", "fx_currency": rng.choice(text.CURRENCIES),
        "fx_share": f"{rng.randint(15, 55)}%", "cyber_month": f"{rng.choice(text.MONTHS)} {year}",
        "cyber_days": f"{rng.randint(2, 14)} days", "regulation": draw["regulation"].pop(),
        "reg_year": str(year + rng.randint(1, 2)), "reg_cost": _money(rng.uniform(2, 40)),
        "pension_deficit": _money(rng.uniform(10, 400)),
    }  # fmt: skip


def _report(rng: random.Random, draw: dict[str, list[str]], short: str, legal: str, industry: str) -> _Report:
    year = rng.randint(2022, 2024)
    description, segment_names = text.INDUSTRIES[industry]
    names = rng.sample(segment_names, rng.choice((3, 4)))
    values = {"short": short, "name": legal, "year": str(year), "prior": str(year - 1), "industry_text": description,
              "tone": rng.choice(text.TONES), "nseg": ("three", "four")[len(names) - 3],
              "segment_list": ", ".join(names[:-1]) + " and " + names[-1]} | _results(rng, names)  # fmt: skip
    values |= _capital(rng, year, values) | _company(rng, draw, year, _number(values["revenue"]))
    report = _Report(short, legal, year, values, len(names))
    _write(rng, report, _sections(rng, report))
    return report


def _sections(rng: random.Random, report: _Report) -> list[Section]:
    """The report's sections in order."""
    risks = [*text.RISKS, *rng.sample(text.GENERIC_RISKS, rng.randint(2, 4))]
    rng.shuffle(risks)
    segments = [(f"Segment Results: {report.values[f'seg{i}_name']}", 1,
                 [b.replace("segN", f"seg{i}") if isinstance(b, str) else tuple(r.replace("segN", f"seg{i}") for r in b)
                  for b in text.SEGMENT]) for i in range(1, report.segments + 1)]  # fmt: skip
    optional = [(title, 1, ("~", "~", "~")) for title in rng.sample(text.OPTIONAL_SECTIONS, rng.randint(0, 3))]
    return [
        ("Letter to Shareholders", rng.randint(1, 2), text.LETTER), ("Financial Highlights", 1, text.HIGHLIGHTS),
        ("Business Overview", rng.randint(1, 2), text.OVERVIEW), ("Risk Factors", 1, risks), *segments,
        ("Liquidity and Capital Resources", 1, text.LIQUIDITY), ("Debt and Financing", 1, text.DEBT),
        ("Dividends", 1, text.DIVIDENDS), ("Our People", 1, text.PEOPLE), ("Legal Proceedings", 1, text.LEGAL),
        ("Outlook", 1, text.OUTLOOK), *optional, ("Management and Governance", 1, text.GOVERNANCE),
    ]  # fmt: skip


def _keys(block: Block) -> list[str]:
    """The values a block states."""
    rows = [block] if isinstance(block, str) else block
    return [name for row in rows for _, name, _, _ in string.Formatter().parse(row) if name]


def _row(cells: Sequence[str], leader: str) -> str:
    """A table row as text: the label, then right-aligned cells, joined by dot leaders."""
    return f"{cells[0]} ".ljust(40, leader) + " ".join(f" {cell}".rjust(21, leader) for cell in cells[1:])


def _extras(rng: random.Random) -> dict[str, str]:
    """New numbers for the filler fields, for each sentence (a repeated number would tie sentences together)."""
    return {"pct": _pct(rng.uniform(2, 35)), "small": str(rng.randint(3, 40)), "num": f"{rng.randint(200, 9000):,}",
            "region": rng.choice(text.REGIONS)}  # fmt: skip


def _filler(rng: random.Random, report: _Report, sentences: int) -> list[str]:
    """A paragraph of filler from the report's shuffled deck, so no sentence repeats until all were used."""
    picked = []
    for _ in range(sentences):
        report.deck = report.deck or rng.sample(text.FILLER, len(text.FILLER))
        sentence, opener = report.deck.pop().format_map(report.values | _extras(rng)), rng.choice(text.OPENERS)
        if rng.random() < 0.35 and not sentence.startswith(("In ", "During ")):
            sentence = opener + sentence[0].lower() + sentence[1:]
        picked.append(sentence)
    return _lines(rng, report, " ".join(picked))


def _lines(rng: random.Random, report: _Report, block: Block) -> list[str]:
    """A block as printed lines; "~" is a paragraph of filler."""
    if block == "~":
        return _filler(rng, report, rng.randint(3, 5))
    fill = {key: value.replace(" ", NBSP) for key, value in (report.values | _extras(rng)).items()}
    if isinstance(block, tuple):
        lines = [_row(row.format_map(fill).split("|"), "." if n else " ") for n, row in enumerate(block)]
    else:
        lines = [line for part in block.format_map(fill).split("\n") for line in textwrap.wrap(part, WIDTH) or [""]]
    return [line.replace(NBSP, " ") for line in lines]


def _new_page(report: _Report, title: str, number: int | None = None) -> list[str]:
    number = number or len(report.pages) + 1
    return [f"{report.legal} | Annual Report {report.year} | Page {number}", "", title.upper(), ""]


def _pad(rng: random.Random, report: _Report, page: list[str], at: int) -> list[str]:
    """A page topped up to 32-42 lines (never past MAX_LINES) with filler inserted at `at`: before a section's
    closing block, so that a letter still ends with its signature."""
    target = rng.randint(32, 42)
    while len(page) < target:
        lines = _filler(rng, report, rng.randint(2, 4))
        if len(page) + len(lines) >= MAX_LINES:
            lines = _filler(rng, report, 1)
            if len(page) + len(lines) >= MAX_LINES:
                return page
        page[at:at] = [*lines, ""]
        at += len(lines) + 1
    return page


def _write(rng: random.Random, report: _Report, sections: list[Section]) -> None:
    """Lay the sections out: each starts a page and no block splits; record the pages each value is stated on."""
    for title, span, blocks in sections:
        if span > 1:  # a longer section: more prose before its closing block
            blocks = [*blocks[:-1], *["~"] * 5 * (span - 1), blocks[-1]]
        report.contents.append((title, len(report.pages) + 1))
        page = _new_page(report, title)
        closing = len(page)
        for block in blocks:
            lines = _lines(rng, report, block)
            if len(page) + len(lines) > MAX_LINES:
                report.pages.append(page)
                page = _new_page(report, f"{title} (continued)")
            closing = len(page)
            page += [*lines, ""]
            for key in _keys(block):
                report.where[key].append(len(report.pages) + 1)
        report.pages.append(_pad(rng, report, page, closing))
    cover = [*_new_page(report, report.legal, 1), f"Annual Report {report.year}", "", "CONTENTS", ""]
    cover += [_row((title, str(page)), ".") for title, page in report.contents]
    cover += ["", "Forward-looking statements", *textwrap.wrap(text.FORWARD, WIDTH), ""]
    report.pages[0] = _pad(rng, report, cover, len(cover))


def _page_questions(rng: random.Random, report: _Report, count: int) -> list[Asked]:
    """Questions whose answer is one value, on its page (or on each page that states it)."""
    keys = [key for key in text.PAGE_QUESTIONS if not key.startswith("seg_")]
    keys += [f"seg{i}_{metric}" for i in range(1, report.segments + 1) for metric in ("revenue", "margin")]
    asked: list[Asked] = []
    for key in rng.sample(keys, count):
        segment = report.values.get(key.split("_")[0] + "_name", "")
        template = rng.choice(text.PAGE_QUESTIONS[re.sub(r"^seg\d+", "seg", key)])
        question = template.format(co=report.short, year=report.year, seg=segment.lower())
        asked.append((question, "page", (report.pages_of(key),), report.values[key]))
    return asked


def _two_page_fact(kind: str, values: Mapping[str, str], i: int, j: int) -> tuple[str, str, str]:
    """The two values (on different pages) a two-page question needs, and its answer."""
    if kind in ("margin_cmp", "revenue_cmp", "revenue_sum"):
        first, second = (f"seg{n}_{'margin' if kind == 'margin_cmp' else 'revenue'}" for n in (i, j))
        x, y = _number(values[first]), _number(values[second])
        answer = _money(x + y) if kind == "revenue_sum" else values[f"seg{i if x > y else j}_name"]
        return first, second, answer
    if kind == "per_employee":
        per_head = _number(values["revenue"]) * 1000 / _number(values["headcount"])
        return "revenue", "headcount", f"about {per_head:,.0f} thousand"
    if kind == "returns_cmp":
        bigger = _number(values["dividends_total"]) > _number(values["buyback"])
        return "dividends_total", "buyback", "dividends" if bigger else "buybacks"
    return "capex", "capex_guidance", "more" if _number(values["capex_guidance"]) > _number(values["capex"]) else "less"


def _two_page_questions(rng: random.Random, report: _Report, count: int) -> list[Asked]:
    asked: list[Asked] = []
    for kind in rng.sample(sorted(text.TWO_PAGE_QUESTIONS), count):
        i, j = rng.sample(range(1, report.segments + 1), 2)
        first, second, answer = _two_page_fact(kind, report.values, i, j)
        a, b = (report.values[f"seg{n}_name"].lower() for n in (i, j))
        question = rng.choice(text.TWO_PAGE_QUESTIONS[kind]).format(co=report.short, year=report.year, a=a, b=b)
        asked.append((question, "page-two", (report.pages_of(first), report.pages_of(second)), answer))
    return asked


def build(seed: int = 11) -> EvalSet:
    """FinanceBench-like: 8-12 companies' annual reports (PDF), ~120 one-page and ~20 two-page questions."""
    rng = random.Random(seed)
    pools = {"person": [name for name, _ in person_names(rng)[:60]], "city": text.CITIES, "supplier": text.SUPPLIERS,
             "customer": text.CUSTOMERS, "plaintiff": text.PLAINTIFFS, "regulation": text.REGULATIONS}  # fmt: skip
    draw = {name: rng.sample(pool, len(pool)) for name, pool in pools.items()}
    companies = rng.sample(text.COMPANIES, rng.randint(8, 12))
    industries = rng.sample(sorted(text.INDUSTRIES), len(companies))
    files: list[FileDocument] = []
    asked: list[Asked] = []
    for n, ((short, legal), industry) in enumerate(zip(companies, industries, strict=True)):
        report = _report(rng, draw, short, legal, industry)
        created = utc_iso(f"{report.year + 1}-03-{rng.randint(1, 28):02d}T09:30:00Z")
        files.append(FileDocument(GUILD, CHANNEL, f"reports/{report.filename}", report.filename,
                                  make_pdf(report.pages), "application/pdf", created_at=created))  # fmt: skip
        asked += _page_questions(rng, report, _share(PAGE_QUESTIONS, len(companies), n))
        asked += _two_page_questions(rng, report, _share(TWO_PAGE_QUESTIONS, len(companies), n))
    rng.shuffle(asked)  # kinds and companies mixed, so that any regular subset (eval's --quick) has them all
    return EvalSet("filings", GUILD, files=tuple(files), questions=numbered_questions("filings", asked))
