"""What a narrative is about: vague, clerical, internal, blocked -- read in context.

A word alone decides nothing: "schedule" is clerical when it is the verb of its clause ("Schedule
deposition of ...") and legal work when it is a thing ("Schedule B exceptions", "schedule of
loss", "witness schedule"); "partner" is a colleague in "call with tax partner" and not in "call
with the client's HR business partner" or "partner at the client's auditor". So the patterns
look at where a word stands:

* **clauses.** A narrative is read as clauses: its start and every ``;``, ``,``, ``:``, ``.``,
  ``/`` or line break starts one (a clause also starts at "and" before a second activity). A verb
  at the start of a clause *governs* it; the same word inside a clause is an object.
* **the other party** of a call, meeting or e-mail: a colleague (partner, associate, paralegal,
  team, trainee, a tax or IP colleague) unless the word belongs to someone outside (the client's,
  opposing counsel's, a foreign associate, a partner *at* another firm, associate general
  counsel); for a paralegal or clerk, "attorney" is the firm's own.
* **the subject**: a call "with client" or "re status" says nothing; "re indemnity cap" does.
* **the UTBMS activity code**: A105 (communicate in firm) is an internal conference; A110
  (manage data and files) is clerical unless the narrative starts with legal work; on A106-A108
  (a communication with the client, other counsel or others) setting up the call is part of it.
* **the timekeeper's class**: a paralegal's or clerk's "conference with attorney" is internal.
* **block billing** counts distinct tasks: a task verb (or "call with", "letter to" ...) after
  a separator, not after a bare verb ("Draft, revise and finalize" is one task), and "and"
  only where it joins a second kind of work ("prepare and file", "prepare for and attend",
  "and meet with paralegal", "emails and calls"); "draft and revise", "review and respond",
  "review X; identify Y" are one task.

Speed matters (300,000 narratives a month). The distinct narratives of a batch are joined into
one lower-cased text (:class:`Corpus`, each narrative behind a :data:`START` mark no pattern
crosses) and each rule's regular expression scans it once. Every pattern begins with a literal
space, so the engine jumps from word to word; clause starts are tested by a look-behind, lists
of words are folded into a prefix tree (:func:`prefix_tree`), and a phrase whose verb is common
("prepare", "review") is anchored on its rarer object and looks back for the verb
(:func:`_governed`). A costly test comes after a cheap one that any match passes: the first
letter before the look-behind for a clause start (:func:`_clerical_regex`), the next word before
the look-behinds after a separator (:data:`TASK_START`) or the clause's length
(:data:`VAGUE_PART`); ``tests/test_narrative_patterns_fast.py`` holds each equal to its plain
form. A space inside a phrase stands for any run of blanks and punctuation
("pre-bill", "t/c", "w/").

The words are starting points taken from common outside-counsel guidelines and UTBMS practice;
``benchmarks/eval_rules.py`` measures them on the demo firm and on an independent labelled set
(``tests/data/narratives_eval``).
"""

from __future__ import annotations

import os
import re
import weakref

import numpy as np
import pandas as pd

from billxl import scan as _scan
from billxl.rules.engine import Batch, found, lookup

# ------------------------------------------------------------------------------ normalising
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: pd.Series) -> pd.Series:
    """Lower case; every run of punctuation and blanks becomes one space; ends trimmed."""
    return text.str.lower().str.replace(_NOT_WORD, " ", regex=True).str.strip()


#: What :func:`clausal` puts in front of a narrative: a mark of its start (a character no
#: narrative has) and a space.
START = "\x02 "


#: A list's numbering where a clause starts ("(1) draft ...; (2) call ...", "(ii)", "b)")
_NUMBER = r"\(?(?:\d{1,2}|[ivx]{1,4}|[a-h])\)[ \t]*"
_NUMBERING = re.compile(r"(?<=[\x02;,:.\n] )" + _NUMBER)
#: A narrative that is a numbered list from its first word: its items are the tasks. (Items
#: under a heading, "Depo prep: (a) outline; (b) exhibits", are the heading's steps: left be.)
_NUMBERED_LIST = re.compile(r"\x02 " + _NUMBER + r"[^\x02]*")


def _spaced(lowered: str) -> str:
    """One or many :func:`clausal` narratives from their lower-cased text (START included):
    a numbered list's numbers are left out, so that each item starts its clause with its first
    word."""
    text = lowered.replace("/", " / ").replace("  /  ", " / ")
    if ")" not in text:
        return text
    return _NUMBERED_LIST.sub(lambda m: _NUMBERING.sub("", m.group(0)), text)


def clausal(lowered: pd.Series) -> pd.Series:
    """Lower-cased narratives in the form the patterns read: :data:`START` in front, a space on
    each side of every '/', so that every word, the first included, has a space before it
    ('dispute/conference w/ partner' reads as 'dispute / conference w /  partner'), and the
    numbers of a narrative that is a numbered list left out ('(1) draft motion; (2) call client'
    reads as 'draft motion; call client')."""
    return (START + lowered).map(_spaced)


class Corpus:
    """Narratives in :func:`clausal` form, joined into one text, searched in one go.

    A regex run over 300,000 short strings one at a time pays Python's cost per string; over
    their concatenation it is one scan. Each narrative starts with the :data:`START` mark, which
    no pattern matches across, so a match belongs to the narrative it starts in.
    """

    def __init__(self, narratives: pd.Series):
        # joined first, then lower-cased and spaced out in one go (as :func:`clausal` does
        # narrative by narrative); where each narrative starts is read off its mark after
        parts = narratives.tolist()
        #: each narrative's length in characters, as given
        self.lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        self._join(parts)
        if len(self.starts) != len(parts):  # a narrative holding the mark itself
            self._join([p.replace(START[0], " ") for p in parts])
        self.ends = np.r_[self.starts[1:], len(self.text)]
        self._scanned: dict[re.Pattern, tuple[np.ndarray, list[re.Match]]] = {}
        self._shared: _scan.Shared | None = None

    def _join(self, parts: list[str]) -> None:
        self.text = _spaced((START + START.join(parts)).lower())
        # one byte per character when the text is ASCII (the usual case: cheaper to scan)
        points = (np.frombuffer(self.text.encode("ascii"), dtype=np.uint8) if self.text.isascii()
                  else np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32))
        self.starts = np.flatnonzero(points == ord(START[0])).astype(np.int64)

    def texts(self, rows: np.ndarray) -> pd.Series:
        """The narratives at ``rows`` in :func:`clausal` form (indexed by position)."""
        return pd.Series([self.text[a:z] for a, z in zip(self.starts[rows], self.ends[rows],
                                                          strict=True)],
                         index=rows, dtype=object)

    def __len__(self) -> int:
        return len(self.starts)

    def _matches(self, pattern: re.Pattern) -> tuple[np.ndarray, list[re.Match]]:
        """Every match of ``pattern`` and the narrative each is in (one scan per pattern: the
        rules that read the same pattern share it)."""
        done = self._scanned.get(pattern)
        if done is None:
            found_ = self._found_in_parallel(pattern)
            if found_ is None:
                found_ = list(pattern.finditer(self.text))
            at = np.fromiter((m.start() for m in found_), dtype=np.int64, count=len(found_))
            done = self._scanned[pattern] = (np.searchsorted(self.starts, at, side="right") - 1,
                                             found_)
        return done

    def _found_in_parallel(self, pattern: re.Pattern) -> list[re.Match] | None:
        """A big corpus's matches found by several processes (:mod:`billxl.scan`), each
        taken again here where it starts (the same match: the engine tries the same place), or
        None to scan in this process."""
        if len(self.text) < _scan.MIN_CHARS or _scan.workers() < 2:
            return None
        if self._shared is None:
            try:
                self._shared = _scan.Shared(self.text)
            except OSError:  # no shared memory here
                return None
        # a few shares per worker, cut where narratives start
        pieces = _scan.PIECES_PER_WORKER * _scan.workers()
        wanted = np.linspace(0, len(self.text), pieces + 1)[1:-1]
        bounds = self.starts[np.clip(np.searchsorted(self.starts, wanted), 0, len(self.starts) - 1)]
        at = _scan.match_starts(self._shared, pattern, bounds)
        if at is None:
            return None
        match, text = pattern.match, self.text
        found_ = [match(text, p) for p in at.tolist()]
        return None if any(m is None for m in found_) else found_

    def named_hits(self, pattern: re.Pattern) -> dict[str, np.ndarray]:
        """For each kind of match (the name of the last group it closed, digits dropped), the
        narratives with one."""
        rows, found_ = self._matches(pattern)
        kinds = np.asarray([(m.lastgroup or "").rstrip("0123456789") for m in found_], dtype=object)
        out = {}
        for kind in set(kinds.tolist()):
            hit = np.zeros(len(self), dtype=bool)
            hit[rows[kinds == kind]] = True
            out[kind] = hit
        return out

    def hits(self, pattern: re.Pattern) -> np.ndarray:
        """Which narratives ``pattern`` finds something in."""
        rows, _ = self._matches(pattern)
        hit = np.zeros(len(self), dtype=bool)
        hit[rows] = True
        return hit

    def counts(self, pattern: re.Pattern) -> np.ndarray:
        """How many (non-overlapping) matches of ``pattern`` each narrative has."""
        rows, _ = self._matches(pattern)
        return np.bincount(rows, minlength=len(self)).astype(np.int64)

    def first(self, pattern: re.Pattern, kept=None) -> tuple[np.ndarray, pd.Series]:
        """The narratives ``pattern`` finds something in (positions, ascending) and the text of
        the first match in each (indexed by those positions). ``kept``, if given, is called with
        the matches' narratives and matches and says which of them count (a boolean array)."""
        rows, found_ = self._matches(pattern)
        if kept is not None and len(rows):
            counted = np.asarray(kept(rows, found_), dtype=bool)
            rows, found_ = rows[counted], [m for m, c in zip(found_, counted, strict=True) if c]
        keep = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, dtype=bool)
        first_rows = rows[keep]
        return first_rows, pd.Series([m.group(0) for m, k in zip(found_, keep, strict=True) if k],
                                     index=first_rows, dtype=object)


def corpus(narratives: pd.Series) -> Corpus:
    """The :class:`Corpus` of ``narratives`` (a batch's distinct narratives); the four
    narrative rules share it: it is kept for the last Series it was made from."""
    cached = _CORPUS.get("of")
    if cached is not None and cached() is narratives:
        return _CORPUS["corpus"]
    made = Corpus(narratives)
    _CORPUS.update({"of": weakref.ref(narratives), "corpus": made})
    return made


_CORPUS: dict = {}


def lengths(narratives: pd.Series) -> np.ndarray:
    """Each narrative's length in characters: the shared :class:`Corpus`'s when it was made
    from ``narratives``, else counted (without building one)."""
    cached = _CORPUS.get("of")
    if cached is not None and cached() is narratives:
        return _CORPUS["corpus"].lengths
    return np.fromiter(map(len, narratives.tolist()), dtype=np.int64, count=len(narratives))


def _words(phrases) -> str:
    """An alternation of phrases, longest first (so 'review file' wins over 'review'), as a
    :func:`prefix_tree` (the same matches, tried in the same order, fewer tried)."""
    return prefix_tree([re.escape(p).replace(r"\ ", " ")
                        for p in sorted(phrases, key=len, reverse=True)])


_META = frozenset("()[]?*+|{}\\.^$")
#: Blanks and punctuation between two words of a phrase (never a :data:`START` mark: the
#: patterns run over all narratives joined, and no match may run from one into the next).
_GAP = r"[^\w\x02]+"


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


def _gapped(pattern: str) -> str:
    """A pattern written with spaces, each space standing for any blanks and punctuation."""
    return pattern.replace(" ", _GAP)


def _tree(patterns) -> str:
    """:func:`prefix_tree` of patterns written with spaces for gaps."""
    return prefix_tree([_gapped(p) for p in patterns])


def by_initial(words) -> list[str]:
    """``words`` as one pattern per first letter (``['call', 'confer', 'meet']`` becomes
    ``['c(?:all|onfer)', 'meet']``), so that a phrase built on each stays short."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    return [f"{k}(?:{'|'.join(sorted(v, key=len, reverse=True))})" if len(v) > 1 else k + v[0]
            for k, v in groups.items()]


def phrase_regex(patterns) -> re.Pattern:
    """A regex finding any of ``patterns`` as whole words in ``' ' + lower-cased text``."""
    for p in patterns:
        if " ?" in p or not p[:1].isalpha():
            raise ValueError(f"phrase pattern {p!r} must start with a letter and have no ' ?'")
    return re.compile(" (?:" + _tree(patterns) + r")\b")


# ------------------------------------------------------------------------------ clauses
# Every pattern below runs on :func:`clausal` text and begins with one literal space: the regex
# engine then jumps from space to space, and at each tries the branches, each of which starts
# with a cheap test (a look-behind for the separator before the space, or the first letters of
# its words). A top-level alternation, or a branch that starts with a character set or an
# anchor, would make the engine try every branch at every character (several times slower).
#: After the space that starts a clause: the narrative's start or a separator before it (and an
#: optional 'and', 'then' or 'also').
def _after(chars: str) -> str:
    """A look-behind for one of ``chars`` then the space just passed."""
    return f"(?<=[{chars}] )"


def _spaced_literal(words: str) -> str:
    """Words for a look-behind: each space a space or a hyphen."""
    return words.replace(" ", "[\\x20-]")


def _not_after(word: str, before: tuple[str, ...]) -> str:
    """``word`` (literal), not right after one of the words ``before``: "courtesy" but not "on
    courtesy" (copies as a rule's subject, not copies made)."""
    return word + "".join(f"(?<!{b}.{word})" for b in before)


#: After "issue": the noun, not the act of issuing ("issues list", "issue of", "issues raised")
_NOT_ISSUING = ("(?! (?:list|lists|spotting|of|re|regarding|and|on|in|with|for|raised|"
                "identified|analysis)\\b)")


_SEPARATORS = "\\x02;,:./\\n"
#: Clipped words whose '.' ends no clause and starts no task ("Sched. t/c w/ OC", "Tel. att.
#: client", "Office conf. w/ SLP").
_CLIPPED = ("sched", "tel", "att", "attn", "conf", "cal", "hrg", "mtg", "corresp", "misc")
#: Separators that start no clause: the colon of "re:" ("Advise client re: filing obligations"
#: is about filing) and the '.' of a clipped word (what is scheduled is no clause of its own:
#: "Sched. t/c w/ OC"; nor is the call of "Conf. call w/ expert"); look-behinds tested only
#: where a separator stands before the space.
_STARTS_NO_CLAUSE = r"(?<!re: )" + "".join(f"(?<!{w}\\. )" for w in _CLIPPED)


#: The 'and', 'then' or 'also' that may open a clause.
_THEN = r"(?:(?:and|then|also)[^\w\x02]+)?"
CLAUSE_START = _after(_SEPARATORS) + _STARTS_NO_CLAUSE + _THEN
#: Where a clerical verb starts a clause: as :data:`CLAUSE_START`, but only the 're:' of a
#: subject is told apart (a clipped word before a '.' heads no clerical verb).
CLERICAL_CLAUSE_START = _after(_SEPARATORS) + "(?<!re: )" + _THEN
#: After the space before an 'and' that joins a second activity.
AND = r"and[^\w\x02]+"
#: Where a clause ends: a separator or the end of the text. A '.' ends one only at the end or
#: before a verb: after an abbreviation ('Dr. Reyes', 'T/c w/ cl. re', 'R. Lee') it ends nothing.
CLAUSE_END = (r"[^\w;:,.\n(\x02]*(?:(?=\x02)|\Z|[;,\n]|\.(?=[^\w\x02]*(?:\x02|\Z))|"
              # (before a verb, not after a clipped word: "Conf. call w/ expert" is one clause)
              + "".join(f"(?<!\\b{w})" for w in _CLIPPED) + r"\.(?=[^\w\x02]*(?:"
              + "review|draft|call|email|prepare|research|revise|attend|meet|confer|discuss"
              + r")\b))")
