"""A synthetic law firm: deterministic, realistic, with known problems planted at known rates.

``build_firm(seed, month, entries)`` returns a :class:`DemoFirm`:

* ``reference`` -- offices, timekeepers, clients, matters and rates, with the columns of the
  ledger's tables (``store/tables.py``), ready for :func:`load_into`;
* ``time_export`` and ``expense_export`` -- one month of time entries and expenses as a
  practice-management system exports them (the canonical columns, Decimal money, date objects);
* ``ground_truth`` -- one row per planted problem and entry (rule id, and a detail in words), so
  that every rule's recall and precision can be measured against data nobody labelled by hand.

The firm scales with ``entries``: about one timekeeper per 150 entries, one client per 100 and
one matter per 24 (40 / 60 / 250 at the default 6,000; 2,000 timekeepers for 300,000), so that a
lawyer's day stays plausible at any size. Everything is drawn from one seed through independent
NumPy streams, and generated column-wise: no Python loop runs per entry.

Clean entries are built to trigger none of the planted rules: hours are positive multiples of
0.1, a timekeeper-day totals at most 10 hours, a timekeeper records at most one entry per matter
per day, narratives are specific (6+ words, no clerical or in-firm-meeting wording, no ';', no
leading ``= + - @``), UTBMS codes are valid where the matter requires them (litigation matters,
and every matter of a client that bills through an e-billing portal), the rate is the one
in force (matter/client override, else the timekeeper's standard rate for the work date), the
amount is hours x rate rounded once, half-up (:func:`billxl.money.extend_array`), dates fall
inside the matter's open period and the timekeeper's active period, and time is entered within a
few days. Each planted problem is put on entries that carry no other, so that no entry has two
(a DAILY_MAX plant names every entry of its over-long day; those entries carry nothing else).
No code or length plant is on an e-billing client's entry: a careful firm's e-billed entries
carry the codes and lengths the client's portal requires.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from billxl import money
from billxl.atomic import atomic_path
from billxl.schema import CANONICAL_EXPENSE_COLUMNS, CANONICAL_TIME_COLUMNS

__all__ = [
    "DemoFirm",
    "build_firm",
    "write_exports",
    "load_into",
    "TIME_EXPORT_COLUMNS",
    "EXPENSE_EXPORT_COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "TIME_PROBLEMS",
    "EXPENSE_PROBLEMS",
    "DEFAULT_PROBLEM_RATES",
]

TIME_EXPORT_COLUMNS = (*CANONICAL_TIME_COLUMNS, "entered_on", "billable")
EXPENSE_EXPORT_COLUMNS = CANONICAL_EXPENSE_COLUMNS
GROUND_TRUTH_COLUMNS = ("entry_id", "kind", "problem", "detail")

#: Rule ids of the problems planted in time entries and in expenses.
TIME_PROBLEMS = (
    "DUPLICATE", "BLOCK_BILLING", "VAGUE", "ADMIN_TASK", "INTERNAL_CONFERENCE", "DAILY_MAX",
    "INCREMENT", "UTBMS_MISSING", "UTBMS_INVALID", "CLOSED_MATTER", "INACTIVE_TIMEKEEPER",
    "RATE_MISMATCH", "AMOUNT_MISMATCH", "FORMULA_TEXT", "NARRATIVE_LENGTH", "LATE_TIME",
)
EXPENSE_PROBLEMS = ("RECEIPT_REQUIRED", "EXPENSE_CAP")

#: Share of entries (of time entries, or of expenses) planted with each problem. For DAILY_MAX
#: it is the share of entries on over-long days. Expenses get 3%: a month has only a few hundred,
#: and 1.5% of 300 is too few to measure a rule by.
DEFAULT_PROBLEM_RATES: dict[str, float] = {
    **{p: 0.015 for p in TIME_PROBLEMS},
    **{p: 0.03 for p in EXPENSE_PROBLEMS},
}

#: The thresholds the planted problems cross (and clean entries stay within).
DAILY_MAX_MILLI = 10_000  # 10 hours in one timekeeper-day
LATE_AFTER_DAYS = 30  # entered more than 30 days after the work date
NARRATIVE_MAX_CHARS = 1024
RECEIPT_OVER_MINOR = 7_500  # an expense over 75.00 needs a receipt
MEAL_CAP_MINOR = 10_000  # a meal over 100.00 breaks the cap

CLASSES = ("PARTNR", "OFCOUN", "ASSOC", "PARLGL", "LGLAST")
_LAWYER = np.array([True, True, True, False, False])  # who has a personal standard rate
_PARA = np.array([False, False, False, True, True])  # who draws from the paralegal phrases
_CLASS_SHARE = (0.25, 0.05, 0.40, 0.20, 0.10)
#: Standard rates from 1 July, whole USD: (low, high). The 1 January rates are about 5% lower.
_CLASS_RATES = ((650, 1200), (600, 950), (350, 700), (200, 300), (140, 195))
#: Reference points for client-agreed (override) rates by class, USD.
_CLASS_PANEL = (900, 780, 520, 240, 165)
_CLASS_DAY_TENTHS = (66, 58, 78, 70, 62)  # mean recorded tenths of an hour per working day
_CLASS_PORTFOLIO = ((16, 26), (10, 16), (14, 22), (16, 24), (12, 20))  # matters each works on
_DAY_CAP = (12, 10, 12, 10, 10)  # most entries one timekeeper records in one day

CURRENCIES = ("USD", "GBP", "EUR")
_FROM_USD = (1.0, 0.80, 0.92)  # fixed conversion for the firm's rate cards

OFFICES = (  # office_id, name, city, country, currency
    ("NYC", "New York", "New York", "US", "USD"),
    ("CHI", "Chicago", "Chicago", "US", "USD"),
    ("LDN", "London", "London", "GB", "GBP"),
)
_OFFICE_SHARE = (0.5, 0.25, 0.25)

AREAS = ("litigation", "corporate", "employment", "ip", "real_estate", "regulatory")
_AREA_SHARE = (0.30, 0.25, 0.12, 0.13, 0.10, 0.10)
_PORTAL_AREA_SHARE = (0.80, 0.0, 0.10, 0.0, 0.0, 0.10)  # e-billing clients: mostly litigation
PORTALS = ("legaltracker", "tymetrix", "counsellink")

FIRM = {
    "name": "Whitmore Ashby & Crane LLP",
    "law_firm_id": "13-4928561",
    "currency": "USD",
    "rounding": "half_up",
    "invoice_numbering": "firm",
    "address_1": "200 Park Avenue",
    "address_2": "41st Floor",
    "city": "New York",
    "region": "NY",
    "postcode": "10166",
    "country": "US",
}


# =================================================================================== the result
@dataclass
class DemoFirm:
    """One month of a synthetic firm: reference data, exports, and the planted problems."""

    month: str  # 'YYYY-MM'
    seed: int
    firm: dict  # kwargs for Ledger.create(url, firm=...)
    reference: dict[str, pd.DataFrame]  # offices, timekeepers, clients, matters, rates
    time_export: pd.DataFrame  # TIME_EXPORT_COLUMNS
    expense_export: pd.DataFrame  # EXPENSE_EXPORT_COLUMNS
    ground_truth: pd.DataFrame  # entry_id, kind ('time' | 'expense'), problem, detail


# =================================================================================== phrases
# Narrative parts. A clean narrative is an action (with its UTBMS task and activity codes, used
# on matters that need codes) plus an optional tail naming a person or a date. None of these use the
# words the planted problems are made of (file, schedule, calendar, copy, invoice, conference,
# internal ...), a ';', or a leading '=', '+', '-' or '@'.
_LITIGATION = (
    ("Draft motion to compel production of documents from defendant", "L350", "A103"),
    ("Revise opposition to defendant's motion to dismiss the amended complaint", "L240", "A103"),
    ("Prepare outline for deposition of plaintiff's damages expert", "L340", "A101"),
    ("Review and analyze defendant's responses to second set of interrogatories", "L310", "A104"),
    ("Research case law on spoliation sanctions under Rule 37(e)", "L350", "A102"),
    ("Draft responses and objections to plaintiff's first requests for admission", "L310", "A103"),
    ("Call with client regarding settlement authority before mediation", "L160", "A106"),
    ("Prepare witness for deposition testimony on contract negotiations", "L330", "A101"),
    ("Attend deposition of defendant's former sales director", "L330", "A109"),
    ("Draft memorandum analyzing statute of limitations defenses", "L120", "A103"),
    ("Review produced documents for privilege and responsiveness", "L320", "A104"),
    ("Draft privilege log for documents withheld from production", "L320", "A103"),
    ("Analyze expert report on lost profits served by plaintiff", "L340", "A104"),
    ("Prepare for oral argument on motion for summary judgment", "L240", "A101"),
    ("Attend hearing on motion for preliminary injunction", "L220", "A109"),
    ("Draft reply brief in support of motion for summary judgment", "L240", "A103"),
    ("Correspond with opposing counsel regarding deposition dates and locations", "L330", "A107"),
    ("Interview former plant manager regarding timeline of product recall", "L110", "A108"),
    ("Draft answer and affirmative defenses to amended complaint", "L210", "A103"),
    ("Review court's order on motion to dismiss and advise client on next steps", "L120", "A104"),
    ("Prepare proposed jury instructions and special verdict form", "L440", "A103"),
    ("Draft appellate brief section on abuse of discretion standard", "L520", "A103"),
    ("Revise early case assessment and litigation budget for client", "L150", "A103"),
    ("Meet with client representatives to review discovery strategy", "L120", "A106"),
    ("Negotiate stipulated protective order with opposing counsel", "L250", "A107"),
    ("Research admissibility of business records under hearsay exception", "L430", "A102"),
    ("Prepare cross-examination outline for plaintiff's causation expert", "L420", "A101"),
    ("Draft mediation statement summarizing liability and damages positions", "L160", "A103"),
    ("Review third-party subpoena responses from logistics vendor", "L310", "A104"),
    ("Analyze damages model and prepare comments for consulting expert", "L130", "A104"),
    ("Draft motion in limine to exclude evidence of subsequent remedial measures", "L430", "A103"),
    ("Review trial transcript and identify issues for post-trial motions", "L460", "A104"),
)
_LITIGATION_PARALEGAL = (
    ("Cite-check record citations in opposition to motion for summary judgment", "L240", "A104"),
    ("Summarize deposition transcript of plaintiff's chief financial officer", "L330", "A104"),
    ("Prepare chronology of key events from produced correspondence", "L110", "A103"),
    ("Draft privilege log entries for custodian documents withheld", "L320", "A103"),
    ("Review produced documents for responsiveness and privilege issues", "L320", "A104"),
    ("Prepare deposition exhibits for examination of defendant's sales director", "L330", "A101"),
    ("Research public court records for prior claims against defendant", "L110", "A102"),
    ("Prepare table of authorities and verify citations in reply brief", "L240", "A103"),
    ("Draft summary of expert witness prior testimony and publications", "L420", "A102"),
)
# Outside litigation, a client that asks for UTBMS codes (the demo's e-billing clients) gets the
# counseling task set (C100 fact gathering, C200 researching law, C300 analysis and advice, C400
# third-party communication), which the ABA meant for advice in any area of law, with the same
# activity codes. Each action carries the codes that say what it is; other clients' matters
# carry none (a transactional client might ask for the project set instead).
_CORPORATE = (
    ("Review and revise asset purchase agreement indemnification provisions", "C300", "A103"),
    ("Draft disclosure letter for share purchase agreement", "C300", "A103"),
    ("Review target's material contracts for change of control provisions", "C100", "A104"),
    ("Prepare due diligence report on target's intellectual property portfolio", "C300", "A103"),
    ("Revise board resolutions approving the merger and related financing", "C300", "A103"),
    ("Negotiate transition services agreement with seller's counsel", "C400", "A107"),
    ("Draft closing memorandum and funds flow for the acquisition", "C300", "A103"),
    ("Review credit agreement covenants and prepare summary for client", "C300", "A104"),
    ("Draft shareholder agreement drag-along and tag-along provisions", "C300", "A103"),
    ("Analyze merger control notification requirements for proposed acquisition", "C200",
     "A104"),
    ("Revise letter of intent to reflect revised purchase price mechanics", "C300", "A103"),
    ("Review escrow agreement and comment on release conditions", "C300", "A104"),
    ("Call with client regarding working capital adjustment dispute", "C300", "A106"),
    ("Prepare summary of key terms of Series B preferred stock financing", "C300", "A103"),
    ("Review investor rights agreement and voting agreement markups", "C300", "A104"),
    ("Negotiate representations and warranties insurance policy exclusions", "C400", "A108"),
    ("Review capitalization table and confirm option pool calculations", "C100", "A104"),
    ("Draft officer's certificate and bring-down certificate for closing", "C300", "A103"),
)
_EMPLOYMENT = (
    ("Draft position statement responding to EEOC charge of discrimination", "C400", "A103"),
    ("Review personnel records and prepare chronology of performance issues", "C100", "A104"),
    ("Advise client on classification of contractors under state wage law", "C300", "A106"),
    ("Draft separation agreement and general release for departing executive", "C300", "A103"),
    ("Research enforceability of non-compete covenants under Illinois law", "C200", "A102"),
    ("Prepare for mediation of wage and hour collective action claims", "C400", "A101"),
    ("Revise employee handbook policies on remote work and leave", "C300", "A103"),
    ("Interview human resources manager regarding termination decision", "C100", "A106"),
    ("Analyze reduction in force selection criteria for disparate impact", "C300", "A104"),
    ("Draft restrictive covenant agreement for regional sales employees", "C300", "A103"),
    ("Call with client regarding accommodation request under the ADA", "C300", "A106"),
)
_IP = (
    ("Draft response to office action rejecting claims as obvious", "C400", "A103"),
    ("Review prior art references cited in inter partes review petition", "C100", "A104"),
    ("Prepare freedom to operate analysis for new sensor design", "C300", "A103"),
    ("Draft trademark opposition brief on likelihood of confusion", "C400", "A103"),
    ("Revise software license agreement limitation of liability clause", "C300", "A103"),
    ("Analyze claim construction positions for the asserted patents", "C300", "A104"),
    ("Review invention disclosure and prepare draft patent claims", "C300", "A103"),
    ("Draft cease and desist letter regarding infringing product listings", "C400", "A103"),
    ("Negotiate patent license royalty terms with licensee's counsel", "C400", "A107"),
    ("Prepare infringement claim charts for the accused products", "C300", "A103"),
    ("Research fair use defenses for training data copyright claims", "C200", "A102"),
)
_REAL_ESTATE = (
    ("Review title commitment and survey exceptions for warehouse acquisition", "C100", "A104"),
    ("Draft purchase and sale agreement for office building acquisition", "C300", "A103"),
    ("Negotiate lease amendment extending term and adjusting rent escalations", "C400", "A107"),
    ("Review estoppel certificates from tenants of the retail center", "C100", "A104"),
    ("Draft construction loan agreement provisions on completion guaranty", "C300", "A103"),
    ("Revise ground lease leasehold mortgage protections per lender comments", "C300", "A103"),
    ("Analyze zoning restrictions affecting proposed distribution center", "C200", "A104"),
    ("Review environmental site assessment and advise on remediation indemnity", "C300",
     "A104"),
    ("Draft subordination, non-disturbance and attornment agreement for anchor tenant", "C300",
     "A103"),
    ("Prepare closing checklist for portfolio refinancing with lender's counsel", "C300",
     "A103"),
)
_REGULATORY = (
    ("Draft response to SEC staff comment letter on revenue recognition disclosure", "C400",
     "A103"),
    ("Review FCA consultation paper on consumer duty and summarize impact", "C200", "A104"),
    ("Prepare presentation to audit committee on anti-bribery controls", "C300", "A103"),
    ("Analyze export control classification of encryption products", "C300", "A104"),
    ("Draft response to state attorney general civil investigative demand", "C400", "A103"),
    ("Review data protection impact assessment for customer analytics program", "C300", "A104"),
    ("Advise client on sanctions screening obligations for new distributors", "C300", "A106"),
    ("Prepare outline for interview of compliance officer regarding payments to agents", "C100",
     "A101"),
    ("Research licensing requirements for money transmission in Texas", "C200", "A102"),
    ("Revise whistleblower policy to reflect new EU directive requirements", "C300", "A103"),
)
_GENERAL_PARALEGAL = (
    ("Research public records on corporate history of the counterparty", "C100", "A102"),
    ("Prepare chronology of key events from client correspondence", "C100", "A103"),
    ("Summarize key terms of executed agreements for the client team", "C100", "A104"),
    ("Check trademark registration status in foreign jurisdictions", "C100", "A102"),
    ("Verify lien search results against seller entities in three states", "C100", "A104"),
    ("Update due diligence tracker for target's material contracts", "C100", "A103"),
    ("Prepare comparison of draft and executed versions of the lease", "C100", "A104"),
)
#: Phrase pools: one per practice area for lawyers, then the paralegal pools.
_POOLS: tuple[tuple[tuple[str, str, str], ...], ...] = (
    _LITIGATION, _CORPORATE, _EMPLOYMENT, _IP, _REAL_ESTATE, _REGULATORY, _LITIGATION_PARALEGAL,
    _GENERAL_PARALEGAL,
)
_TAIL_FORMS = (
    " and revise per comments from {partner}",
    " and circulate revised draft to {contact}",
    " for review by {contact}",
    " ahead of the {day} deadline",
    " in preparation for call with {contact} on {day}",
    " and summarize open points for {partner}",
    ", focusing on issues raised by {contact}",
    " following call with {contact}",
)
_CONTACTS = ("K. Moreno", "D. Whitfield", "A. Brennan", "S. Okafor", "L. Fischer",
             "R. Castellano", "M. Lindqvist", "P. Adeyemi", "the client's general counsel",
             "the client's deputy general counsel", "opposing counsel", "the mediator")
_DOC_DESCRIPTIONS = (
    "the March board minutes approving the distribution agreement",
    "the chief financial officer's correspondence with the auditors about revenue recognition",
    "the regional sales reports for the third and fourth quarters",
    "the supply agreement with the Shenzhen manufacturer and its three amendments",
    "the warehouse inspection reports prepared after the product recall",
    "the customer complaint logs maintained by the service department",
    "the draft and final versions of the marketing plan for the new product line",
    "the engineering change orders issued for the sensor housing",
    "the quality assurance test results for the affected production lots",
    "the side letters exchanged with the exclusive distributor in Canada",
    "the chat messages between the product managers about launch timing",
    "the insurance notices sent to the primary and excess carriers",
    "the pricing committee presentations and the related approvals",
    "the settlement communications with the two largest retail customers",
    "the consulting expert's preliminary damages workbook and assumptions",
    "the vendor audit reports and corrective action plans",
    "the former sales director's expense reports and travel records",
    "the written discovery responses served by both co-defendants",
)
_VAGUE = ("Review file", "Attention to matter", "Work on file", "Research", "Conference",
          "Legal research", "Review documents", "Telephone call", "Correspondence",
          "Follow up", "Prepare for meeting", "Various matters", "Draft documents",
          "Review and analysis", "Emails", "Trial preparation", "Work on matter",
          "Review materials", "Meeting", "Attention to file")
_ADMIN = ("File notice of appearance with the court clerk",
          "Schedule deposition of plaintiff with court reporter and opposing counsel",
          "Copy and organize exhibits for trial binders",
          "Respond to client questions regarding last month's invoice",
          "Calendar discovery deadlines from the scheduling order",
          "Prepare documents for electronic filing with the court",
          "Scan and save signed engagement letter to document system",
          "Update billing records and review prebill for accuracy",
          "Arrange courier delivery of signed documents to client",
          "Organize correspondence folders in document management system",
          "Bates stamp documents for production to opposing counsel",
          "Book meeting room and catering for client meeting",
          "Format and proofread final version of the agreement",
          "Process vendor invoice for court reporter services")
_INTERNAL = ("Office conference with associate re strategy for motion to dismiss",
             "Office conference with {associate} regarding discovery plan",
             "Confer with partner regarding motion strategy and next steps",
             "Internal team meeting to discuss deal timeline and open items",
             "Meet with associate to review research assignment on damages",
             "Conference with paralegal regarding exhibit preparation for deposition",
             "Internal call with deal team regarding signing checklist",
             "Discuss case status with supervising partner {partner}",
             "Strategy meeting with litigation team regarding summary judgment",
             "Office conference with {partner} re status of diligence")
_FORMULA_PREFIXES = ("=SUM(A1:A3) ", "=", "-- ", "- ", "+ ", "+1 ", "@{partner} ")
_INVALID_TASKS = ("L999", "L170", "L610", "L115", "L235")
_INVALID_ACTIVITIES = ("A199", "A112", "A120", "A100")

# Expenses: code, weight on litigation matters, weight elsewhere, quantity range, unit cost range
# (minor units), narratives. Copying stays at or under 75.00 (no receipt for the photocopier).
_EXPENSES = (
    ("E101", 14, 14, (25, 500), (10, 15), ("Photocopies of deposition exhibits",
                                           "Photocopies of closing documents for signing",
                                           "Color copies of expert report for hearing")),
    ("E106", 14, 16, (1, 1), (2_000, 34_000), ("Westlaw research charges",
                                               "Lexis research charges for case law review",
                                               "PACER document retrieval charges")),
    ("E107", 12, 14, (1, 1), (1_800, 9_500), ("FedEx delivery to opposing counsel",
                                              "Courier delivery of signature pages to client",
                                              "Overnight delivery of hearing materials")),
    ("E108", 6, 8, (1, 40), (73, 73), ("Postage for service of discovery responses",
                                       "Certified mail postage for notices")),
    ("E109", 8, 8, (1, 1), (1_200, 6_800), ("Taxi to courthouse for hearing",
                                            "Car service to client's offices")),
    ("E110", 8, 10, (1, 1), (18_000, 145_000), ("Airfare to Chicago for deposition",
                                                "Hotel in Boston for two nights during trial",
                                                "Train fare to Washington for client meeting")),
    ("E111", 10, 12, (1, 1), (1_400, 9_600), ("Working lunch with client during deposition",
                                              "Dinner while traveling for hearing",
                                              "Working lunch during negotiation session")),
    ("E112", 10, 4, (1, 1), (4_500, 40_500), ("Court fee for motion for admission pro hac vice",
                                              "Court fee for notice of appeal",
                                              "County recording fee for deed")),
    ("E115", 8, 0, (1, 1), (38_000, 240_000), ("Transcript of deposition of plaintiff",
                                               "Expedited transcript of expert deposition")),
    ("E118", 6, 2, (1, 1), (60_000, 950_000), ("E-discovery vendor hosting charges",
                                               "Forensic imaging of custodian laptops")),
    ("E119", 4, 2, (1, 1), (250_000, 1_500_000), ("Consulting expert fees for damages analysis",
                                                  "Testifying expert fees for report preparation")),
)
_MEAL_CAP_NARRATIVES = ("Team dinner during trial preparation",
                        "Dinner with client representatives after closing",
                        "Catered dinner for deposition preparation session")


# =================================================================================== names
_FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Edward",
    "Sharon", "Jason", "Laura", "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary",
    "Angela", "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Brenda", "Stephen", "Pamela",
    "Larry", "Emma", "Justin", "Nicole", "Scott", "Helen", "Brandon", "Samantha", "Benjamin",
    "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Patrick",
    "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis", "Heather",
    "Jerry", "Priya", "Tyler", "Diane", "Aaron", "Julie", "Jose", "Joyce", "Adam", "Victoria",
    "Nathan", "Kelly", "Henry", "Christina", "Zachary", "Lauren", "Douglas", "Joan", "Peter",
    "Evelyn", "Kyle", "Judith", "Noah", "Megan", "Ethan", "Andrea", "Jeremy", "Cheryl", "Walter",
    "Hannah", "Christian", "Martha", "Keith", "Jacqueline", "Roger", "Frances", "Terry", "Gloria",
    "Austin", "Ann", "Sean", "Teresa", "Gerald", "Kathryn", "Carl", "Sara", "Harold", "Janice",
    "Dylan", "Jean", "Arthur", "Alice", "Lawrence", "Madison", "Jordan", "Doris", "Jesse",
    "Abigail", "Bryan", "Julia", "Billy", "Judy", "Bruce", "Grace", "Gabriel", "Denise", "Joe",
    "Amber", "Logan", "Marilyn", "Albert", "Beverly", "Willie", "Danielle", "Alan", "Theresa",
    "Juan", "Sophia", "Wayne", "Marie", "Elijah", "Diana", "Randy", "Brittany", "Roy", "Natalie",
    "Vincent", "Isabella", "Ralph", "Charlotte", "Eugene", "Rose", "Russell", "Alexis", "Bobby",
    "Kayla", "Mason", "Aisha", "Philip", "Wei", "Louis", "Mei", "Hiroshi", "Yuki", "Rahul",
    "Ananya", "Oluwaseun", "Chiamaka", "Mateo", "Lucia", "Sebastian", "Ingrid", "Lars", "Freya",
    "Tomasz", "Agnieszka", "Dmitri", "Elena", "Kwame", "Amara", "Omar", "Layla", "Ravi", "Deepa",
)
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
    "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
    "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes",
    "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker",
    "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer",
    "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills",
    "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto",
    "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins",
    "Arnold", "Pierce", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott",
    "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley", "Andrews",
    "Alvarado", "Ray", "Delgado", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena",
    "Richards", "Willis", "Carpenter", "Lawrence", "Sandoval", "Okafor", "Adeyemi", "Nakamura",
    "Tanaka", "Kowalski", "Novak", "Lindqvist", "Johansson", "Muller", "Schneider", "Rossi",
    "Bianchi", "Dubois", "Laurent", "Kapoor", "Mehta", "Singh", "Haddad", "Cohen", "Levy",
    "O'Brien", "O'Connor", "Fitzgerald", "Byrne",
)
_CLIENT_STEMS = (
    "Harbor", "Summit", "Northwind", "Bluewater", "Cedar", "Granite", "Meridian", "Ironwood",
    "Silverline", "Redwood", "Lakeshore", "Beacon", "Pinnacle", "Crescent", "Evergreen",
    "Keystone", "Sterling", "Horizon", "Atlas", "Vanguard", "Riverbend", "Oakmont", "Highland",
    "Westbrook", "Eastgate", "Clearwater", "Stonebridge", "Goldcrest", "Falcon", "Orion",
    "Polaris", "Cobalt", "Sapphire", "Emerald", "Juniper", "Magnolia", "Willow", "Aspen",
    "Sequoia", "Cypress", "Hawthorne", "Ashford", "Kingsley", "Whitestone", "Blackrock",
    "Greystone", "Fairview", "Brightwater", "Copperfield", "Marlow", "Thornbury", "Ellsworth",
    "Pemberton", "Caldwell", "Hartwell", "Radcliffe", "Sutton", "Wexford", "Carrington",
    "Bradford", "Linden", "Alder", "Maple", "Birch", "Hickory", "Chestnut", "Laurel", "Heron",
    "Osprey", "Kestrel", "Condor", "Mariner", "Compass", "Anchor", "Lighthouse", "Trident",
    "Tidewater", "Prairie", "Canyon", "Mesa", "Sierra", "Alpine", "Glacier", "Tundra", "Boreal",
    "Solstice", "Equinox", "Zenith", "Apex", "Vertex", "Quantum", "Helix", "Vector", "Nimbus",
)
#: (industry word, is an insurer)
_CLIENT_INDUSTRIES = (
    ("Logistics", False), ("Capital", False), ("Pharmaceuticals", False), ("Energy", False),
    ("Foods", False), ("Software", False), ("Holdings", False), ("Manufacturing", False),
    ("Health", False), ("Media", False), ("Retail", False), ("Biotech", False),
    ("Semiconductors", False), ("Aerospace", False), ("Chemicals", False), ("Robotics", False),
    ("Hotels", False), ("Properties", False), ("Shipping", False), ("Telecom", False),
    ("Materials", False), ("Analytics", False), ("Motors", False), ("Apparel", False),
    ("Bank", False), ("Partners", False), ("Systems", False), ("Devices", False),
    ("Insurance", True), ("Mutual Insurance", True), ("Assurance", True), ("Casualty", True),
    ("Reinsurance", True), ("Indemnity", True), ("Specialty Insurance", True),
)
_OPPONENTS = ("Delta Freight Lines", "Apex Components", "Brightline Retail", "Consolidated Mills",
              "Evermore Packaging", "Frontier Data", "Gulfport Marine", "Heartland Dairy",
              "Intercontinental Tooling", "Jasper Medical", "Keller Construction",
              "Lumen Networks", "Midland Steel", "Norcross Labs", "Oakridge Farms",
              "Pacific Rim Traders", "Quarry Stone Supply", "Rainier Outfitters")
_MATTER_FORMS = {
    "litigation": ("{client} adv. {other}", "{other} v. {client}", "{client} v. {other}",
                   "{client} - product liability claims", "{client} - arbitration with {other}"),
    "corporate": ("Acquisition of {other}", "Sale of {other} division", "Series B financing",
                  "Revolving credit facility", "Joint venture with {other}",
                  "General corporate advice"),
    "employment": ("Wage and hour class action", "EEOC charge - former employee",
                   "Executive separation", "Reduction in force", "Employment policies review"),
    "ip": ("Patent prosecution - sensor portfolio", "Trademark oppositions",
           "{client} v. {other} patent infringement", "Software licensing",
           "Trade secret protection program"),
    "real_estate": ("Lease of distribution center", "Acquisition of office campus",
                    "Portfolio refinancing", "Ground lease - retail site", "Sale of warehouse"),
    "regulatory": ("SEC comment letter response", "FCA regulatory review",
                   "Export controls classification", "Attorney general investigation",
                   "Data protection compliance program", "Sanctions compliance review"),
}
_US_STREETS = ("Main Street", "Market Street", "Broad Street", "Commerce Street",
               "Harbor Boulevard", "Washington Avenue", "Madison Avenue")
#: (jurisdiction, currency, suffixes, [(city, region, postcode prefix)], office, streets)
_JURISDICTIONS = (
    ("US-NY", "USD", ("Inc.", "LLC", "Corp."), (("New York", "NY", "100"),), "NYC",
     ("Park Avenue", "Lexington Avenue", "Avenue of the Americas", *_US_STREETS)),
    ("US-NJ", "USD", ("Inc.", "LLC"), (("Newark", "NJ", "071"),), "NYC", _US_STREETS),
    ("US-MA", "USD", ("Inc.", "LLC"), (("Boston", "MA", "021"),), "NYC",
     ("Boylston Street", "State Street", *_US_STREETS)),
    ("US-IL", "USD", ("Inc.", "LLC", "Corp."), (("Chicago", "IL", "606"),), "CHI",
     ("Wacker Drive", "LaSalle Street", "Michigan Avenue", *_US_STREETS)),
    ("US-TX", "USD", ("Inc.", "LP"), (("Houston", "TX", "770"), ("Dallas", "TX", "752")), "CHI",
     ("Louisiana Street", "Ross Avenue", *_US_STREETS)),
    ("US-CA", "USD", ("Inc.", "LLC"), (("San Francisco", "CA", "941"),
                                       ("Los Angeles", "CA", "900")), "CHI",
     ("California Street", "Wilshire Boulevard", *_US_STREETS)),
    ("GB", "GBP", ("Ltd", "plc", "LLP"), (("London", "", "EC2"), ("Manchester", "", "M1")), "LDN",
     ("Bishopsgate", "Cheapside", "King Street", "Moorgate", "Deansgate")),
    ("DE", "EUR", ("GmbH", "AG"), (("Frankfurt am Main", "HE", "603"), ("Munich", "BY", "803")),
     "LDN", ("Taunusanlage", "Mainzer Landstrasse", "Maximilianstrasse")),
    ("FR", "EUR", ("SA", "SAS"), (("Paris", "", "750"),), "LDN",
     ("Rue de la Paix", "Avenue Montaigne", "Boulevard Haussmann")),
    ("NL", "EUR", ("B.V.", "N.V."), (("Amsterdam", "NH", "101"),), "LDN",
     ("Herengracht", "Keizersgracht", "Zuidplein")),
)
_JURISDICTION_SHARE = (0.34, 0.05, 0.06, 0.14, 0.07, 0.14, 0.12, 0.04, 0.02, 0.02)


# =================================================================================== helpers
def _month_span(month: str) -> tuple[np.datetime64, np.datetime64]:
    """First and last day of 'YYYY-MM' (datetime64[D])."""
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"month must look like 'YYYY-MM' (e.g. '2026-10'), not {month!r}")
    first = np.datetime64(month, "M")
    return first.astype("datetime64[D]"), (first + 1).astype("datetime64[D]") - 1


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators per concern: changing the problem rates keeps the same firm."""
    names = ("firm", "time", "text", "plants", "expenses", "order", "moves")
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


