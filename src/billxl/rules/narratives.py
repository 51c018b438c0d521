"""Words and patterns that say what a narrative is about: vague, clerical, internal, blocked.

Speed matters here (300,000 narratives a month), so the patterns are built for Python's regex
engine: the clerical and in-firm patterns run on the lower-cased narrative with a space put in
front and every alternative starts with a literal space, so the engine jumps from word to word;
the alternatives are folded into a prefix tree (:func:`prefix_tree`), so at each word only the
branches that share its first letters are tried. A space inside a phrase stands for any run of
blanks and punctuation ("pre-bill", "bates  stamp"). The rules apply each pattern to every
*distinct* narrative once.

Vague narratives are matched whole, on the :func:`normalise`d text of the short ones only (a
vague phrase is a few words). Block billing counts tasks after separators in the lower-cased
text.

The lists are starting points taken from common outside-counsel guidelines; a phrase earns its
place by catching what portals and billing partners reject without catching ordinary, specific
narratives (the demo firm's ground truth measures both).
"""

from __future__ import annotations

import os
import re

import pandas as pd

# ------------------------------------------------------------------------------ normalising
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: pd.Series) -> pd.Series:
    """Lower case; every run of punctuation and blanks becomes one space; ends trimmed."""
    return text.str.lower().str.replace(_NOT_WORD, " ", regex=True).str.strip()


def _words(phrases) -> str:
    """An alternation of phrases, longest first (so 'review file' wins over 'review')."""
    return "|".join(re.escape(p).replace(r"\ ", " ") for p in sorted(phrases, key=len, reverse=True))


_META = frozenset("()[]?*+|{}\\.^$")
#: Blanks and punctuation between two words of a phrase.
_GAP = r"[\W_]+"


def _literal_head(pattern: str) -> str:
    """The literal characters a regex starts with (a char under a quantifier excluded)."""
    i = 0
    while i < len(pattern) and pattern[i] not in _META:
        i += 1
    if i < len(pattern) and pattern[i] in "?*+{":
        i -= 1
    return pattern[:max(i, 0)]


def prefix_tree(patterns) -> str:
    """One regex alternation of ``patterns`` with their common literal starts factored out.

    ``['copying', 'copy and organi[sz]e', 'calendar']`` becomes
    ``c(?:opy(?:ing| and organi[sz]e)|alendar)``: the engine reads a word's first letters
    once instead of trying every alternative. It matches exactly what the plain alternation
    matches (a test holds them equal). Embed it in a group: it may have a top-level ``|``.
    """
    patterns = list(dict.fromkeys(patterns))
    groups: dict[str, list[str]] = {}
    parts: list[str] = []
    for p in patterns:
        head = _literal_head(p)
        if head:
            groups.setdefault(head[0], []).append(p)
        else:
            parts.append(p)
    factored = []
    for members in groups.values():
        if len(members) == 1:
            factored.append(members[0])
            continue
        common = os.path.commonprefix([_literal_head(m) for m in members])
        tails = [m[len(common):] for m in members]
        inner = prefix_tree([t for t in tails if t])
        factored.append(f"{common}(?:{inner})" + ("?" if "" in tails else ""))
    return "|".join(factored + parts)


def phrase_regex(patterns) -> re.Pattern:
    """A regex finding any of ``patterns`` as whole words in ``' ' + lower-cased text``."""
    for p in patterns:
        if " ?" in p or not p[:1].isalpha():
            raise ValueError(f"phrase pattern {p!r} must start with a letter and have no ' ?'")
    return re.compile(" (?:" + prefix_tree([p.replace(" ", _GAP) for p in patterns]) + r")\b")


