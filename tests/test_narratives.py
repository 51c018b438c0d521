"""The narrative rules read in context (VAGUE, ADMIN_TASK, BLOCK_BILLING, INTERNAL_CONFERENCE).

Each case is a phrase and what should fire on it, chosen where a single word would decide
wrongly: "schedule" as a verb or as a thing, "partner" in the firm or at the client's auditor,
"and" joining two kinds of work or two steps of one, a call with or without a subject, the
UTBMS activity code and the timekeeper's class. Then the independent narrative set
(tests/data/narratives_eval): the figures on its held-out half, the rules never having been
tuned on that half.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billxl.rules import check_entries, narratives
from billxl.rules.evaluation import (
    DEVELOPMENT,
    HELD_OUT,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
    HELD_OUT_5,
    HELD_OUT_HALVES,
    MAIN_NARRATIVE_RULES,
    NARRATIVE_PRECISION_GOAL,
    NARRATIVE_RECALL_GOAL,
    labelled_entries,
    labelled_parts,
    narrative_scores,
    split_halves,
)

EVAL_SET = Path(__file__).parent / "data" / "narratives_eval" / "narratives.csv"
V, A, B, IC = "VAGUE", "ADMIN_TASK", "BLOCK_BILLING", "INTERNAL_CONFERENCE"


def fired(*cases: tuple[str, str, str]) -> list[set[str]]:
    """The main narrative rules that fire on each (narrative, timekeeper class, activity code)."""
    rows = pd.DataFrame([{"id": f"C{i}", "narrative": text, "timekeeper_class": klass,
                          "activity_code": code, "hours": "1.0", "task_code": "", "labels": ""}
                         for i, (text, klass, code) in enumerate(cases)])
    findings = check_entries(labelled_entries(rows)).findings
    mine = findings[findings["rule"].isin(MAIN_NARRATIVE_RULES)]
    return [set(mine.loc[mine["entry_id"] == f"C{i}", "rule"]) for i in range(len(cases))]


CASES = [
    # ---- the verb governs: "schedule" as an act, or as a thing
    ("Schedule examiner interview", "ASSOC", "", {A}),
    ("Schedule deposition of plaintiff's treating physician", "PARLGL", "", {A}),
    ("Prepare disclosure schedules to the SPA", "ASSOC", "", set()),
    ("Draft witness schedule for trial, estimating direct and cross times", "ASSOC", "", set()),
    ("Review title commitment Schedule B-II exceptions", "ASSOC", "", set()),
    ("Analyze scheduling of payments under the settlement agreement", "ASSOC", "A104", set()),
    ("Attend Rule 16 scheduling conference before Judge Kim", "PARTNR", "A109", set()),
    ("Drafting Tomlin Order and schedule of settlement terms", "ASSOC", "", set()),
    ("Calendar IRS response deadline", "ASSOC", "", {A}),
    # ---- the subject: the firm's own bill, not invoices as evidence
    ("Answer client's billing question about the September invoice", "PARTNR", "", {A}),
    ("Review and revise prebill for October", "PARTNR", "", {A}),
    ("Checking and approving bill for April", "PARTNR", "", {A}),
    ("Review defendant's billing records produced in discovery", "ASSOC", "A104", set()),
    ("Draft motion to compel production of invoices withheld on relevance grounds", "ASSOC",
     "A103", set()),
    ("Review invoices from target's top vendors to confirm assignment restrictions", "ASSOC",
     "", set()),
    # ---- filing: the clerical step, not the legal analysis of a filing
    ("File UCC-1 financing statement with Delaware Secretary of State", "PARLGL", "", {A}),
    ("E-file answer to amended complaint via CM/ECF", "PARLGL", "A110", {A}),
    ("Analyze HSR filing requirements for the acquisition", "ASSOC", "", set()),
    ("Review file history of the '123 patent for prosecution disclaimer", "ASSOC", "", set()),
    ("Draft memorandum of lease for recording in Cook County", "ASSOC", "", set()),
    ("Send deed and mortgage to county for recording", "PARLGL", "", {A}),
    # ---- binders and bundles put together, not an insurance binder
    ("Assemble trial binders for Judge and opposing counsel", "PARLGL", "A110", {A}),
    ("Prepare trial bundles for court and opponents", "PARLGL", "", {A}),
    ("Review R&W insurance binder agreement and summarize retention", "ASSOC", "", set()),
    ("Send documents to printer and assemble binders", "PARLGL", "", {A}),
    # ---- the UTBMS activity code
    ("Upload opposing production to review platform and confirm load file", "PARLGL", "A110",
     {A}),
    ("Update on expert schedule", "ASSOC", "A105", {IC}),
    ("Call with client to schedule prep session for deposition", "PARTNR", "A106", set()),
    ("Call with client to schedule prep session for deposition", "PARTNR", "", {A}),
    ("Email OC to schedule deposition of Smith", "ASSOC", "A107", set()),
    # ---- the other party of a call or meeting
    ("Conference w/ partner re 409A analysis", "ASSOC", "", {IC}),
    ("Call w/ benefits associate re 280G analysis", "ASSOC", "", {IC}),
    ("Confer with antitrust partner re HSR timing", "PARTNR", "", {IC}),
    ("Meeting with corporate team re comments on disclosure schedules", "ASSOC", "", {IC}),
    ("Discuss w/ RMK re expert report", "ASSOC", "", {IC}),
    ("Call with partner at client's outside auditor re revenue recognition", "PARTNR", "A108",
     set()),
    ("Call with client's HR business partner re termination documentation", "PARTNR", "A106",
     set()),
    ("Call with client's associate general counsel re arbitration clause", "ASSOC", "A106",
     set()),
    ("Call with OC's associate re exhibit list for Monday's deposition", "ASSOC", "A107", set()),
    ("Meeting with client's deal team and bankers re bid strategy", "PARTNR", "", set()),
    ("Conference with Counsel (Mr Adeyemi) re drafting of amended Particulars", "PARTNR", "",
     set()),
    ("Travel to and from agency offices for meeting with CFPB staff", "ASSOC", "", set()),
    ("Call w/ OC re search terms for custodians", "ASSOC", "A107", set()),
    # ---- the timekeeper's class: a paralegal's "attorney" is the firm's
    ("Conference with attorney re exhibit list", "PARLGL", "", {IC}),
    ("Conference with attorney re exhibit list", "ASSOC", "", set()),
    # ---- a communication with or without a subject
    ("Emails with client", "ASSOC", "A106", {V}),
    ("Emails with client re terms of indemnity cap in draft APA", "ASSOC", "A106", set()),
    ("T/c w/ OC", "ASSOC", "A107", {V}),
    ("Call with client re status", "PARTNR", "A106", {V}),
    ("Call with client regarding settlement authority before mediation", "PARTNR", "A106",
     set()),
    ("Conference with technical expert Dr. Reyes re non-infringement opinion", "ASSOC", "A108",
     set()),
    ("T/c w/ cl. re received settlement offer and authority to counter", "ASSOC", "A106", set()),
    ("Work on discovery", "ASSOC", "A104", {V}),
    ("Review documents in data room", "ASSOC", "", {V}),
    ("Review produced documents for privilege and responsiveness", "PARLGL", "A104", set()),
    ("Internal team meeting", "PARTNR", "", {V, IC}),
    ("Office conference with R. Lee", "ASSOC", "A105", {V, IC}),
    ("Prepare for hearing", "PARTNR", "", {V}),
    ("Prepare for hearing on motion for preliminary injunction", "PARTNR", "", set()),
    # ---- block billing: two kinds of work, or two steps of one
    ("Draft opposition to motion to compel; research proportionality; call with client re "
     "burden declaration", "ASSOC", "", {B}),
    ("Prepare for and attend deposition of plaintiff Dana Whitfield", "ASSOC", "A101", {B}),
    ("Travel to and attend hearing in Wilmington on preliminary injunction", "PARTNR", "", {B}),
    ("Revise opposition brief and finalize and file same", "ASSOC", "A103", {A, B}),
    ("Draft motion to compel / meet and confer w/ OC / revise proposed order", "ASSOC", "", {B}),
    ("Various calls and emails re deal", "ASSOC", "", {V, B}),
    ("Draft and revise motion to dismiss for lack of personal jurisdiction", "ASSOC", "", set()),
    ("Draft, revise and finalize interrogatories", "ASSOC", "", set()),
    ("Review OC's letter re document preservation and draft response", "ASSOC", "", set()),
    ("Review damages expert report of Dr. Lin; identify assumptions on lost profits", "ASSOC",
     "", set()),
    ("Search county court records for prior lawsuits against defendant trucking co. and "
     "summarize results", "PARLGL", "A104", set()),
    ("Meet and confer call with OC re ESI search terms and date ranges", "ASSOC", "A107", set()),
    ("Revise SPA to reflect agreed positions on escrow, survival periods, non-compete and "
     "purchase price adjustment", "ASSOC", "", set()),
    # ---- whatever follows "prepare for and" is the event prepared for
    ("Prepare for and argue motion for summary judgment before Judge Park", "PARTNR", "", {B}),
    ("Prep for and defend deposition of client's CFO", "ASSOC", "", {B}),
    ("Review guarantee signed for and on behalf of the parent company", "ASSOC", "", set()),
    # ---- 'and' then telling someone is a second task, not when it is a thing of theirs
    ("Revise lease abstract and update client on renewal deadlines", "ASSOC", "", {B}),
    ("Revise lease abstract and update client's lease tracker", "ASSOC", "", set()),
    ("Prepare Form 8832 and fax to IRS service center", "ASSOC", "", {A, B}),
    # ---- a short narrative: a verb that is the act says what was done
    ("Attend arraignment", "ASSOC", "A109", set()),
    ("Attend meeting", "ASSOC", "A109", {V}),
    ("Docket deadlines", "PARLGL", "", {A}),
    ("Review indenture", "ASSOC", "", {V}),
    # ---- after 'and', a discussion is about what the clause before names
    ("Review draft reply brief and discuss with supervising partner", "ASSOC", "", {B, IC}),
    ("Review draft reply brief and call with partner", "ASSOC", "", {V, IC, B}),
    ("Telephone attendance on client", "ASSOC", "", {V}),
    ("Attending to licensing matters", "ASSOC", "", {V}),
    ("Miscellaneous discovery issues", "ASSOC", "", {V}),
    ("Letter to chambers enclosing agreed order", "ASSOC", "", {A}),
    # ---- sending, signing and funding mechanics, by what is sent and how
    ("Send release to opposing counsel via DocuSign", "ASSOC", "A107", {A}),
    ("Circulate settlement agreement to all parties for signature", "ASSOC", "A107", {A}),
    ("Finalize settlement agreement for signature", "ASSOC", "", set()),
    ("Coordinate wire transfers with escrow agent", "ASSOC", "", {A}),
    ("Advise client re obtaining funding for the acquisition", "PARTNR", "", set()),
    ("Serve claim form on defendant by first class post", "OTHER", "", {A}),
    ("Emails with mediator's case manager re logistics", "ASSOC", "", {A}),
    ("Respond to client's questions about October invoice", "PARTNR", "A106", {A}),
    ("Respond to client's questions about the indemnity invoice mechanics in SPA", "PARTNR",
     "A106", set()),
    ("Grant bidders access to the virtual data room", "ASSOC", "", {A}),
    ("Assemble produced documents into production volumes", "PARLGL", "", {A}),
    ("Order title commitment for Parcel 4", "PARLGL", "", {A}),
    ("Preparing claim form and filing at court", "OTHER", "", {A, B}),
    # ---- a paralegal setting up a call is clerical, whatever the activity code
    ("Arrange conference call with client and expert", "PARLGL", "A108", {A}),
    ("Arrange conference call with client and expert", "ASSOC", "A108", set()),
    # ---- internal: a second practice word, 'assoc', 'mtg', an internal e-mail as the activity
    ("Conference with IP litigation group re enforcement strategy", "ASSOC", "", {IC}),
    ("Conf w/ assoc re cross-examination outline", "PARTNR", "", {IC}),
    ("Mtg w/ associates re second request workplan", "ASSOC", "", {IC}),
    ("Internal email re deposition outline for Smith", "ASSOC", "", {IC}),
    ("Review defendant's internal emails re pricing decisions", "ASSOC", "", set()),
    # ---- (third development batch) a narrative of generic words only is vague, however
    # they are combined; one word that names something is enough
    ("Further analysis of issues re motion", "ASSOC", "", {V}),
    ("Revisions and comments per discussion", "ASSOC", "", {V}),
    ("Follow up on pending items with client", "ASSOC", "", {V}),
    ("Coverage issues", "ASSOC", "", {V}),
    ("Review and comment on lender's draft guaranty", "ASSOC", "", set()),
    # a bare "re strategy" names no subject (fourth held-out set's development half)
    ("Meeting with partner re strategy", "ASSOC", "", {IC, V}),
    ("Meeting with partner re strategy for the Daubert motion", "ASSOC", "", {IC}),
    # ---- (fourth held-out set's development half) clerical steps in other words, times of
    # day, the whole matter as a subject, work on the train, a colleague further along
    ("Check conflicts on prospective client Harlow Foods", "ASSOC", "", {A}),
    ("Set up 9:30 call with client's marketing director for Thursday", "ASSOC", "", {A}),
    ("Sched. expert eval appt w/ Dr. Moss's office", "LGLAST", "", {A}),
    ("Obtain sealed copy of the order from the registry", "ASSOC", "", {A}),
    ("Place statutory notices in the London Gazette", "ASSOC", "", {A}),
    ("Place two print ads for the PERM recruitment", "PARLGL", "", {A}),
    ("Enter caveat at the probate registry", "ASSOC", "", {A}),
    ("Registration of charge over the vessel at the flag registry", "ASSOC", "", {A}),
    ("Review and approve our interim invoice to the trustees", "PARTNR", "", {A}),
    ("Trustees' queries re our fees", "ASSOC", "", {A}),
    ("Instruct the sheriff to serve the summons", "OTHER", "", {A}),
    ("Attendance at the Master's office to lodge the bond", "ASSOC", "", {A}),
    ("Pay visa application fee and health surcharge online", "ASSOC", "", {A}),
    ("Send bank statements to translator", "PARLGL", "", {A}),
    ("Calls re arbitration", "ASSOC", "", {V}),
    ("Email client re the proceedings", "ASSOC", "", {V}),
    ("4 pm tax team check-in", "ASSOC", "", {IC, V}),
    ("Spoke with associate about the Harlow file", "PARTNR", "", {IC, V}),
    ("Drafting defence; attendance on client telephonically", "ASSOC", "", {B, V}),
    ("Travel to Leeds for hearing; read Counsel's skeleton on the train", "ASSOC", "", {B}),
    ("Check with partner re disclosure timetable", "ASSOC", "", {IC}),
    # what a clerical step made, sent on, is the same clerical task; after legal work, another
    ("Scanned closing docs and emailed them to lender", "LGLAST", "", {A}),
    ("Scan executed signature pages and forward same to buyer's counsel", "PARLGL", "", {A}),
    ("Draft motion to stay and email it to client", "ASSOC", "", {B}),
    ("Check compliance with the partnership agreement", "ASSOC", "", set()),
    ("Attend case conference before the Registrar re directions", "ASSOC", "", set()),
    ("Open new matter", "PARTNR", "", {A}),
    ("Mail letter to client", "LGLAST", "", {A}),
    ("Matter admin", "ASSOC", "B110", {V}),
    # a colon does not end a vague clause: what follows says what the preparation was
    ("Prepare for hearing: outline argument on the proportionality factors", "PARTNR", "A101",
     set()),
    # ---- block billing: a second task after 'and'; a clause that goes on with the one before
    ("Revise asset purchase agreement and review seller's disclosure schedules", "ASSOC", "",
     {B}),
    ("Draft reply brief and prepare for oral argument", "ASSOC", "", {B}),
    ("Summarize deposition of K. Ruiz; begin drafting motion in limine", "ASSOC", "", {B}),
    ("Review lender's comments on credit agreement; revise accordingly", "ASSOC", "", set()),
    ("Draft answer to counterclaim; revise per partner's comments", "ASSOC", "", set()),
    ("Analyze claims of '456 patent against accused device; prepare claim chart", "ASSOC", "",
     set()),
    ("Analyze claims of '456 patent against accused device; prepare outline for deposition of "
     "inventor", "ASSOC", "", {B}),
    ("E-file motion to seal and serve same on all counsel", "PARLGL", "", {A}),
    ("Attend day 2 of arbitration hearing: cross-examine respondent's CFO; argue objection to "
     "exhibit 14", "PARTNR", "A109", set()),
    ("Trial prep: outline cross of Dr. Ames; meet with client's CFO re direct", "ASSOC", "", {B}),
    ("Update matter index and review pre-bill for November", "PARLGL", "", {A}),
    # ---- clerical by the subject and the governing verb
    ("Review expert's engagement letter for the fee cap", "ASSOC", "", set()),
    ("Draft engagement letter for new client", "PARTNR", "", {A}),
    ("Review court's standing order on courtesy copies", "ASSOC", "", set()),
    ("Review produced calendar invites for meetings with distributor", "ASSOC", "", set()),
    ("Send calendar invite for witness prep session", "PARLGL", "", {A}),
    ("Pay filing fee for notice of appeal", "PARLGL", "", {A}),
    ("Request records from hospital custodian", "PARLGL", "", {A}),
    ("Draft request for production of hospital records", "ASSOC", "", set()),
    # ---- internal: the colleague as the object of the call, an e-mail from one, escalating
    ("Call associate re research on tolling", "PARTNR", "", {IC}),
    ("Call client's associate general counsel re hold notice", "ASSOC", "", set()),
    ("Email from senior associate re edits to brief", "PARTNR", "", {IC}),
    ("Escalate privilege questions to supervising partner", "ASSOC", "", {IC}),
    ("Attendance on colleague re disclosure list", "ASSOC", "", {IC}),
    ("Confer with lit support re load file specifications", "ASSOC", "", {IC}),
    # ---- the fourth development batch: clipped words, UK attendances, a generic object
    ("Tel. att. client", "OTHER", "", {V}),
    ("Tel. att. Counsel re merits of the appeal", "OTHER", "", set()),
    ("Attn to corresp.", "ASSOC", "", {V}),
    ("Prep for hrg", "PARTNR", "", {V}),
    ("Office conf. w/ KLM", "ASSOC", "", {V, IC}),
    ("Discussing matter with supervisor", "OTHER", "", {V, IC}),
    ("Review zoning materials", "ASSOC", "", {V}),
    ("Review docs from lender's counsel", "ASSOC", "", {V}),
    ("Closing call: review final documents, coordinate wires with escrow agent", "ASSOC", "",
     {A, B}),
    ("Consider issues raised", "ASSOC", "", {V}),
    ("Look into issue", "ASSOC", "", {V}),
    ("Research and strategy", "ASSOC", "", {V}),
    ("Confer with partner regarding motion strategy and next steps", "ASSOC", "", {IC}),
    ("Review recent filings on docket", "ASSOC", "", {V}),
    ("Call w/ client, auditors re: revenue recognition memo", "ASSOC", "", set()),
    ("Sched. t/c w/ OC re: depo dates", "PARLGL", "", {A}),
    ("Cal. hearing dates", "PARLGL", "", {A}),
    ("Reschedule site inspection", "PARLGL", "", {A}),
    ("Coordinate videographer for Ames deposition", "PARLGL", "", {A}),
    ("Compile sig pages for closing", "PARLGL", "", {A}),
    ("Recording of deed of trust with county recorder", "PARLGL", "", {A}),
    ("Review recording of the board meeting for the minutes dispute", "ASSOC", "", set()),
    ("Prepare write-offs on the October bill", "PARTNR", "", {A}),
    ("Advise client re: filing deadlines for Form 10-K", "ASSOC", "", set()),
    ("Research admissibility of photocopies of lost will", "ASSOC", "", set()),
    ("Emails with docketing department re missed deadline report", "ASSOC", "", {IC}),
    ("Meet w/ lit support re: loading vendor production to database", "ASSOC", "", {IC}),
    ("Tel. att. supervising partner re costs budget", "OTHER", "", {IC}),
    ("Compare accused device to claims 1-4; update infringement chart", "ASSOC", "", set()),
    ("Tel. conf. w/ client re whether to serve the offer", "PARTNR", "", set()),
    ("Letter in, considered", "OTHER", "", {V}),
    ("Review estoppel certificate; calls", "ASSOC", "", {B, V}),
    ("Attend hearing; post-hearing call w/ client re: ruling on fees", "PARTNR", "", {B}),
    ("Prepare assignment, and record assignment with USPTO", "ASSOC", "", {B, A}),
    ("Draft closing memo and circulate execution copies", "ASSOC", "", {B, A}),
    ("Revise offer letter and send to client for review", "ASSOC", "", {B}),
    # the '.' of a clipped word ends no clause: the call of "Conf. call" is the conference
    ("Conf. call w/ damages expert re: discount rate in rebuttal report", "ASSOC", "", set()),
    ("Misc. emails with client", "ASSOC", "", {V}),
    ("Attn to corresp.", "ASSOC", "", {V}),
    # a patent's file history is a record, not a filing
    ("Review '552 patent and file wrapper for prosecution disclaimer", "ASSOC", "", set()),
    ("Finalize reply brief and file same", "ASSOC", "", {B, A}),
    ("Settle claim form and particulars and issuing", "OTHER", "", {B, A}),
    # what a review yields, for whom it is: one task; a result with an object of its own: two
    ("Review lessor's title report; prepare objections for client", "ASSOC", "", set()),
    ("Analyze redlined credit agreement; draft recommendation to the deal team", "ASSOC", "",
     set()),
    ("Review audit letter response; prepare summary of pending claims", "ASSOC", "", {B}),
    # word of a clerical step just taken is the same clerical task
    ("Diarise limitation date; send reminder to client", "OTHER", "", {A}),
    ("Revise APA; send reminder to client re signature pages", "ASSOC", "", {B}),
    # word left, of nothing; an attendance on a colleague with no subject; whose message only
    ("Left voicemail for OC", "ASSOC", "", {V}),
    ("Leave message w/ client re status", "PARTNR", "", {V}),
    ("Left message for client re revised closing date", "ASSOC", "", set()),
    ("Telephone attendance on colleague", "OTHER", "", {V, IC}),
    ("Attendance on client re status", "OTHER", "", {V}),
    ("Read opposing counsel's email and respond", "ASSOC", "", {V}),
    ("Read opposing counsel's email re privilege log deficiencies", "ASSOC", "", set()),
    # keeping the company's statutory books is clerical; arranging a con is scheduling
    ("Update register of directors and statutory registers", "PARLGL", "", {A}),
    ("Update risk register for client's compliance programme", "ASSOC", "", set()),
    ("Email Counsel's clerk to arrange con", "OTHER", "", {A}),
    # the write-up of what was just researched is the same task, whatever it is for
    ("Research standing of assignee to enforce guaranty; draft insert for reply brief", "ASSOC",
     "", set()),
    ("Analyze prior art search results; prepare patentability opinion for client", "ASSOC", "",
     set()),
    ("Review deposition transcript; draft motion for sanctions", "ASSOC", "", {B}),
    # OPC is opposing counsel, not a colleague's initials
    ("T/c w/ OPC's associate re: dates for site inspection", "ASSOC", "", set()),
    ("Misc. admin.", "PARLGL", "", {A, V}),
    ("Number pages of trial bundle", "PARLGL", "", {A}),
    # a verb and a document the matter has one of is not too short (rule 9); one of many is
    ("Finalize SPA", "ASSOC", "", set()),
    ("Review answer", "ASSOC", "", set()),
    ("Review motion", "ASSOC", "", {V}),
    ("Review lease", "ASSOC", "", {V}),
    # "re same" with nothing before it in the entry is about nothing (an entry stands alone)
    ("Call w/ client re: same", "ASSOC", "", {V}),
    ("Revise lease; call w/ client re same", "ASSOC", "", {B}),
    # after 'and', a call or e-mail to someone with no subject (rule 7), 'with' or not
    ("Revise disclosure letter and email client", "ASSOC", "", {B, V}),
    ("Revise disclosure letter and email client re warranty cap", "ASSOC", "", {B}),
    # research on a topic of a word or two asks no question; a question is a subject
    ("Legal research re: indemnity clause", "ASSOC", "", {V}),
    ("Researched on arbitrability.", "ASSOC", "", {V}),
    ("Research re whether the arbitration clause survives termination", "ASSOC", "", set()),
    ("Research into successor liability of asset purchaser under NY law", "ASSOC", "", set()),
    ("Follow-up re: lease renewal", "ASSOC", "", {V}),
    ("F/u on signature pages.", "PARLGL", "", {V}),
    ("Follow up with OC re missing exhibits to Ortiz deposition", "ASSOC", "", set()),
    # a service booked is clerical whatever the code of the call it serves; the call's own
    # scheduling, by a lawyer on the call's code, is part of the call
    ("Schedule videographer for Ortiz deposition", "ASSOC", "A108", {A}),
    ("Email OC to schedule Ortiz deposition", "ASSOC", "A107", set()),
    # closing the file is firm administration, as opening it is; a closing set is not
    ("Closed client file and archived", "PARLGL", "", {A}),
    ("Review file history of the '482 patent", "ASSOC", "", set()),
    # searches asked of a registry or search company are clerical; a search made is work
    ("Environmental and drainage search requests for Plot 7", "OTHER", "", {A}),
    ("Requested UCC searches against borrower in Delaware", "PARLGL", "", {A}),
    ("Conduct prior art search on wireless charging coil claims", "ASSOC", "", set()),
    # a call or meeting named by whose it is, or by its group, says nothing of what it was about
    ("Weekly corporate team call", "ASSOC", "", {V, IC}),
    ("Litigation team stand-up", "ASSOC", "", {V, IC}),
    ("Daily team standup re trial exhibits", "ASSOC", "", {IC}),
    ("Call with colleague in the employment group", "ASSOC", "", {V, IC}),
    ("Call with colleague in employment re TUPE transfer", "ASSOC", "", {IC}),
    ("Call with partner at opposing firm re settlement", "PARTNR", "", set()),
    ("Attended client meeting", "ASSOC", "", {V}),
    ("Attend status conference before Judge Ortiz", "ASSOC", "", set()),
    # the clipped and other ways of writing a message, a voicemail or an attendance
    ("Lvm for opposing counsel", "ASSOC", "", {V}),
    ("ltr to OS", "ASSOC", "", {V}),
    ("tel w/ client", "ASSOC", "", {V}),
    ("Attendance upon client", "OTHER", "", {V}),
    ("Answer to the email of the client", "ASSOC", "", {V}),
    ("Reply to the letter of OC re disclosure", "ASSOC", "", set()),
    ("Status report to carrier", "ASSOC", "", {V}),
    ("Status report to carrier re mediation outcome", "ASSOC", "", set()),
    ("Study of the papers", "ASSOC", "", {V}),
    ("Discussed w/ associate re: approach", "ASSOC", "", {V, IC}),
    ("Emails re: deal status", "ASSOC", "", {V}),
    # more than one name before the subject is still the party
    ("Letters to OS, Counsel and client re adjournment", "ASSOC", "", set()),
    # a clerical act says what was done however few its words: ADMIN_TASK, not too short;
    # generic words say nothing however short ("Case admin", "Misc admin")
    ("Docketing", "PARLGL", "", {A}),
    ("Review prebill", "ASSOC", "", {A}),
    ("Misc admin", "PARLGL", "", {A, V}),
    ("Case admin", "PARLGL", "", {V}),
    # clerical acts as other writers name them: copies made, fair copies engrossed, time and
    # post logged, papers sent by courier or taken to the recorder, the deadline list kept
    ("Making copies of deposition exhibits for the court", "PARLGL", "", {A}),
    ("Engrossing the deed of variation", "OTHER", "", {A}),
    ("Logged time in matter tracker", "ASSOC", "", {A}),
    ("Logged incoming post in the correspondence database", "OTHER", "", {A}),
    ("Reviewed entries in the privilege log", "ASSOC", "", set()),
    ("Sent executed deed to courier for delivery", "PARLGL", "", {A}),
    ("Took filing to the recorder's office", "PARLGL", "", {A}),
    ("Sending of the forms to the trade mark office", "ASSOC", "", {A}),
    ("Update list of procedural deadlines", "ASSOC", "", {A}),
    ("Prepare list of deadlines under the scheduling order", "ASSOC", "", set()),
    ("Preparing tender bundle", "OTHER", "", {A}),
    ("upd dataroom idx", "ASSOC", "", {A}),
    ("Called title company to set up a time for closing", "PARTNR", "", {A}),
    # the firm's own bill, in the noun forms, queried or explained
    ("Preparation of invoice for the client", "ASSOC", "", {A}),
    ("Email Counsel's clerk re fee note query", "ASSOC", "", {A}),
    ("Explained the charges to the client", "PARTNR", "", {A}),
    ("Explained the tax charges on the share sale to the client", "PARTNR", "", set()),
    # the firm's own people, named as such
    ("Discussion with Mr. Haruki of our firm about the claims amendment", "ASSOC", "", {IC}),
    ("Call with J. Smith of opposing firm re dates", "ASSOC", "", set()),
    ("Review memo by Dr. Ito of our firm on the claims amendment", "ASSOC", "", set()),
    # papers served or circulated are clerical (rules 3 and 10); what is written is not
    ("Emailed initial disclosures to opposing counsel", "ASSOC", "A107", {A}),
    ("Emailed comments on draft APA to opposing counsel", "ASSOC", "A107", set()),
    ("Sent executed documents to client and lender", "ASSOC", "", {A}),
    ("Sent draft documents to client for review", "ASSOC", "", set()),
    ("Sending notices of meeting to creditors", "OTHER", "", {A}),
    ("Draft notice of meeting to creditors", "ASSOC", "", set()),
    ("Prepared statement of costs for the firm's interim bill", "OTHER", "", {A}),
    # "then" with no separator before it starts the next task; "and then" joins steps
    ("Called client about the lease then emailed landlord's attorney about the rent", "PARTNR",
     "", {B}),
    ("Draft and then revise motion to dismiss", "ASSOC", "", set()),
    # colleagues named by their practice, sessions with associates; a group's training is not
    ("Confer with state and local tax colleague re nexus", "ASSOC", "", {IC}),
    ("Attending on corporate tax colleague re stamp duty", "ASSOC", "", {IC}),
    ("Moot court session with associates C. Dorn and E. Lai", "PARTNR", "", {IC}),
    ("Prep session with client for deposition", "ASSOC", "", set()),
    ("Attended tax group training on Pillar Two", "ASSOC", "", set()),
    # reading or drafting one of the many papers of a matter, and nothing to say which (rule 9);
    # a word saying which kind is a subject; inside a longer entry the others say which
    ("Perusal of the lease", "ASSOC", "", {V}),
    ("Drafting of the agreement", "ASSOC", "", {V}),
    ("Rvw ct order", "ASSOC", "", {V}),
    ("Review docket filings", "PARLGL", "", {V}),
    ("Reviewing transcripts.", "ASSOC", "", {V}),
    ("Review license agreement", "ASSOC", "", set()),
    ("Review scheduling order", "ASSOC", "", set()),
    ("Review lease; draft estoppel certificate; email landlord's counsel re SNDA form", "ASSOC",
     "", {B}),
    ("Emailed my assistant re the closing", "PARTNR", "", {IC}),
    ("Instructions to trainee re completion", "ASSOC", "", {IC}),
    # a numbered list's items are its tasks; items under a heading are the heading's steps
    ("(1) draft objection to stay motion; (2) call w/ debtor's CFO re equity cushion", "ASSOC",
     "", {B}),
    ("(i) call w/ FCC staff re waiver request; (ii) internal debrief w/ associates", "PARTNR", "",
     {B, IC}),
    ("Depo prep: (a) outline for CFO; (b) exhibit selection; (c) review his emails re pricing",
     "ASSOC", "", set()),
    # work as others write it starts a task: ran, opened, updating, attendance upon, tel, ltr
    ("Reviewed intake form, ran conflicts, opened matter in system", "ASSOC", "", {A, B}),
    ("Preparing share transfer forms, updating register of members", "ASSOC", "", {A, B}),
    ("Drafting lease; attendance upon client", "ASSOC", "", {B, V}),
    ("rvw & mark up PSA; tel w/ client re: same; ltr to OS", "PARTNR", "", {B, V}),
    # ... but not the nouns: search terms, Schedule B; nor a debrief that ends a session
    ("Drafting of ESI protocol addressing custodians, date ranges, search terms and privilege "
     "log format", "OFCOUN", "", set()),
    ("Reviewed title commitment, schedule b exceptions acceptable except easement", "PARTNR", "",
     set()),
    ("Full day negotiating SPA with buyer's counsel; debrief with client's CFO afterward",
     "PARTNR", "", set()),
    # the memo on what was just researched or reviewed is the same task (rule 6)
    ("Research QSBS holding period after F reorg; memo to file", "ASSOC", "", set()),
    ("rvw rog answers; memo to file re: mitigation evidence", "ASSOC", "", set()),
    ("Draft motion to compel; memo to partner re discovery strategy", "ASSOC", "", {B}),
    # work while travelling, where it was done told first (rule 12)
    ("Travel to Hull for arrest of the vessel; on the train back reviewed draft affidavit of "
     "arrest", "ASSOC", "", {B}),
    ("Reviewed draft affidavit of arrest on the train", "ASSOC", "", set()),
    # clerical steps in other words: signature packets, contact details, a ledger posted, the
    # list of those served, the firm's engagement letter for a matter it names
    ("prep & circulate sig pkts", "ASSOC", "", {A}),
    ("Update client's contact details on case system", "PARLGL", "", {A}),
    ("Update estate ledger w/ receipts from the two banks", "ASSOC", "", {A}),
    ("Update list of garnishees served", "ASSOC", "", {A}),
    ("Engagement letter for Harbour Foods sponsor licence matter", "PARTNR", "", {A}),
    ("Review engagement letter for the financial adviser on this matter", "ASSOC", "", set()),
    # a colleague named with a title ("Ms Lim (of counsel)"), or after a longer subject
    ("Catch up w/ Ms Lim (of counsel) re MAS feedback", "ASSOC", "", {IC}),
    ("Discuss client's instructions on threshold with supervisor", "ASSOC", "", {IC}),
    ("Discuss missing right of way over access road w/ conveyancing partner + trainee", "ASSOC",
     "", {IC}),
    ("Discuss settlement offer in the draft agreement with opposing counsel's associate", "ASSOC",
     "", set()),
    ("Discuss draft lease with client; revise with partner's comments", "ASSOC", "", {B}),
    # the advice or report on what was just reviewed is the same task (rule 6); a call, or a
    # report on work of another kind, is not
    ("Review tribunal's procedural order no. 3 and report to client", "ASSOC", "", set()),
    ("Perusing contract for sale; advising purchaser on special conditions 32-41", "ASSOC", "",
     set()),
    ("Review collateral warranty and send comments to funder's solicitors", "ASSOC", "", set()),
    ("Draft motion to stay; report to client", "ASSOC", "", {B}),
    ("Review investigation report and advise client re termination; revise separation "
     "agreement", "ASSOC", "", {B}),
    ("Unfair dismissal claim: review ET1 draft; advise on time limits", "ASSOC", "", set()),
    # one of the many decisions of a matter, however it came in (rule 9)
    ("Review decision rec'd", "ASSOC", "", {V}),
    ("Review decision on the motion to compel", "ASSOC", "", set()),
    # a call written short ("ph call", "tel call") with its length and no subject
    ("Ph call client (Ms Adeyemi) 10 min", "ASSOC", "", {V}),
    ("Tel call with client re lease renewal", "ASSOC", "", set()),
    ("Attendances re matter", "ASSOC", "", {V}),
    ("Attendance at court for hearing of the strike-out application", "ASSOC", "", set()),
    # supervising a junior of the firm, or the junior's work, is a conference in the firm
    ("Supervise trainee's preparation of mother's response to threshold", "PARTNR", "", {IC}),
    ("Supervise client's paralegal on the data-room upload protocol", "ASSOC", "", set()),
    # a clerical step after a dash, or a court attended to issue papers (rule 3)
    ("Trainee - copy site diaries and label by week for expert", "OTHER", "", {A}),
    ("Attendance at Four Courts to issue Notice of Motion in Central Office", "ASSOC", "", {A}),
    # issuing after drafting, and diarising what was reviewed, are tasks of their own (rules 3, 4)
    ("draft and issue part 8 claim form", "ASSOC", "", {A, B}),
    ("Review of notice of continuance and calendaring of new hearing date", "ASSOC", "", {A, B}),
    ("Research and issue analysis re indemnity cap", "ASSOC", "", set()),
    ("f/u w/ client re: signed docs", "ASSOC", "", {A}),
    ("Review signed documents for defects in execution", "ASSOC", "", set()),
    # a practice group's or the firm's people's own meeting, named first in its clause; a
    # practice alone names nobody, and another firm's partner is not the firm's
    ("Tax partner mtg re VAT grouping", "ASSOC", "", {IC}),
    ("Capital markets group meeting re Halberd follow-on pricing timetable", "ASSOC", "", {IC}),
    ("Meeting: Summer associate check-in re research assignment", "PARTNR", "", {IC}),
    ("Conf. w/ public finance partner re TEFRA hearing notice", "ASSOC", "", {IC}),
    ("Public finance call re TEFRA hearing notice", "ASSOC", "", set()),
    ("Call with KPMG tax partner re transfer pricing", "ASSOC", "", set()),
    # a title time-capture software took, and nothing added
    ("Email: RE: FW: RE: Falcon", "ASSOC", "", {V}),
    ("Email: RE: RE: (no subject)", "ASSOC", "", {V}),
    ("Document: Falcon_APA_v9.docx", "ASSOC", "", {V}),
    ("Email: RE: Draft SPA comments on the escrow release", "ASSOC", "", set()),
    # filing, publishing and paying in other words (rule 3), the firm's last invoice (rule 5);
    # not the law or the advice about them
    ("Filing and service of motion on notice at the registry", "ASSOC", "", {A}),
    ("EDGAR-file Q3 10-Q and confirm acceptance message", "PARLGL", "", {A}),
    ("Advertising winding-up petition in Gazette and newspapers", "OTHER", "", {A}),
    ("Coordinate mailing of notification letters with mail vendor", "PARLGL", "", {A}),
    ("Registration of standard security in Land Register via digital submission", "ASSOC", "",
     {A}),
    ("Respond to client's question re entry on last invoice", "ASSOC", "", {A}),
    ("Advise client on registration of the trade mark in the register of the EUIPO", "ASSOC", "",
     set()),
    ("Research law on service and filing deadlines under the local rules", "ASSOC", "", set()),
    # a task after a clock time, a follow-up call, what is presented after preparing; a clause
    # timed on its own is not blocked with the others (each part has its own figure)
    ("Prepare for and present oral argument before Fourth Circuit panel", "PARTNR", "", {B}),
    ("Conference with audit committee chair re scope of internal investigation; follow-up call "
     "with opposing counsel re same", "PARTNR", "", {B}),
    ("2:15 t/c w/ state AG's office re breach notice content; 2:45 revised notice", "ASSOC", "",
     {B}),
    ("(0.4) t/c w/ state AG's office re breach notice content; (0.5) revised notice", "ASSOC", "",
     set()),
]


@pytest.mark.parametrize(("narrative", "klass", "code", "expected"), CASES,
                         ids=[f"{i:02d}-{c[0][:40]}" for i, c in enumerate(CASES)])
def test_the_rules_read_the_narrative_in_context(narrative, klass, code, expected):
    assert fired((narrative, klass, code)) == [expected]


def test_the_vague_part_of_a_longer_narrative_is_named():
    rows = pd.DataFrame([{"id": "X", "narrative": "Review draft MSJ; emails with client",
                          "timekeeper_class": "ASSOC", "activity_code": "", "hours": "1.0",
                          "task_code": "", "labels": ""}])
    findings = check_entries(labelled_entries(rows)).findings
    assert findings.loc[findings["rule"] == "VAGUE", "message"].tolist() == [
        "The narrative 'Review draft MSJ; emails with client' does not say what was done in "
        "'emails with client'"]


def test_each_talk_and_its_checked_twin_are_tried_as_one():
    # a pattern of the same first letter between the twins keeps them apart, and INTERNAL then
    # reads the words after every call twice (a third slower on a big month)
    patterns = narratives.internal_patterns()
    twins = narratives.CHECKED_PARTY_PATTERNS[:len(narratives._TALKS)]
    assert not set(twins) & set(patterns)


def test_no_match_runs_from_one_narrative_into_the_next():
    # scanned together, 'call with' + 'partner re ...' would read as a conference with a partner
    texts = pd.Series(["draft memo; call with", "partner re fee split with co-counsel",
                       "call with partner re fee split"], dtype=object)
    corpus = narratives.Corpus(texts)
    assert corpus.hits(narratives.INTERNAL).tolist() == [False, False, True]
    assert narratives.task_counts(texts).tolist() == [2, 1, 1]


# ================================================================================= the labelled set
@pytest.fixture(scope="module")
def labelled() -> pd.DataFrame:
    return pd.read_csv(EVAL_SET, dtype=str, keep_default_na=False)


def test_the_halves_are_fixed_by_the_ids_and_share_every_label(labelled):
    half = split_halves(labelled)
    assert half.value_counts().to_dict() == {DEVELOPMENT: 440, HELD_OUT: 440}
    assert split_halves(labelled.iloc[::-1]).reindex(labelled.index).equals(half)
    for label in (*MAIN_NARRATIVE_RULES, "TRAVEL", "TRAINING", "OVERHEAD_RESEARCH"):
        has = labelled["labels"].str.split(";").map(lambda ls, lab=label: lab in ls)
        counts = half[has].value_counts()
        assert abs(counts.get(DEVELOPMENT, 0) - counts.get(HELD_OUT, 0)) <= 2, label


#: What the rules reach on each held-out half (issue 10's goal is precision >= 0.95 and
#: recall >= 0.90 for each). Where the goal is not reached the figure reached is held as a
#: floor, so that a change that loses what was found fails here (the halves' rows and errors
#: stay unread: this is the only use of them besides eval_rules' figures).
HELD_OUT_FLOORS = {
    #: the first set's held-out half. Measured once after the third development batch (VAGUE
    #: 0.966/0.877, ADMIN_TASK 0.949/0.918, BLOCK_BILLING 0.897/0.963, INTERNAL_CONFERENCE
    #: 0.983/0.983) and once after the fourth: VAGUE 0.951/0.892, ADMIN_TASK 0.949/0.918,
    #: INTERNAL_CONFERENCE 0.983/0.983, BLOCK_BILLING 0.898/0.981. After the round on the second
    #: set's development half (4 December): VAGUE 0.967/0.892, ADMIN_TASK 0.950/0.934 (the goal
    #: met), BLOCK_BILLING 0.898/0.981, INTERNAL_CONFERENCE 0.983/0.983.
    #: After the round on the fourth set's development half (7 December): VAGUE 0.967/0.908,
    #: ADMIN_TASK 0.952/0.967, BLOCK_BILLING 0.898/0.981, INTERNAL_CONFERENCE 0.983/0.983.
    HELD_OUT: {"VAGUE": (0.96, 0.90), "ADMIN_TASK": (NARRATIVE_PRECISION_GOAL, 0.96),
               "BLOCK_BILLING": (0.89, 0.98), "INTERNAL_CONFERENCE": (0.98, 0.98)},
    #: the second set's held-out half (written blind in other voices, see its README): measured
    #: whole once before any tuning, then on this half after the round on the other: VAGUE
    #: 0.848/0.609, ADMIN_TASK 0.959/0.783, BLOCK_BILLING 0.647/0.846, INTERNAL_CONFERENCE
    #: 1.000/1.000; after the fifth round's research and follow-up rule, VAGUE 0.853/0.630;
    #: after the round on the fourth set's development half, VAGUE 0.861/0.674, BLOCK_BILLING
    #: 0.680/0.872.
    HELD_OUT_2: {"VAGUE": (0.86, 0.67), "ADMIN_TASK": (NARRATIVE_PRECISION_GOAL, 0.78),
                 "BLOCK_BILLING": (0.68, 0.87),
                 "INTERNAL_CONFERENCE": (NARRATIVE_PRECISION_GOAL, NARRATIVE_RECALL_GOAL)},
    #: the third set's held-out half (written blind, see its README): on this half when the set
    #: was measured once whole, before any tuning: VAGUE 0.833/0.588, ADMIN_TASK 0.933/0.677,
    #: BLOCK_BILLING 0.750/0.714, INTERNAL_CONFERENCE 0.972/0.761; after the round on the fourth
    #: set's development half: VAGUE 0.861/0.608, ADMIN_TASK 0.936/0.710, BLOCK_BILLING
    #: 0.767/0.786, INTERNAL_CONFERENCE 0.972/0.761; after the second round on the fifth to
    #: seventh development parts (7 December, commit 0a85e91): BLOCK_BILLING 0.786/0.786, the
    #: others unchanged; after the round on the fifth set's development half (commit 14a307e):
    #: BLOCK_BILLING 0.791/0.810.
    HELD_OUT_3: {"VAGUE": (0.86, 0.60), "ADMIN_TASK": (0.93, 0.70),
                 "BLOCK_BILLING": (0.79, 0.80), "INTERNAL_CONFERENCE": (0.97, 0.76)},
    #: the fourth set's held-out half (written blind, see its README): on this half when the set
    #: was measured once whole (7 December, commit 47c0898's rules), before any tuning: VAGUE
    #: 0.875/0.660, ADMIN_TASK 0.938/0.703, BLOCK_BILLING 0.833/0.784, INTERNAL_CONFERENCE
    #: 0.907/0.780; after the round on its development half: VAGUE 0.878/0.679, ADMIN_TASK
    #: 0.940/0.734 (BLOCK_BILLING and INTERNAL_CONFERENCE unchanged); after the second round on
    #: the fifth to seventh development parts (commit 0a85e91): BLOCK_BILLING 0.851/0.784, the
    #: others unchanged.
    HELD_OUT_4: {"VAGUE": (0.87, 0.67), "ADMIN_TASK": (0.94, 0.73),
                 "BLOCK_BILLING": (0.85, 0.78), "INTERNAL_CONFERENCE": (0.90, 0.78)},
    #: the fifth set's held-out half (written blind, see its README): on this half when the set
    #: was measured once whole (7 December, commit 0a85e91's rules), before any tuning: VAGUE
    #: 0.923/0.621, ADMIN_TASK 0.976/0.732, BLOCK_BILLING 0.882/0.789, INTERNAL_CONFERENCE
    #: 0.951/0.672; after the round on its development half (commit 14a307e): all four the same.
    HELD_OUT_5: {"VAGUE": (0.92, 0.62), "ADMIN_TASK": (0.97, 0.73),
                 "BLOCK_BILLING": (0.88, 0.78),
                 "INTERNAL_CONFERENCE": (NARRATIVE_PRECISION_GOAL, 0.67)},
}


@pytest.fixture(scope="module")
def held_out_scores() -> pd.DataFrame:
    parts = labelled_parts(EVAL_SET.parent)
    return narrative_scores({name: parts[name] for name in HELD_OUT_HALVES})


@pytest.mark.parametrize("half", HELD_OUT_HALVES)
def test_figures_on_each_held_out_half(held_out_scores, half):
    held = held_out_scores[held_out_scores["half"] == half].set_index("rule")
    below = {rule: (round(held.loc[rule, "precision"], 3), round(held.loc[rule, "recall"], 3))
             for rule, (p, r) in HELD_OUT_FLOORS[half].items()
             if held.loc[rule, "precision"] < p or held.loc[rule, "recall"] < r}
    assert below == {}, f"below the floor (precision, recall): {below}"
    # the demo's planted-problem figures are checked in tests/test_rules.py; the labels billxl
    # has no rule for are reported, never flagged
    assert set(held.index[~held["billxl_rule"]]) == {"TRAVEL", "TRAINING", "OVERHEAD_RESEARCH"}
    assert (held.loc[~held["billxl_rule"], "flagged"] == 0).all()


def test_the_parts_are_the_sets_halves_and_batches():
    parts = labelled_parts(EVAL_SET.parent)
    assert {name: len(rows) for name, rows in parts.items()} == {
        "held-out": 440, "development": 440, "development-2": 483, "development-3": 475,
        "development-4": 478, "held-out-2": 285, "development-5": 286, "held-out-3": 316,
        "development-6": 317, "held-out-4": 325, "development-7": 325, "held-out-5": 325,
        "development-8": 325}
    ids = pd.concat(list(parts.values()))["id"]
    assert ids.is_unique
    tuning = labelled_parts(EVAL_SET.parent, held_out=False)
    assert list(tuning) == [n for n in parts if n not in HELD_OUT_HALVES]
    assert all(tuning[n].equals(parts[n]) for n in tuning)


def _plain(phrases) -> list[str]:
    """The entries of a word list that are words, not patterns."""
    import re
    return [p for p in phrases if not re.search(r"[()\[\]?*+|\\{}]", p)]


# Every word of every list is used here, so that a word dropped from a list (which neither the
# demo nor the cases above may use) shows up as a narrative that no longer fires, unless another
# entry or pattern catches the same narrative (the lists overlap on purpose: "things" is also a
# short word, "liaising" a communication verb's form). Where a nonsense word in the same form
# fires too ("{}" alone is vague for being one word), the form cannot tell; the others can.
WORD_LISTS = [
    ("VAGUE_PHRASES", "{}", V, False),
    ("GENERIC_SUBJECTS", "Call with client re {}", V, True),
    ("COMMUNICATIONS", "{} with client re status", V, True),
    ("_COMM_ADJECTIVES", "{} call with client", V, True),
    ("GENERIC_THINGS", "Review {}", V, False),
    ("_COLLEAGUES", "Conference with {} regarding motion to dismiss strategy", IC, True),
]


@pytest.mark.parametrize(("name", "form", "rule", "telling"), WORD_LISTS,
                         ids=[w[0] for w in WORD_LISTS])
def test_every_word_of_a_rule_list_fires(name, form, rule, telling):
    words = _plain(getattr(narratives, name))
    assert len(words) > 5
    results = fired(*[(form.format(word), "ASSOC", "") for word in [*words, "xyzzy"]])
    missed = [word for word, rules in zip(words, results, strict=False) if rule not in rules]
    assert not missed, f"{rule} does not fire on {form!r} with: {missed}"
    if telling:  # the word is what makes the form fire
        assert rule not in results[-1], f"{rule} fires on {form!r} whatever the word"