#: Words that introduce a clause's subject or purpose: after them a clause says what it is about.
_SUBJECT_MARKERS = ("re", "regarding", "about", "concerning", "on", "for", "to", "in", "as", "per",
                    "following", "after", "before", "ahead", "at", "of", "that", "whether",
                    "with", "w", "by", "from", "including", "incl", "enclosing", "attaching",
                    "transmitting", "forwarding")


def _party(most: int) -> str:
    """Up to ``most`` words naming who was on the other end, stopping at a subject marker."""
    return (rf"(?:(?:\([^)\x02]*\)|(?!(?:{'|'.join(_SUBJECT_MARKERS)})\b)[a-z0-9]+(?![a-z0-9]))"
            rf"[^\w;:,\n(\x02]*)"
            rf"{{1,{most}}}?")


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
    "engaged on file", "engaged on matter", "perusal of papers", "perusing papers",
    "case administration", "file administration", "matter administration",
    "analysis of issues", "attend to matters", "attention to matters",
    "(?:misc|miscellaneous|various|general|sundry|other) [a-z]+ (?:matters|issues|tasks|items)",
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
_WHOLE_VAGUE = (r"^[\W_]*(?:" + _tree([*VAGUE_PHRASES, _GENERIC]) + ")" + _gapped(_VAGUE_TAIL)
                + r"[\W_]*$")
#: Matches a whole lower-cased narrative that is only a vague phrase (punctuation aside).
VAGUE = re.compile(_WHOLE_VAGUE)

#: Calls, meetings and messages: a clause headed by one needs a subject.
COMMUNICATIONS = (
    "call", "calls", "t c", "tc", "t cs", "telephone call", "telephone calls",
    "telephone conference", "phone call", "conference call", "video call", "zoom call",
    "office conf", "office meeting", "office mtg",
    "zoom", "teams call", "conference", "conferences", "conf", "office conference", "meeting",
    "meetings", "meet(?! and confer)", "met", "confer", "conferred", "conferring", "discussion",
    "discussions", "discuss", "discussed", "discussing", "email", "emails", "e mail", "e mails",
    "emailed", "exchange emails", "exchange of emails", "correspondence", "correspond",
    "corresponded", "letter", "letters", "catch up", "touch base", "touched base", "follow up",
    "followed up", "check in", "speak", "spoke", "talk", "talked", "liaise",
    "liaising", "chat", "sync", "huddle", "mtg", "mtgs", "strategy session",
    "stand up", "standup", "stand ups", "standups", "ltr", "ltrs",
    # "Telephone with the client", "tel w/ OC" (the noun for a call, as some write it)
    "telephone(?= (?:with|w|to)\\b)", "tel(?= (?:with|w|to)\\b)",
    # "Attendance on client", "Attendances re matter" (English usage: a meeting or call)
    "attendances?(?= (?:on|upon|re)\\b)",
)
#: Words that may stand before a communication without giving it a subject.
_COMM_ADJECTIVES = ("quick", "brief", "short", "weekly", "daily", "various", "several",
                    "multiple", "further", "additional", "internal", "team", "telephone",
                    "phone", "ph", "tel", "zoom", "video", "follow up", "numerous", "routine",
                    "lengthy", "long", "initial", "another", "misc", "miscellaneous", "client", "strategy",
                    "status", "update", "progress", "case team",
                    # a time of day ("4 pm tax team check-in", "9:30 call with client")
                    "\\d{1,2}(?: \\d{2})? ?(?:am|pm)", "\\d{1,2} \\d{2}",
                    # the case's own call or meeting (a court's "case conference" is an event)
                    "case(?= (?:call|calls|meeting|meetings|mtg|catch up|check in|huddle|sync)\\b)",
                    # whose call or meeting it is, by practice or group ("Weekly restructuring
                    # team call", "Litigation team meeting", "Patent committee meeting")
                    *(f"{practice} (?:team|group|committee|department|dept)"
                      for practice in ("legal", "litigation", "lit", "trial", "deal", "corporate",
                                       "tax", "restructuring", "regulatory", "compliance",
                                       "employment", "ip", "patent", "trademark", "real estate",
                                       "finance", "banking", "internal", "insolvency",
                                       "liquidation", "arbitration", "disputes", "construction",
                                       "shipping", "immigration", "family", "probate",
                                       "conveyancing", "property", "commercial", "projects")),
                    "practice group", "working group", "email", "e mail",
                    # attending one: "Attended client meeting", "Attend weekly call" (a
                    # status conference attended is the court's: it names the event)
                    *(f"{verb}(?! (?:the |a )?status conf)"
                      for verb in ("attend", "attended", "attending", "attendance at")))
#: Subjects that say nothing ("re status", "re matter", "on next steps").
GENERIC_SUBJECTS = (
    "status", "case status", "matter status", "current status", "status update", "update",
    "updates", "matter", "the matter", "this matter", "case", "the case", "file", "the file",
    "various issues", "various matters", "various", "issues", "open issues", "outstanding issues",
    "next steps", "deal", "the deal", "closing", "structure", "developments", "progress",
    "questions", "transaction", "the transaction", "same matter", "case developments",
    "general matters", "things", "items", "stuff", "approach", "the approach", "way forward",
    # the whole matter by its kind ("Calls re arbitration", "Email client re the proceedings")
    "arbitration", "the arbitration", "litigation", "the litigation", "proceedings",
    "the proceedings", "dispute", "the dispute", "strategy", "case strategy",
    "(?:deal|file|project|transaction|closing|litigation|overall|general) status",
    "(?:follow up|f u|open|outstanding|action) items",
    # the whole matter by its name ("Spoke with associate about the Ortiz file")
    "the [a-z]+ (?:file|matter)",
)
_GENERIC_SUBJECT = ("(?:" + _tree(GENERIC_SUBJECTS) + ")"
                    + _gapped("(?: of (?:the )?(?:matter|case|file|deal|transaction))?"))
#: A communication with no subject: "Emails with client", "T/c w/ OC", "Internal call re
#: closing", "attending client" (English usage for a meeting).
_COMM = ("(?:(?:" + _tree(_COMM_ADJECTIVES) + f"){_GAP})*(?:" + _tree(COMMUNICATIONS) + ")"
         + f"(?:{_GAP}(?:and|&){_GAP}(?:" + _tree(COMMUNICATIONS) + "))?")
_PARTY_WORD = "(?:with|w|to|from|between|to and from|to from)"
#: After a call's party, a ',' before more of the party and then the subject ends no clause
#: ("Call w/ client, accountants re: working capital target").
_MORE_OF_THE_PARTY = (r"(?!,[^\w\x02]*(?:and[^\w\x02]+)?(?!(?:e[^\w\x02]*mails?|calls?|t[^\w\x02]*c|"
                      r"letters?|meetings?|correspondence|conf|conference|review|draft|revise|"
                      r"research|prepare|attend|attention|work)\b)[a-z]+(?:[^\w;:,.\n\x02]+[a-z]+){0,3}"
                      r"[^\w;:,.\n\x02]+(?:re|regarding)\b)")
#: ... or with a colleague named by the group or department they are in, and no subject:
#: "Call with colleague in transfer pricing", "Telephone with the colleague of the trade mark
#: department" ("in" and "of" there say who, not what).
_IN_GROUP = (rf"{_GAP}{_PARTY_WORD}{_GAP}"
             + _gapped("(?:the |a |our |my )?(?:[a-z]+ )?(?:colleague|colleagues|associate|"
                       "associates|partner|partners|fee earner|lawyer|lawyers|attorney) "
                       "(?:in|of|from|at) (?:the |our )?")
             + _party(4) + CLAUSE_END)
_SUBJECTLESS_COMM = (
    _COMM + "(?:" + _IN_GROUP + "|"
    + _gapped("(?: (?:the )?(?:case|matter|file|things|issues))?")
    + rf"(?:{_GAP}(?:{_PARTY_WORD}{_GAP})?{_party(5)})?"
    + rf"(?:{_GAP}(?:re|regarding|about|on|concerning){_GAP}{_GENERIC_SUBJECT})?"
    + r"[^\w;:,.\n(\x02]*+" + _MORE_OF_THE_PARTY + CLAUSE_END + ")")
_ATTENDING = (_gapped("(?:(?:telephone|tel|phone) )?(?:attend(?:ing|ance on|ance upon|ed)|att) (?:on |upon )?(?:the )?"
                      "(?:client|clients|counsel|other side|supervisor|partner|colleague|colleagues|"
                      "associate|trainee|fee earner|opponent|opponents)")
              + _gapped("(?: telephonically| by (?:tele)?phone| by zoom| by video| by teams)?")
              + rf"(?:{_GAP}(?:re|regarding|about|on|concerning){_GAP}{_GENERIC_SUBJECT})?"
              + CLAUSE_END)
#: "Left vm for client", "Leave message w/ OC re status": word left, of nothing.
_LEFT_MESSAGE = (_gapped("(?:(?:left|leave|leaving) (?:a |an )?(?:detailed |brief )?(?:vm|vms|voicemail|"
                         "voicemails|voice mail|voice message|message|messages|msg)|lvm|lvms)")
                 + rf"(?:{_GAP}(?:for|with|w|to){_GAP}{_party(5)})?"
                 + rf"(?:{_GAP}(?:re|regarding|about|on|concerning){_GAP}{_GENERIC_SUBJECT})?"
                 + CLAUSE_END)
#: "Draft letter to opposing counsel", "Review email from client": a message with no subject.
_SUBJECTLESS_MESSAGE = (
    _gapped("(?:draft|drafted|drafting|prepare|prepared|preparing|send|sent|sending|review|reviewed|"
            "reviewing|read|reading)(?: and (?:send|revise|review|respond to))? (?:an? |the )?"
            "(?:letter|letters|email|emails|e mail|e mails|correspondence|note|message|messages)")
    + rf"{_GAP}{_PARTY_WORD}{_GAP}{_party(5)}" + CLAUSE_END
    # "Read client's email and respond", "Review OC's letter": whose message, and no subject
    + "|" + _gapped("(?:read|reading|review|reviewed|reviewing) (?:the )?(?:[a-z]+ ){0,2}?[a-z]+ s "
                    "(?:letter|letters|email|emails|e mail|e mails|correspondence|message|"
                    "messages|voicemail|vm)(?: and (?:respond|responded|reply|replied))?")
    + CLAUSE_END
    # "Answer to the email of client", "Reply to the letter of OC": the same, as some write it
    + "|" + _gapped("(?:answer|answered|answering|reply|replied|replying|response|respond|"
                    "responded|responding) (?:to )?(?:the )?(?:letter|letters|email|emails|e mail|"
                    "e mails|message|messages|correspondence) (?:of|from) (?:the )?")
    + _party(3) + CLAUSE_END
    # "Status report to adjuster", "Prepare status update for client": a status is no subject
    + "|" + _gapped("(?:(?:draft|drafted|drafting|prepare|prepared|preparing|send|sent|sending) )?"
                    "(?:a |the )?(?:weekly |monthly |quarterly |interim |brief )?status "
                    "(?:report|reports|update|updates|letter|email|memo) (?:to|for) (?:the )?")
    + _party(3) + CLAUSE_END)
#: "Prepare for hearing", "prep for depo": preparation for an event not named.
_PREPARE_FOR = (_gapped("(?:prep|prepare|prepared|preparing|preparation) for (?:the )?(?:trial|"
                        "deposition|depo|hearing|hrg|meeting|mtg|call|mediation|conference|arbitration|"
                        "tomorrow|today|same|next week)")
                + CLAUSE_END)
#: "Work on discovery", "attention to lease", "engaged on completion matters": no activity.
_WORK_ON = (_gapped("(?:(?:continue|continued|further|additional) )?"
                    "(?:work|worked|working|attention|attn|attend|attended|attending|engaged|engage) "
                    "(?:on|to|in|re|regarding) ")
            + r"(?:[a-z0-9]+[^\w;:,.\n\x02]+){0,2}[a-z0-9]+"
            + rf"(?:{_GAP}(?:re|regarding){_GAP}{_GENERIC_SUBJECT})?" + CLAUSE_END)
#: Objects that do not say which: "review documents", "review tax issues", "considering
#: documents", "review status of matter".
GENERIC_THINGS = ("documents", "docs", "document", "file", "files", "materials", "papers",
                  "correspondence", "emails", "e mails", "letters", "pleadings", "claims",
                  "status", "drafts", "policies", "regs", "regulations", "matters", "items",
                  "information", "notes", "paperwork", "issues", "case law", "caselaw", "law",
                  "authorities", "cases", "next steps", "options", "strategy", "case", "matter",
                  "position", "case file", "matter file", "client file", "filings", "issue",
                  "docket entries", "prior art", "stuff")
#: Papers a matter has many of (rule 9): a narrative that is only reading or drafting one of
#: them does not say which ("Review order", "Perusal of lease", "Drafting of the contract",
#: "Reviewing transcripts"); inside a longer entry the other clauses say which.
MANY_OF_A_KIND = ("order", "orders", "lease", "leases", "contract", "contracts", "patent",
                  "patents", "memo", "memos", "transcript", "transcripts", "bundle", "bundles",
                  "report", "reports", "agreement", "agreements", "statement", "statements",
                  "deed", "deeds", "letter", "notice", "notices", "policy", "application",
                  "applications", "decision", "decisions", "ruling", "rulings")
_READ_VERBS = ("review", "reviewed", "reviewing", "revise", "revised", "draft", "drafted",
               "prepare", "prepared", "analyze", "analyse", "analyzed", "analysed", "analysis of",
               "consider", "considered", "considering", "peruse", "perused", "perusing",
               "perusal of", "read", "reading", "handle", "handled", "handling", "research",
               "researched", "researching", "respond to", "responded to", "responding to",
               "reply to", "answer", "deal with", "dealing with", "dealt with", "look into",
               "looked into", "looking into", "think through", "thought through",
               "thinking through", "study of", "study", "studied", "studying", "rvw", "rvwd",
    "drafting of", "preparation of", "review of", "revision of")
_READ_HEAD = ("(?:" + _tree(_READ_VERBS) + ")"
              + _gapped("(?: and (?:analy[sz]e|analysis of|revise|review|consider|comment on|"
                        "respond to|organi[sz]e|summari[sz]e))?"
                        "(?: of)?"
                        "(?: the| all| various| incoming| recent| new| relevant| additional"
                        "| further| misc| miscellaneous| latest| revised| court| ct| docket"
                        "| tribunal)?"))
_GENERIC_READ = (
    _READ_HEAD + rf"(?:{_GAP}[a-z]+(?={_GAP}issues\b))?{_GAP}(?:" + _tree(GENERIC_THINGS) + ")"
    + _gapped("(?: (?:filed|received|raised|arising|identified|in (?:the )?data room|on file"
              "|on (?:the )?docket|re (?:the )?(?:matter|case|file)|of (?:the )?(?:matter|case|file)"
              "|and strategi[sz]e))?") + CLAUSE_END)
_ONE_OF_MANY = (_READ_HEAD + _GAP + "(?:" + _tree(MANY_OF_A_KIND) + r")\b"
                # ... however it came in ("Review decision rec'd")
                + _gapped("(?: (?:rec d|recd|received|filed|served|issued))?"))
#: A whole narrative that reads papers of a kind, one word saying which kind or from whom, and
#: no more: "Review title materials", "Review docs from title co." (inside a longer entry the
#: clauses around say which: "Closing day: review final documents, ...").
_KIND_OF_PAPERS = ("(?:" + _READ_HEAD + rf"{_GAP}[a-z]+{_GAP}(?:materials|documents|docs|papers|"
                   rf"correspondence)\b|{_READ_HEAD}{_GAP}(?:materials|documents|docs|papers)"
                   rf"{_GAP}from{_GAP}(?:the )?{_party(3)})")