# ------------------------------------------------------------------------------ vague
#: Narratives that, on their own, do not say what was done ("review file").
VAGUE_PHRASES = (
    "review file", "review of file", "review the file", "file review", "review files",
    "review documents", "review docs", "review materials", "review papers",
    "attention to matter", "attention to file", "attention to case", "attend to matter",
    "attend to file", "attention to the matter", "attention to the file",
    "work on file", "work on matter", "work on case", "work on the file", "work on the matter",
    "worked on file", "worked on matter", "worked on case", "case work", "file work",
    "follow up", "followup", "follow up on matter", "follow up on file",
    "various", "various matters", "various tasks", "miscellaneous", "misc", "general",
    "general matters", "services rendered", "professional services", "legal services",
    "review", "research", "legal research", "analysis", "review and analysis", "draft",
    "drafting", "revise", "revisions", "conference", "meeting", "call", "calls", "phone call",
    "telephone call", "email", "emails", "e mails", "correspondence", "review correspondence",
    "review emails", "update", "status", "strategy", "prepare", "preparation",
    "trial preparation", "prepare for trial", "case management", "matter management",
    "file management", "office conference", "discussion", "discussions", "work",
)
#: A generic verb with a generic object says as little: "prepare for meeting", "draft documents".
_GENERIC_VERBS = ("review", "reviewed", "draft", "drafted", "prepare", "prepared", "revise",
                  "revised", "analyze", "analyse", "work on", "worked on", "attention to",
                  "attend to", "handle", "handled", "deal with", "dealt with")
_GENERIC_OBJECTS = ("file", "files", "matter", "matters", "case", "documents", "docs",
                    "materials", "papers", "correspondence", "emails", "email", "letters",
                    "meeting", "meetings", "call", "calls", "issues", "same", "various items")
_GENERIC = (f"(?:{_words(_GENERIC_VERBS)})(?: (?:of|for|on|to))?(?: the| all| various)? "
            f"(?:{_words(_GENERIC_OBJECTS)})")
_VAGUE_TAIL = "(?: (?:re|regarding|on|for|of|in|to|about) (?:the )?(?:matter|file|case|issues?|same))?"
#: Matches a whole lower-cased narrative that is only a vague phrase (punctuation aside).
VAGUE = re.compile(r"^[\W_]*(?:" + prefix_tree([p.replace(" ", _GAP) for p in VAGUE_PHRASES]
                                               + [_GENERIC.replace(" ", _GAP)])
                   + ")" + _VAGUE_TAIL.replace(" ", _GAP) + r"[\W_]*$")

# ------------------------------------------------------------------------------ admin
#: Clerical work that clients expect in the overhead, not on the bill. Each is a regex that
#: starts with a letter; a space stands for any blanks and punctuation.
ADMIN_PATTERNS = (
    "copying", "photocop[a-z]*", "make copies",
    "cop(?:y|ied) (?:and (?:organi[sz]e|collate|assemble) )?(?:documents|files|exhibits|pleadings)",
    "copy and (?:organi[sz]e|collate|assemble)",
    "scan(?:ning|ned)? (?:and (?:save|saved|file|filed|upload|uploaded) )?"
    "(?:documents|docs|files|papers|exhibits|correspondence)",
    "scan(?:ned|ning)? and (?:save|saved|file|filed|upload|uploaded)",
    "document (?:management )?system", "records (?:management )?system",
    "schedul(?:e|ed|ing)(?! order)", "calendar(?:ing|ed)?(?! year)", "docket(?:ing|ed)",
    "fil(?:e|ed|ing) (?:documents|papers|correspondence|emails)",
    "fil(?:e|ed|ing) (?:a |the )?(?:notice of appearance|certificate of service|proof of service)",
    "electronic filing", "e filing", "efiling", "court clerk", "clerk s office",
    "organi[sz](?:e|ed|ing) (?:the )?(?:\\w+ )?"
    "(?:file|files|documents|binders?|folders?|records|exhibits)",
    "trial binders?", "hearing binders?", "exhibit binders?",
    "arrang(?:e|ed|ing) (?:for )?(?:courier|messenger|delivery)", "courier delivery", "catering",
    "proofread(?:ing|ed)?", "index(?:ing)? (?:documents|files|exhibits|the file)",
    "bates (?:stamp|label|number)[a-z]*", "billing", "invoic(?:e|es|ing)",
    "pre bill(?:s|ing)?", "prebill(?:s|ing)?",
    "update (?:the )?(?:file|files|calendar|index|database|spreadsheet|tracker)",
    "open(?:ed|ing)? (?:a )?(?:new )?(?:file|matter)", "conflicts? check",
    "prepar(?:e|ed|ing) (?:a |the )?binders?", "fax(?:ed|ing|es)?",
    "mail(?:ed|ing)? (?:out )?(?:documents|letters?|package|packages)",
    "print(?:ed|ing)? (?:documents|emails|exhibits|materials)",
    "download(?:ed|ing)? (?:documents|files)", "clerical", "administrative",
    "book(?:ed|ing)? (?:a |the )?(?:meeting room|conference room|room|travel|flights?|hotel|courier)",
)
ADMIN = phrase_regex(ADMIN_PATTERNS)

