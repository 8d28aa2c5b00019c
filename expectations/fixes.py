"""How to fix each check, in plain English, beside its message (the DfE wording for a DfE rule).

The check catalogue's second half: a data officer reads the message to learn what is wrong and
this line to learn what to do about it. Keyed by check id; every check in the catalogue has one
(tests/test_check_catalogue.py), and docs/returns/*.md show them.
"""

from __future__ import annotations

FIXES: dict[str, str] = {
    # Council return (expectations.council): the delivery.
    "mfc.submission.year":
        "Rename the folder to the collection year the return covers, written like 2023-24 "
        "(landing/council/<authority>/2023-24/), and deliver the files again.",
    "mfc.authority.known":
        "Rename the folder to your authority's GSS code (e.g. E06000002), DfE three-digit code "
        "(e.g. 806) or name, as it was in that collection year, and deliver the files again.",
    "mfc.file.present":
        "Export the file that is missing (the failing row names it) from your case-management "
        "system and deliver all three files (header.csv, episodes.csv, missing.csv) together.",
    "mfc.file.recognised":
        "Nothing to correct if the file is not one of the three tables. If it is, check its "
        "first line holds that table's column names, spelt as in this guide.",
    "mfc.file.format":
        "Open the workbook in Excel, choose File > Save As > 'CSV UTF-8 (comma delimited)' for "
        "each table, and deliver the .csv files instead of the workbook.",
    "mfc.file.empty":
        "Export the table again; if it has no rows, deliver it with just the column names "
        "on line 1.",
    "mfc.file.encoding":
        "Open the file in Excel and save it with File > Save As > 'CSV UTF-8 (comma "
        "delimited)' (not plain 'CSV'), then check names of places or codes with accents "
        "look right.",
    "mfc.file.bom":
        "Nothing to do: the file is read correctly. To avoid the warning, save without a "
        "byte order mark if your export tool offers it.",
    "mfc.file.delimiter":
        "Save the file again as comma-separated: in Excel, File > Save As > 'CSV UTF-8 "
        "(comma delimited)'; in your export tool, set the separator to a comma.",
    "mfc.file.truncated":
        "Export the file again and copy it in full (check it ends with a complete row), then "
        "deliver all three files again.",
    "mfc.file.readable":
        "Open the file in a text editor: put the column names on line 1, remove title rows, "
        "notes and line breaks inside values, then save as 'CSV UTF-8 (comma delimited)'.",
    # Council return: columns.
    "mfc.header.columns":
        "Add the missing columns to the header export, named exactly as listed (a column may "
        "be empty where blanks are allowed), and deliver again.",
    "mfc.episodes.columns":
        "Add the missing columns to the episodes export, named exactly as listed (a column "
        "may be empty where blanks are allowed), and deliver again.",
    "mfc.missing.columns":
        "Add the missing columns to the missing export, named exactly as listed (MIS_END may "
        "be empty for open periods), and deliver again.",
    "mfc.header.unknown_column":
        "If the column is a DfE column spelt differently (for example GENDER for SEX), rename "
        "it to the DfE name; otherwise nothing to do, or remove it from the export.",
    "mfc.episodes.unknown_column":
        "If the column is a DfE column spelt differently (for example PLACEMENT for PLACE), "
        "rename it to the DfE name; otherwise nothing to do, or remove it from the export.",
    "mfc.missing.unknown_column":
        "If the column is a DfE column spelt differently (for example MISSING_START for "
        "MIS_START), rename it to the DfE name; otherwise nothing to do.",
    # Council return: values in header.csv.
    "mfc.header.child":
        "Give every row in header.csv the child's identifier from your case-management system "
        "(the same one used in episodes.csv and missing.csv), then export again.",
    "mfc.header.sex":
        "Correct SEX in the child's record: 1 or 2 for years up to 2023-24, M, F or U from "
        "2024-25; then export again.",
    "mfc.header.dob":
        "Enter the child's date of birth in their record and export it as dd/mm/yyyy (e.g. "
        "14/05/2009); in Excel, format the column as Custom dd/mm/yyyy before saving.",
    "mfc.header.ethnic":
        "Correct the ethnicity in the child's record to one of DfE's codes (use REFU if the "
        "child or family refused, NOBT if not yet obtained), then export again.",
    "mfc.header.mc_dob":
        "Correct the date of birth of the mother's child in the record as dd/mm/yyyy, or leave "
        "it blank if the child is not a mother, then export again.",
    # Council return: values in episodes.csv.
    "mfc.episodes.child":
        "Give every episode the child's identifier, as in header.csv; an episode without a "
        "child should be deleted or linked to the right child in your system.",
    "mfc.episodes.decom":
        "Enter the date the episode started in the child's record and export it as "
        "dd/mm/yyyy (e.g. 01/04/2023).",
    "mfc.episodes.dec":
        "Correct the date the episode ceased to a real date as dd/mm/yyyy, or leave it blank "
        "if the episode is still open, then export again.",
    "mfc.episodes.dec_before_decom":
        "Check the episode's start and end dates in the child's record and correct whichever "
        "is wrong so the end is on or after the start, then export again.",
    "mfc.episodes.ls":
        "Correct the legal status of the episode to one of DfE's codes (e.g. C2 full care "
        "order, V2 section 20), then export again.",
    "mfc.episodes.place":
        "Correct the placement type to a code on DfE's list for the collection year (e.g. "
        "K3 from 2024-25, Z11 to Z14 instead of H5, P2 or Z1 from 2025-26), then export again.",
    "mfc.episodes.rec":
        "Give every episode that has an end date a reason it ceased from DfE's list (e.g. E8, "
        "X1), or remove the end date if the episode has not ended, then export again.",
    # Council return: values in missing.csv.
    "mfc.missing.child":
        "Give every missing/away period the child's identifier, as in header.csv, in your "
        "case-management system, then export again.",
    "mfc.missing.dob":
        "Give the child's date of birth on every missing/away row, as dd/mm/yyyy and the same "
        "as in header.csv, then export again.",
    "1004":
        "Enter the date the child went missing or away as a real date, dd/mm/yyyy (e.g. "
        "03/06/2023), in the missing episode, then export again.",
    "1005":
        "Correct the date the child came back to a real date, dd/mm/yyyy (e.g. 01/03/2024 not "
        "31/02/2024), or leave it blank if they are still missing, then export again.",
    "1006":
        "Set the missing type to M (missing) or A (away from placement without authorisation) "
        "in the missing episode, then export again.",
    "564":
        "Enter the date the child started to be missing or away in the missing episode, or "
        "delete the episode if it was recorded in error, then export again.",
    "565":
        "Record whether the child was missing (M) or away (A) for this episode, then export "
        "again.",
    "566":
        "Record whether the child was missing (M) or away (A) for this episode, then export "
        "again.",
    "567":
        "Check the start and end dates of the missing/away episode and correct whichever is "
        "wrong so the end is on or after the start, then export again.",
    "570":
        "Check the start date: if it is right, the period belongs in next year's return, so "
        "remove it from this one; if it is a typing error, correct it and export again.",
    "571":
        "Correct the end date to the date the child came back; leave it blank if they were "
        "still missing or away on 31 March, and return a period that ended before 1 April in "
        "last year's return instead.",
    "574":
        "Check the child's missing/away periods line by line: end the earlier one before the "
        "next begins (or merge them if they are the same absence), then export again.",
    "mfc.missing.duplicate_period":
        "The same period is recorded twice for the child: delete the duplicate in your "
        "case-management system (or merge them into one), then export again.",
    "mfc.missing.open_at_year_end":
        "If the child came back, enter the date they returned; if they are still missing, no "
        "change is needed, but confirm it with the child's social worker.",
    # Council return: missing.csv against header.csv and episodes.csv.
    "INT04":
        "Add the child to header.csv (check the export includes every child with a missing "
        "period), or correct the child's identifier on the missing/away row, then export again.",
    "INT13":
        "Make the date of birth on the missing/away row the same as in the child's record "
        "(and header.csv), correcting whichever is wrong, then export again.",
    "575":
        "The placement the child went missing from has ended: enter the date the child came "
        "back in the missing episode, then export again.",
    "577":
        "The period is open, or ends after the period of care it started in ended (the "
        "episode named beside the row): enter the date it ended, no later than that episode's "
        "end date, or correct the episode, then export again.",
    "578":
        "The period starts after a period of care ended (the episode named beside the row): "
        "correct its start date, or the episode's end date, or add the episode that was "
        "missed, then export again.",
    "580":
        "The child was missing when care ended at 18: set the reason the last episode ceased "
        "to E8, or correct the dates if the child was not missing then, and export again.",
    "581":
        "Check the start date of the missing/away period against the child's episodes of "
        "care; correct the date, or add the missing episode, then export again.",
    "586":
        "Check the child's date of birth and the start date of the missing/away period, "
        "correct whichever is wrong, then export again.",
    # Council return: against earlier returns, the police and the deadline.
    "mfc.submission.volume_change":
        "Confirm the export holds every missing/away period of the year (compare its row "
        "count with your system's); if your recording practice changed, tell the warehouse "
        "team. Nothing to resend if the figures are right.",
    "mfc.submission.police_reconciliation":
        "Check the export includes every missing/away period, including short ones and "
        "those the police reported; if the figures are right, nothing to resend.",
    "mfc.submission.replaces_most":
        "Check the export is complete. If the smaller return is right, deliver it again with "
        "an extra file named CONFIRM_REPLACE.txt (any content) in the same folder.",
    "mfc.submission.late":
        "Nothing to correct: the return is used as normal. Send future returns by 30 June "
        "after the collection year.",
    "mfc.submission.superseded":
        "Nothing to do if your newer submission for the year is the one you meant to send; "
        "if not, tell the warehouse team.",
    # Police return (expectations.police).
    "police.submission.force":
        "Move the file into a folder named with your force's GSS code (e.g. "
        "landing/police/E23000013/), not the force name.",
    "police.submission.month":
        "Rename the file to the month it covers, YYYY-MM.csv (e.g. 2024-03.csv for March 2024).",
    "police.file.readable":
        "Save the extract as 'CSV UTF-8 (comma delimited)' with the column names on line 1 "
        "and no title rows, notes or line breaks inside values, then send it again.",
    "police.columns":
        "Add the missing columns to the extract, named exactly as in this guide (a column may "
        "be empty where blanks are allowed), and send the month again.",
    "police.force":
        "Set FORCE on every row to your force's GSS code, the same as the folder name (e.g. "
        "E23000013), then send the month again.",
    "police.incident_ref":
        "Give every incident its own reference, kept the same whenever the month is re-sent; "
        "merge repeated rows for one absence into one, or keep the year in references that "
        "restart each year.",
    "police.reported_missing":
        "Write the time reported as dd/mm/yyyy HH:MM (24-hour clock, UK time); a row from "
        "another month goes in that month's file, so move it and send both months again.",
    "police.found":
        "Correct the time found (dd/mm/yyyy HH:MM, not before the time reported), or leave it "
        "blank if the child has not been found, then send the month again.",
    "police.dob_or_age":
        "Give the date of birth as dd/mm/yyyy or, if not known, the age in whole years when "
        "reported missing, then send the month again.",
    "police.under_18":
        "Check the date of birth or age: remove incidents for people aged 18 or over, and "
        "correct a date of birth that is after the report, then send the month again.",
    "police.sex":
        "Set SEX to M, F or U (use U rather than a blank or another word), then send the "
        "month again.",
    "police.risk":
        "Give the first risk grade as NO_APPARENT, LOW, MEDIUM or HIGH (send 'absent' or "
        "'very low' as NO_APPARENT), then send the month again.",
    "police.looked_after":
        "Write Y, N or leave it blank (yes, no, not known); other values are read as not "
        "known, so correct them in your extract when you next send the month.",
    "police.responsible_la":
        "Give the responsible council's GSS code (e.g. E06000065), DfE code or name as it was "
        "on the date reported, or leave it blank if not known; correct it when you next send "
        "the month.",
    "police.districts":
        "Cut each postcode to its district, the part before the space (TS1 2AB becomes TS1), "
        "and give the placement district on every row, then send the month again.",
    # Aggregate figures (expectations.aggregate).
    "aggregate.file.type":
        "Save the figures as a .csv file (in Excel: File > Save As > 'CSV UTF-8 (comma "
        "delimited)') or an .xlsx workbook, and deliver it again.",
    "aggregate.file.readable":
        "Put the figures on the first sheet with the column names in row 1 and nothing above "
        "them (no titles or notes), save as .xlsx or 'CSV UTF-8', and deliver again.",
    "aggregate.columns":
        "Add the missing columns (AREA, PERIOD_START, PERIOD_END, MEASURE, VALUE) to row 1, "
        "named exactly so, and deliver the file again.",
    "aggregate.area":
        "Write the area as a GSS code, DfE code or name that existed at the end of the "
        "period (the message suggests the nearest one); add 'Police' to a force's name.",
    "aggregate.period":
        "Write both dates as dd/mm/yyyy (or just the year, e.g. 2019, when the day is not "
        "known), with the start on or before the end.",
    "aggregate.covered":
        "Write COVERED_FROM and COVERED_TO as dd/mm/yyyy dates inside the period, the first "
        "on or before the last, or leave them blank if the figure covers the whole period.",
    "aggregate.measure":
        "Replace the measure with one of the codes in the list (e.g. children_missing, "
        "missing_incidents), spelt exactly, and deliver the file again.",
    "aggregate.value":
        "Write the figure as a whole number (e.g. 1234 or 1,234), a lower bound such as 'at "
        "least 120', or a mark such as <5 or c; put any explanation in NOTE.",
    "aggregate.rounded_to":
        "Write the rounding as a whole number of 2 or more (e.g. 5 for 'rounded to the nearest "
        "5'), or leave it blank if the figure was not rounded.",
    "aggregate.source_kind":
        "Write one of council, police_force, government, charity, media or other, or leave "
        "SOURCE_KIND blank.",
    "aggregate.counting":
        "Write each_child_once or yearly_sum, only on rows counting children; leave COUNTING "
        "blank on rows counting incidents.",
    "aggregate.age_band":
        "Write one of DfE's age bands exactly (Under 1, 1 to 4, 5 to 9, 10 to 15, 16 and over), "
        "or leave AGE_BAND blank for all ages.",
    "aggregate.sex":
        "Write Male or Female, or leave SEX blank for figures covering both.",
    "aggregate.duplicate":
        "Keep one row for each area, period, measure and group: delete the repeated row, or "
        "correct it if it was meant for another area, period or group.",
    "aggregate.replaces":
        "Nothing to do if the new figure is the corrected one; if the earlier figure was "
        "right, deliver a file that gives it again.",
    "aggregate.differs":
        "Check your figure against the other source's: if yours is right, nothing to do; if "
        "it is wrong, correct it and deliver the file again.",
    "aggregate.part_exceeds_whole":
        "Check both figures: a part (a year, an authority, one group) cannot be larger than "
        "the whole, so correct whichever is wrong and deliver the file again.",
    # council rules added for issue 15
    "148":
        "An episode that has not ended cannot have a reason it ended: remove REC, or give the "
        "date the episode ceased (DEC) if it did end, then export again.",
    "353":
        "Check the date the episode started: no episode can start before 14 October 1991. "
        "Correct the date in the child's record, then export again.",
    "385":
        "An episode cannot end after the collection year: if it ended after 31 March, leave "
        "DEC and REC blank in this year's return (it is open at the year end); otherwise "
        "correct the date, then export again.",
    "142":
        "The episode named beside the row starts a new episode, so this one must have ended: "
        "give its end date (DEC, usually the next episode's start date) and reason (REC, X1 "
        "if a new episode began that day), then export again.",
    "501":
        "The episode starts before the episode named beside it ended: correct this start "
        "date or that end date in the child's record so the episodes follow one another "
        "(an episode ending the day the next begins), then export again.",
    "388":
        "REC X1 means a new episode began the same day: if one did, make its start date "
        "(DECOM) the same as this DEC; if the child left care, give the reason they left "
        "(an E code) instead of X1; if the next episode named beside the row starts the day "
        "this one ended, use X1. Then export again.",
    "431":
        "The episode begins the day the episode named beside it ended, so the child was "
        "still looked after: change the reason for new episode (RNE) from S to the change "
        "that happened (L, P, T, U or B), or correct the dates, then export again.",
    "432":
        "The episode named beside the row ended with the child leaving care, so this one "
        "starts a new period of care: set the reason for new episode (RNE) to S, or correct "
        "the previous episode's reason (X1 if the child stayed looked after), then export "
        "again.",
    "433":
        "The episode is coded as a continuation (RNE L, P, T, U or B) but does not start the "
        "day the episode named beside it ended: correct the dates so they meet, or, if the "
        "child left care in between, set RNE to S, then export again.",
    "INT03":
        "Add the child to header.csv (check the export includes every child with an "
        "episode), or correct the child's identifier on the episode, then export again.",
    "302":
        "The child's first episode starts before the date of birth named beside the row: "
        "correct the date of birth in header.csv or the episode's start date, then export "
        "again.",
    "mfc.missing.no_episode":
        "Export the child's episodes of care with the return (every episode open during the "
        "missing/away periods), or, if the periods belong to another child, correct the "
        "identifier on the missing/away rows, then export again.",
}