#: A clause of a narrative that does not say what was done (searched in :func:`clausal` text).
#: Before trying the patterns at a clause start: the clause is short (its end is near). A
#: clause that says nothing is a few words; most clauses are longer, and this test, a fast scan
#: of characters, spares them the patterns.
_SHORT_CLAUSE = r"(?=[^;,:.\n\x02]{0,64}+(?:[;,:.\n\x02]|\Z))"
#: Words that say what kind of work was done, or to what kind of thing, but never which: a
#: narrative made of these alone ("Review and comment", "Edits to draft per comments", "Research
#: re motion", "Follow up on outstanding items", "Oversight of matter") does not say what was
#: done, however they are combined. One word outside them names something ("Review complaint",
#: "Revise SPA", "Call with client re escrow") and the narrative is judged by the other tests.
#: "Strategy" is judged elsewhere (a bare "re strategy" is a generic subject, see
#: :data:`GENERIC_SUBJECTS`; "strategy for the motion" names one), "same" refers to the entry
#: before and "brief" and "docket" are often the one.
GENERIC_WORDS = (
    # the work
    "review", "reviewed", "reviewing", "revise", "revised", "revising", "revision", "revisions",
    "edit", "edits", "edited", "editing", "draft", "drafts", "drafted", "drafting", "redraft",
    "prepare", "prepared", "preparing", "preparation", "prep", "analyze", "analyse", "analyzed",
    "analysed", "analyzing", "analysing", "analysis", "research", "researched", "researching",
    "work", "worked", "working", "attention", "attend to", "attended to", "attending to",
    "follow", "followed", "up", "followup", "comment", "comments", "commented", "markup",
    "mark", "marked", "consider", "considered", "considering", "consideration", "peruse",
    "perused", "perusing", "perusal", "handle", "handled", "handling", "deal", "dealing",
    "study", "studied", "studying", "admin",
    "dealt", "strategize", "strategise", "strategized", "strategised", "maintenance",
    # strategy as a second kind of work ("Analysis and strategy"), not a subject ("re
    # strategy", "regarding motion strategy")
    "strategy(?<=and.strategy)",
    "strategizing", "strategising", "oversight", "oversee", "overseeing", "supervise",
    "supervised", "supervision", "manage", "managed", "managing", "management",
    "administration", "continue", "continued", "continuing", "further", "additional",
    "various", "misc", "miscellaneous", "general", "sundry", "other", "update", "updates",
    "updated", "status", "check", "checked", "monitor", "monitored", "monitoring", "assess",
    "assessed", "assessment", "evaluate", "evaluated", "evaluation", "finalize", "finalise",
    "finalized", "finalised", "finalizing", "finalising", "respond", "responded", "advice",
    "advise", "advised", "advising", "investigation", "negotiation", "negotiations",
    "negotiate", "negotiated", "services", "rendered", "professional", "legal", "engaged",
    # calls, meetings and messages
    "correspondence", "correspond", "email", "emails", "emailed", "e mail", "e mails", "letter",
    "letters", "call", "calls", "called", "conference", "conferences", "conf", "confer",
    "conferred", "meeting", "meetings", "meet", "met", "discussion", "discussions", "discuss",
    "discussed", "telephone", "phone", "tel", "con", "t", "c", "tc", "w", "client", "clients",
    "team", "counsel", "oc", "opposing", "side", "associate", "partner", "paralegal",
    # things that do not say which
    "issues", "issue", "matters", "matter", "case", "cases", "file", "files", "documents",
    "document", "docs", "doc", "materials", "papers", "items", "item", "tasks", "task", "things",
    "claims",
    "notes", "filings", "pleadings", "points", "questions", "outstanding", "pending",
    "recent", "new", "incoming", "received", "relevant", "next", "steps", "options", "position",
    "developments", "progress", "information", "transaction", "closing", "discovery",
    "diligence", "due", "ancillary", "ancillaries", "court", "motion", "motions", "memo",
    "memos", "memorandum", "law", "authorities", "trial", "hearing",
    "hearings", "deposition", "depositions", "depo", "depos", "mediation", "order", "orders",
    "production", "records", "redline", "office", "action",
    # the words between
    "and", "the", "a", "an", "of", "on", "re", "regarding", "to", "for", "with", "in", "from",
    "about", "per", "as", "needed", "all", "my", "our", "its", "s", "etc",
    # "open" only of things left open ("Open new matter" is clerical work, and says so)
    "open (?:issues?|items?|points?|questions?)",
)
#: A field's name with a generic word after it says as little: "Tax issues", "Lease issues",
#: "Patent research", "Trademark matters", "Employment issues".
_FIELD_WORDS = ("tax", "lease", "employment", "hr", "patent", "trademark", "regulatory",
                "compliance", "corporate", "litigation", "ip", "contract", "property",
                "insurance", "coverage", "benefits", "privacy", "environmental", "case", "deal",
                "bankruptcy", "insolvency", "restructuring", "title")
_FIELD_GENERIC = ("(?:" + _tree(_FIELD_WORDS) + ")" + _GAP + "(?:" + _tree((
    "issues", "matters", "research", "work", "questions", "points", "items", "review",
    "analysis", "advice", "strategy")) + r")\b")
_ALL_GENERIC = (r"[^\w\x02]*(?:(?:" + _FIELD_GENERIC + "|(?:" + _tree(GENERIC_WORDS) + r")\b)"
                r"[^\w\x02]*)+")
#: :data:`VAGUE` over a :class:`Corpus`: a narrative that is only a vague phrase, or only
#: :data:`GENERIC_WORDS`.
#: A communication about "same" with nothing before it ("T/c re: same", "Emails with team re
#: same"): the whole narrative, so same is nothing.
_SAME_ALONE = (_COMM + rf"(?:{_GAP}(?:{_PARTY_WORD}{_GAP})?{_party(5)})?"
               + rf"{_GAP}(?:re|regarding|about|on|concerning){_GAP}(?:the{_GAP})?same")
#: A title that time-capture software took from a calendar, an e-mail or a file, and nothing
#: added: a word after it ("Email: RE: FW: RE: Falcon", "Document: Falcon_APA_v9.docx"), no
#: subject at all ("Email: RE: (no subject)") or a greeting ("Email: RE: quick q").
_CAPTURED_TITLE = (
    r"[^\w\x02]*(?:e ?mails?|e-mails?|meeting|mtg|call|teams (?:call|meeting)|zoom(?: call)?|"
    r"calendar|document|doc)[^\w\x02]*:(?:[^\w\x02]*(?:re|fw|fwd)[^\w\x02]*:)*[^\w\x02]*"
    r"(?:[\w.-]+|\(?no subject\)?|(?:quick|q|question|questions|follow up|follow-up|update|hi|"
    r"hello|checking in|catch up|catch-up|thanks|fyi|status|chat)(?:[^\w\x02]+(?:q|question|"
    r"questions|up|in|call|chat|update))?)")
#: Research or a follow-up on a topic of a word or two, and no question or party: "Research re
#: non-compete", "Legal research re: contract issue", "Follow up re payoff letter" (what was
#: asked, or of whom, is not said).
_RESEARCH_ON_A_TOPIC = _gapped("(?:(?:(?:legal|further|additional|follow up|continued) )?research"
                               "(?:ed|ing)?|(?:further )?follow(?:ed|ing)? ?up|f u) "
                               "(?:re|regarding|on|into|about|concerning) (?:the )?"
                               "[a-z0-9]+(?: [a-z0-9]+)?")
VAGUE_WHOLE = re.compile("\x02(?=[^\x02]{0,64}+(?:\x02|\\Z))(?:" + _WHOLE_VAGUE[1:-1] + "|"
                         + _ALL_GENERIC + "|[^\\w\x02]*" + _KIND_OF_PAPERS
                         + "[^\\w\x02]*|[^\\w\x02]*" + _SAME_ALONE
                         + "[^\\w\x02]*|" + _CAPTURED_TITLE
                         + "[^\\w\x02]*|[^\\w\x02]*" + _RESEARCH_ON_A_TOPIC
                         + "[^\\w\x02]*|[^\\w\x02]*" + _ONE_OF_MANY
                         + "[^\\w\x02]*)(?=\x02|\\Z)")
#: After 'and', the first word of a communication or of "work on" (a quick test before the rest).
_AND_HEAD = ("(?=(?:" + _tree([*COMMUNICATIONS, *_COMM_ADJECTIVES, "work", "worked", "working",
                               "attention", "attend", "attended", "engaged", "engage", "continue",
                               "continued", "further", "additional"]) + r")\b)")
#: At a clause start, the first word of one of :data:`VAGUE_PART`'s clauses (a quick test before
#: the clause's length is measured).
#: (the clipped words that start no clause are tested after it: this is a quick test only)
_CLAUSE_HEAD = ("(?=" + _THEN + "(?:" + _tree([
    *COMMUNICATIONS, *_COMM_ADJECTIVES, *_READ_VERBS, "work", "worked", "working", "attention",
    "attn", "att(?![a-z])", "tel(?![a-z])", "attend", "engaged", "engage", "continue", "continued", "further", "additional", "draft",
    "prepar", "prep", "send", "sent", "sending", "review", "read", "left", "leav", "lvm"]) + "))")
#: After 'and': a verb that discusses what the clause before names ("... and discuss with
#: partner", "... and confer w/ client"), so the communication is about that.
_NOT_ABOUT_THE_LAST = ("(?!(?:" + _tree(("discuss", "discussed", "discussing", "confer", "conferred",
                                         "conferring", "consult", "consulted", "consulting",
                                         "go over", "went over", "going over")) + r")\b)")
VAGUE_PART = re.compile(
    " (?:" + _after(_SEPARATORS) + _CLAUSE_HEAD + _SHORT_CLAUSE
    + CLAUSE_START[len(_after(_SEPARATORS)):] + "(?:" + "|".join(
        [_SUBJECTLESS_COMM, _SUBJECTLESS_MESSAGE, _ATTENDING, _LEFT_MESSAGE, _WORK_ON,
         _PREPARE_FOR, _GENERIC_READ]) + ")"
    + "|" + AND + "(?<!meet.and.)" + _AND_HEAD + _SHORT_CLAUSE + _NOT_ABOUT_THE_LAST + "(?:" + "|".join(
        [_COMM + rf"(?:{_GAP}(?:with|w|to))?{_GAP}{_party(4)}" + CLAUSE_END, _WORK_ON]) + "))")

# ------------------------------------------------------------------------------ admin
def _governed(objects, verbs, between=("",)) -> list[str]:
    """Patterns for ``objects`` (literal words) governed by one of ``verbs``, with one of
    ``between`` (literal, '' or ending in a space) in between: "prepare trial bundles".

    Each pattern starts with the object, a rarer word than the verb, and looks back for the
    verb only where the object stands (a look-behind per verb and filler), so that the common
    verbs ("prepare", "review") cost nothing where they govern something else. The look-behinds
    read single spaces between the words."""
    def literal(text: str) -> str:  # a space in a look-behind must stay one space
        return re.escape(text).replace("\\ ", "\\x20")

    # the object's word end first: a cheap test that spares the look-behinds inside a longer
    # word ("bundles" for "bundle"); both are tests of the same place, so the matches are the same
    return [re.escape(o).replace("\\ ", " ") + "\\b(?:" + "|".join(
        f"(?<={literal(f'{v} {b}{o}')})" for v in verbs for b in between) + ")"
        for o in objects]


_BUNDLE_VERBS = ("prepare", "prepared", "preparing", "assemble", "assembled", "assembling",
                 "compile", "compiled", "compiling", "paginate", "paginated", "paginating",
                 "update", "updated", "updating", "finalize", "finalized", "finalise",
                 "finalised", "copy", "copied", "copying", "organize", "organized", "organise",
                 "organised", "tab", "index", "indexed")
_BUNDLES = ("trial ", "hearing ", "court ", "agreed ", "core ", "supplemental ", "the trial ",
            "the hearing ", "the court ", "authorities ", "tender ", "the tender ")
_BINDERS = ("trial ", "hearing ", "exhibit ", "closing ", "witness ", "deposition ", "court ",
            "the trial ", "the hearing ", "the closing ", "exhibit and ")
_TIME_ENTRY_VERBS = ("review", "reviewed", "reviewing", "revise", "revised", "revising", "edit",
                     "edited", "editing", "correct", "corrected", "correcting", "enter", "entered",
                     "entering", "finalize", "finalized", "finalise", "finalised")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
#: Clerical work that clients expect in the overhead, not on the bill, wherever it stands in a
#: narrative. Each is a regex that starts with a letter; a space stands for any blanks and
#: punctuation. The subject decides: the firm's own bill, not "invoices" produced in
#: discovery; binders put together, not an insurance binder.
#: Verbs of sending papers out, whoever they go to (what they govern says whether it is clerical)
_SENDING = ("sent", "send", "sending", "emailed", "e mailed", "mailed", "mailing", "served",
            "serve", "serving", "circulated", "circulate", "circulating", "distributed",
            "distribute", "distributing", "forwarded", "issued", "issuing")