# ------------------------------------------------------------------------------ internal
_COLLEAGUES = (
    "associate", "associates", "partner", "partners", "paralegal", "paralegals", "team",
    "colleague", "colleagues", "staff", "case team", "litigation team", "deal team",
    "supervising partner", "senior associate", "junior associate", "trainee", "trainees",
    "law clerk", "summer associate", "of counsel", "billing partner", "responsible partner",
)
_TALK = ("conference", "conferences", "confer", "conferred", "conferring", "meet", "meeting",
         "met", "discuss", "discussed", "discussion", "discussions", "call", "calls",
         "strategy session", "debrief", "catch up")
_IN_FIRM = ("internal", "intraoffice", "intra office", "interoffice", "inter office", "in house",
            "inhouse", "team", "firm", "office")
_GATHERING = "(?:meeting|conference|call|discussion|strategy session|debrief)"
INTERNAL_PATTERNS = (
    *(f"{where} {_GATHERING}" for where in _IN_FIRM),
    *(f"{talk}(?: [a-z]+){{0,3}} with (?:the |our |other |firm |my )?(?:{_words(_COLLEAGUES)})"
      for talk in _TALK),
)
INTERNAL = phrase_regex(INTERNAL_PATTERNS)
#: UTBMS activity code for communication inside the firm.
INTERNAL_ACTIVITY = "A105"

# ------------------------------------------------------------------------------ block billing
#: Verbs that start a distinct task in a narrative.
TASK_VERBS = (
    "draft", "drafted", "drafting", "review", "reviewed", "reviewing", "revise", "revised",
    "revising", "research", "researched", "researching", "prepare", "prepared", "preparing",
    "analyze", "analyzed", "analyse", "analysed", "attend", "attended", "attending",
    "confer", "conferred", "conference", "call", "called", "telephone", "email", "emailed",
    "correspond", "corresponded", "correspondence", "meet", "met", "meeting", "edit", "edited",
    "finalize", "finalized", "finalise", "finalised", "respond", "responded", "discuss",
    "discussed", "negotiate", "negotiated", "outline", "outlined", "summarize", "summarized",
    "argue", "argued", "appear", "appeared", "travel", "traveled", "travelled",
    "investigate", "investigated", "interview", "interviewed", "compile", "compiled",
    "supervise", "supervised", "update", "updated", "file", "filed", "serve", "served",
    "depose", "deposed", "defend", "defended", "take", "took", "obtain", "obtained",
    "advise", "advised", "verify", "verified", "check", "checked", "coordinate", "coordinated",
)
#: A task starts after a separator (the text gets a ';' in front, so the start counts; ', and',
#: ', then' count too), with a verb followed by its own object. Verbs joined by 'and' are not
#: counted as new tasks: "draft motion and revise per comments" and "review and revise motion"
#: are one piece of work; "reviewed transcript, drafted summary" are two.
TASK_START = re.compile(
    r"[;:,.]\s*(?:(?:and|then|also)\s+)?"
    rf"(?:{prefix_tree(TASK_VERBS)})\b(?!\s*(?:and|or|&|,|/)(?:\s|$))\s*\w")
#: The characters a second task or clause starts after.
SEPARATOR = re.compile(r"[;:,.\n]")
#: Clauses of a narrative split at semicolons and line breaks.
CLAUSE_SPLIT = re.compile(r"[;\n]+")
