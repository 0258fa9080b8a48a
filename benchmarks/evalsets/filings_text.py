"""The words of the "filings" set (`filings.py`): companies and their world, report prose, question wording."""

from __future__ import annotations

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
)  # fmt: skip

# --- companies and their world ------------------------------------------------------------------------------------

COMPANIES = (
    ("Northwind", "Northwind Holdings"), ("Ashgrove", "Ashgrove Group"), ("Corvane", "Corvane Industries"),
    ("Halden", "Halden Corporation"), ("Brightwater", "Brightwater plc"), ("Maplestone", "Maplestone Inc."),
    ("Orrin", "Orrin Systems"), ("Tessaly", "Tessaly Group"), ("Vantor", "Vantor Holdings"),
    ("Quillon", "Quillon Corporation"), ("Redfern", "Redfern Industries"), ("Solvane", "Solvane plc"),
)  # fmt: skip
INDUSTRIES = {
    "retail": ("a retailer of home and garden goods", ("Stores", "Online", "Wholesale", "Home Services")),
    "logistics": ("a freight and logistics group", ("Road Freight", "Warehousing", "Air Cargo", "Customs Brokerage")),
    "chemicals": ("a specialty chemicals maker", ("Coatings", "Adhesives", "Water Treatment", "Pigments")),
    "software": ("a business software company", ("Subscriptions", "Professional Services", "Payments", "Devices")),
    "food": ("a packaged food producer", ("Bakery", "Dairy", "Frozen Foods", "Snacks")),
    "machinery": ("an industrial equipment manufacturer", ("Pumps", "Compressors", "Aftermarket Parts", "Automation")),
    "energy": ("a regional energy utility", ("Power Networks", "Gas Distribution", "Renewables", "Retail Energy")),
    "health": ("a medical devices company", ("Diagnostics", "Surgical Tools", "Home Care", "Imaging")),
    "media": ("a publishing and media group", ("Magazines", "Digital Media", "Events", "Books")),
    "telecom": ("a telecommunications operator", ("Mobile", "Broadband", "Enterprise", "Wholesale Network")),
    "hospitality": ("an operator of hotels and resorts", ("Hotels", "Resorts", "Food Service", "Franchising")),
    "materials": ("a building materials supplier", ("Cement", "Aggregates", "Timber", "Roofing")),
}
CITIES = (
    "Easton", "Marlow Bay", "Fennick", "Port Ardel", "Greyfield", "Oxhollow", "Lindham", "Carrick Falls", "Westmere",
    "Dunhaven", "Kelso Ridge", "Brackwater", "Stonefold", "Harrowgate", "Millbrook", "Tarrant", "Ellesby", "Norcastle",
    "Veldmoor", "Quarry Hill", "Ashby Cross", "Redmarsh", "Sutter Point", "Wexcombe",
)  # fmt: skip
AUDITORS = ("Hale & Morrow LLP", "Brandt Keller Audit", "Pemberton Lyle", "Castellan & Ward", "Orchard Reeve LLP")
BANKS = ("Fairhaven Bank", "Northgate Capital", "Meridian Trust", "Coldwater Savings Bank", "Albright Finance")
SUPPLIERS = (
    "Pellmark Industries", "Orvik Components", "Starling Polymers", "Tanfield Metals", "Grenmoor Packaging",
    "Lusk Electronics", "Wavecrest Supplies", "Baylor Resins", "Kemble Fibres", "Dovetail Parts", "Hexley Chemicals",
    "Marrin Textiles",
)  # fmt: skip
CUSTOMERS = (
    "Greenleaf Markets", "Arden Rail", "Coastline Grocers", "Pinecrest Health Trust", "Federal Post Service",
    "Brisk Mart", "Halcyon Airlines", "Union Builders Co-operative", "Tidewater Council", "Mercer Department Stores",
    "Lakeshore Utilities", "Apex Motor Works",
)  # fmt: skip
PLAINTIFFS = (
    "Harlow Distribution", "the Kestrel Pension Fund", "Bramley Foods", "Ostrander Logistics", "the town of Wexford",
    "Calder Instruments", "Ivers & Sons", "Millgate Partners", "Rookwood Energy", "Sabine Retail Group",
    "Torvald Shipping", "Quenby Labs",
)  # fmt: skip
COURTS = (
    "the District Court of Easton", "the Commercial Court of Port Ardel", "the High Court in Greyfield",
    "the Superior Court of Lindham", "the Federal Court at Norcastle",
)  # fmt: skip
REGULATIONS = (
    "Coastal Freight Emissions Act", "Packaging Stewardship Directive", "Digital Services Accountability Act",
    "Industrial Water Standards Rule", "Consumer Product Traceability Act", "Grid Resilience Ordinance",
    "Medical Device Registry Act", "Workplace Heat Safety Code", "Data Residency Regulation",
    "Building Materials Carbon Levy", "Hospitality Licensing Reform Act", "Chemical Disclosure Mandate",
)  # fmt: skip
CURRENCIES = ("euro", "yen", "Swiss franc", "pound sterling", "Canadian dollar", "Norwegian krone", "rupee")
REGIONS = (
    "the Northern region", "the Coastal region", "Central Europe", "the Nordics", "South Asia", "the Gulf states",
    "the Midlands", "the Pacific coast", "the Mountain states", "Southern Africa", "the Baltic markets",
)  # fmt: skip
COUPONS = ("3.125%", "3.35%", "3.875%", "4.125%", "4.375%", "4.65%", "5.25%", "5.625%", "6.15%")
TONES = ("steady progress", "hard-won growth", "renewal", "careful execution", "transition", "resilience")
OPTIONAL_SECTIONS = ("Properties", "Sustainability", "Research and Development", "Shareholder Information")