ADMIN_PATTERNS = (
    # copying, printing, scanning
    # photocopying done, not photocopies as evidence ("admissibility of photocopies")
    "photocop(?<!of.photocop)[a-z]*", "make copies", "copy sets?",
    # courtesy copies made, not the subject of a rule ("standing order on courtesy copies")
    _not_after("courtesy", ("on", "re", "regarding", "about")) + " cop(?:y|ies)",
    "copying (?:of )?(?:documents|exhibits|files|pleadings|binders|papers)",
    "cop(?:y|ied) (?:and (?:organi[sz]e|collate|assemble) )?(?:documents|files|exhibits|pleadings)",
    "copy and (?:organi[sz]e|collate|assemble)",
    "scan(?:ning|ned)? (?:and (?:save|saved|file|filed|upload|uploaded) )?"
    "(?:documents|docs|files|papers|exhibits|correspondence)",
    "scan(?:ned|ning)? and (?:save|saved|file|filed|upload|uploaded)",
    "print(?:ed|ing)? (?:documents|emails|exhibits|materials)",
    "save(?:d)? (?:[a-z]+ ){0,3}to (?:the )?(?:dms|client folder|folder|file|network|system"
    "|shared drive|imanage)",
    "document (?:management )?system", "records (?:management )?system", "data entry",
    "input(?:ted|ting)? (?:[a-z]+ ){0,4}(?:into|in|on) (?:the )?(?:[a-z]+ )?(?:database|spreadsheet|"
    "system|tracker|calendar|docket)",
    "printer", "print shop", "copy cent(?:er|re)", "copy room", "reprographics",
    "notari[sz](?:e|ed|ing|ation)", "request(?:ed|ing)? (?:[a-z]+ ){0,2}(?:transcripts?|certified "
    "copies)",
    *_governed(("signature pages", "signature page", "sig pages", "sig page", "signature packets",
                "signature packet", "sig packets", "sig packet", "sig pkts", "sig pkt"), (
        "collect", "collected", "collecting", "compile", "compiled", "compiling", "assemble",
        "assembled", "assembling", "circulate", "circulated", "circulating", "chase", "chased",
        "chasing", "obtain", "obtained", "obtaining", "prepare", "prepared", "preparing",
        "release", "released", "releasing", "gather", "gathered"), ("", "the ", "all ", "executed ")),
    *_governed(("index",), ("prepare", "prepared", "preparing", "compile", "compiled", "create",
                            "created", "creating"), ("", "the ", "an ", "document ", "exhibit ",
                                                      "production ", "bundle ", "trial bundle ")),
    *(f"creat(?:e|ed|ing) (?:a |the )?(?:new )?{what}" for what in (
        "folders?", "binders?", "file", "subfolders?")),
    "enter(?:ed|ing)? (?:[a-z]+ ){0,4}(?:into|in|on) (?:the )?(?:[a-z]+ )?(?:database|spreadsheet|"
    "system|tracker|calendar|docket)",
    "conformed copies", "conform(?:ed|ing)? (?:the )?(?:signatures|copies)",
    "tab(?:bed|bing)? (?:and [a-z]+ )?(?:exhibits|binders?|documents)",
    "label(?:led|ed|ling|ing)? (?:the )?(?:[a-z]+ )?exhibits",
    *(f"{verb} (?:[a-z]+ ){{0,5}}(?:from|on|via|off) (?:the )?(?:pacer|ecf|court|docket|companies "
      "house|registry|storage|archives?|offsite storage)"
      for verb in ("retriev(?:e|ed|ing)", "pull(?:ed|ing)?")),
    # scheduling and calendaring
    *(SCHEDULING := (
        "schedul(?:e|ed|ing) (?:a |an |the )?(?:[a-z]+ )?(?:call|calls|meeting|meetings|"
        "conference call|deposition|depositions|depo|hearing|interview|session|time|zoom|"
        "mediation|appt|appointment)\\b",
        # invites sent, not calendar invites produced in discovery
        *_governed(("calendar invite", "calendar invites", "meeting invite", "meeting invites"),
                   ("send", "sent", "sending", "circulate", "circulated", "circulating", "issue",
                    "issued", "update", "updated", "prepare", "prepared"),
                   ("", "the ", "a ", "out ", "out the ")),
        "send (?:out )?(?:the )?(?:[a-z]+ )?(?:invites?|dial ins?)",
        "circulat(?:e|ed|ing) (?:the )?(?:[a-z]+ )?(?:invites?|dial ins?)",
        "arrang(?:e|ed|ing) (?:a |the )?(?:[a-z]+ )?(?:call|meeting|dial in|zoom|video conference|"
        "conference call|con|consultation|hearing date|hearing|conference)",
        "dial in (?:details|information|numbers?)",
        *(f"{verb}(?:ed|ing)? (?:[a-z]+ ){{0,3}}availability"
          for verb in ("confirm", "check", "obtain", "poll")),
        *(f"{verb}(?:e|ed|ing) (?:the )?(?:[a-z]+ )?logistics"
          for verb in ("coordinat", "arrang", "handl", "organi[sz]")),
        *_governed(("logistics",), ("re", "regarding"), ("", "the ")),
        # a call set up for a time of day ("Set up 9:30 call with ...")
        "set(?:ting)? up (?:a |the )?(?:\\d+ ){1,2}(?:am |pm )?(?:call|meeting|zoom|conference "
        "call|t c|tc)\\b")),
    # the mechanics of signing and funding: wires, signatures, access to a data room
    *_governed(("wire", "wires", "wire transfer", "wire transfers", "wire release", "signatures",
                "e signatures"),
               [f"{verb}{end}" for verb in ("coordinat", "arrang", "collect", "obtain", "chas",
                                            "gather")
                for end in (("e", "ed", "ing") if verb not in ("collect", "obtain") else
                            ("", "ed", "ing"))],
               ("", "the ", "all ", "closing ", "the closing ")),
    "virtual data room access", "data room access", "vdr access",
    *_governed(("data room", "vdr"), ("access to",), ("", "the ", "the virtual ", "virtual ")),
    # the channel something is sent by: the sending is the task ("Sending notices to creditors
    # by post"); and a document sent out for signature, when :data:`SENT_FOR_SIGNATURE` says
    # that a verb of sending governs these words (the rule checks)
    (FOR_SIGNATURE := "for (?:signature|signatures|e signature|execution)"),
    *_governed(("post", "mail", "courier"), ("by",),
               ("", "first class ", "recorded ", "registered ", "overnight ")),
    "via (?:courier|fedex|ups|docusign|messenger)",
    "calendar(?:ed|ing)", "diari[sz](?:e|ed|es|ing)",
    # docketing done, not the firm's docketing department talked to
    "docketing(?! (?:dept|department|team|clerk|staff)\\b)", "send (?:out )?(?:the )?fax",
    "confirm(?:ed|ing)? (?:the )?(?:[a-z]+ )?(?:room|court reporter|videographer|interpreter|"
    "translator|booking|reservation|catering)\\b",
    "arrang(?:e|ed|ing) (?:a |the |for )?(?:[a-z]+ )?(?:conference room|room|interpreter|translator|"
    "catering|refreshments|travel|court reporter|videographer|courier|messenger|delivery|"
    "(?:av )?equipment)",
    "coordinat(?:e|ed|ing) (?:a |the |for )?(?:[a-z]+ )?(?:conference room|room|interpreter|"
    "translator|catering|court reporter|videographer|courier|messenger|delivery)",
    "book(?:ed|ing)? (?:a |the )?(?:meeting room|conference room|room|travel|flights?|hotel|"
    "courier|court reporter|videographer|interpreter|train|car)",
    # a service scheduled is booked, whatever the code of the call it serves (rule 4)
    "schedul(?:e|ed|ing) (?:a |the )?(?:court reporter|videographer|interpreter|translator|"
    "conference room|meeting room|room|catering|courier|messenger|process server)",
    "reserv(?:e|ed|ing) (?:a |the )?(?:conference |meeting )?room",
    "travel arrangements", "courier delivery", "hand deliver(?:ed|ing|y)?", "process server",
    "arrang(?:e|ed|ing) (?:for )?service", "catering", "refreshments", "fedex",
    "federal express",
    # filing, serving, recording
    "electronic filing", "e filing", "efiling", "e recording",
    "fil(?:e|ed|ing) (?:documents|papers|correspondence|emails)",
    "fil(?:e|ed|ing) (?:a |the )?(?:notice of appearance|certificate of service|proof of service)",
    "regist(?:er|ered|ering) (?:the )?(?:[a-z]+ ){0,3}(?:at|with) (?:the )?(?:companies house|"
    "land registry|hm land registry|registry)",
    # a message that only encloses a document ("Letter to the court enclosing consent order")
    *(f"{verb} (?:the |a |an )?(?:[a-z]+ )?(?:order|documents?|copy|copies|papers|bundle|forms?|"
      "notice|application|cheque|check)" for verb in ("enclosing", "transmitting", "attaching")),
    "court clerk", "clerk s office", "listing office",
    # a barrister's clerk asked for dates ("Counsel's clerk re availability for the PTR")
    *(f"{whose} clerk (?:[a-z]+ ){{0,3}}?(?:availability|dates?|listing)"
      for whose in ("counsel s", "barrister s", "chambers")), "recorder s office", "re listing\\b",
    *(f"{verb} (?:[a-z]+ ){{0,6}}?for recording"
      for verb in by_initial(("send", "sent", "sending", "deliver", "delivered", "forward",
                              "forwarded"))),
    # files, binders, data rooms
    "organi[sz](?:e|ed|ing) (?:the )?(?:\\w+ )?"
    "(?:file|files|documents|binders?|folders?|records|exhibits)",
    *_governed(("signing set", "signing sets", "closing set", "closing sets", "execution set",
                "execution sets"), ("prepare", "prepared", "preparing"), ("", "the ")),
    *(f"{what} (?:binders?|notebooks?)" for what in ("trial", "hearing", "exhibit", "closing", "witness",
                                      "deposition", "court")),
    *_governed(("bundle", "bundles"), _BUNDLE_VERBS, ("", "the ", "a ", *_BUNDLES)),
    *_governed(("binder", "binders"), _BUNDLE_VERBS, ("", "the ", "a ", *_BINDERS)),
    "paginat(?:e|ed|ing)", "number(?:ed|ing)? (?:the )?pages",
    "assembl(?:e|ed|ing) (?:the )?(?:[a-z]+ ){0,2}(?:binders?|sets?|bundles?|exhibits|documents|"
    "copies|packages?)",
    "compil(?:e|ed|ing) (?:the )?(?:[a-z]+ ){0,2}(?:signature pages|sig pages|exhibits|binders?|"
    "sets?|paper books?)",
    "collat(?:e|ed|ing)",
    *(f"{verb}(?:e|ed|ing) (?:[a-z0-9]+ ){{0,5}}?into (?:a |the )?(?:[a-z]+ )?(?:sets?|binders?|"
      "bundles?|volumes?|packages?)" for verb in ("compil", "assembl")),
    "circulat(?:e|ed|ing) (?:the )?(?:execution (?:versions?|copies|counterparts)|signature pages|"
    "final (?:documents|versions)|executed (?:documents|copies|versions))",
    "set(?:ting)? up (?:the |a )?(?:[a-z]+ )?(?:data room|folders?|call|meeting|zoom|dial in|"
    "conference call|binders?|database|workspace|time)",
    *(f"{verb}(?:ed|ing)? (?:[a-z]+ ){{0,3}}(?:to|into|onto) (?:the )?(?:[a-z]+ )?(?:data room|review "
      "platform|platform|relativity|database|dms|system|portal|site)"
      # the loading done, not the subject of a meeting ("Meet w/ lit support re: loading ...")
      for verb in ("upload(?<!re\\x20upload)(?<!re:\\x20upload)", "load(?<!re\\x20load)(?<!re:\\x20load)")),
    "proofread(?:ing|ed)?", "index(?:ing)? (?:documents|files|exhibits|the file|(?:the )?data room)",
    "data room (?:idx|index)", "dataroom (?:idx|index)", "vdr (?:idx|index)",
    # copies made, fair copies engrossed, hours and post logged in a system
    "mak(?:e|ing) (?:[a-z]+ )?copies", "made (?:[a-z]+ )?copies",
    "engross(?:ed|ing|ment)?",
    *(f"{verb} (?:[a-z0-9]+ ){{0,3}}(?:in|into|on) (?:the |our )?(?:[a-z]+ ){{0,2}}(?:tracker|"
      "tracking system|system|database|spreadsheet|log)\\b"
      for verb in ("logg(?:ed|ing)", "log")),
    # sent by courier, taken to the recorder or the registry by hand
    *(f"{verb} (?:[a-z0-9]+ ){{0,4}}to (?:the )?(?:courier|messenger|recorder|recorder s office|"
      "registry|post office|clerk s office|translators?|printers?)\\b"
      for verb in ("sent", "send", "sending", "took", "take", "taking", "gave", "handed")),
    # the sheriff or a process server told to serve, a registry attended to lodge or issue
    "instruct(?:ed|ing)? (?:the )?(?:[a-z]+ ){0,2}(?:sheriff|process server|bailiff)\\b",
    *(f"{attend} (?:at |upon )?(?:the )?(?:[a-z]+ ){{0,3}}(?:registry|office|court|courts|"
      "courthouse|court house|registrar|counter) to "
      "(?:lodge|issue|file|record|register)\\b"
      for attend in ("attend(?:ed|ing)?", "attendance")),
    # filing and publishing in other words: "Filing and service of motion", "EDGAR-file Q3
    # 10-Q", "Advertising winding-up petition in Gazette", "Arrange publication of TEFRA
    # notice", "Coordinate mailing of notification letters", "Registration of standard security
    # in Land Register", "Wire HSR filing fee"; and a question on the firm's last invoice
    *(f"{_not_after(first, ('on', 're', 'of', 'about'))} and {then}\\b"
      "(?! (?:deadlines?|requirements?|rules?|dates?|obligations?|periods?)\\b)"
      for first, then in (("filing", "service"), ("service", "filing"))),
    "edgar (?:fil(?:e|ed|ing)|submission)\\b",
    "advertis(?:e|ed|ing) (?:the )?(?:[a-z0-9]+ ){0,4}in (?:the )?(?:[a-z]+ )?(?:gazette|"
    "newspapers?|press)\\b",
    *(f"{verb} (?:the )?(?:publication|mailing|printing|courier|delivery) of\\b"
      for verb in ("arrang(?:e|ed|ing)", "coordinat(?:e|ed|ing)")),
    _not_after("registration", ("on", "re", "about", "regarding", "for"))
    + " of (?:the )?(?:[a-z0-9]+ ){0,4}"
    "(?:in|at|with) (?:the )?(?:land register|land registry|registers of scotland|"
    "companies house|registry|register|deeds office)\\b",
    "wir(?:e|ed|ing) (?:the )?(?:[a-z]+ ){0,3}(?:filing |application |court |registration )fees?\\b",
    "entr(?:y|ies) on (?:the |our |its |their )?(?:last |latest |previous |prior |recent )?"
    "(?:invoice|bill)\\b",
    # copies obtained, notices and advertisements placed, caveats entered, charges registered
    "obtain(?:ed|ing)? (?:a |the )?(?:certified|sealed|office) cop(?:y|ies)\\b",
    "plac(?:e|ed|ing) (?:the )?(?:[a-z0-9]+ ){0,3}(?:ads|advertisements?|adverts)\\b",
    "plac(?:e|ed|ing) (?:the )?(?:[a-z0-9]+ ){0,4}notices? in (?:the )?(?:[a-z]+ )?gazette\\b",
    "enter(?:ed|ing)? (?:a |the )?caveat\\b",
    "registration of (?:the )?(?:[a-z]+ ){0,2}(?:mortgage|charge|deed|transfer|lien|caveat)\\b",
    # the paper sent to an office that registers it (rule 3)
    "send(?:ing)?(?: of)? (?:the )?(?:documents|papers|forms?) to (?:the )?(?:patent office|uspto|"
    "epo|ipo|trade mark office|trademark office|land registry|companies house|registry|court)",
    # the deadline list kept up to date is calendaring
    *(f"{verb} (?:of )?(?:the )?(?:list of (?:the )?(?:[a-z]+ )?deadlines|(?:[a-z]+ )?deadlines? "
      "list|deadline (?:calendar|chart|tracker))"
      for verb in ("updat(?:e|ed|ing)", "actuali[sz](?:e|ed|ing|ation)", "maintain(?:ed|ing)?")),
    "bates (?:stamp|label|number)[a-z]*",
    # (a claim chart is the analysis, not a record kept)
    "updat(?:e|ed|ing) (?:the )?(?:(?:[a-z]+ ){0,2}(?:calendar|docket|spreadsheet|"
    "chart(?<!claim.chart)(?<!infringement.chart)(?<!invalidity.chart)|database|"
    "index|minute book|file|files|binders?|folders?|statutory registers?|share register|"
    "contact details|contact information|contact info|ledger|"
    "register of (?:members|directors|charges|shareholders|secretaries))|billing records)",
    *(f"{what} lists?" for what in ("working group", "distribution", "service", "contact",
                                    "contacts", "mailing")),
    # chasing what was signed ("f/u w/ client re: signed docs"; rule 10)
    *(f"{verb}(?: (?:with|w) (?:the )?[a-z]+)?(?: (?:re|for|on))? (?:the )?(?:signed|executed) "
      "(?:docs|documents|copies|pages|counterparts)\\b"
      for verb in ("f u", "follow(?:ed|ing)? up", "chas(?:e|ed|ing)", "collect(?:ed|ing)?")),
    # the service list in other words: "Update list of garnishees served"
    "updat(?:e|ed|ing) (?:the )?list of (?:[a-z]+ ){1,3}served\\b",
    # the firm's own bill and matter opening
    "pre bill(?:s|ing)?", "prebill(?:s|ing)?", "proforma", "pro forma (?:bill|invoice)s?",
    "billing (?:question|questions|inquiry|inquiries|query|queries)",
    *(f"{asked} (?:about|on|re|regarding|concerning) (?:the |our |its |their |this month s |"
      "last month s )?(?:invoice|bill|fee note|pre bill)\\b"
      for asked in ("questions?", "quer(?:y|ies)", "inquir(?:y|ies)")),
    *_governed(("fee note", "fee notes"), ("re",), ("", "the ", "our ", "counsel s ")),
    "fee note quer(?:y|ies)", "invoice quer(?:y|ies)", "bill quer(?:y|ies)",
    # the firm's own bill, however named ("statement of costs for the firm's interim bill")
    "firm s (?:own |interim |final |monthly |next )?(?:bill|bills|invoice|invoices|fee note|"
    "fee notes|statement of costs)\\b",
    # papers served or circulated, not written: discovery responses emailed to the other side,
    # closing or executed documents sent round, notices sent to creditors (rules 3 and 10)
    *(f"{verb} (?:the |our |client s |all )?(?:supplemental |amended |first |second |written )?"
      "(?:discovery responses|"
      "responses and objections|objections and responses|initial disclosures|notices? of "
      "deposition|subpoenas?|production volume \\d+|document production) to (?:the )?(?:oc|"
      "opposing counsel|all counsel|counsel of record|other side|plaintiff s counsel|"
      "defendant s counsel)\\b"
      for verb in _SENDING),
    *(f"{verb} (?:the |all )?(?:closing|executed|signed|final|execution) (?:docs|documents|"
      "sets?|copies|versions|deliverables) to\\b"
      for verb in _SENDING),
    *(f"{verb} (?:the |all )?notices? (?:of [a-z]+(?: [a-z]+)? )?to (?:all |the )?(?:creditors|"
      "members|shareholders|employees|tenants|noteholders|bondholders)\\b"
      for verb in _SENDING),
    "explain(?:ed|ing)? (?:the |our |my )?(?:charges|bill|invoice|fees (?:to|for))\\b",
    "month s (?:invoice|bill)",
    "our (?:interim |final |monthly |next |latest |last |first |second )?(?:invoice|bill)s?",
    *(f"{asked} (?:about|on|re|regarding|concerning) our (?:fees|costs|charges)\\b"
      for asked in ("questions?", "quer(?:y|ies)", "inquir(?:y|ies)")),
    "firm s (?:invoice|bill)s?", *(f"{month} (?:invoice|bill)\\b" for month in _MONTHS),
    f"bill for (?:{'|'.join(_MONTHS)}|the month)",
    "monthly (?:invoice|bill|fee statement) to (?:the )?(?:client|committee)",
    "approv(?:e|ed|ing) (?:the )?(?:[a-z]+ )?(?:bill|invoice|prebill)s?\\b",
    "process(?:ed|ing)? (?:[a-z]+ )?invoices?",
    *_governed(("invoice", "invoices", "bill", "bills", "fee note", "fee notes"),
               ("prepare", "prepared", "preparing", "draft", "drafted", "drafting",
                "preparation of", "preparing of"),
               ("", "the ", "our ", "a ", "monthly ", "final ", "interim ", "the monthly ")),
    *_governed(("time entries", "time narratives"), _TIME_ENTRY_VERBS,
               ("", "the ", "my ", "our ", "billing ", "draft ")),
    "billing narratives",
    "write (?:downs?|offs?) (?:on|to|of|for|from) (?:the |our |this month s |monthly )?(?:[a-z]+ )?"
    "(?:bill|invoice|pre bill|prebill)s?\\b",
    "open(?:ed|ing)? (?:a )?(?:new )?(?:file|matter)\\b(?! (?:of|for) )", "new matter (?:intake|form)",
    # and closing it: "Close file", "file-closing letter"
    "clos(?:e|ed|ing) (?:out )?(?:the )?(?:client )?file\\b(?! (?:of|for|history|wrapper)\\b)",
    "file clos(?:ing|ure)",
    # searches asked of a registry or search company, not searches made: "drainage search
    # requests", "Conducting local authority search" (a prior art search is work)
    "search(?:es)? requests?",
    *(f"{verb} (?:the |a )?(?:local authority|drainage|water|land registry|index map|chancel|"
      "environmental|mining|ucc|lien|tax lien|judgment|bankruptcy|company|companies house|"
      "title) searche?s?\\b"
      for verb in ("conduct(?:ed|ing)?", "request(?:ed|ing)?", "submit(?:ted|ting)?",
                   "rais(?:e|ed|ing)", "obtain(?:ed|ing)?")),
    # the firm's engagement letter, not the expert's or the client's with its banker
    "engagement(?:(?<!'s.engagement)(?<!\u2019s.engagement)|(?<=firm's.engagement)"
    "|(?<=firm\u2019s.engagement)) letter(?! (?:of|with|from) (?!(?:the |our )?(?:client|clients|"
    "new client|us|firm)\\b)| for (?!(?:the |this |a |our )?(?:new )?(?:client|clients|us|firm|"
    "matter|matters|case|engagement)\\b|(?:(?!(?:on|in|of|for|re|to|with|by)\\b)[a-z]+ ){1,5}"
    "matter\\b))", "client care letter", "terms of business", "retainer letter",
    "letter of engagement", "run(?:ning)? (?:a |the )?(?:new )?conflicts?", "conflicts? (?:check|checks|search|searches|database|clearance|report|reports)",
    "check(?:ed|ing)? (?:for )?conflicts?\\b",
    "through conflicts",
    # errands and self-described
    "fax(?:ed|ing|es)?", "mail(?:ed|ing)? (?:out )?(?:documents|letters?|package|packages)",
    "download(?:ed|ing)? (?:documents|files)", "clerical",
    "burn(?:ed|t|ing)? (?:[a-z]+ ){0,3}(?:to|onto|on) (?:a |the )?(?:disc|disk|cd|dvd|usb|drive|"
    "hard drive|thumb drive)s?\\b",
    "administrative (?:tasks?|work|matters|items|support)",
    # not "case admin" (UTBMS B110, case administration, is work on the case: VAGUE says
    # what it lacks)
    *(f"{what} admin\\b" for what in ("deal", "file", "general", "office", "misc",
                                       "miscellaneous", "sundry")),
    # the firm's accounts department, about its bill
    *_governed(("accounting dept", "accounting department", "accounting team", "billing dept",
                "billing department", "billing team", "accounts department", "accounts team"),
               ("with", "w"), ("", "the ")),
    "admin (?:tasks?|work|time)",
)
#: Clerical verbs that are clerical when they govern a clause (start it): "File UCC-1 ...",
#: "Calendar deadlines", "serve same", "Record deed", "Schedule examiner interview" -- but not
#: "Schedule B exceptions", "calendar year", "file history", "record of decision".
ADMIN_VERBS = (
    # records asked of a provider, payoff letters obtained, a fee or duty paid
    "request(?:ed|ing)?(?= (?:copies of )?(?:the )?(?:[a-z]+ ){0,2}records from\\b)",
    "obtain(?:ed|ing)?(?= (?:the )?(?:[a-z]+ )?payoff letters?\\b)",
    "pa(?:y|id|ying)(?= (?:the )?(?:[a-z0-9']+ ){0,4}(?:fees?|duty|duties|surcharges?)\\b)",
    "schedul(?:e|ed|ing)(?! (?:of|to|[a-z]|\\d+)\\b)", "calendar(?:ed|ing|ize|ized)?(?! year)",
    *(RESCHEDULING := ("reschedul(?:e|ed|ing)\\b",
                       # the clipped forms, where what is scheduled follows: "Sched. t/c w/ OC",
                       # "Cal. hrg date"
                       "sched(?= (?:a |an |the )?(?:[a-z]+ ){0,2}(?:call|t c|tc|meeting|mtg|"
                       "depo|deposition|hearing|hrg|mediation|conference|conf|interview|zoom|"
                       "appt|appointment)\\b)")),
    "cal(?= (?:[a-z]+ ){0,2}(?:dates?|deadlines?)\\b)",
    "diari[sz](?:e|ed|ing)", "docket(?:ed|ing)?(?! (?:for|entries|entry|sheet|report|review|"
    "search|number|no)\\b)",
    "e fil(?:e|ed|ing)", "efil(?:e|ed|ing)",
    "fil(?:e|ed|ing)(?! (?:review|history|histories|wrapper|wrappers|notes?|memo|and|"
    "deadlines?|dates|date|requirement|requirements|rules|obligations|strategy|analysis|amounts?|claims?|by|in|on|"
    "against|under|to date)\\b| at\\b(?! (?:the )?(?:court|tribunal|registry|companies house|land "
    "registry|hm land registry|clerk)))",
    "submi(?:t|ts|tted|tting)", "lodg(?:e|ed|ing)",
    "record(?:ed|ing)?(?! (?:of(?! (?:the )?(?:deed|mortgage|lien|easement|assignment|memorandum|"
    "ucc|satisfaction|release)\\b)|review|s)\\b)",
    "serv(?:e|ed|ing)(?! as\\b)", "scan(?:ned|ning|s)?", "print(?:ed|ing|s)?",
    "photocop[a-z]*", "cop(?:y|ied|ying)(?! (?:of|right|edit)\\b)", "fax(?:ed|ing|es)?",
    "fedex(?:ed|ing)?", "courier(?:ed|ing)?", "messenger(?:ed)?", "mail(?:ed|ing)?(?! from)",
    "upload(?:ed|ing|s)?",
    "download(?:ed|ing|s)?", "bates", "assembl(?:e|ed|ing)", "collat(?:e|ed|ing)",
    "index(?:ed|ing)?(?! of)", "organi[sz](?:e|ed|ing)",
    "book(?:ed|ing)?(?! (?:of|value|and page)\\b)",
    "issu(?:e|ed|ing)" + _NOT_ISSUING,
    "order(?:ed|ing)? (?:[a-z]+ ){0,5}(?:searches|search|certified copies|copies|transcripts?|payoff letters?|"
    "good standing|title commitments?|title reports?|surveys?|survey updates?)\\b",
)