def _round_to(values: np.ndarray, step: int) -> np.ndarray:
    return (np.rint(np.asarray(values, dtype=np.float64) / step) * step).astype(np.int64)


def _weighted_index(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending: the position of each row within its run of equal keys."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    return np.arange(n) - starts[run]


def _take_unique(candidates: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` candidates (already in random order) whose key was not seen before."""
    _, first = np.unique(keys, return_index=True)
    keep = np.sort(first)
    return candidates[keep[:n]]


def _pick(rng: np.random.Generator, mask: np.ndarray, n: int) -> np.ndarray:
    """Up to ``n`` random positions where ``mask`` is true, in random order."""
    where = np.flatnonzero(mask)
    n = min(int(n), len(where))
    return rng.permutation(where)[:n] if n else np.zeros(0, dtype=np.int64)


def _objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _text(values: np.ndarray) -> np.ndarray:
    """Numbers or dates as an object array of str (vectorised)."""
    if np.issubdtype(np.asarray(values).dtype, np.datetime64):
        return np.datetime_as_string(values, unit="D").astype(object)
    return np.asarray(values).astype(str).astype(object)


def _by_unique(values: np.ndarray, convert) -> np.ndarray:
    """``convert`` applied to the distinct values only, spread back (object array)."""
    uniques, inverse = np.unique(values, return_inverse=True)
    return _objects([convert(v) for v in uniques.tolist()])[inverse]


def _money_text(minor: np.ndarray) -> np.ndarray:
    return _by_unique(np.asarray(minor, dtype=np.int64), lambda v: money.format_amount(v))


def _quantity_decimal(milli: int, least_places: int = 0) -> Decimal:
    """Thousandths as a Decimal with no needless zeros: 120000 -> 120, 350 -> 0.35."""
    places = next(p for p in (0, 1, 2, 3) if milli % 10 ** (3 - p) == 0)
    places = max(places, least_places)
    return Decimal(int(milli)).scaleb(-3).quantize(Decimal(1).scaleb(-places))


def _hours_decimal(milli: int) -> Decimal:
    """Hours with at least one decimal place: 8000 -> 8.0, 1500 -> 1.5, 1667 -> 1.667."""
    return _quantity_decimal(milli, 1)


def _fill(form: str, rng: np.random.Generator, partners: list[str], associates: list[str],
          days: list[str]) -> str:
    return form.format(partner=partners[rng.integers(len(partners))],
                       associate=associates[rng.integers(len(associates))],
                       contact=_CONTACTS[rng.integers(len(_CONTACTS))],
                       day=days[rng.integers(len(days))])


def _utbms_codes() -> tuple[frozenset[str], frozenset[str]]:
    """The litigation task codes (tasks, not phase headings) and the activity codes."""
    folder = resources.files("billxl") / "data" / "utbms"
    with (folder / "litigation_tasks.csv").open(encoding="utf-8") as fh:
        tasks = frozenset(r["code"] for r in csv.DictReader(fh) if r["phase"])
    with (folder / "activities.csv").open(encoding="utf-8") as fh:
        activities = frozenset(r["code"] for r in csv.DictReader(fh))
    return tasks, activities


def _check_rates(problem_rates: dict[str, float] | None) -> dict[str, float]:
    rates = dict(DEFAULT_PROBLEM_RATES)
    if problem_rates:
        unknown = sorted(set(problem_rates) - set(rates))
        if unknown:
            raise ValueError(f"unknown problem ids {unknown}; known: {', '.join(rates)}")
        rates.update(problem_rates)
    for name, value in rates.items():
        if not 0 <= float(value) <= 0.2:
            raise ValueError(f"the rate for {name} must be between 0 and 0.2, not {value}")
    planted = sum(float(rates[p]) for p in TIME_PROBLEMS)
    if planted > 0.5:  # the rules are measured against clean entries too: keep most clean
        raise ValueError(f"the time-entry problem rates add up to {planted:.2f}; keep them "
                         "at or under 0.5 so that most entries stay clean")
    return {k: float(v) for k, v in rates.items()}


# =================================================================================== the firm
@dataclass
class _People:
    first: np.ndarray
    last: np.ndarray
    klass: np.ndarray  # index into CLASSES
    office: np.ndarray  # index into OFFICES
    group: np.ndarray  # practice group: who works on which matters
    active_from: np.ndarray  # datetime64[D]
    active_to: np.ndarray  # datetime64[D], NaT = still here
    secretaries: np.ndarray  # names, for matters' responsible secretary


def _people(rng: np.random.Generator, n: int, n_groups: int, first_day: np.datetime64) -> _People:
    counts = np.maximum(1, np.floor(np.array(_CLASS_SHARE) * n).astype(np.int64))
    counts[0] = max(counts[0], 2)
    counts[2] += n - counts.sum()  # associates absorb the rounding
    klass = np.repeat(np.arange(len(CLASSES)), counts)
    # partners first, then counsel, associates, paralegals, assistants: ids read like a firm list
    group = np.concatenate([rng.permutation(c) % n_groups for c in counts])
    office = _weighted_index(rng, _OFFICE_SHARE, n)
    n_secretaries = max(2, n // 4)
    combos = rng.choice(len(_FIRST) * len(_LAST), size=n + n_secretaries,
                        replace=len(_FIRST) * len(_LAST) < n + n_secretaries)
    first = _objects(_FIRST)[combos // len(_LAST)]
    last = _objects(_LAST)[combos % len(_LAST)]
    if len(np.unique(combos[:n])) < n:  # only for firms bigger than the name lists
        last[:n] = last[:n] + _objects([f"-{i}" for i in range(n)])
    # joined over the last twenty years, at least a month before the demo month
    span = int((first_day - np.datetime64("2005-01-01")).astype(int)) - 30
    active_from = np.datetime64("2005-01-01") + rng.integers(0, span, n).astype("timedelta64[D]")
    active_to = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    # a few join during the month and a few leave (before it, or early in it); never partners,
    # so that every billing partner stays active
    movers = rng.permutation(np.flatnonzero(klass != 0))
    n_leave = max(2, round(0.05 * n))
    n_join = max(1, round(0.03 * n))
    leavers, joiners = movers[:n_leave], movers[n_leave:n_leave + n_join]
    before = leavers[: (len(leavers) + 1) // 2]
    during = leavers[(len(leavers) + 1) // 2:]
    active_to[before] = first_day - rng.integers(1, 61, len(before)).astype("timedelta64[D]")
    active_to[during] = first_day + rng.integers(4, 15, len(during)).astype("timedelta64[D]")
    active_from[joiners] = first_day + rng.integers(3, 13, len(joiners)).astype("timedelta64[D]")
    return _People(first[:n], last[:n], klass, office, group, active_from, active_to,
                   first[n:] + " " + last[n:])


@dataclass
class _Clients:
    frame: pd.DataFrame
    currency: np.ndarray  # index into CURRENCIES
    portal: np.ndarray  # bool: bills through an e-billing portal
    agreed: np.ndarray  # bool: has client-agreed (override) rates by class
    discount: np.ndarray  # the agreed discount off the panel rates


def _clients(rng: np.random.Generator, n: int) -> _Clients:
    ids = _objects([f"C{i:04d}" for i in range(1, n + 1)])
    juris = _weighted_index(rng, _JURISDICTION_SHARE, n)
    if n >= 6:  # every demo has clients billed in pounds and in euros
        juris[:2] = [6, 7]
        juris = rng.permutation(juris)
    n_combos = len(_CLIENT_STEMS) * len(_CLIENT_INDUSTRIES)
    combos = rng.choice(n_combos, size=n, replace=n > n_combos)
    stem = _objects(_CLIENT_STEMS)[combos // len(_CLIENT_INDUSTRIES)]
    industry = combos % len(_CLIENT_INDUSTRIES)
    insurer = np.array([is_ins for _, is_ins in _CLIENT_INDUSTRIES])[industry]
    words = _objects([w for w, _ in _CLIENT_INDUSTRIES])[industry]
    suffix = _objects([j[2][rng.integers(len(j[2]))] for j in (_JURISDICTIONS[k] for k in juris)])
    names = stem + " " + words + " " + suffix
    if n > n_combos:
        names = names + _objects([f" ({i})" for i in range(n)])
    # insurers and banks mostly bill through a portal; others now and then
    bank = np.isin(words, ["Bank", "Capital"])
    portal = rng.random(n) < np.where(insurer, 0.8, np.where(bank, 0.4, 0.12))
    if n >= 6 and not portal.any():
        portal[rng.integers(n)] = True
    portal_name = _objects(PORTALS)[rng.integers(0, len(PORTALS), n)]
    guideline = np.where(portal & insurer, "strict-insurer",
                         np.where(portal & bank, "bank-panel", "standard")).astype(object)
    currency = np.array([CURRENCIES.index(_JURISDICTIONS[k][1]) for k in juris])
    city_pick = [_JURISDICTIONS[k][3][rng.integers(len(_JURISDICTIONS[k][3]))] for k in juris]
    number = rng.integers(1, 400, n)
    street = _objects([_JURISDICTIONS[k][5][rng.integers(len(_JURISDICTIONS[k][5]))]
                       for k in juris])
    postcode_tail = rng.integers(0, 100, n)
    country = _objects([_JURISDICTIONS[k][0][:2] for k in juris])
    postcode = _objects([c[2] for c in city_pick]) + _text(np.char.zfill(
        postcode_tail.astype(str), 2))
    uk = country == "GB"
    postcode[uk] = _objects([c[2] for c in city_pick])[uk] + " " + _text(
        rng.integers(1, 10, int(uk.sum()))) + _objects(["AB", "DX", "RT", "HQ"])[
        rng.integers(0, 4, int(uk.sum()))]
    digits9 = _text(rng.integers(100_000_000, 999_999_999, n))
    tax_id = np.where(country == "US", _text(rng.integers(10, 99, n)) + "-" + _text(
        rng.integers(1_000_000, 9_999_999, n)), country + digits9).astype(object)
    agreed = portal | (rng.random(n) < 0.12)
    discount = np.where(agreed, rng.choice([0.05, 0.075, 0.10, 0.125, 0.15], n), 0.0)
    contact_first = _objects(_FIRST)[rng.integers(0, len(_FIRST), n)]
    contact_last = _objects(_LAST)[rng.integers(0, len(_LAST), n)]
    frame = pd.DataFrame({
        "client_id": ids,
        "name": names,
        "currency": _objects(CURRENCIES)[currency],
        "tax_jurisdiction": _objects([_JURISDICTIONS[k][0] for k in juris]),
        "payment_terms_days": np.where(portal, rng.choice([45, 60], n), rng.choice(
            [30, 30, 45, 60], n)).astype(np.int64),
        "ebilling_portal": np.where(portal, portal_name, None),
        "guideline_set": guideline,
        "rounding": np.full(n, None, dtype=object),
        "ledes_client_id": np.where(portal, _objects([f"LF-{v:06d}" for v in rng.integers(
            0, 1_000_000, n)]), None),
        "billing_contact": contact_first + " " + contact_last + np.where(
            insurer, " (Claims Counsel)", " (Legal Operations)").astype(object),
        "address_1": _text(number) + " " + street,
        "address_2": np.where(rng.random(n) < 0.5, "Suite " + _text(rng.integers(
            100, 4000, n)), None),
        "city": _objects([c[0] for c in city_pick]),
        "region": _objects([c[1] or None for c in city_pick]),
        "postcode": postcode,
        "country": country,
        "tax_id": tax_id,
        "office_id": _objects([_JURISDICTIONS[k][4] for k in juris]),
        "closed_on": np.full(n, None, dtype="datetime64[ns]"),
    })
    return _Clients(frame, currency, portal, agreed, discount)


@dataclass
class _Matters:
    frame: pd.DataFrame
    client: np.ndarray  # index into clients
    area: np.ndarray  # index into AREAS
    group: np.ndarray
    weight: np.ndarray  # how busy the matter is
    opened: np.ndarray  # datetime64[D]
    closed: np.ndarray  # datetime64[D], NaT = open


def _matters(rng: np.random.Generator, n: int, clients: _Clients, n_groups: int,
             first_day: np.datetime64, last_day: np.datetime64) -> tuple[_Matters, np.ndarray]:
    n_clients = len(clients.frame)
    # every client has a matter; the rest go mostly to the big clients (a long tail)
    size = rng.lognormal(0.0, 1.0, n_clients)
    extra = _weighted_index(rng, size, n - n_clients)
    client = np.sort(np.concatenate([np.arange(n_clients), extra]))
    seq = _group_starts(client) + 1
    client_ids = clients.frame["client_id"].to_numpy(dtype=object)
    ids = client_ids[client] + "-" + _text(np.char.zfill(seq.astype(str), 4))
    portal = clients.portal[client]
    area = np.where(portal, _weighted_index(rng, _PORTAL_AREA_SHARE, n),
                    _weighted_index(rng, _AREA_SHARE, n))
    group = rng.permutation(n) % n_groups
    weight = rng.lognormal(0.0, 0.8, n)
    # opened one to six years ago; a few open during the month, a few close during or before it
    opened = first_day - rng.integers(20, 6 * 365, n).astype("timedelta64[D]")
    closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    order = rng.permutation(n)
    n_new = max(1, round(0.03 * n))
    n_closed_before = max(2, round(0.03 * n))
    n_closed_during = max(2, round(0.04 * n))
    new = order[:n_new]
    closed_before = order[n_new:n_new + n_closed_before]
    closed_during = order[n_new + n_closed_before:n_new + n_closed_before + n_closed_during]
    opened[new] = first_day + rng.integers(1, 14, n_new).astype("timedelta64[D]")
    closed[closed_before] = first_day - rng.integers(1, 120, n_closed_before).astype(
        "timedelta64[D]")
    closed[closed_during] = first_day + rng.integers(7, 24, n_closed_during).astype(
        "timedelta64[D]")
    closed = np.where(closed > last_day, last_day, closed)
    opened = np.where(~np.isnat(closed) & (opened > closed), closed - 200, opened)

    # names: a form per practice area, filled with the client's short name or a counterparty
    short = clients.frame["name"].str.rsplit(" ", n=1).str[0].to_numpy(dtype=object)[client]
    other = _objects(_OPPONENTS)[rng.integers(0, len(_OPPONENTS), n)]
    name = np.empty(n, dtype=object)
    for a, area_name in enumerate(AREAS):  # six practice areas
        rows = np.flatnonzero(area == a)
        forms = _MATTER_FORMS[area_name]
        form = _objects(forms)[rng.integers(0, len(forms), len(rows))]
        name[rows] = [f.format(client=c, other=o) for f, c, o in
                      zip(form, short[rows], other[rows], strict=True)]
    fee = np.where(rng.random(n) < np.where(np.isin(area, [1, 4]), 0.25, 0.08),
                   np.where(rng.random(n) < 0.6, "fixed", "capped"), "hourly").astype(object)
    fixed_fee = pd.array(np.where(fee != "hourly", rng.integers(5, 60, n) * 500_000, 0),
                         dtype="Int64")
    fixed_fee[fee == "hourly"] = pd.NA
    frame = pd.DataFrame({
        "matter_id": ids,
        "client_id": client_ids[client],
        "name": name,
        "client_matter_id": np.where(portal, _objects([f"CLM-{v:07d}" for v in rng.integers(
            0, 10_000_000, n)]), None),
        "practice_area": _objects(AREAS)[area],
        "opened_on": opened.astype("datetime64[ns]"),
        "closed_on": closed.astype("datetime64[ns]"),
        "billing_partner_id": np.full(n, None, dtype=object),  # set once teams are known
        "responsible_secretary": np.full(n, None, dtype=object),
        "office_id": clients.frame["office_id"].to_numpy(dtype=object)[client],
        "fee_arrangement": fee,
        "fixed_fee_minor": fixed_fee,
        "utbms_required": area == 0,  # and every matter billed to an e-billing client
    })
    return _Matters(frame, client, area, group, weight, opened, closed), closed_before


def _portfolios(rng: np.random.Generator, people: _People, matters: _Matters,
                workable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(timekeeper, matter) pairs: each timekeeper's matters, drawn within the practice group.

    Busy matters are drawn more often (weighted sampling without replacement, by Gumbel keys).
    """
    lo, hi = np.array(_CLASS_PORTFOLIO).T
    size = rng.integers(lo[people.klass], hi[people.klass] + 1)
    pair_tk, pair_matter = [], []
    for g in np.unique(people.group):  # a practice group is ~40 people: few groups
        tks = np.flatnonzero(people.group == g)
        ms = np.flatnonzero((matters.group == g) & workable)
        if len(ms) == 0:
            ms = np.flatnonzero(workable)
        keys = np.log(matters.weight[ms])[None, :] + rng.gumbel(size=(len(tks), len(ms)))
        order = np.argsort(-keys, axis=1)
        take = np.arange(len(ms))[None, :] < np.minimum(size[tks], len(ms))[:, None]
        pair_tk.append(np.repeat(tks, take.sum(axis=1)))
        pair_matter.append(ms[order[take]])
    return np.concatenate(pair_tk), np.concatenate(pair_matter)


# =================================================================================== rates
@dataclass
class _RateCard:
    frame: pd.DataFrame
    standard: np.ndarray  # [timekeeper, currency, half] minor units
    agreed_client: np.ndarray  # [client, class] minor units, -1 = none
    approved_client: np.ndarray  # [client, class] the portal's cap, -1 = none
    agreed_keys: np.ndarray  # sorted matter * n_tk + timekeeper with a matter override
    agreed_rates: np.ndarray


def _rate_card(rng: np.random.Generator, people: _People, clients: _Clients, matters: _Matters,
               year: int) -> _RateCard:
    n_tk = len(people.klass)
    jan1, jul1 = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-07-01")
    jun30, nat = jul1 - 1, np.datetime64("NaT")
    lo, hi = np.array(_CLASS_RATES).T
    # the firm's class list (a fallback, and the rate of paralegals and assistants)
    class_usd = _round_to(lo + (hi - lo) * rng.uniform(0.4, 0.6, len(CLASSES)), 5)
    personal_usd = _round_to(rng.uniform(lo[people.klass], hi[people.klass]), 5)
    tk_usd = np.where(_LAWYER[people.klass], personal_usd, class_usd[people.klass])
    conv = np.array(_FROM_USD)
    july = _round_to(tk_usd[:, None] * conv[None, :], 5)  # whole units, each currency
    january = np.minimum(_round_to(july / 1.05, 5), july - 5)  # the mid-year increase
    standard = np.stack([january, july], axis=2) * 100  # minor units

    rows = []

    def add(kind, minor, start, end, tk=None, klass=None, client=None, matter=None, cur=None):
        count = len(minor)
        rows.append(pd.DataFrame({
            "kind": np.full(count, kind, dtype=object),
            "timekeeper_id": tk if tk is not None else np.full(count, None, dtype=object),
            "classification": klass if klass is not None else np.full(count, None, dtype=object),
            "client_id": client if client is not None else np.full(count, None, dtype=object),
            "matter_id": matter if matter is not None else np.full(count, None, dtype=object),
            "currency": cur,
            "rate_minor": np.asarray(minor, dtype=np.int64),
            "effective_from": np.broadcast_to(start, count).astype("datetime64[ns]"),
            "effective_to": np.broadcast_to(end, count).astype("datetime64[ns]"),
        }))

    class_names = _objects(CLASSES)
    tk_ids = _tk_ids(n_tk)
    for c, cur in enumerate(CURRENCIES):
        cur_col = np.full(len(CLASSES), cur, dtype=object)
        class_july = _round_to(class_usd * conv[c], 5)
        class_jan = np.minimum(_round_to(class_july / 1.05, 5), class_july - 5)
        add("standard", class_jan * 100, jan1, jun30, klass=class_names, cur=cur_col)
        add("standard", class_july * 100, jul1, nat, klass=class_names, cur=cur_col)
        lawyers = np.flatnonzero(_LAWYER[people.klass])
        cur_tk = np.full(len(lawyers), cur, dtype=object)
        add("standard", standard[lawyers, c, 0], jan1, jun30, tk=tk_ids[lawyers], cur=cur_tk)
        add("standard", standard[lawyers, c, 1], jul1, nat, tk=tk_ids[lawyers], cur=cur_tk)

    # client-agreed rates by class (cents, from a discount), fixed for the year; e-billing
    # clients' portals hold the same figures as approved rates
    n_clients = len(clients.frame)
    panel = np.array(_CLASS_PANEL, dtype=np.float64)
    agreed_client = np.full((n_clients, len(CLASSES)), -1, dtype=np.int64)
    who = np.flatnonzero(clients.agreed)
    cur_of = conv[clients.currency[who]]
    agreed_client[who] = np.rint(panel[None, :] * cur_of[:, None] * (
        1 - clients.discount[who])[:, None] * 100).astype(np.int64)
    client_ids = clients.frame["client_id"].to_numpy(dtype=object)
    client_cur = _objects(CURRENCIES)[clients.currency]
    flat_client = np.repeat(who, len(CLASSES))
    flat_class = np.tile(np.arange(len(CLASSES)), len(who))
    for kind, mask in (("override", np.ones(len(flat_client), dtype=bool)),
                       ("approved", clients.portal[flat_client])):
        add(kind, agreed_client[flat_client, flat_class][mask], jan1, nat,
            klass=class_names[flat_class][mask], client=client_ids[flat_client][mask],
            cur=client_cur[flat_client][mask])

    # a few matters with a special rate for their billing partner (set after teams are known)
    approved_client = np.where(clients.portal[:, None], agreed_client, -1)
    return _RateCard(pd.concat(rows, ignore_index=True), standard, agreed_client,
                     approved_client, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def _matter_overrides(rng: np.random.Generator, card: _RateCard, matters: _Matters,
                      partner: np.ndarray, clients: _Clients, n_tk: int) -> None:
    """Special billing-partner rates on about 6% of matters: 10-20% off the lower of the
    partner's standard rates and the client's agreed partner rate, so that a special rate is
    never above what the client approved."""
    n = len(partner)
    chosen = np.flatnonzero(rng.random(n) < 0.06)
    client = matters.client[chosen]
    cur = clients.currency[client]
    base = card.standard[partner[chosen], cur].min(axis=1)
    agreed = card.agreed_client[client, 0]
    base = np.where(agreed >= 0, np.minimum(base, agreed), base)
    minor = np.rint(base * (1 - rng.choice([0.10, 0.15, 0.20], len(chosen)))).astype(np.int64)
    keys = chosen.astype(np.int64) * n_tk + partner[chosen]
    order = np.argsort(keys)
    card.agreed_keys, card.agreed_rates = keys[order], minor[order]
    frame = pd.DataFrame({
        "kind": np.full(len(chosen), "override", dtype=object),
        "timekeeper_id": _tk_ids(n_tk)[partner[chosen]],
        "classification": np.full(len(chosen), None, dtype=object),
        "client_id": np.full(len(chosen), None, dtype=object),
        "matter_id": matters.frame["matter_id"].to_numpy(dtype=object)[chosen],
        "currency": _objects(CURRENCIES)[cur],
        "rate_minor": minor,
        "effective_from": matters.opened[chosen].astype("datetime64[ns]"),
        "effective_to": np.full(len(chosen), np.datetime64("NaT"), dtype="datetime64[ns]"),
    })
    card.frame = pd.concat([card.frame, frame], ignore_index=True)


def _effective_rates(card: _RateCard, tk: np.ndarray, klass: np.ndarray, matter: np.ndarray,
                     client: np.ndarray, cur: np.ndarray, half: np.ndarray,
                     n_tk: int) -> tuple[np.ndarray, ...]:
    """(billing rate, standard rate, agreed rate or -1, approved cap or -1) for each entry."""
    standard = card.standard[tk, cur, half]
    agreed = card.agreed_client[client, klass]
    if len(card.agreed_keys):
        keys = matter.astype(np.int64) * n_tk + tk
        at = np.minimum(np.searchsorted(card.agreed_keys, keys), len(card.agreed_keys) - 1)
        special = card.agreed_keys[at] == keys
        agreed = np.where(special, card.agreed_rates[at], agreed)
    approved = card.approved_client[client, klass]
    return np.where(agreed >= 0, agreed, standard), standard, agreed, approved


def _tk_ids(n: int) -> np.ndarray:
    width = max(3, len(str(n)))
    return _objects([f"TK{i:0{width}d}" for i in range(1, n + 1)])


# =================================================================================== build
def build_firm(seed: int = 2026, month: str = "2026-10", entries: int = 6000, *,
               problem_rates: dict[str, float] | None = None) -> DemoFirm:
    """A deterministic synthetic firm and one month of its time and expenses.

    ``entries`` is the number of time entries in the month, planted duplicates included.
    ``problem_rates`` overrides :data:`DEFAULT_PROBLEM_RATES` for some problem ids (0 plants none).
    """
    if int(entries) < 100:
        raise ValueError(f"entries must be at least 100, not {entries}")
    entries = int(entries)
    rates = _check_rates(problem_rates)
    first_day, last_day = _month_span(month)
    year = int(month[:4])
    rng = _streams(seed)

    # -- sizes: scale the firm with the month so that a lawyer's day stays plausible
    n_tk = max(8, round(entries / 150))
    n_clients = max(6, round(entries / 100))
    n_matters = max(20, round(entries / 24))
    n_expenses = max(20, round(entries / 20))
    n_groups = max(1, round(n_tk / 40))

    # -- reference data
    r = rng["firm"]
    people = _people(r, n_tk, n_groups, first_day)
    tk_ids = _tk_ids(n_tk)
    clients = _clients(r, n_clients)
    matters, closed_before = _matters(r, n_matters, clients, n_groups, first_day, last_day)
    # litigation is coded for every client; a matter billed to an e-billing client, all of it
    ebilled_matter = _ebilled_matters(matters.frame, clients.frame)
    matters.frame["utbms_required"] = (matters.area == 0) | ebilled_matter
    # ... and carries the client matter id its portals require (a payor's too)
    unnamed = ebilled_matter & matters.frame["client_matter_id"].isna().to_numpy()
    matters.frame.loc[unnamed, "client_matter_id"] = [
        f"CLM-{9_000_000 + i:07d}" for i in np.flatnonzero(unnamed)]
    workable = np.ones(n_matters, dtype=bool)
    workable[closed_before] = False  # nobody plans work on a matter closed before the month
    pair_tk, pair_matter = _portfolios(r, people, matters, workable)
    partner = _billing_partners(r, people, matters, pair_tk, pair_matter)
    matters.frame["billing_partner_id"] = tk_ids[partner]
    matters.frame["responsible_secretary"] = people.secretaries[
        r.integers(0, len(people.secretaries), n_matters)]
    card = _rate_card(r, people, clients, matters, year)
    _matter_overrides(r, card, matters, partner, clients, n_tk)
    reference = _reference_frames(people, tk_ids, clients, matters, card)

    # -- the month's clean time
    n_copies = round(rates["DUPLICATE"] * entries)
    e = _clean_time(rng["time"], people, matters, pair_tk, pair_matter, first_day, last_day,
                    entries - n_copies)
    plan = _Plan(len(e["tk"]))
    # expenses go on the days and matters of clean work, as recorded before any plant moves it
    worked = {"tk": e["tk"].copy(), "matter": e["matter"].copy(), "day": e["day"].copy()}

    # -- plants that change who or what an entry is for, then the text, codes and rates
    p = rng["plants"]
    _plant_daily_max(p, e, plan, round(rates["DAILY_MAX"] * entries), tk_ids)
    _plant_inactive(p, e, plan, people, round(rates["INACTIVE_TIMEKEEPER"] * entries), tk_ids)
    _plant_closed(p, e, plan, matters, round(rates["CLOSED_MATTER"] * entries))
    # the originals of the duplicates are kept clean; hours only go down from here on, so the
    # copy still fits in the day
    copies, copy_near, copy_detail = _reserve_originals(p, e, plan, n_copies)
    e["client"] = matters.client[e["matter"]]
    e["cur"] = clients.currency[e["client"]]
    e["klass"] = people.klass[e["tk"]]
    litigation = matters.area[e["matter"]] == 0  # coded for every client
    ebilled = ebilled_matter[e["matter"]]
    phrases = _narratives(rng["text"], e, people, matters, first_day)
    clean = {k: e[k].copy() for k in ("task", "activity", "narrative")}
    e["half"] = (e["day"] >= np.datetime64(f"{year}-07-01")).astype(np.int64)
    e["rate"], e["standard"], e["agreed"], e["approved"] = _effective_rates(
        card, e["tk"], e["klass"], e["matter"], e["client"], e["cur"], e["half"], n_tk)
    e["standard_other"] = card.standard[e["tk"], e["cur"], 1 - e["half"]]
    e["entered"] = e["day"] + p.choice([0, 1, 1, 1, 2, 2, 3, 4], len(e["day"])).astype(
        "timedelta64[D]")

    # -- plants that change one field each, on entries that carry no other problem
    n = {k: round(v * entries) for k, v in rates.items() if k in TIME_PROBLEMS}
    _plant_utbms(p, e, plan, litigation, n["UTBMS_MISSING"], n["UTBMS_INVALID"])
    _plant_increment(p, e, plan, n["INCREMENT"])
    _plant_text(p, e, plan, phrases, n)
    late = _pick(p, plan.free, n["LATE_TIME"])
    lag = p.integers(LATE_AFTER_DAYS + 1, 76, len(late))
    e["entered"][late] = e["day"][late] + lag.astype("timedelta64[D]")
    plan.add(late, "LATE_TIME", "entered " + _text(lag) + " days after the work date")
    e["task"] = np.where(litigation | ebilled, e["task"], "")
    e["activity"] = np.where(litigation | ebilled, e["activity"], "")
    e["amount"] = money.extend_array(e["milli"], e["rate"])
    _plant_money(p, e, plan, n["RATE_MISMATCH"], n["AMOUNT_MISMATCH"])
    _move_off_portals(rng["moves"], e, plan, clean, ebilled, litigation)

    time_export, truth_time = _time_frames(rng["order"], e, copies, copy_near, copy_detail, plan, people, tk_ids,
                                           matters, clients, month)
    expense_export, truth_exp = _expenses(rng["expenses"], worked, n_expenses, matters, clients,
                                          tk_ids, month, rates)
    truth = pd.concat([truth_time, truth_exp], ignore_index=True)
    return DemoFirm(month=month, seed=seed, firm=dict(FIRM), reference=reference,
                    time_export=time_export, expense_export=expense_export, ground_truth=truth)


def _billing_partners(rng: np.random.Generator, people: _People, matters: _Matters,
                      pair_tk: np.ndarray, pair_matter: np.ndarray) -> np.ndarray:
    """A partner per matter: one who works on it if any, else a partner of its group."""
    n = len(matters.weight)
    is_partner = people.klass[pair_tk] == 0
    shuffled = rng.permutation(np.flatnonzero(is_partner))
    found, first = np.unique(pair_matter[shuffled], return_index=True)
    partner = np.full(n, -1, dtype=np.int64)
    partner[found] = pair_tk[shuffled[first]]
    partners = np.flatnonzero(people.klass == 0)
    missing = np.flatnonzero(partner < 0)
    same_group = people.group[partners][None, :] == matters.group[missing][:, None]
    keys = np.where(same_group, rng.random(same_group.shape) + 1, rng.random(same_group.shape))
    partner[missing] = partners[np.argmax(keys, axis=1)] if len(missing) else partner[missing]
    return partner


def _reference_frames(people: _People, tk_ids: np.ndarray, clients: _Clients,
                      matters: _Matters, card: _RateCard) -> dict[str, pd.DataFrame]:
    offices = pd.DataFrame(OFFICES, columns=["office_id", "name", "city", "country", "currency"])
    timekeepers = pd.DataFrame({
        "timekeeper_id": tk_ids,
        "first_name": people.first,
        "last_name": people.last,
        "user_name": people.first + " " + people.last,
        "email": (pd.Series(people.first + "." + people.last).str.lower()
                  .str.replace(r"[^a-z.]", "", regex=True) + "@whitmoreashby.example").to_numpy(),
        "classification": _objects(CLASSES)[people.klass],
        "office_id": _objects([o[0] for o in OFFICES])[people.office],
        "active_from": people.active_from.astype("datetime64[ns]"),
        "active_to": people.active_to.astype("datetime64[ns]"),
    })
    # billed monthly, on the last day, unless load_into's billing plans say otherwise
    no_cycle = {"billing_cycle": None, "billing_day": pd.NA}
    return {"offices": offices, "timekeepers": timekeepers,
            "clients": clients.frame.assign(**no_cycle).astype({"billing_day": "Int64"}),
            "matters": matters.frame.assign(**no_cycle).astype({"billing_day": "Int64"}),
            "rates": card.frame.copy()}


# =================================================================================== clean time
def _clean_time(rng: np.random.Generator, people: _People, matters: _Matters,
                pair_tk: np.ndarray, pair_matter: np.ndarray, first_day: np.datetime64,
                last_day: np.datetime64, n_entries: int) -> dict[str, np.ndarray]:
    """``n_entries`` clean entries: who worked when, on what, for how long.

    Built in three vectorised steps: the timekeeper-days worked (working days inside each
    timekeeper's active period, less days off); for each day, the timekeeper's matters open
    that day in a random busyness-weighted order (so a day never has two entries on one
    matter); and the entries themselves, chosen as the top ``n_entries`` of weighted slots
    (at most a dozen a day). A day's hours add up to at most 10.
    """
    n_tk = len(people.klass)
    days = np.arange(first_day, last_day + 1)
    days = days[np.is_busday(days)]
    # -- timekeeper-days
    tk_grid = np.repeat(np.arange(n_tk), len(days))
    day_grid = np.tile(days, n_tk)
    active = (people.active_from[tk_grid] <= day_grid) & (
        np.isnat(people.active_to[tk_grid]) | (day_grid <= people.active_to[tk_grid]))
    present = active & (rng.random(len(tk_grid)) > 0.08)  # holidays, sick days, training
    td_tk, td_day = tk_grid[present], day_grid[present]
    busy = rng.lognormal(0.0, 0.25, n_tk)
    friday = np.where((td_day.astype("datetime64[D]").view("int64") - 1) % 7 == 0, 0.85, 1.0)
    td_weight = busy[td_tk] * friday

    # -- each day's matters, in a random busyness-weighted order
    order = np.argsort(pair_tk, kind="stable")
    port_tk, port_matter = pair_tk[order], pair_matter[order]
    port_start = np.searchsorted(port_tk, np.arange(n_tk))
    port_len = np.bincount(port_tk, minlength=n_tk)
    lens = port_len[td_tk]
    rep = np.repeat(np.arange(len(td_tk)), lens)
    within = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    cand = port_matter[np.repeat(port_start[td_tk], lens) + within]
    when = td_day[rep]
    open_ = (matters.opened[cand] <= when) & (np.isnat(matters.closed[cand])
                                              | (when <= matters.closed[cand]))
    rep, cand = rep[open_], cand[open_]
    key = np.log(matters.weight[cand]) + rng.gumbel(size=len(cand))
    order = np.lexsort((-key, rep))
    rep, cand = rep[order], cand[order]
    eligible = np.bincount(rep, minlength=len(td_tk))
    first_of_day = np.searchsorted(rep, np.arange(len(td_tk)))

    # -- entries: the top n of weighted slots, earlier slots likelier (most days 4-9 entries)
    cap = np.minimum(np.array(_DAY_CAP)[people.klass[td_tk]], eligible)
    slot_td = np.repeat(np.arange(len(td_tk)), cap)
    slot_j = np.arange(cap.sum()) - np.repeat(np.cumsum(cap) - cap, cap)
    if n_entries > len(slot_td):
        raise ValueError(f"{n_entries} entries do not fit in this firm's month")
    slot_key = np.log(td_weight[slot_td]) - slot_j / 4.0 + rng.gumbel(size=len(slot_td))
    chosen = np.sort(np.argpartition(-slot_key, n_entries - 1)[:n_entries])
    e_td = slot_td[chosen]  # sorted by timekeeper-day
    rank = _group_starts(e_td)
    e_matter = cand[first_of_day[e_td] + rank]

    # -- hours: a day's total (tenths, at most 100) split into the day's entries
    k = np.bincount(e_td, minlength=len(td_tk))
    klass = people.klass[td_tk]
    total = np.rint(rng.normal(np.array(_CLASS_DAY_TENTHS)[klass], 14)).astype(np.int64)
    total = np.clip(total, np.maximum(2 * k, 15), 100)
    w = rng.gamma(1.3, 1.0, n_entries)
    share = w / np.bincount(e_td, weights=w, minlength=len(td_tk))[e_td]
    tenths = 1 + np.floor(share * (total[e_td] - k[e_td])).astype(np.int64)
    return {
        "tk": td_tk[e_td].astype(np.int64),
        "day": td_day[e_td],
        "matter": e_matter.astype(np.int64),
        "milli": tenths * 100,
        "billable": rng.random(n_entries) > 0.03,
        "day_rank": rank,
    }


# =================================================================================== plants
class _Plan:
    """Which entries carry which planted problem (entry positions, rule id, detail)."""

    def __init__(self, n: int):
        self.free = np.ones(n, dtype=bool)
        self.rows: list[tuple[np.ndarray, str, np.ndarray]] = []

    def add(self, rows: np.ndarray, problem: str, detail) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        detail = np.broadcast_to(np.asarray(detail, dtype=object), rows.shape).copy()
        self.free[rows] = False
        self.rows.append((rows, problem, detail))


def _plant_daily_max(rng, e, plan: _Plan, target_rows: int, tk_ids: np.ndarray) -> None:
    """Whole timekeeper-days stretched past 10 hours (a quarter of them past 24)."""
    if target_rows <= 0:
        return
    day_key = e["tk"] * 100_000 + e["day"].view("int64")
    keys, start, k = np.unique(day_key, return_index=True, return_counts=True)
    candidates = rng.permutation(np.flatnonzero(k >= 2))
    take = candidates[np.cumsum(k[candidates]) <= target_rows]
    if len(take) == 0 and len(candidates):
        take = candidates[:1]
    over24 = (rng.random(len(take)) < 0.25) & (k[take] >= 3)
    new_total = np.where(over24, rng.integers(245, 301, len(take)),
                         rng.integers(105, 161, len(take)))
    rows = np.concatenate([np.arange(s, s + c) for s, c in zip(start[take], k[take],
                                                               strict=True)]) \
        if len(take) else np.zeros(0, dtype=np.int64)
    # entries of one day are contiguous (the clean frame is sorted by timekeeper-day)
    day_of = np.repeat(np.arange(len(take)), k[take])
    old_tenths = e["milli"][rows] // 100
    old_total = np.bincount(day_of, weights=old_tenths, minlength=len(take)).astype(np.int64)
    extra = new_total - old_total
    pos = _group_starts(day_of)
    per = extra[day_of] // k[take][day_of] + (pos < extra[day_of] % k[take][day_of])
    e["milli"][rows] = (old_tenths + per) * 100
    detail = (tk_ids[e["tk"][rows]] + " on " + _text(e["day"][rows]) + ": "
              + _text(new_total[day_of] / 10) + " h in " + _text(k[take][day_of]) + " entries")
    plan.add(rows, "DAILY_MAX", detail)


def _plant_inactive(rng, e, plan: _Plan, people: _People, n: int, tk_ids: np.ndarray) -> None:
    """Entries moved to a timekeeper who had already left (one per leaver-day)."""
    left = np.flatnonzero(~np.isnat(people.active_to))
    if n <= 0 or len(left) == 0:
        return
    order = np.argsort(people.active_to[left])
    left, left_to = left[order], people.active_to[left][order]
    cands = rng.permutation(np.flatnonzero(plan.free))
    before = np.searchsorted(left_to, e["day"][cands], side="left")  # left before that day
    cands, before = cands[before > 0], before[before > 0]
    who = left[np.floor(rng.random(len(cands)) * before).astype(np.int64)]
    # several entries may land on one leaver-day, on different matters, within 10 hours
    day_key = who * 100_000 + e["day"][cands].view("int64")
    distinct = _take_unique(np.arange(len(cands)), day_key * (len(e["tk"]) + 1)
                            + e["matter"][cands], len(cands))
    cands, who, day_key = cands[distinct], who[distinct], day_key[distinct]
    order = np.argsort(day_key, kind="stable")
    hours = e["milli"][cands][order]
    running = np.cumsum(hours)
    first = np.ones(len(order), dtype=bool)
    first[1:] = day_key[order][1:] != day_key[order][:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    day_total = running - (running[starts] - hours[starts])
    fits = np.zeros(len(order), dtype=bool)
    fits[order] = day_total <= DAILY_MAX_MILLI
    keep = np.flatnonzero(fits)[:n]
    rows, who = cands[keep], who[keep]
    e["tk"][rows] = who
    detail = (tk_ids[who] + " active to " + _text(people.active_to[who]) + ", work on "
              + _text(e["day"][rows]))
    plan.add(rows, "INACTIVE_TIMEKEEPER", detail)


def _plant_closed(rng, e, plan: _Plan, matters: _Matters, n: int) -> None:
    """Entries moved to a matter that closed before the work date (one per timekeeper-day)."""
    closed = np.flatnonzero(~np.isnat(matters.closed))
    if n <= 0 or len(closed) == 0:
        return
    order = np.argsort(matters.closed[closed])
    closed, closed_on = closed[order], matters.closed[closed][order]
    cands = rng.permutation(np.flatnonzero(plan.free))
    before = np.searchsorted(closed_on, e["day"][cands], side="left")
    cands, before = cands[before > 0], before[before > 0]
    which = closed[np.floor(rng.random(len(cands)) * before).astype(np.int64)]
    keys = e["tk"][cands] * 100_000 + e["day"][cands].view("int64")
    chosen = _take_unique(np.arange(len(cands)), keys, n)
    rows, which = cands[chosen], which[chosen]
    e["matter"][rows] = which
    ids = matters.frame["matter_id"].to_numpy(dtype=object)
    detail = (ids[which] + " closed on " + _text(matters.closed[which]) + ", work on "
              + _text(e["day"][rows]))
    plan.add(rows, "CLOSED_MATTER", detail)


def _pool_arrays():
    texts, tasks, acts, starts, sizes = [], [], [], [], []
    for pool in _POOLS:
        starts.append(len(texts))
        sizes.append(len(pool))
        for text, task, act in pool:
            texts.append(text)
            tasks.append(task)
            acts.append(act)
    return (_objects(texts), _objects(tasks), _objects(acts), np.array(starts),
            np.array(sizes))


def _names(people: _People, klass: int, rng: np.random.Generator, limit: int = 25) -> list[str]:
    who = np.flatnonzero(people.klass == klass)
    who = rng.permutation(who)[:limit]
    return [f"{people.first[i][0]}. {people.last[i]}" for i in who] or ["J. Smith"]


@dataclass
class _Phrases:
    texts: np.ndarray  # every action of every pool, pool after pool
    starts: np.ndarray  # where each pool begins in ``texts``
    sizes: np.ndarray
    partners: list[str]  # 'J. Smith' for the firm's partners (a sample)
    associates: list[str]


def _narratives(rng, e, people: _People, matters: _Matters,
                first_day: np.datetime64) -> _Phrases:
    """A clean narrative and UTBMS codes for every entry: an action for the practice area
    (paralegals mostly their own actions) and, for most, a tail naming a person or a date."""
    texts, tasks, acts, starts, sizes = _pool_arrays()
    n = len(e["tk"])
    area = matters.area[e["matter"]]
    para = _PARA[people.klass[e["tk"]]] & (rng.random(n) < 0.7)
    pool = np.where(para, np.where(area == 0, len(AREAS), len(AREAS) + 1), area)
    item = starts[pool] + np.floor(rng.random(n) * sizes[pool]).astype(np.int64)
    partners = _names(people, 0, rng)
    associates = _names(people, 2, rng)
    deadline_days = np.arange(first_day, first_day + 45)
    day_words = [f"{pd.Timestamp(d):%B} {pd.Timestamp(d).day}" for d in deadline_days[::3]]
    tails = _objects([""] + [_fill(_TAIL_FORMS[i % len(_TAIL_FORMS)], rng, partners,
                                   associates, day_words) for i in range(160)])
    tail = np.where(rng.random(n) < 0.35, 0, rng.integers(1, len(tails), n))
    e["pool"], e["item"] = pool, item
    e["narrative"] = texts[item] + tails[tail]
    e["task"], e["activity"] = tasks[item].copy(), acts[item].copy()
    return _Phrases(texts, starts, sizes, partners, associates)


def _plant_utbms(rng, e, plan: _Plan, utbms: np.ndarray, n_missing: int, n_invalid: int) -> None:
    """Blank codes, and well-formed codes outside the code set, on matters that need codes."""
    tasks, activities = _utbms_codes()
    # read against the packaged code set, so that they stay invalid if the set grows
    invalid_tasks = _objects([c for c in _INVALID_TASKS if c not in tasks])
    invalid_acts = _objects([c for c in _INVALID_ACTIVITIES if c not in activities])
    rows = _pick(rng, plan.free & utbms, n_missing)
    which = rng.integers(0, 3, len(rows))  # 0 task, 1 activity, 2 both
    e["task"][rows[which != 1]] = ""
    e["activity"][rows[which != 0]] = ""
    words = np.array(["task code blank", "activity code blank",
                      "task and activity codes blank"], dtype=object)
    plan.add(rows, "UTBMS_MISSING", words[which])

    rows = _pick(rng, plan.free & utbms, n_invalid)
    on_task = rng.random(len(rows)) < 0.6
    bad_task = invalid_tasks[rng.integers(0, len(invalid_tasks), len(rows))]
    bad_act = invalid_acts[rng.integers(0, len(invalid_acts), len(rows))]
    e["task"][rows[on_task]] = bad_task[on_task]
    e["activity"][rows[~on_task]] = bad_act[~on_task]
    detail = np.where(on_task, "task code " + bad_task, "activity code " + bad_act)
    plan.add(rows, "UTBMS_INVALID", detail + " is not in the UTBMS code set")


def _plant_increment(rng, e, plan: _Plan, n: int) -> None:
    """Hours off the tenth-of-an-hour grid, always a little less (a day never grows)."""
    rows = _pick(rng, plan.free, n)
    cut = rng.choice([50, 30, 70, 20, 33, 67, 25, 75], len(rows))
    e["milli"][rows] -= cut
    plan.add(rows, "INCREMENT", "hours " + _text(e["milli"][rows] / 1000)
             + " not a multiple of 0.1")


def _plant_text(rng, e, plan: _Plan, phrases: _Phrases, n: dict[str, int]) -> None:
    """Narratives that are vague, clerical, in-firm meetings, block-billed, formula-like or long."""
    texts, starts, sizes = phrases.texts, phrases.starts, phrases.sizes
    partners, associates = phrases.partners, phrases.associates

    def replace(rule: str, phrases) -> np.ndarray:
        rows = _pick(rng, plan.free, n[rule])
        chosen = phrases[rng.integers(0, len(phrases), len(rows))]
        e["narrative"][rows] = chosen
        plan.add(rows, rule, "narrative: " + chosen)
        return rows

    replace("VAGUE", _objects(_VAGUE))
    replace("ADMIN_TASK", _objects(_ADMIN))
    internal = _objects([f.format(partner=partners[i % len(partners)],
                                  associate=associates[i % len(associates)])
                         for i, f in enumerate(_INTERNAL * 3)])
    # a conference billed to the client is the problem: a no-charge one is already put right
    e["billable"][replace("INTERNAL_CONFERENCE", internal)] = True

    # several actions of the entry's own pool joined by '; ' with one hours figure
    rows = _pick(rng, plan.free, n["BLOCK_BILLING"])
    pool, first = e["pool"][rows], e["item"][rows] - starts[e["pool"][rows]]
    size = sizes[pool]
    tasks = rng.integers(2, 5, len(rows))
    step = 1 + np.floor(rng.random(len(rows)) * np.maximum(1, (size - 1) // 3)).astype(np.int64)
    joined = texts[starts[pool] + first]
    for i in (1, 2, 3):  # the second, third and fourth task
        more = tasks > i
        nxt = texts[starts[pool] + (first + i * step) % size]
        joined = np.where(more, joined + "; " + nxt, joined)
    e["narrative"][rows] = joined
    plan.add(rows, "BLOCK_BILLING", _text(tasks) + " tasks in one entry")

    rows = _pick(rng, plan.free, n["FORMULA_TEXT"])
    prefixes = _objects([p.format(partner=partners[0].replace(" ", "")) for p in
                         _FORMULA_PREFIXES])
    prefix = prefixes[rng.integers(0, len(prefixes), len(rows))]
    e["narrative"][rows] = prefix + e["narrative"][rows]
    plan.add(rows, "FORMULA_TEXT", "narrative starts with " + _objects(
        [repr(p[0]) for p in prefix]))

    rows = _pick(rng, plan.free, n["NARRATIVE_LENGTH"])
    longs = []
    for _ in range(40):  # a small pool of long passages
        parts = rng.permutation(len(_DOC_DESCRIPTIONS))
        text = ", including review of " + _DOC_DESCRIPTIONS[parts[0]]
        for j in parts[1:]:
            if len(text) > NARRATIVE_MAX_CHARS + 20:
                break
            text += ", " + _DOC_DESCRIPTIONS[j]
        text += " and notes on each for the client team"
        while len(text) <= NARRATIVE_MAX_CHARS + 20:
            text += ", together with " + _DOC_DESCRIPTIONS[int(rng.integers(
                len(_DOC_DESCRIPTIONS)))]
        longs.append(text)
    e["narrative"][rows] = e["narrative"][rows] + _objects(longs)[rng.integers(0, 40, len(rows))]
    lengths = pd.Series(e["narrative"][rows], dtype=object).str.len().to_numpy()
    plan.add(rows, "NARRATIVE_LENGTH", _text(lengths) + " characters")


def _plant_money(rng, e, plan: _Plan, n_rate: int, n_amount: int) -> None:
    """A rate other than the one in force (amount consistent with it), and an amount that is
    not hours x rate."""
    rows = _pick(rng, plan.free, n_rate)
    how = rng.integers(0, 3, len(rows))
    right = e["rate"][rows]
    other_half = e["standard_other"][rows]
    bump = rng.choice([-5_000, -2_500, 2_500, 5_000, 10_000], len(rows))
    wrong = np.where(how == 0, other_half,  # last half-year's (or next) standard rate
                     np.where((how == 1) & (e["agreed"][rows] >= 0), e["standard"][rows],
                              right + bump))
    # never above a portal's approved rate: that would be a second problem on the entry
    capped = (e["approved"][rows] >= 0) & (wrong > e["approved"][rows])
    wrong = np.where(capped, right - np.abs(bump) // 2, wrong)
    fixed = (wrong == right) | (wrong <= 0)
    wrong = np.where(fixed, np.where(e["approved"][rows] >= 0, right - 2_500, right + 5_000),
                     wrong)
    why = np.where(capped, 3, how)
    why = np.where(why == 0, "standard rate of the other half-year", np.where(
        (why == 1) & (e["agreed"][rows] >= 0), "standard rate instead of agreed rate",
        "rate typed by hand"))
    why = np.where(fixed, "rate typed by hand", why).astype(object)
    e["rate"][rows] = wrong
    e["amount"][rows] = money.extend_array(e["milli"][rows], wrong)
    plan.add(rows, "RATE_MISMATCH", "rate " + _money_text(wrong) + " but "
             + _money_text(right) + " is in force (" + why + ")")

    rows = _pick(rng, plan.free, n_amount)
    right = e["amount"][rows]
    how = rng.integers(0, 4, len(rows))
    wrong = np.select([how == 0, how == 1, how == 2],
                      [right + e["rate"][rows] // 10,  # one tenth of an hour too much
                       right + 1,  # a cent out
                       right * 10],  # a slipped decimal point
                      np.maximum(right - 100, 1))
    wrong = np.where(wrong == right, right + 1, wrong)
    e["amount"][rows] = wrong
    plan.add(rows, "AMOUNT_MISMATCH", "amount " + _money_text(wrong) + " but hours x rate = "
             + _money_text(right))


def _move_off_portals(rng, e, plan: _Plan, clean: dict[str, np.ndarray], ebilled: np.ndarray,
                      litigation: np.ndarray) -> None:
    """Move the plants an e-billing client's portal would reject (codes, a line's length) off
    those clients' entries, onto clean entries of other clients (litigation ones for codes).

    A careful firm's e-billed entries carry the codes and lengths their clients require; the
    plants keep their counts, and every other plant stays where the seed put it. The entries
    left behind get their clean codes and narrative back.
    """
    onto = {"UTBMS_MISSING": litigation, "UTBMS_INVALID": litigation,
            "NARRATIVE_LENGTH": np.ones(len(ebilled), dtype=bool)}
    for i, (rows, problem, detail) in enumerate(plan.rows):
        away = np.flatnonzero(ebilled[rows]) if problem in onto else []
        if not len(away):
            continue
        dst = _pick(rng, plan.free & ~ebilled & onto[problem], len(away))
        away = away[:len(dst)]  # a tiny firm may lack room: the rest stay where they are
        src = rows[away]
        if problem == "NARRATIVE_LENGTH":
            extra = [text[len(start):] for text, start in zip(
                e["narrative"][src], clean["narrative"][src], strict=True)]
            e["narrative"][dst] = e["narrative"][dst] + _objects(extra)
            detail[away] = _text(pd.Series(e["narrative"][dst]).str.len().to_numpy()) \
                + " characters"
        else:  # the blank or invalid code, in the field it was planted in
            for field in ("task", "activity"):
                planted = e[field][src] != clean[field][src]
                e[field][dst] = np.where(planted, e[field][src], e[field][dst])
        for field in ("task", "activity", "narrative"):
            e[field][src] = clean[field][src]
        plan.free[src], plan.free[dst] = True, False
        moved = rows.copy()
        moved[away] = dst
        plan.rows[i] = (moved, problem, detail)


def _reserve_originals(rng, e, plan: _Plan, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries to be copied (exactly, or with a small edit to the narrative), one per day, on
    days with room for the copy within 10 hours. They stay clean: no other plant takes them.

    Returns the rows to copy, whether each copy is a near copy, and the detail's tail.
    """
    day_key = e["tk"] * 100_000 + e["day"].view("int64")
    keys, inverse = np.unique(day_key, return_inverse=True)
    totals = np.bincount(inverse, weights=e["milli"]).astype(np.int64)
    room = plan.free & (totals[inverse] + e["milli"] <= DAILY_MAX_MILLI)
    cands = rng.permutation(np.flatnonzero(room))
    originals = _take_unique(cands, inverse[cands], n)
    plan.free[originals] = False
    near = rng.random(len(originals)) < 0.6
    return originals, near, np.where(near, " (near: narrative edited)", " (exact)").astype(object)


def _near_edit(rng, text: np.ndarray) -> np.ndarray:
    """A small edit, as keying the same work a second time produces: a full stop, a lower-case
    first letter, two letters swapped, or 'regarding' shortened to 're' ('and' to '&')."""
    s = pd.Series(text, dtype=object)
    how = rng.integers(0, 4, len(s))
    typo = s.str.slice(0, 1) + s.str.slice(2, 3) + s.str.slice(1, 2) + s.str.slice(3)
    short = s.str.replace(" regarding ", " re ", n=1, regex=False)
    short = short.where(short != s, s.str.replace(" and ", " & ", n=1, regex=False))
    out = np.select([how == 0, how == 1, how == 2],
                    [(s + ".").to_numpy(dtype=object),
                     (s.str.slice(0, 1).str.lower() + s.str.slice(1)).to_numpy(dtype=object),
                     typo.to_numpy(dtype=object)],
                    short.to_numpy(dtype=object))
    same = out == s.to_numpy(dtype=object)
    out[same] = out[same] + "."
    return out


# =================================================================================== frames
def _time_frames(rng, e, copies, copy_near, copy_detail, plan: _Plan, people: _People,
                 tk_ids: np.ndarray, matters: _Matters, clients: _Clients,
                 month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_base = len(e["tk"])
    cols = ("tk", "day", "matter", "client", "klass", "milli", "rate", "amount", "task",
            "activity", "narrative", "entered", "billable")
    full = {c: np.concatenate([e[c], e[c][copies]]) for c in cols}
    # copies: the same work keyed again; near copies with a small edit and a later entry date
    near_rows = n_base + np.flatnonzero(copy_near)
    full["narrative"][near_rows] = _near_edit(rng, full["narrative"][near_rows])
    full["entered"][near_rows] = full["entered"][near_rows] + rng.integers(
        0, 3, len(near_rows)).astype("timedelta64[D]")
    n = len(full["tk"])
    order = np.lexsort((rng.random(n), full["tk"], full["day"]))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    ids = _objects([f"T{month[:4]}{month[5:]}{i:07d}" for i in range(1, n + 1)])
    entry_id = ids[position]  # the id of each row, in build order

    def col(name):
        return full[name][order]

    names = people.last + ", " + people.first
    hours = _by_unique(col("milli"), _hours_decimal)
    rates = _by_unique(col("rate"), money.from_minor)
    amounts = _by_unique(col("amount"), money.from_minor)
    frame = pd.DataFrame({
        "entry_id": ids,
        "date": col("day").astype(object),
        "timekeeper_id": tk_ids[col("tk")],
        "timekeeper_name": names[col("tk")],
        "timekeeper_class": _objects(CLASSES)[col("klass")],
        "matter_id": matters.frame["matter_id"].to_numpy(dtype=object)[col("matter")],
        "client_id": clients.frame["client_id"].to_numpy(dtype=object)[col("client")],
        "hours": hours,
        "rate": rates,
        "amount": amounts,
        "task_code": col("task"),
        "activity_code": col("activity"),
        "narrative": col("narrative"),
        "entered_on": col("entered").astype(object),
        "billable": col("billable").astype(bool),
    })

    parts = []
    for rows, problem, detail in plan.rows:
        parts.append(pd.DataFrame({"entry_id": entry_id[rows], "problem": problem,
                                   "detail": detail}))
    copy_rows = n_base + np.arange(len(copies))
    parts.append(pd.DataFrame({"entry_id": entry_id[copy_rows], "problem": "DUPLICATE",
                               "detail": "copy of " + entry_id[copies] + copy_detail}))
    truth = pd.concat(parts, ignore_index=True)
    truth.insert(1, "kind", "time")
    return frame, truth


def _expenses(rng, worked: dict[str, np.ndarray], n: int, matters: _Matters, clients: _Clients,
              tk_ids: np.ndarray, month: str, rates: dict[str, float]):
    """Expenses on the days and matters of clean work (so dates, matters and people are valid)."""
    src = rng.integers(0, len(worked["tk"]), n)
    matter, day, tk = worked["matter"][src], worked["day"][src], worked["tk"][src]
    lit = matters.area[matter] == 0
    codes = np.array([x[0] for x in _EXPENSES], dtype=object)
    w_lit = np.array([x[1] for x in _EXPENSES], dtype=np.float64)
    w_other = np.array([x[2] for x in _EXPENSES], dtype=np.float64)
    pick = np.where(lit, _weighted_index(rng, w_lit, n), _weighted_index(rng, w_other, n))
    qlo, qhi = np.array([x[3] for x in _EXPENSES]).T
    ulo, uhi = np.array([x[4] for x in _EXPENSES]).T
    qty = rng.integers(qlo[pick], qhi[pick] + 1)
    unit = rng.integers(ulo[pick], uhi[pick] + 1)
    narr_start = np.cumsum([0] + [len(x[5]) for x in _EXPENSES])[:-1]
    narr_all = _objects([t for x in _EXPENSES for t in x[5]])
    narr_size = np.array([len(x[5]) for x in _EXPENSES])
    narrative = narr_all[narr_start[pick] + np.floor(rng.random(n) * narr_size[pick]).astype(
        np.int64)]
    code = codes[pick]
    milli = qty * 1000
    amount = money.extend_array(milli, unit)
    receipt_ids = _objects([f"RCPT-{v:06d}" for v in rng.integers(0, 1_000_000, n)])
    receipt = np.where((amount > RECEIPT_OVER_MINOR) | (rng.random(n) < 0.4), receipt_ids, "")
    vendor = np.isin(code, ["E112", "E115", "E118", "E119"]) & (rng.random(n) < 0.5)
    billable = rng.random(n) > 0.05

    free = np.ones(n, dtype=bool)
    truth_rows, truth_problem, truth_detail = [], [], []
    # a meal over the cap, with its receipt
    cap_rows = _pick(rng, free, round(rates["EXPENSE_CAP"] * n))
    free[cap_rows] = False
    meal = int(np.flatnonzero(codes == "E111")[0])
    pick[cap_rows] = meal
    code[cap_rows] = "E111"
    qty[cap_rows] = 1
    milli[cap_rows] = 1000
    unit[cap_rows] = rng.integers(MEAL_CAP_MINOR + 1, 42_000, len(cap_rows))
    amount[cap_rows] = unit[cap_rows]
    receipt[cap_rows] = receipt_ids[cap_rows]
    narrative[cap_rows] = _objects(_MEAL_CAP_NARRATIVES)[rng.integers(
        0, len(_MEAL_CAP_NARRATIVES), len(cap_rows))]
    truth_rows.append(cap_rows)
    truth_problem.append("EXPENSE_CAP")
    truth_detail.append("meal " + _money_text(amount[cap_rows]) + " over the "
                        + money.format_amount(MEAL_CAP_MINOR) + " cap")
    # over 75.00 with no receipt (never a meal, so the cap rule stays apart)
    no_receipt = _pick(rng, free & (amount > RECEIPT_OVER_MINOR) & (code != "E111"),
                       round(rates["RECEIPT_REQUIRED"] * n))
    free[no_receipt] = False
    receipt[no_receipt] = ""
    truth_rows.append(no_receipt)
    truth_problem.append("RECEIPT_REQUIRED")
    truth_detail.append("amount " + _money_text(amount[no_receipt]) + " with no receipt")

    order = np.lexsort((rng.random(n), matter, day))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    ids = _objects([f"X{month[:4]}{month[5:]}{i:07d}" for i in range(1, n + 1)])
    frame = pd.DataFrame({
        "entry_id": ids,
        "date": day[order].astype(object),
        "timekeeper_id": np.where(vendor, "", tk_ids[tk])[order].astype(object),
        "matter_id": matters.frame["matter_id"].to_numpy(dtype=object)[matter][order],
        "client_id": clients.frame["client_id"].to_numpy(dtype=object)[
            matters.client[matter]][order],
        "expense_code": code[order],
        "quantity": _by_unique(milli[order], _quantity_decimal),
        "unit_cost": _by_unique(unit[order], money.from_minor),
        "amount": _by_unique(amount[order], money.from_minor),
        "narrative": narrative[order],
        "receipt_ref": receipt[order].astype(object),
        "billable": billable[order],
    })
    truth = pd.DataFrame({
        "entry_id": np.concatenate([ids[position[r]] for r in truth_rows]),
        "kind": "expense",
        "problem": np.concatenate([np.full(len(r), p, dtype=object)
                                   for r, p in zip(truth_rows, truth_problem, strict=True)]),
        "detail": np.concatenate(truth_detail),
    })
    return frame, truth


# =================================================================================== output
def write_exports(demo: DemoFirm, directory: Path) -> dict[str, Path]:
    """Write the month's exports as a practice-management system would, each atomically.

    ``time_entries.xlsx`` (dates as real date cells, numbers as numbers, every text cell as
    text, so a narrative starting with '=' is never a formula), ``expenses.csv`` (UTF-8, ISO
    dates, plain decimal amounts) and ``ground_truth.csv``.
    """
    from billxl.excel.demo_files import write_time_export

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"time": directory / "time_entries.xlsx", "expenses": directory / "expenses.csv",
             "ground_truth": directory / "ground_truth.csv"}
    with atomic_path(paths["time"]) as tmp:
        write_time_export(demo.time_export, tmp, TIME_EXPORT_COLUMNS)
    with atomic_path(paths["expenses"]) as tmp:
        _plain_text(demo.expense_export).to_csv(tmp, index=False, encoding="utf-8",
                                                lineterminator="\n")
    with atomic_path(paths["ground_truth"]) as tmp:
        demo.ground_truth.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return paths


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV export holds: ISO dates, '12.50', 'Yes'/'No'."""
    out = {}
    for name in frame.columns:
        values = frame[name]
        if values.dtype == bool:
            out[name] = np.where(values.to_numpy(), "Yes", "No")
        else:
            out[name] = values.map(lambda v: v.isoformat() if isinstance(v, date) else str(v))
    return pd.DataFrame(out)


VAT_RATES = (("GB", "VAT", "20"), ("DE", "VAT", "19"), ("FR", "VAT", "20"), ("NL", "VAT", "21"))


def billing_terms(demo: DemoFirm) -> dict[str, pd.DataFrame]:
    """The demo firm's tax rates and a few matters' terms: line discounts, minimum bills, one
    matter split between two payors. Deterministic from the firm's seed."""
    rng = np.random.default_rng(demo.seed + 17)
    matters = demo.reference["matters"]
    clients = demo.reference["clients"].set_index("client_id")
    tax = pd.DataFrame([{"jurisdiction": j, "tax_type": kind, "applies_to": "both",
                         "percent": pct, "effective_from": pd.Timestamp("2020-01-01"),
                         "effective_to": pd.NaT} for j, kind, pct in VAT_RATES])
    hourly = matters[matters["fee_arrangement"] == "hourly"]
    pick = rng.random(len(hourly))
    discount = np.where(pick < 0.05, "5", np.where(pick < 0.10, "10", None))
    min_bill = np.where((pick > 0.9), 50_000, None)  # 500.00: small WIP waits a month
    terms = pd.DataFrame({"matter_id": hourly["matter_id"].to_numpy(),
                          "discount_percent": discount, "min_bill_minor": min_bill})
    terms = terms[terms["discount_percent"].notna() | terms["min_bill_minor"].notna()]
    return {"tax_rates": tax, "matter_terms": terms.reset_index(drop=True),
            "matter_payors": _split_payors(matters, clients)}


def _split_payors(matters: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """The first hourly matter with a co-payor in its currency: 70% its client, 30% the other
    (``clients`` indexed by client_id)."""
    hourly = matters[matters["fee_arrangement"] == "hourly"]
    payors = []
    currency = hourly["client_id"].map(clients["currency"])
    for matter_id, client_id, cur in zip(hourly["matter_id"], hourly["client_id"], currency,
                                         strict=True):
        others = clients.index[(clients["currency"] == cur) & (clients.index != client_id)]
        if len(others):
            payors = [{"matter_id": matter_id, "client_id": client_id, "percent": "70"},
                      {"matter_id": matter_id, "client_id": others[0], "percent": "30"}]
            break
    return pd.DataFrame(payors, columns=["matter_id", "client_id", "percent"])


def _ebilled_matters(matters: pd.DataFrame, clients: pd.DataFrame) -> np.ndarray:
    """Which matters are billed, all or in part (a payor's share), to a client who bills
    through an e-billing portal."""
    portal = clients.set_index("client_id")["ebilling_portal"].notna()
    payors = _split_payors(matters, clients.set_index("client_id"))
    billed_to = pd.concat([matters[["matter_id", "client_id"]],
                           payors[["matter_id", "client_id"]]])
    ebilled = billed_to.loc[billed_to["client_id"].map(portal).to_numpy(dtype=bool), "matter_id"]
    return matters["matter_id"].isin(ebilled).to_numpy()


@dataclass(frozen=True)
class BillingPlans:
    """The demo's billing cycles and invoice schedules (issue 16), chosen from its firm."""

    # each is None when the firm is too small to lend it a client or matter (see billing_plans)
    quarterly_client: str | None  # its matters are billed in March, June, September, December
    installments: str | None  # a fixed fee of 100,000.00 in three monthly installments
    milestones: str | None  # a fixed fee of 85,000.00 in 30/40/30 milestones, the first triggered
    retainer: str | None  # a monthly retainer of 5,000.00 for a year


def billing_plans(demo: DemoFirm) -> BillingPlans:
    """Which client is billed quarterly and which matters are billed by a schedule: clients
    and matters billed on paper (no e-billing portal, no split), open all month, chosen by
    the firm's seed. A small firm has fewer plans: a plan with no client or matter to take is
    None (the quarterly client first, then one matter each for the installments, the milestones
    and the retainer, as far as the eligible clients go)."""
    rng = np.random.default_rng(demo.seed + 29)
    start, _end = (pd.Timestamp(d) for d in _month_span(demo.month))
    clients = demo.reference["clients"].set_index("client_id")
    matters = demo.reference["matters"]
    split = set(_split_payors(matters, clients)["matter_id"])
    paper = clients.index[clients["ebilling_portal"].isna()]
    open_all_month = matters["closed_on"].isna() & (matters["opened_on"] < start)
    eligible = matters[open_all_month & matters["client_id"].isin(paper)
                       & ~matters["matter_id"].isin(split)]
    order = eligible["client_id"].drop_duplicates().to_numpy(dtype=object)
    order = order[rng.permutation(len(order))]
    # the quarterly client: one of the smaller (its matters all wait) among clients sharing
    # their currency with others (each currency still bills in the month); the others lend
    # one matter each
    size = matters.groupby("client_id").size()
    shared = clients["currency"].map(clients["currency"].value_counts()) > 1
    quarterly = min((c for c in order if shared[c]), key=lambda c: size[c], default=None)
    rest = [c for c in order if c != quarterly][:3]
    firsts = [eligible.loc[eligible["client_id"] == c, "matter_id"].iloc[0] for c in rest]
    return BillingPlans(quarterly, *firsts, *[None] * (3 - len(firsts)))


def _plan_billing(ledger, demo: DemoFirm) -> None:
    """The demo's cycles and schedules, through the engine (audited as 'demo'); the schedules'
    matters are billed at completion (their fee by the schedule, their time then)."""
    from billxl.billing import schedules
    from billxl.billing.schedule_builder import Milestone, Terms
    from billxl.firm import save_record

    plans = billing_plans(demo)
    _start, end = (pd.Timestamp(d).date() for d in _month_span(demo.month))
    if plans.quarterly_client is not None:
        schedules.set_cycle(ledger, plans.quarterly_client, "quarterly", actor="demo")
    for matter, arrangement, fee in ((plans.installments, "fixed", "100000.00"),
                                     (plans.milestones, "fixed", "85000.00"),
                                     (plans.retainer, "retainer", None)):
        if matter is None:
            continue
        record = {"matter_id": matter, "arrangement": arrangement, "fixed_fee": fee}
        save_record(ledger, "matters", record, edit=True, actor="demo")
        schedules.set_cycle(ledger, matter, "completion", actor="demo")
    if plans.installments is not None:
        schedules.plan(ledger, plans.installments, Terms("installment", count=3, start=end),
                       actor="demo")
    if plans.milestones is not None:
        milestones = schedules.plan(ledger, plans.milestones, Terms("milestone", milestones=(
            Milestone("on signing", "30"), Milestone("on filing", "40"),
            Milestone("on completion", "30"))), actor="demo")
        schedules.trigger(ledger, int(milestones["schedule_id"].iloc[0]), end.replace(day=15),
                          actor="demo")
    if plans.retainer is not None:
        schedules.plan(ledger, plans.retainer, Terms("retainer", amount="5000.00", count=12,
                                                     start=end), actor="demo")


def load_into(ledger, demo: DemoFirm) -> None:
    """Add the demo firm's offices, timekeepers, clients, matters, rates and billing terms,
    and its billing cycles and invoice schedules (:func:`billing_plans`)."""
    ledger.load_reference({**demo.reference, **billing_terms(demo)}, actor="demo")
    _plan_billing(ledger, demo)