# --- page prose ---------------------------------------------------------------------------------------------------
# A section is (title, pages it spans, blocks). A block is a paragraph (wrapped), text with explicit line breaks,
# or a table (a tuple of "label|cell|cell" rows); "~" is a paragraph of filler. "segN" becomes seg1, seg2, ...

LETTER = (
    "Dear fellow shareholders,",
    "{year} was a year of {tone} for {name}. Revenue came to {revenue}, compared with {revenue_prior} in {prior}, "
    "and each of our {nseg} segments contributed to the result. I want to thank our employees for their work.",
    "~",
    "We enter the new year with a clear plan, a sound balance sheet and a team that knows what our customers "
    "expect. Thank you for your continued support.",
    "Sincerely,\n{ceo}\nChief Executive Officer",
)
HIGHLIGHTS = (
    (
        "(in millions, except per share data)|{year}|{prior}", "Revenue|{revenue}|{revenue_prior}",
        "Operating income|{op_income}|{op_income_prior}", "Net income|{net_income}|{net_income_prior}",
        "Diluted earnings per share|{eps}|{eps_prior}", "Free cash flow|{fcf}|{fcf_prior}",
    ),
    "The table above summarises results for the fiscal year ended 31 December {year}. All figures are audited.",
    "~",
)  # fmt: skip
OVERVIEW = (
    "{name} is {industry_text}. The company was established in {founded} and its head office is in {hq}. Today "
    "the business serves customers in {countries} through {sites}.",
    "~",
    "We report our results in {nseg} segments: {segment_list}. Each segment has its own management team, which "
    "is accountable for growth, margins and the capital it employs.",
    "~",
)
RISKS = (
    "Supplier concentration\nWe buy a large share of our key inputs from a small number of vendors. {supplier} alone "
    "accounted for {supplier_share} of purchases in {year}, and a disruption at its plants could delay our deliveries.",
    "Customer concentration\nOur largest customer, {customer}, represented {customer_share} of revenue in {year}. The "
    "loss of this relationship, or a material cut in its orders, would harm our results.",
    "Foreign exchange\nAbout {fx_share} of our revenue is earned in the {fx_currency}, while most costs are incurred "
    "in our reporting currency. A weaker {fx_currency} lowers reported revenue and profit.",
    "Cybersecurity\nIn {cyber_month} a ransomware attack disrupted our order systems for {cyber_days}. No customer "
    "data was taken, but a future incident could be more severe and more costly.",
    "Regulation\nThe {regulation}, which takes effect in {reg_year}, will require new reporting and controls and could "
    "raise our compliance costs by as much as {reg_cost} a year.",
    "Pension obligations\nOur defined benefit plans showed a funding deficit of {pension_deficit} at year end. Lower "
    "interest rates or weak asset returns could widen it and require larger contributions.",
)
GENERIC_RISKS = (
    "Competition\nNew entrants with lower costs compete for our customers, and price pressure in {region} could "
    "reduce margins by up to {pct} if we fail to respond.",
    "Interest rates\nHigher rates would raise the cost of refinancing and of the variable-rate borrowings that make "
    "up about {pct} of our debt.",
    "Climate and weather\nStorms and floods have closed {small} of our sites in recent years; more frequent extreme "
    "weather could interrupt operations.",
    "Labour availability\nShortages of skilled staff in {region} have raised wages by {pct} over two years and could "
    "limit our ability to grow.",
    "Systems change\nWe are replacing core business systems at {small} locations; delays or errors in the migration "
    "could disrupt billing and reporting.",
)
SEGMENT = (
    "The {segN_name} segment generated revenue of {segN_revenue} in {year}, compared with {segN_revenue_prior} in "
    "{prior}. Its operating margin was {segN_margin}, against {segN_margin_prior} a year earlier.",
    "~",
    ("Segment results|{year}|{prior}", "Revenue|{segN_revenue}|{segN_revenue_prior}",
     "Operating income|{segN_op}|{segN_op_prior}", "Operating margin|{segN_margin}|{segN_margin_prior}"),
    "~",
)  # fmt: skip
LIQUIDITY = (
    "We ended {year} with cash and cash equivalents of {cash}. Operations generated free cash flow of {fcf}, "
    "after capital expenditure of {capex}.",
    "~",
    "During the year we repurchased shares for a total of {buyback} under the programme approved by the Board.",
    "~",
)
DEBT = (
    "Our main long-term borrowing is {notes_amount} of senior unsecured notes bearing interest at {coupon} a year, "
    "due {notes_maturity}. The notes are not redeemable before maturity except on a change of control.",
    "~",
    "We also hold a committed revolving credit facility of {revolver}, arranged by {bank}, which runs until "
    "{revolver_year}. It was undrawn at year end.",
    "~",
)
DIVIDENDS = (
    "The Board recommends a final dividend that brings the total for {year} to {dps} per share, up from {dps_prior} "
    "for {prior}. Dividends paid during the year came to {dividends_total}.",
    "~",
    "Subject to approval at the annual meeting, the final dividend will be paid on {pay_date} to shareholders on "
    "the register two weeks earlier. Our payout ratio was {payout} of earnings.",
)
PEOPLE = (
    "At 31 December {year} we employed {headcount} people. Voluntary turnover was {turnover}, and {women} of our "
    "leadership roles were held by women.",
    "~",
    "Each employee received an average of {training} hours of training in the year.",
    "~",
)
LEGAL = (
    "In {filed}, {plaintiff} filed a claim against the company in {court}, seeking damages of {claim} for alleged "
    "breach of a supply agreement. We believe the claim is without merit and will defend it vigorously.",
    "~",
    "We are also party to routine proceedings incidental to our business, none of which we expect to be material.",
)
OUTLOOK = (
    "For the coming year we expect revenue growth of {growth} and plan capital expenditure of about {capex_guidance}.",
    "~",
    "Construction of our new facility in {facility_town} is on schedule, with opening planned for {facility_year}.",
    "~",
)
GOVERNANCE = (
    "The Board has {board_size} directors and is chaired by {chair}. Day-to-day management is led by {ceo} as "
    "Chief Executive Officer, with {cfo} serving as Chief Financial Officer.",
    "~",
    "Our financial statements for {year} were audited by {auditor}, who have served as auditor since {audit_since}.",
    "~",
)
FORWARD = (
    "This report contains forward-looking statements about plans, outlook and results. They involve risks and "
    "uncertainties, and actual results may differ materially from those expressed or implied."
)
OPENERS = (
    "As planned, ", "In the second half, ", "Across the group, ", "For the first time, ", "Despite softer demand, ",
    "At our largest sites, ", "In line with our strategy, ", "Compared with last year, ", "Notably, ",
)  # fmt: skip
FILLER = (
    "During {year}, {short} kept investing in systems that shorten the time between an order and its delivery.",
    "Customer satisfaction scores in {region} rose by {pct}, the largest gain since the survey began.",
    "We completed {small} process improvement projects, most of them proposed by employees at our sites.",
    "Energy use per unit of output fell by {pct} compared with the previous year.",
    "The Board reviewed the long-range plan during the year, together with {small} investment proposals.",
    "Our teams in {region} now handle about {num} customer enquiries a month, most of them resolved the same day.",
    "We renegotiated {small} long-term contracts on terms that better reflect our costs.",
    "Safety performance improved, with the recordable injury rate falling by {pct}.",
    "Investment in digital tools continued, and about {pct} of orders are now placed without a phone call.",
    "We closed {small} underperforming locations and moved their work to larger sites nearby.",
    "Inventory days fell to {small}, freeing working capital for investment.",
    "Our apprenticeship scheme welcomed {small} new trainees, the largest intake in its history.",
    "Local community programmes received {small} thousand hours of volunteering from our staff.",
    "On-time delivery improved by {pct} over the full year, ahead of our internal target.",
    "We measure progress against a small set of targets that management reviews every month.",
    "Pricing actions taken early in the year offset most of the rise in input costs.",
    "The integration of businesses acquired in earlier years is now complete.",
    "In {region}, market conditions were mixed, with demand stronger in the second half.",
    "We expect the benefits of these investments to build gradually over the next several years.",
    "Waste sent to landfill fell by {pct} as more sites adopted our recycling standard.",
    "Management continues to look for bolt-on acquisitions that fit our existing operations.",
    "A new customer portal launched in {region} attracted {num} registered users in its first months.",
    "Maintenance spending was focused on the {small} sites with the oldest equipment.",
    "Our internal audit team completed {small} reviews and reported its findings to the Audit Committee.",
    "Feedback from {num} customers shaped the product changes introduced during the year.",
    "We published our supplier code of conduct and asked our main vendors to confirm compliance.",
    "Travel and office costs fell by {pct} as hybrid working became the norm for office staff.",
    "Our sales teams in {region} were reorganised around customer groups rather than products.",
    "The share of revenue from products launched in the last three years reached {pct}.",
    "We trained {small} managers in a new leadership programme developed with a local business school.",
)  # fmt: skip