def _clerical_regex(verbs, patterns) -> re.Pattern:
    """``verbs`` at the start of a clause (or after an 'and') or ``patterns`` anywhere.

    As ``" (?:(?:CLERICAL_CLAUSE_START|AND (?:then )?)(?:verbs)|patterns)\\b"``, written as one branch per
    first letter (verbs first, as there), so the engine tests a word's first letter before the
    look-behind for a clause start instead of testing that look-behind at every space. The
    branches of different first letters exclude each other, so the matches are the same."""
    verb_tree, pattern_tree = _by_first_letter(verbs), _by_first_letter(patterns)
    gap = "[^\\w\\x02]+"
    # the clause start, its first letter read; not after 're:' (a clipped word before a '.'
    # heads no clerical verb: only the subject after 're:' need be told apart)
    clause = f"(?<=[{_SEPARATORS}\\-\u2013\u2014]\\x20{{0}})(?<!re:\\x20{{0}})"
    branches = []
    for letter in dict.fromkeys([*verb_tree, *pattern_tree, "a", "t"]):
        at_start, tails = [], []
        if letter == "a":  # 'and' or 'also' at a clause start, then a verb
            at_start.append(f"(?:nd|lso){gap}(?:{_tree(verbs)})")
        if letter == "t":
            at_start.append(f"hen{gap}(?:{_tree(verbs)})")
        if letter in verb_tree:
            at_start.append(verb_tree[letter])
        if at_start:
            tails.append(clause.format(letter) + "(?:" + "|".join(at_start) + ")")
        if letter == "a":  # 'and' anywhere, then a verb
            tails.append(f"nd{gap}(?:then{gap})?(?:{_tree(verbs)})")
        if letter in pattern_tree:
            tails.append(f"(?:{pattern_tree[letter]})")
        branches.append(letter + "(?:" + "|".join(tails) + ")")
    return re.compile(" (?:" + "|".join(branches) + r")\b")


def _by_first_letter(patterns) -> dict[str, str]:
    """:func:`_tree` of ``patterns`` split by their first letter, that letter taken off (the
    branch of one letter as :func:`prefix_tree` writes it)."""
    groups: dict[str, list[str]] = {}
    for p in patterns:
        groups.setdefault(p[0], []).append(_gapped(p))
    out = {}
    for letter, members in groups.items():
        tree = prefix_tree(members)
        if not letter.isalpha() or not tree.startswith(letter) or tree[1:2] in ("?", "*", "+", "{"):
            raise ValueError(f"pattern {tree!r} must start with a letter of its own")
        out[letter] = tree[1:]
    return out


ADMIN = _clerical_regex(ADMIN_VERBS, ADMIN_PATTERNS)
#: Sending a document out for signature ("Circulate JDA to co-defendants' counsel for
#: signature", "Send engagement letter to client for signature"), not finalizing or drafting it
#: for signature: looked for only in the narratives where ADMIN found the words.
_FOR_SIGNATURE = re.compile(" " + _gapped(FOR_SIGNATURE))
SENT_FOR_SIGNATURE = re.compile(
    "(?:" + CLAUSE_START + "|" + AND + ")(?:" + _tree(("send", "sent", "sending", "circulate",
                                                      "circulated", "circulating", "forward",
                                                      "forwarded", "forwarding"))
    + rf")\b(?:{_GAP}[a-z0-9]+){{0,6}}?{_GAP}for{_GAP}(?:signature|signatures|e{_GAP}signature|"
    r"execution)\b")
#: UTBMS activity codes of a communication with someone outside the firm (A106 the client, A107
#: other counsel, A108 other parties): a lawyer setting up the call is part of it, not clerical
#: work, so on these codes a lawyer's narrative is clerical only by something other than
#: :data:`SCHEDULING`; a paralegal's or clerk's (:data:`STAFF_CLASSES`) is clerical as it reads.
COMMUNICATION_ACTIVITIES = ("A106", "A107", "A108")
_SCHEDULING_VERBS = ("schedul(?:e|ed|ing)(?! (?:of|to|[a-z]|\\d+)\\b)", *RESCHEDULING)
ADMIN_UNLESS_COMMUNICATION = re.compile(
    " (?:(?:" + CLERICAL_CLAUSE_START + "|" + AND + r"(?:then[^\w\x02]+)?)(?:"
    + _tree([v for v in ADMIN_VERBS if v not in _SCHEDULING_VERBS]) + ")|"
    + _tree([p for p in ADMIN_PATTERNS if p not in SCHEDULING and p != FOR_SIGNATURE]) + r")\b")
#: UTBMS activity code for managing data and files: clerical unless the narrative shows legal
#: work (:data:`SUBSTANTIVE`).
ADMIN_ACTIVITY = "A110"
#: Narratives that start with legal work (drafting, analysis, research, advice, negotiation).
SUBSTANTIVE = re.compile(CLAUSE_START + "(?:" + _tree((
    "draft", "drafted", "drafting", "analy[sz](?:e|ed|ing|is)", "research(?:ed|ing)?",
    "advis(?:e|ed|ing)", "negotiat(?:e|ed|ing)", "revis(?:e|ed|ing)", "argu(?:e|ed|ing)",
    "interview(?:ed|ing)?", "summari[sz](?:e|ed|ing)", "cite check", "quality check",
    "prepare (?:privilege|chronology|summary|outline|memo)", "review(?:ed|ing)? (?:and )?"
    "(?:analy[sz]e )?(?:documents|production|produced) for (?:privilege|responsiveness)")) + r")\b")

# ------------------------------------------------------------------------------ internal
#: Who is in the firm, as a narrative names them.
_COLLEAGUES = (
    "associate", "associates", "partner", "partners", "paralegal", "paralegals", "team",
    "colleague", "colleagues", "case team", "litigation team", "deal team",
    "supervising partner", "senior associate", "junior associate", "trainee", "trainees",
    "law clerk", "summer associate", "summer associates", "of counsel", "billing partner",
    "responsible partner", "supervisor", "supervising solicitor", "supervising attorney",
    "responsible attorney", "second chair", "first chair", "practice group", "trainee solicitor",
    "fee earner", "fee earners", "patent agent", "patent agents", "assoc", "assocs",
    "senior assoc", "junior assoc", "litigation support", "lit support", "practice support",
    "accounting dept", "accounting department", "billing dept", "billing department",
    "accounts department", "docketing dept", "docketing department", "docketing team",
    # the timekeeper's own assistant ("my assistant", "my secretary", "my PA")
    "my assistant", "my secretary", "my pa", "my legal assistant",
    "junior solicitor", "junior lawyer", "junior associates", "sr assoc", "jr assoc",
)
#: Practice areas: a "tax department", an "IP group" or "benefits colleague" is the firm's.
_PRACTICES = ("tax", "ip", "corporate", "litigation", "employment", "labor", "labour",
              "real estate", "restructuring", "insolvency", "banking", "finance", "benefits",
              "antitrust", "competition", "regulatory", "privacy", "data protection",
              "environmental", "trusts", "estates", "securities", "capital markets", "funds",
              "pensions", "property", "construction", "commercial", "disputes", "trademark",
              "patent", "immigration", "white collar", "compliance", "investigations", "m a",
              "transactional", "appellate", "bankruptcy", "healthcare", "health care", "energy",
              "state and local tax", "salt", "transfer pricing", "trade mark", "private client",
              "insurance", "planning", "technology", "outsourcing", "projects", "vat",
              "public finance", "exec comp", "executive compensation", "project finance",
              "structured finance", "leveraged finance", "investment management",
              "government contracts", "life sciences", "sanctions", "cybersecurity")
#: Words before a colleague word that put the person outside the firm ("client's team",
#: "opposing counsel's associate", "foreign associate", "HR business partner").
_OUTSIDE = ("client", "clients", "opposing", "oc", "opc", "their", "his", "her", "its", "buyer",
            "buyers", "seller", "sellers", "target", "targets", "lender", "lenders", "borrower",
            "company", "committee", "debtor", "debtors", "foreign", "business", "relations", "hr",
            "audit", "auditor", "auditors", "plaintiff", "plaintiffs", "defendant", "defendants",
            "counterparty", "bank", "bidder", "bidders", "agency", "customer", "insurer",
            "opponent", "opponents", "s", "sales", "management", "executive", "finance",
            "accounting", "engagement", "investment", "banking", "private", "equity", "their")
_QUALIFIER = rf"(?:(?!(?:{prefix_tree(sorted(set(_OUTSIDE)))})\b)[a-z]+ )?"
#: After a colleague word: the person belongs elsewhere ("partner at the client's auditor",
#: "associate general counsel", "partner's").
_ELSEWHERE = r"(?![^\w\x02]+(?:at|of|from|for|s|general counsel|gc)\b)"
_TALK = ("conference", "conferences", "conf", "confer", "conferred", "conferring", "meet",
         "meeting", "meetings", "mtg", "mtgs", "met", "discuss", "discussed", "discussing", "discussion",
         "discussions", "call", "calls", "t c", "tc", "telephone", "strategy session", "debrief",
         "catch up", "caught up", "email", "emails", "e mail", "e mails", "emailed",
         "correspondence", "touch base", "touched base", "sync", "huddle", "speak", "spoke",
         "talk", "talked", "check in", "follow up", "stand up", "standup", "stand ups",
         "standups", "session", "sessions", "check", "checked", "checking", "consult",
         "consulted", "consulting")
_TALK_TO = (*_TALK, "message", "report", "reported", "reporting")
_IN_FIRM = ("internal", "intraoffice", "intra office", "interoffice", "inter office", "team",
            "firm", "office")
_GATHERING = ("(?:(?:strategy|weekly|daily|status|planning|case|trial|prep|preparation|kick off|"
              "kickoff|update|video|zoom|phone|telephone|working|brainstorming|all hands) )?"
              "(?:meeting|mtg|conference|call|discussion|strategy session|debrief|catch up|sync|"
              "huddle|check in|stand up|standup)")
#: Colleague words that take no qualifier: "CFPB staff", "agency staff" are someone else's.
_BARE_COLLEAGUES = ("staff", "firm staff", "our staff")
_PRACTICE_TEAM = (f"(?:the |our |firm s )?(?:{_words(_PRACTICES)}) (?:(?:{_words(_PRACTICES)}) )?"
                  "(?:department|group|practice|team|colleagues?|lawyers?|partners?|associates?)")
_TEAM_OF = (f"(?:the |our |other |firm |firm s |my |both |mr |ms |mrs |dr )?"
            f"(?:{_QUALIFIER}(?:{_words(_COLLEAGUES)})"
            f"|(?:{_words(_BARE_COLLEAGUES)}))")
#: Short words that follow "call with" and are not initials (in capitals they are checked again).
_SHORT_WORDS = ("the", "our", "his", "her", "him", "its", "all", "any", "one", "two", "six", "ten",
                "me", "us", "you", "new", "old", "key", "ad", "an", "and", "my", "no", "mr", "ms",
                "mrs", "dr", "oc", "opc", "hr", "gc", "cfo", "ceo", "re", "to", "on", "at", "in", "by",
                "for", "of", "or", "as", "is", "it", "so", "up", "out", "who", "two", "few", "bank",
                "law", "sec", "irs", "doj", "fda", "ftc", "ust", "kc", "qc", "uk", "us", "eu",
                "pto", "cl", "opp", "fa", "vp", "gm", "co", "inc", "ltd", "llc", "plc", "tax",
                "ip", "it", "pr", "ir", "team", "firm")
_NOT_A_WORD = rf"(?!(?:{prefix_tree(sorted(set(_SHORT_WORDS)))})\b)"
_TALKS = by_initial(_TALK_TO)
#: A call, meeting or message ``with`` or ``to`` someone (up to three words between).
_TALK_WITH = "(?: [a-z]+){0,3} (?:with|w|to|from) "
_COLLEAGUE_PARTY = f"(?:{_TEAM_OF}{_ELSEWHERE}|{_PRACTICE_TEAM})"
#: The firm's juniors, whom a senior supervises.
_JUNIORS = ("trainee", "trainees", "associate", "associates", "paralegal", "paralegals", "junior",
            "juniors", "law clerk", "law clerks", "summer associate", "summer associates",
            "candidate attorney", "practice trainee", "review team", "contract attorneys")
INTERNAL_PATTERNS = (
    # a call or e-mail whose object is the colleague: "call associate", "email partner re ..."
    # (the colleague word right after the verb: a qualifier is looked for only after "with").
    # The talk patterns come last: a pattern of a talk word's first letter between one and its
    # checked twin would keep :func:`internal_patterns` from trying the two as one.
    *(f"{verb} (?:the |our |my )?(?:{_words(_COLLEAGUES)}){_ELSEWHERE}" for verb in by_initial((
        "call", "called", "calling", "email", "emailed", "emailing", "phone", "phoned",
        "telephone", "telephoned"))),
    *(f"{verb}(?: [a-z]+){{0,6}} to (?:an? )?{_TEAM_OF}{_ELSEWHERE}"
      for verb in by_initial(("escalate", "escalated", "escalating"))),
    *(f"{where} {_GATHERING}" for where in _IN_FIRM if where != "team"),
    *(where + f"(?<=[{_SEPARATORS}]\\x20{_spaced_literal(where)})"
      " (?:emails?|e mails?|correspondence|messages?)\\b"  # "Internal email re status"
      for where in _IN_FIRM if where not in ("team", "office")),
    f"team(?<!client.team)(?<!clients.team)(?<!client.s.team) {_GATHERING}",
    # a practice group's or the firm's people's own meeting, named first in its clause ("Tax
    # partner mtg", "Capital markets group meeting re ...", "Patent team weekly", "Summer
    # associate check-in"); not in mid-clause, where another firm may own it ("KPMG tax partner")
    # (a practice's own people named: "Public finance call" may be anyone's)
    *(f"{who}(?<=[{_SEPARATORS}]\\x20{_spaced_literal(who)}) {people}"
      f"(?:{_GATHERING}|weekly|monthly)\\b"
      for who, people in (
          *((p, "(?:department|dept|group|practice|team|partners?|associates?|colleagues?|"
                "lawyers?) ")
            for p in _PRACTICES if p not in ("m a", "property", "commercial", "planning",
                                             "compliance", "finance", "insurance")),
          *((c, "") for c in ("partner", "partners", "associate", "associates",
                              "summer associate", "summer associates", "paralegal",
                              "paralegals", "trainee", "trainees", "fee earner", "fee earners",
                              "practice group")))),
    *(f"{verb}(?: [a-z]+){{0,6}} to (?:an? )?{_TEAM_OF}{_ELSEWHERE}"
      for verb in by_initial(("assign", "assigned", "assigning", "delegate", "delegated",
                              "delegating"))),
    *(f"{verb} (?:the |our |new |newly assigned )?{_QUALIFIER}(?:{_words(_COLLEAGUES)}){_ELSEWHERE}"
      for verb in by_initial(("instruct", "instructed", "instructing", "brief", "briefed",
                              "briefing", "update", "updated", "updating", "debrief",
                              "debriefed", "debriefing", "instructions to", "briefing to"))),
    # supervising a junior of the firm, or the junior's work ("Supervise trainee's preparation of
    # response", "Supervise paralegals re privilege review protocol")
    *(f"{verb} (?:the |our |a |my )?(?:new |junior )?(?:{_words(_JUNIORS)})"
      r"\b(?![^\w\x02]+(?:at|of|from|for|general counsel|gc)\b)"
      for verb in by_initial(("supervise", "supervised", "supervising", "supervision of"))),
    *(f"{verb} (?:the |our |a )?(?:new )?{_QUALIFIER}(?:{_words(_COLLEAGUES)}) up to speed"
      for verb in by_initial(("bring", "brought", "bringing", "get", "getting"))),
    *(f"{verb} (?:on )?(?:the |my |a )?(?:{_QUALIFIER}(?:partner|supervisor|supervising partner|"
      f"supervising solicitor|associate|trainee|colleague|fee earner){_ELSEWHERE}"
      # (a practice group's lunch-and-learn or training attended is learning, not a conference)
      f"|{_PRACTICE_TEAM}(?!(?: [a-z]+)? (?:lunch|training|seminar|cle|presentation|webinar|"
      "retreat|offsite|away day|social)))"
      for verb in ("att(?:end(?:ing|ed|ance)?)?",)),
    # a discussion of a longer subject, the colleague named after it ("Discuss client's
    # instructions on threshold with supervisor"), within the clause
    *(f"{verb}(?:[^\\w\\x02;\\n]+[a-z0-9]+){{4,8}}?[^\\w\\x02;\\n]+(?:with|w) {_COLLEAGUE_PARTY}"
      for verb in by_initial(("discuss", "discussed", "discussing", "consult", "consulted",
                              "consulting"))),
    # last: each is tried as one with its checked twin, which CHECKED_PARTY_PATTERNS puts next
    *(f"{talk}{_TALK_WITH}{_COLLEAGUE_PARTY}" for talk in _TALKS),
)
def _checked_party(i: int) -> str:
    """After "call with": "the attorney" (group ``staff{i}``) or initials (``initials{i}``)."""
    return (f"(?:(?:the |my |our )?(?:attorney|attorneys|lawyer|lawyers|solicitor|solicitors)"
            f"{_ELSEWHERE}(?P<staff{i}>)|{_NOT_A_WORD}[a-z]{{2,3}}\\b(?P<initials{i}>))")


#: Other parties that need a further check by the rule (the match's last group says which):
#: "the attorney" (the firm's for a paralegal or clerk) and initials (the firm's in capitals).
CHECKED_PARTY_PATTERNS = (
    *(f"{talk}{_TALK_WITH}{_checked_party(i)}" for i, talk in enumerate(_TALKS)),
    # someone named as being of the firm ("Discussion with Mr. Haruki of our firm"): whether the
    # clause is a conference is checked (internal_findings) on the few narratives that say it
    "our firm\\b(?:" + "|".join(f"(?<={w}\\x20our\\x20firm)" for w in ("of", "at", "in", "from"))
    + ")(?P<ourfirm0>)",
)


def internal_patterns() -> list[str]:
    """:data:`INTERNAL_PATTERNS` then :data:`CHECKED_PARTY_PATTERNS`, for :data:`INTERNAL`: each
    talk pattern comes before its checked twin (same start), so a colleague is found first.

    Where no other pattern of the same first letter stands between the twins, they are tried as
    one, after one look-ahead for "with" or "to" (most calls have none): the engine reads the
    words after a call once instead of twice, and finds what the two would, in the same order
    (of the talk words, only the one a gap follows can match)."""
    patterns = [*INTERNAL_PATTERNS, *CHECKED_PARTY_PATTERNS]
    for i, talk in enumerate(_TALKS):
        colleague, checked = f"{talk}{_TALK_WITH}{_COLLEAGUE_PARTY}", CHECKED_PARTY_PATTERNS[i]
        a, z = patterns.index(colleague), patterns.index(checked)
        if any(p[0] == talk[0] for p in patterns[a + 1:z]):
            continue
        patterns[a] = (f"{talk}(?={_TALK_WITH})(?:{_TALK_WITH}{_COLLEAGUE_PARTY}"
                       f"|{_TALK_WITH}{_checked_party(i)})")
        del patterns[z]
    return patterns


INTERNAL = phrase_regex(internal_patterns())
#: A conference with someone "of our firm" (the clause's talk word before it).
OF_OUR_FIRM = re.compile(" (?:" + _tree(_TALK) + r")\b[^;\n\x02]*? (?:of|at|in|from) our firm\b")
#: For a paralegal, clerk or trainee, "the attorney" they confer with is the firm's own.
STAFF_CLASSES = ("PARLGL", "LGLAST", "OTHER")
#: A call or meeting with someone named only by initials ("Discuss w/ RMK"): a firm timekeeper,
#: as in most firms' narratives -- unless the letters are a known outside party or agency.
INITIALS_OUTSIDE = (
    "OC", "OCS", "HR", "GC", "GCS", "CFO", "CEO", "COO", "CTO", "CIO", "CRO", "CCO", "CLO", "FA",
    "FAS", "UST", "US", "UK", "EU", "SEC", "IRS", "DOJ", "FDA", "FTC", "AG", "DA", "ALJ", "PTO",
    "EPO", "UCC", "KC", "QC", "IT", "IP", "DIP", "LOI", "SPA", "APA", "NDA", "HSR", "OCC", "FCA",
    "ICO", "CPS", "DOL", "EPA", "CMA", "PRA", "SFO", "ET", "EAT", "CPR", "ADR", "HOA", "LLC", "LP",
    "GP", "JV", "CRA", "TSA", "ITC", "CBP", "BIS", "DEA", "ATF", "HUD", "VA", "DOD", "GSA", "NIH",
    "CMS", "OIG", "HHS", "DHS", "ICE", "FBI", "CIA", "NSA", "UN", "ICC", "AAA", "DC", "NY", "CA",
    "TX", "CO", "INC", "LTD", "PLC", "SA", "NV", "BV", "PM", "AM", "MR", "MS", "DR", "CMC", "PTAB",
    "ITA", "TTAB", "FAA", "FCC", "ERC", "CAC", "ACAS", "HMRC", "IPO", "VP", "SVP", "EVP", "GM",
    "MD", "RM", "QA", "QC", "PR", "IR", "AP", "AR", "PE", "VC", "LC", "BOD", "AGM", "EGM")
INITIALS = re.compile(
    "(?i:(?:" + _tree(_TALK) + r")(?:[^\w]+[a-z]+){0,3}[^\w]+(?:with|w))[^\w]+"
    + "(?!(?:" + "|".join(INITIALS_OUTSIDE) + r")\b)[A-Z]{2,3}\b")
#: UTBMS activity code for communication inside the firm.
INTERNAL_ACTIVITY = "A105"

# ------------------------------------------------------------------------------ block billing
#: Verbs that start a distinct task at the start of a clause.
TASK_VERBS = (
    "draft", "drafted", "drafting", "review", "reviewed", "reviewing", "revise", "revised",
    "revising", "research", "researched", "researching", "prepare", "prepared", "preparing",
    "analyze", "analyzed", "analyse", "analysed", "attend", "attended", "attending",
    "confer", "conferred", "conference", "call", "called", "telephone", "email", "emailed",
    "correspond", "corresponded", "correspondence", "meet", "met", "meeting", "edit", "edited",
    "finalize", "finalized", "finalise", "finalised", "respond", "responded", "discuss",
    "discussed", "negotiate", "negotiated", "summarize", "summarized",
    "argue", "argued", "appear", "appeared", "travel", "traveled", "travelled",
    "investigate", "investigated", "interview", "interviewed", "compile", "compiled",
    "supervise", "supervised", "update", "updated", "file", "filed", "serve", "served",
    "depose", "deposed", "defend", "defended", "take", "took", "obtain", "obtained",
    "advise", "advised", "verify", "verified", "check", "checked", "coordinate", "coordinated",
    # added for the phrasing of real narratives (English usage, clerical steps, messages)
    "considering", "consider", "considered", "perusing", "peruse", "advising", "discussing",
    "negotiating", "finalizing", "finalising", "collect", "collected", "collecting", "circulate",
    "circulated", "circulating", "organize", "organized", "organise", "organised", "calendar",
    "docket", "record", "recorded", "submit", "submitted", "submitting", "e file", "efile",
    "scan", "print", "upload", "download", "assemble", "mark up", "marked up", "cite check",
    # (not the nouns: "search terms", "Schedule B", "Schedule 1")
    "search(?! (?:terms?|results?|reports?|strings?|history|histories|hits?|quer(?:y|ies)|"
    "protocol|parameters|criteria)\\b)", "searched", "instruct", "instructed", "summarise",
    "summarised", "prep", "send", "sent", "schedule(?! (?:[b-z]|\\d+)\\b)", "arrange", "liaise",
    "liaising", "meet and confer", "lodge", "complete",
    "completed", "completing", "travelling", "traveling",
    # reading and working on something (on the train, en route: rule 12's work while travelling)
    "read", "reading", "work on", "worked on", "working on",
    # the other forms of work seen in narratives written elsewhere
    "updating", "calendaring", "calendared", "docketing", "docketed", "ran", "opened",
    "attendance (?:upon|on|at)", "rvw", "tel (?:with|w|to)", "ltr to", "ltrs to",
    "internal debrief",  # (a debrief with the client after a session is part of it)
    "t c", "tc", "conf", "telephone conference", "telephone call", "phone call", "conference call",
    "emails? (?:with|w|to|from|re)", "e mails? (?:with|w|to|from|re)",
    "calls? (?:with|w|to|re)", "letters? (?:to|from)", "note to", "memo to",
    "meetings? (?:with|w|re)", "mtgs? (?:with|w|re)", "(?:dinner|lunch|breakfast|weekly) meeting",
    "follow up (?:with|w)",
    "discussions? (?:with|w|re)", "zoom (?:with|w)",
    "report to", "reported to", "reporting to", "escalate", "escalated",
    "tel conf", "tel con", "tel call", "tel att", "qc", "run",
    # calls or e-mails that end their clause ("Review lease amendment; calls")
    "calls(?=[^\\w\\x02]*(?:[;,\\n\\x02]|\\Z))", "emails(?=[^\\w\\x02]*(?:[;,\\n\\x02]|\\Z))",
)
#: Verbs that, followed by ',' or '/', begin a list of steps of one task ("Draft, revise and
#: finalize interrogatories"): the next verb does not start a new task.
_SERIES_VERBS = ("review", "reviewed", "revise", "revised", "draft", "drafted", "prepare",
                 "prepared", "finalize", "finalized", "finalise", "edit", "edited", "analyze",
                 "analyse", "consider", "research", "negotiate", "comment", "update", "mark up",
                 "proofread", "check", "verify")