# --- questions ----------------------------------------------------------------------------------------------------

PAGE_QUESTIONS = {
    "revenue": ("How much revenue did {co} report for {year}?", "What were {co}'s total sales in fiscal {year}?",
                "What top-line figure did {co} post for {year}?"),
    "net_income": ("What net income did {co} earn in {year}?", "How much profit after tax did {co} make in {year}?"),
    "eps": ("What were {co}'s diluted earnings per share in {year}?", "How much did {co} earn per diluted share "
            "in {year}?"),
    "fcf": ("How much free cash flow did {co} generate in {year}?", "What free cash flow does {co} give for {year}?"),
    "founded": ("When was {co} established?", "In what year did {co} begin operating?"),
    "hq": ("Where is {co} headquartered?", "In which city does {co} have its head office?"),
    "countries": ("In how many countries does {co} do business?", "How many countries does {co}'s business reach?"),
    "supplier": ("Which supplier does {co} rely on most heavily?", "Name the vendor behind the largest share of "
                 "{co}'s purchases."),
    "supplier_share": ("What share of {co}'s {year} purchases came from its biggest supplier?",),
    "customer": ("Who is {co}'s largest customer?", "Which client is {co} most dependent on for revenue?"),
    "customer_share": ("What percentage of {co}'s revenue comes from its single biggest customer?",),
    "fx_currency": ("Which foreign currency is {co} most exposed to?", "A fall in which currency would hurt "
                    "{co}'s reported results?"),
    "cyber_days": ("How long were {co}'s order systems down after the ransomware attack?", "For how many days did "
                   "the cyber incident disrupt {co}'s operations?"),
    "regulation": ("Which new law does {co} flag as a compliance risk?", "What legislation could push up {co}'s "
                   "compliance costs?"),
    "pension_deficit": ("How large is the funding gap in {co}'s defined benefit pension plans?", "What pension "
                        "deficit did {co} report at the end of {year}?"),
    "seg_revenue": ("How much revenue did {co}'s {seg} segment bring in during {year}?", "What were the {year} "
                    "sales of the {seg} business at {co}?"),
    "seg_margin": ("What was {co}'s operating margin in its {seg} segment in {year}?", "How profitable was {co}'s "
                   "{seg} business in {year}, measured by operating margin?"),
    "cash": ("How much cash and cash equivalents did {co} hold at the end of {year}?", "What was {co}'s cash "
             "balance at year end {year}?"),
    "capex": ("How much did {co} spend on capital expenditure in {year}?", "What did {co} invest in property, "
              "plant and equipment during {year}?"),
    "buyback": ("How much stock did {co} buy back in {year}?", "What did {co} spend repurchasing its own shares "
                "in {year}?"),
    "notes_amount": ("What is the principal amount of {co}'s senior notes?", "How large is {co}'s outstanding "
                     "senior notes issue?"),
    "coupon": ("What interest rate do {co}'s senior notes carry?", "What coupon is paid on {co}'s senior notes?"),
    "notes_maturity": ("When do {co}'s senior notes mature?", "On what date must {co} repay its senior notes?"),
    "revolver": ("How large is {co}'s revolving credit facility?", "What is the size of the committed credit "
                 "line available to {co}?"),
    "bank": ("Which bank arranged {co}'s revolving credit facility?", "Who is the lender behind {co}'s credit line?"),
    "revolver_year": ("In what year does {co}'s revolving credit facility expire?",),
    "dps": ("What total dividend per share did {co} declare for {year}?", "How much did {co} pay shareholders per "
            "share in dividends for {year}?"),
    "pay_date": ("When will {co} pay its final dividend for {year}?", "On what date is {co}'s final dividend "
                 "payable?"),
    "headcount": ("How many people did {co} employ at the end of {year}?", "What was {co}'s workforce size at "
                  "year end {year}?"),
    "turnover": ("What was {co}'s voluntary staff turnover rate in {year}?", "What share of {co}'s staff left "
                 "voluntarily in {year}?"),
    "plaintiff": ("Who filed the lawsuit against {co} described in its legal proceedings?", "Which party is suing "
                  "{co} over a supply agreement?"),
    "claim": ("How much in damages is being sought from {co} in its pending lawsuit?", "What is the value of the "
              "claim against {co}?"),
    "court": ("In which court is the case against {co} being heard?",),
    "growth": ("What revenue growth does {co} expect for the coming year?", "What is {co}'s sales growth guidance "
               "for next year?"),
    "capex_guidance": ("How much does {co} plan to invest in capital projects next year?", "What capital "
                       "expenditure budget has {co} set for the year ahead?"),
    "facility_town": ("Where is {co} building its new facility?", "In which town will {co}'s new site open?"),
    "ceo": ("Who is {co}'s chief executive?", "Who runs {co} as CEO?"),
    "cfo": ("Who is {co}'s chief financial officer?", "Who serves as CFO at {co}?", "Who heads finance on {co}'s "
            "executive team?"),
    "chair": ("Who chairs {co}'s board of directors?", "Who is the chair of {co}'s board?"),
    "auditor": ("Which firm audits {co}'s accounts?", "Who is {co}'s independent auditor?"),
}  # fmt: skip
TWO_PAGE_QUESTIONS = {
    "margin_cmp": ("Which had the higher operating margin at {co} in {year}: its {a} or its {b} business?",
                   "Which of {co}'s segments earned the better operating margin in {year}, {a} or {b}?"),
    "revenue_cmp": ("Which brought in more revenue at {co} in {year}, the {a} segment or the {b} segment?",
                    "By {year} sales, which was the larger part of {co}: {a} or {b}?"),
    "revenue_sum": ("What did {co}'s {a} and {b} segments earn in revenue combined in {year}?",),
    "per_employee": ("Roughly how much revenue did {co} generate per employee in {year}?",),
    "returns_cmp": ("Did {co} return more cash to shareholders in {year} through dividends or through buybacks?",),
    "capex_plan": ("Does {co} plan to spend more or less on capital projects next year than it did in {year}?",),
}  # fmt: skip