#: Abbreviations whose '.' ends no clause ("trucking co. and summarize", "incl. meet").
_ABBREVIATIONS = ("co", "inc", "corp", "ltd", "llc", "no", "nos", "vol", "dr", "mr", "ms", "mrs",
                  "incl", "approx", "vs", "v", "st", "jr", "e.g", "i.e", "cf", "etc", "dept",
                  "ex", "exh", "p", "pp", "para", "sec", "art", "cl", "fig",
                  *_CLIPPED)
_FILING = ("file", "e file", "efile", "serve", "submit", "submitting", "lodge", "lodging",
           "filing", "serving", "fax", "faxed", "faxing", "issuing",
           # "Draft and issue claim form" (not "and issue list", "and issues raised")
           "issue" + _NOT_ISSUING)
_TALK_VERB = ("meet", "met", "call", "called", "calls", "confer", "conference", "discuss",
              "discussed", "discussing", "email", "emails", "emailed", "e mail", "t c", "tc",
              "telephone", "speak", "spoke", "talk", "talked", "conferring", "meeting")
#: Who a call or message after 'and' is with (the second task of "Draft X and call client").
_OTHER_END = (r"(?:client|clients|oc|opposing counsel|partner|team|associate|court|paralegal|"
              r"counsel)\b")
_NEXT_MESSAGES = ("calls?", "emails?", "e mails?", "t cs?", "letters?", "meetings?",
                  "correspondence", "conferences?")
_MESSAGES = ("calls", "call", "emails", "email", "meetings", "meeting", "letters", "letter",
             "t cs", "t c", "e mails", "conferences", "conference", "correspondence")
#: Where a new task starts: a task verb at the start of any clause but the first (a verb after
#: 'Draft,' or 'review/' is a step of the same task), or a second kind of activity joined by
#: 'and': filing after drafting ("Prepare and file"), a call or meeting ("and meet with
#: paralegal"), attendance after preparation or travel ("Prepare for and attend"), or a second
#: kind of message ("emails and calls"). "Draft and revise", "Review and respond" and "Research
#: and draft memo" are one task.
#: A task verb, with the 'and', 'then' or 'also' that may stand before it.
_TASK_VERB = (r"(?:(?:and|then|also)[^\w\x02]+)?(?:(?:begin|began|start|started|continue|"
              r"continued|commence|commenced)[^\w\x02]+)?"
              # work while travelling, told where first: "; on ferry review draft affidavit"
              r"(?:(?:on|in|during) (?:the )?(?:ferry|plane|train|flight|journey|transit)"
              r"(?: back| home| out| there)?[^\w\x02]+)?"
              # a call after an event: "post-mediation call w/ client"; a follow-up one
              r"(?:(?:post|pre)[^\w\x02]+[a-z]+[^\w\x02]+|follow[^\w\x02]*up[^\w\x02]+)?"
              # the clock time it started ("; 2:45 revised notice": a time is no duration)
              r"(?:\d{1,2}[:.]\d{2}(?:[^\w\x02]*[ap]m)?[^\w\x02]+)?"
              r"(?:" + _tree(TASK_VERBS) + r")\b")
#: After 'and' and a first verb's object, the work that is a second task: a review, a
#: preparation for an event, the scheduling of one.
_SECOND_TASKS = ("review", "reviewed", "reviewing", "prepare for", "prepared for",
                 "preparing for", "prep for",
                 # sending, recording or circulating for signature what the first verb made
                 "send", "sent", "record", "recorded",
                 "circulat(?:e|ed|ing) (?:the )?(?:execution|signature|executed|final)",
                 # putting the dates of what was reviewed in the diary (rule 4)
                 "calendar", "calendared", "calendaring", "docket", "docketed", "docketing",
                 "diaris(?:e|ed|ing)", "diariz(?:e|ed|ing)",
                 "schedul(?:e|ed|ing) (?:a |an |the )?(?:[a-z]+ )?"
                 "(?:call|calls|meeting|meetings|deposition|depositions|depo|hearing|conference|"
                 "interview|mediation|zoom)")
#: A word that, standing just before 'and', is a bare verb: "Draft and revise", "Research and
#: draft memo" are one task ("and" joins steps of it, not a second task).
_BARE_BEFORE_AND = sorted({v for v in (*TASK_VERBS, *_SERIES_VERBS, "identify", "annotate",
                                       "summarise", "outline", "chart", "comment", "proof")
                           if re.fullmatch(r"[a-z ]+", v)}, key=lambda v: (-len(v), v))
TASK_START = re.compile(
    # the verb is looked for first (most words after a separator are none), then the many
    # look-behinds that tell whether the separator starts a task
    " (?:" + _after(";\n.,/\u2013\u2014-") + f"(?={_TASK_VERB})(?:"
    # after ';', a line break or ' - '; after '.' unless it ends an abbreviation or an initial;
    # after ',' or '/' unless the word before is a bare verb ('Draft, revise and finalize')
    + _after(";\n") + r"|(?<=[^\x02] [-\u2013\u2014] )|(?<=\. )"
    + "".join(f"(?<!{re.escape(a)}\\. )" for a in _ABBREVIATIONS) + r"(?<![\W_][a-z]\. )"
    + "|" + _after(",/") + "".join(f"(?<!{v.replace(' ', '.')}, )(?<!{v.replace(' ', '.')} / )"
                              for v in _SERIES_VERBS)
    + ")" + _TASK_VERB
    # a task after "then" with no separator ("called client about the lease then emailed
    # landlord's attorney"): a sequence of tasks
    + "|(?<!and.)(?<!&.)then (?:" + _tree(TASK_VERBS) + r")\b"
    + "|(?:and|&) (?<!meet.and.)(?<!meet.&.)(?:then )?(?:" + "|".join([
        # ("and file history", "and file wrapper": the patent's record, a noun)
        "(?:" + _tree(_FILING) + r")\b(?![^\w\x02]+(?:history|histories|wrappers?|deadlines?|"
        r"dates?|requirements?|rules|obligations)\b)",
        "(?:" + _tree(_TALK_VERB) + rf")(?:{_GAP}[a-z]+){{0,2}}{_GAP}(?:with|w|to)\b",
        "(?:" + _tree(("call", "called", "email", "emailed", "e mail", "meet", "met", "t c", "tc"))
        + _gapped(r") (?:the )?" + _OTHER_END),
        # telling someone: "and update client", not "and update client's file"
        "(?:" + _tree(("update", "updated", "brief", "briefed", "report to", "reported to"))
        + _gapped(r") (?:the )?" + _OTHER_END)
        + rf"(?!{_GAP}(?:s|file|files|records?|lists?|registers?|data|database|portal|folders?)\b)",
        _gapped(r"(?:attend(?:ed|ing)?(?! (?:records|sheets?|logs?)\b)|attendance (?:at|on|of)|"
                r"appear(?:ed|ing)? (?:at|in|before|for)|travel(?:led|ed|ling|ing)? (?:to|from|back))\b"),
        # "Prepare for and argue motion", "prep for and defend deposition": whatever follows
        # the preparation is the event prepared for
        "(?<=for.and.)(?:" + _TASK_VERB + r"|present(?:ed|ing)?\b)",
        # "Revise loan agreement and review title commitment", "Draft settlement agreement and
        # prepare for deposition", "Revise NDA and schedule call": after a verb that had its
        # object (not a bare verb: "Research and review"), a review, a preparation for an event
        # or the scheduling of one, with an object of its own
        "(?=(?:" + _tree(_SECOND_TASKS) + r")\b)"
        + "".join(f"(?<!{v.replace(' ', '.')}.and.)(?<!{v.replace(' ', '.')}.&.)"
                  for v in _BARE_BEFORE_AND)
        + "(?:" + _tree(_SECOND_TASKS) + r")\b(?![^\w\x02]*(?:[;,:\n\x02]|\Z|and\b|&|"
        r"(?:accordingly|same|it|them)\b))",
        # the next word first (cheap), then what stood before 'and'
        "(?=(?:" + _tree(_NEXT_MESSAGES) + r")\b)"
        + "(?:" + "|".join(f"(?<={m.replace(' ', '.')}.and.)|(?<={m.replace(' ', '.')}.&.)"
                           for m in _MESSAGES) + ")"
        + "(?:" + _tree(_NEXT_MESSAGES) + r")\b"]) + "))")


#: A clause that goes on with the task before it, though a task verb starts it (matched at the
#: task's start, up to the clause's end): a verb with no object of its own ("; revise per
#: partner's comments", "and finalize same", "and revise X accordingly") ...
_AND_THEN = r"[^\w\x02]*(?:(?:and|&|then|also)[^\w\x02]+)?"
_NO_OBJECT_VERBS = ("revise", "revised", "revising", "edit", "edited", "finalize", "finalized",
                    "finalise", "finalised", "update", "updated", "summarize", "summarized",
                    "summarise", "summarised", "check", "checked", "proofread", "correct",
                    "corrected", "consider", "considered", "noted", "perused")
_NO_OBJECT = (
    _AND_THEN + "(?:" + _tree(_NO_OBJECT_VERBS) + r")\b[^\w\x02]*"
    r"(?:(?:per|accordingly|same|it|them|as needed|as necessary|for (?:the )?(?:"
    r"filing|signature|circulation))\b[^;\n\x02]*)?\Z"
    r"|[^;\n\x02]*\baccordingly[^\w\x02]*\Z")
#: ... or what a review yields ("Review title commitment; prepare title objection letter",
#: "Mark up credit agreement; prepare issues list", "Review OC's letter and draft response":
#: the result's name ends the clause; not a summary, which may be of anything),
_REVIEW_VERBS = re.compile(r"[^\w\x02]*(?:[^:;\n\x02]{1,60}:[^\w\x02]*)?(?:" + _tree((
    "review", "reviewed", "reviewing", "analyze", "analyzed", "analyzing", "analyse", "analysed",
    "analysing", "research", "researched", "researching", "mark up", "marked up", "marking up",
    "consider", "considered", "considering", "peruse", "perused", "perusing", "read",
    "examine", "examined", "study", "studied", "evaluate", "evaluated", "compare", "compared",
    "comparing", "rvw", "rvwd")) + r")\b")
_RESULT_VERBS = ("draft", "drafted", "drafting", "prepare", "prepared", "preparing", "outline",
                 "outlined", "chart", "charted", "update", "updated")
_REVIEW_RESULT = (
    _AND_THEN + "(?:" + _tree(_RESULT_VERBS) + r")\b[^\w\x02]+(?:(?:a|an|the|our|my|short|brief|"
    r"initial|written|detailed|proposed|draft)[^\w\x02]+)*(?:[a-z0-9]+[^\w\x02]+){0,2}?(?:"
    + _tree(("response", "responses", "reply", "issues list", "comments", "chart", "claim chart",
             "chronology", "outline", "objection letter", "objections", "markup", "redline",
             "memo", "memorandum", "recommendation", "recommendations", "note", "notes",
             "summary")) + r")"
    # the clause ends there, or names only whom the result is for ("prepare issues list for
    # client"): "draft response to the CID" or "prepare outline for deposition of X" names an
    # object of its own, and is a task of its own (so does "summary of X")
    r"(?:[^\w\x02]+(?:re same|to same|thereto|accordingly|(?:for|to)[^\w\x02]+(?:the[^\w\x02]+)?"
    r"(?:client|clients|partner|team|trial team|deal team|working group|client[^\w\x02]+s[^\w\x02]+"
    r"(?:general counsel|gc|board|team))))?[^\w\x02]*\Z")
#: ... or serving what was just filed; or a step of an attendance a colon opened ("Attend trial
#: day 3: cross-examine expert; argue motion"; not a heading such as "Trial prep: ..."), unless
#: it is a journey or an attendance itself; or a clerical step after another ("Compile signature
#: pages and assemble closing sets": one clerical task, which ADMIN_TASK reports).
_SERVED = _AND_THEN + r"serv(?:e|ed|ing)\b"
_CLAUSE_STOP = re.compile(r"[;\n]")
_FILED = re.compile(_AND_THEN + r"(?:e[^\w\x02]*)?fil(?:e|ed|ing)\b")
#: The verbs those tests start with (a task start ending in another goes on with nothing).
_GOING_ON_VERBS = frozenset((*_NO_OBJECT_VERBS, *_RESULT_VERBS, "serve", "served", "serving",
                             "memo", "memorandum", "note", "advise", "advised", "advising",
                             "report", "reported", "reporting", "letter", "send", "sending",
                             "sent"))
#: The tests above on a clause, as one regex: the group that matched says which.
#: ... or the write-up of what was just researched, analysed or reviewed, whatever it is for
#: ("Research whether releases survive; draft insert for confirmation brief", "Analyze search
#: report; draft clearance opinion for the mark": rule 6's "Research and draft memo re X"),
_WRITTEN_UP = (_AND_THEN + "(?:" + _tree(("draft", "drafted", "drafting", "prepare", "prepared",
                                          "preparing", "write", "wrote", "writing")) + r")\b"
               r"(?:[^\w\x02]+(?:a|an|the|our|short|brief|initial|written|detailed|draft))*"
               r"(?:[^\w\x02]+[a-z0-9]+){0,3}?[^\w\x02]+(?:"
               + _tree(("memo", "memorandum", "insert", "section", "analysis", "opinion",
                        "note")) + r")\b")
_WRITTEN_UP += (r"|" + _AND_THEN + r"(?:memo|memorandum|file note|note)(?:[^\w\x02]+to[^\w\x02]+"
                r"(?:the[^\w\x02]+)?(?:file|client|partner|team))?\b")  # "...; memo to file"
#: ... or the advice or report on what was just reviewed, whoever it goes to ("Review tribunal's
#: procedural order and report to client", "Perusing contract for sale; advising purchaser on
#: special conditions", "Review warranty and send comments to funder's solicitors": rule 6's
#: "Review OC's letter and draft response"; a call about it is a task of its own),
_ADVISED = (_AND_THEN + r"(?:advis(?:e|ed|ing)|report(?:ed|ing)?[^\w\x02]+to|(?:a[^\w\x02]+)?"
            r"letter[^\w\x02]+to|note[^\w\x02]+to|(?:send|sending|sent)[^\w\x02]+comments)\b")
_GOES_ON = re.compile(f"(?P<no_object>{_NO_OBJECT})|(?P<result>{_REVIEW_RESULT})|(?P<served>{_SERVED})"
                      f"|(?P<written>{_WRITTEN_UP})|(?P<advised>{_ADVISED})")
#: Sending word of a clerical step just taken ("Calendar deadline; send reminder to client",
#: "Book mediation date and send confirmation to all counsel"), or sending on what it made
#: ("Scan closing docs and email them to lender"): the same clerical task.
_NOTICE_SENT = re.compile(_AND_THEN + r"(?:send|sent|sending|email|emailed|emailing|forward|"
                          r"forwarded|forwarding)[^\w\x02]+"
                          r"(?:(?:them|it|same|the same|these|copies)\b|"
                          r"(?:(?:a|an|the)[^\w\x02]+)?(?:[a-z]+[^\w\x02]+){0,2}?(?:"
                          r"reminders?|confirmations?|invites?|invitations?|"
                          r"(?:cover|closing|confirmation|reminder) (?:letters?|emails?))\b)")
_ATTEND_OR_TRAVEL = re.compile(_AND_THEN + r"(?:attend(?:s|ed|ing|ance)?\b(?![^\w\x02]+to\b)|"
                               r"appear|travel)")


def _attended(text: str, begin: int, at: int) -> bool:
    """Whether a colon before ``at`` ends a clause of attendance ("Attend trial day 3: ...")."""
    colon = text.find(":", begin, at)
    if colon < 0:
        return False
    opened = max(text.rfind(c, begin, colon) for c in ";\n\x02")
    return _ATTEND_OR_TRAVEL.match(text, opened + 1, colon) is not None


def _goes_on(texts: Corpus, rows: np.ndarray, found_: list[re.Match]) -> np.ndarray:
    """For each task start ``found_`` (in the narratives ``rows``, ascending), whether its clause
    goes on with the task before it instead of starting a new one."""
    text = texts.text
    at = np.fromiter((m.start() for m in found_), dtype=np.int64, count=len(found_))
    first = np.r_[True, rows[1:] != rows[:-1]]
    last = np.r_[rows[1:] != rows[:-1], True]
    begin = texts.starts[rows]
    # where the clause before starts (a narrative's first clause: at the space after its mark), and where
    # this one ends (the next task start, a ';', a line break or the narrative's end)
    before = np.where(first, begin + len(START) - 1, np.r_[0, at[:-1]])
    end = np.where(last, texts.ends[rows], np.r_[at[1:], 0])
    # a clerical step after another: ADMIN_TASK's matches (one scan, which that rule reuses)
    clerical = np.fromiter((m.start() for m in texts._matches(ADMIN)[1]), dtype=np.int64)
    in_clause = np.searchsorted(clerical, at) < np.searchsorted(clerical, end)
    in_before = np.searchsorted(clerical, before) < np.searchsorted(clerical, at)
    out = in_clause & in_before
    sent = _NOTICE_SENT.match
    for i in np.flatnonzero(in_before & ~out).tolist():
        out[i] = sent(text, int(at[i]), int(end[i])) is not None
    # a clause can go on with the one before only by its verb (the last word of the task
    # start), an 'accordingly' or a colon before it: the others need no closer look
    todo = np.flatnonzero(~out)
    stop_at = _CLAUSE_STOP.search
    for i, a, z, b, o in zip(todo.tolist(), at[todo].tolist(), end[todo].tolist(),
                             before[todo].tolist(), begin[todo].tolist(), strict=True):
        stop = stop_at(text, a + 1, z)
        stop = z if stop is None else stop.start()
        words = found_[i].group().split()  # "and update", "memo to"
        if (any(w in _GOING_ON_VERBS for w in words)
                or text.find("accordingly", a, stop) >= 0):
            goes = _GOES_ON.match(text, a, stop)
            if goes is not None:
                kind = goes.lastgroup
                out[i] = (kind == "no_object"
                          or (kind in ("result", "written", "advised")
                              and _REVIEW_VERBS.match(text, b, a) is not None)
                          or (kind == "served" and _FILED.match(text, b, a) is not None))
        if not out[i] and text.find(":", o, a) >= 0:
            out[i] = _attended(text, o, a) and _ATTEND_OR_TRAVEL.match(text, a, stop) is None
    return out


def task_counts(narratives: pd.Series) -> np.ndarray:
    """How many distinct tasks each lower-cased narrative lists: the first clause, whatever it
    starts with, and each new task after it (:data:`TASK_START`) that does not go on with the
    task before it (:func:`_goes_on`, looked at only where a second task was found)."""
    texts = corpus(narratives)
    rows, found_ = texts._matches(TASK_START)
    counts = 1 + np.bincount(rows, minlength=len(texts)).astype(np.int64)
    if len(rows):
        goes = _goes_on(texts, rows, found_)
        counts -= np.bincount(rows[goes], minlength=len(texts))
    return counts  # a blank one lists no second task either


# ------------------------------------------------------------------------------ the rules
# The four narrative rules are registered in :mod:`billxl.rules.time_rules` (which fixes their
# order among the rules); their work is done here.
def block_billing_findings(b: Batch) -> pd.DataFrame | None:
    """BLOCK_BILLING: entries whose narrative lists two or more distinct tasks."""
    counts_u = task_counts(b.distinct_text)
    counts = b.per_row(counts_u)
    blocked = counts >= 2
    if not blocked.any():
        return None
    count = pd.Series(counts[blocked], index=b.frame.index[blocked])
    message = ("The narrative lists " + count.astype(str)
               + " separate tasks in one entry (block billing)")
    return found(blocked, message, field="narrative",
                 suggestion="Split the entry into one entry per task, each with its own time")


#: A narrative this many characters per word long has enough words (only a short narrative
#: can have too few words, so only short ones are counted).
WORD_CHARS = 15
#: A short narrative that is a verb naming the act and its object says what was done however
#: few its words: attending or arguing something named ("Attend auction", not "Attend meeting")
#: or a clerical act (a verb of :data:`ADMIN_VERBS`: "Calendar deadlines", which ADMIN_TASK
#: reports). A verb that needs its object to say anything ("Review patent") is left to the word
#: count.
#: Documents a matter has one of, named by one word ("complaint", "SPA"): a verb and one of
#: them says what was done, however short (not "lease": a portfolio has many).
ONE_OF_A_KIND = ("complaint", "answer", "counterclaim", "petition", "indictment", "spa", "apa",
                 "loi", "mou", "nda", "sha", "ids", "survey", "will",
                 "docket")
ACT_AND_OBJECT = re.compile(
    "(?:(?:" + _tree(("attend", "attended", "attending", "appear at", "appeared at", "argue",
                      "argued", "arguing")) + ") (?!(?:" + _tree(
        [*GENERIC_THINGS, *GENERIC_SUBJECTS, *COMMUNICATIONS, "hearing", "hearings", "trial",
         "event", "session", "same", "motion", "motions"]) + ")$)"  # not "Attend meeting"
    + "|(?:" + _tree(ADMIN_VERBS) + ") )[a-z0-9]+$"
    # a document a matter has one of (rule 9 of the labelled set's guide: "Review complaint",
    # "Revise SPA", not "Review order" or "Review patent", of which a matter has many)
    + "|(?:" + _tree(("review", "reviewed", "reviewing", "revise", "revised", "revising", "draft",
                      "drafted", "drafting", "prepare", "prepared", "finalize", "finalized",
                      "finalise", "finalised", "mark up", "marked up", "markup", "proofread",
                      "read", "analyze", "analyse", "analyzed", "analysed", "edit", "edited"))
    + ") (?:the )?(?:" + _tree(ONE_OF_A_KIND) + ")$")


def vague_findings(b: Batch) -> pd.DataFrame | None:
    """VAGUE: the narrative, or a part of it, does not say what was done; or it is too short."""
    text = b.distinct_text
    min_words = b.setting("min_narrative_words")
    rows, parts = corpus(b.distinct_text).first(VAGUE_PART)
    lengths = corpus(b.distinct_text).lengths
    phrase_u = np.zeros(len(text), dtype=bool)
    phrase_u[rows] = True
    # the vague part is named when it is not the whole narrative
    parts = normalise(parts)
    part_u = np.full(len(text), "", dtype=object)
    part_u[rows] = parts.where(parts != normalise(text.iloc[rows]).to_numpy(), "").to_numpy()
    phrase_u |= corpus(b.distinct_text).hits(VAGUE_WHOLE)
    short = lengths <= WORD_CHARS * int(min_words.max(initial=0))
    norm = normalise(text[short])
    words_u = np.full(len(text), np.iinfo(np.int64).max, dtype=np.int64)
    words_u[short] = (norm.str.count(" ") + (norm != "")).to_numpy()
    few = np.flatnonzero(words_u < min_words.max(initial=0))
    if len(few):  # "Attend auction", "Calendar deadlines": the verb is the act
        acts = normalise(text.iloc[few]).str.match(ACT_AND_OBJECT).to_numpy(dtype=bool)
        # ... and a clerical act says what was done however named ("Docketing", "prebill
        # rvw"): ADMIN_TASK reports it, and whether it is billable is that rule's question
        acts = acts | corpus(b.distinct_text).hits(ADMIN)[few]  # the scan ADMIN_TASK shares
        words_u[few[acts]] = np.iinfo(np.int64).max
    phrase, words = b.per_row(phrase_u), b.per_row(words_u)
    bad = phrase | (words < min_words)
    if not bad.any():
        return None
    index = b.frame.index[bad]
    sub_text = b.text[bad].str.strip()
    quoted = "The narrative '" + sub_text.str.slice(0, 60) + "'"
    too_short = (quoted + " is too short (" + pd.Series(words[bad], index=index).astype(str)
                 + " words, fewer than " + pd.Series(min_words[bad], index=index).astype(str)
                 + ") to say what was done")
    part = pd.Series(b.per_row(part_u)[bad], index=index)
    says_nothing = (quoted + " does not say what was done").where(
        part == "", quoted + " does not say what was done in '" + part + "'")
    message = says_nothing.where(pd.Series(phrase[bad], index=index), too_short)
    message = message.where(sub_text != "", "The narrative is blank")
    return found(bad, message, field="narrative",
                 suggestion="Say what was done, on what and why (e.g. 'Review defendant's motion "
                            "to dismiss and outline response')")


def _sent_for_signature(texts: Corpus):
    """For :meth:`Corpus.first`: ADMIN's matches that count -- all but the words for signature
    (:data:`SENT_FOR_SIGNATURE`) where no verb of sending governs them."""
    def kept(rows: np.ndarray, matches: list[re.Match]) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        marked = np.flatnonzero([_FOR_SIGNATURE.fullmatch(m.group(0)) is not None
                                 for m in matches])
        if len(marked):
            keep[marked] = texts.texts(rows[marked]).str.contains(SENT_FOR_SIGNATURE).to_numpy(
                dtype=bool)
        return keep
    return kept


def admin_findings(b: Batch) -> pd.DataFrame | None:
    """ADMIN_TASK: clerical work, by the narrative's words in context or by activity code A110
    (manage data and files) on a narrative that does not start with legal work."""
    texts = corpus(b.distinct_text)
    rows, what = texts.first(ADMIN, kept=_sent_for_signature(texts))
    what_u = np.full(len(texts), "", dtype=object)
    what_u[rows] = what.str.strip(" ;,:./\n").to_numpy()
    by_text = b.per_row(what_u != "")
    talk = by_text.copy()  # the codes of the rows found by their words only (an isin is slow)
    talk[by_text] = b.frame["activity_code"][by_text].isin(COMMUNICATION_ACTIVITIES).to_numpy(
        dtype=bool)
    if talk.any():  # ... but a paralegal or clerk setting up a call is doing clerical work
        talk[talk] = ~_classification(b, talk).isin(STAFF_CLASSES).to_numpy(dtype=bool)
    if talk.any():  # a call with the client (A106) set up in the call is not clerical
        ids = np.unique(b.per_row(np.arange(len(texts)))[talk])
        other_u = np.ones(len(texts), dtype=bool)
        talked = texts.texts(ids)
        other_u[ids] = (talked.str.contains(ADMIN_UNLESS_COMMUNICATION)
                        | talked.str.contains(SENT_FOR_SIGNATURE)).to_numpy(dtype=bool)
        by_text &= ~talk | b.per_row(other_u)
    coded = (b.frame["activity_code"] == ADMIN_ACTIVITY).fillna(False).to_numpy(dtype=bool)
    by_code = coded & ~by_text
    if by_code.any():  # on the coded rows only: does the narrative start with legal work?
        ids = np.unique(b.per_row(np.arange(len(texts)))[by_code])
        legal_u = np.zeros(len(texts), dtype=bool)
        legal_u[ids] = texts.texts(ids).str.contains(SUBSTANTIVE).to_numpy(dtype=bool)
        by_code &= ~b.per_row(legal_u)
    bad = by_text | by_code
    if not bad.any():
        return None
    what = pd.Series(b.per_row(what_u)[bad], index=b.frame.index[bad])
    message = ("The narrative describes clerical work ('" + what + "'), which clients do not "
               "pay for").where(what != "", "Activity code A110 (manage data and files) marks "
                                            "clerical work, which clients do not pay for")
    return found(bad, message, field="narrative",
                 suggestion="Mark the entry non-billable, or say what legal work was involved")


def internal_findings(b: Batch) -> pd.DataFrame | None:
    """INTERNAL_CONFERENCE: a conference inside the firm, by the narrative (the other party is
    a colleague; for a paralegal or clerk, 'the attorney' too) or by activity code A105; not on
    an entry already marked non-billable."""
    texts = corpus(b.distinct_text)
    other = texts.named_hits(INTERNAL)  # '' a colleague; 'staff' or 'initials' to check
    by_text = b.per_row(other.get("", np.zeros(len(texts), dtype=bool)))
    # a paralegal's or clerk's conference with "the attorney"
    staff_u = other.get("staff")
    if staff_u is not None:
        staff = b.per_row(staff_u) & ~by_text
        if staff.any():  # the class of those rows only
            staff[staff] = _classification(b, staff).isin(STAFF_CLASSES).to_numpy(dtype=bool)
            by_text |= staff
    # someone of our firm, in a conference
    ours_u = other.get("ourfirm")
    if ours_u is not None:
        ids = np.flatnonzero(ours_u)
        ours_u[ids] = texts.texts(ids).str.contains(OF_OUR_FIRM).to_numpy(dtype=bool)
        by_text |= b.per_row(ours_u)
    # initials in capitals, as written
    initials_u = other.get("initials")
    if initials_u is not None:
        ids = np.flatnonzero(initials_u)
        initials_u[ids] = b.distinct_text.iloc[ids].str.contains(INITIALS).to_numpy(dtype=bool)
        by_text |= b.per_row(initials_u)
    by_code = (b.frame["activity_code"] == INTERNAL_ACTIVITY).fillna(False).to_numpy()
    bad = by_text | by_code
    if "billable" in b.frame:  # already marked non-billable: nothing is charged for it
        bad &= b.frame["billable"].fillna(True).to_numpy(dtype=bool)
    if not bad.any():
        return None
    message = pd.Series(np.where(by_text[bad], "The narrative describes a conference inside the firm",
                                 "Activity code A105 (communicate in firm) marks a conference "
                                 "inside the firm"), index=b.frame.index[bad])
    return found(bad, message, field="narrative",
                 suggestion="Check the client's guidelines allow internal conferences; if not, "
                            "mark it non-billable or bill only one attendee")


def _classification(b: Batch, rows: np.ndarray | None = None) -> pd.Series:
    """Each row's timekeeper classification (of the rows ``rows`` marks, if given): the
    ledger's, else the file's ``timekeeper_class`` (blank where neither says)."""
    frame = b.frame if rows is None else b.frame[rows]
    from_file = frame.get("timekeeper_class")
    ctx = b.context
    if ctx is not None and ctx.timekeepers is not None and "classification" in ctx.timekeepers:
        known = lookup(frame["timekeeper_id"], ctx.timekeepers, "timekeeper_id",
                       "classification")
        return known if from_file is None else known.fillna(from_file.astype(object))
    if from_file is None:
        return pd.Series(pd.NA, index=frame.index, dtype=object)
    return from_file.astype(object)
