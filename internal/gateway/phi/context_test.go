package phi

import (
	"strings"
	"testing"
)

// TestContextRules checks the case and context rules (caseless.go,
// names.go) on short clinical lines: what must be redacted and what must
// stay. Each line is embedded in a note long enough for its case to be
// judged.
func TestContextRules(t *testing.T) {
	upper := "PT REMAINS INTUBATED ON PROPOFOL, BP STABLE, NO ECTOPY NOTED, LUNGS CLEAR, ABD SOFT, FOLEY DRAINING WELL.\n"
	lower := "pt remains intubated on propofol, bp stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		{"relation abbreviation", upper + "REVIEWED GOALS WITH DTR DORALINE AND HER HUSBAND.", []string{"DORALINE"}, []string{"DTR", "HUSBAND"}},
		{"role in parentheses", upper + "JORITA QUITADAMO (DAUGHTER) IS SPOKESPERSON.", []string{"JORITA QUITADAMO"}, []string{"DAUGHTER"}},
		{"resident in parentheses", upper + "DUKE STALFORD (RESIDENT) FOLLOWING THE LABS.", []string{"DUKE STALFORD"}, []string{"RESIDENT"}},
		{"contact person", upper + "CONTACT PERSON CHASEY BOYNTON.", []string{"CHASEY BOYNTON"}, []string{"CONTACT"}},
		{"rabbi", upper + "RABBI ALLENBY CAME TO PRAY WITH FAMILY.", []string{"ALLENBY"}, []string{"CAME"}},
		{"credential as title", upper + "NO LABS PER NP Cordes. DOSE CHECKED W/MD GROUSE.", []string{"Cordes", "GROUSE"}, nil},
		{"first and last name", upper + "TEODORO WHALEY OF LEGAL CONTACTED.", []string{"TEODORO WHALEY"}, nil},
		{"abbreviated title", upper + "PER DR LARKSPUR THE PATIENT IS FULL CODE.", []string{"LARKSPUR"}, nil},
		{"word title", upper + "FAMILY ASKED THAT A PRIEST COME BY THIS EVENING.", nil, []string{"COME"}},
		{"iv is no credential", upper + "PO LEVO/IV VANCO CONTINUE.", nil, []string{"VANCO"}},
		{"drug ordered", upper + "NYSTATIN POWDER ORDERED.", nil, []string{"POWDER"}},
		{"sentence after pt", mixed + "Continue orienting pt. Suction prn.", nil, []string{"Suction"}},
		{"section label ms", mixed + "ms: toward early am pt found confused.", nil, []string{"toward"}},
		{"ordinary word before a credential", mixed + "Flash pulm edema at 11pm - Elevated PA numbers.", nil, []string{"Elevated"}},
		{"city before rehab", upper + "SCREENED BY DEARBORN REHAB.", []string{"DEARBORN"}, []string{"REHAB"}},
		{"country after motion verb", "Who else is coming to Nigeria next month?", nil, []string{"Nigeria"}},
		{"name after a colon", "Please set the billing contact to the same: Bořivoj and Sons", []string{"Bořivoj"}, nil},
		{"name one letter from a word", "Hi Pastrel, I'm writing to you about an issue.", []string{"Pastrel"}, nil},
		{"misspelt word", mixed + "Recieved lasix, Transfered to floor.", nil, []string{"Recieved", "Transfered"}},
		// messages written in lower case, as patients and front desks do
		{"self-introduction", "hi its jessica, can i move my appt?\nthis is marcus from the front desk",
			[]string{"jessica", "marcus"}, []string{"its", "this", "front"}},
		{"self-introduction, cased", "It's Priya from the office. I'm Sarah, the new RN.", []string{"Priya", "Sarah"}, []string{"office", "new"}},
		{"w/ a person", "ur appt w/ sarah moved to thurs. spoke w/ dr lee.", []string{"sarah", "lee"}, []string{"appt"}}, // ("thurs" is a weekday: a date, see TestNoteTypesFourteenth)
		{"no name after an introduction", "its fine, no changes. im ok thanks. this is mild.\nappt w/ cardiology moved. spoke w/ pharmacy re: dose.",
			nil, []string{"fine", "ok", "mild", "cardiology", "pharmacy"}},
		{"blood gas", mixed + "ABG on PS 8=7.38-41-118-24, sx for thick sputum.", nil, []string{"38-41-118-24"}},
		{"blood pressure range", mixed + "bp 115-134/65-74 via a-line, lasix 1000/2200.", nil, []string{"134/65-74", "1000/2200"}},
		{"rhythm is no street", upper + "HR 85-105 SR TO ST WITH PVCS, 9 BEAT RUN OF VT.", nil, []string{"105 SR TO ST", "9 BEAT RUN"}},
		{"lower-case shorthand", lower + "neuro: conts sedated, frequent vea, ogt to lws, see careview.", nil, []string{"conts", "vea", "ogt", "lws", "careview"}},
		{"lower-case relation", lower + "social: daughter maribel at bedside, daughters \"inge\" and lorna called.", []string{"maribel", "inge", "lorna"}, []string{"daughter"}},
		{"lower-case title", lower + "dr. szeremeta aware of k 3.2, repleted.", []string{"szeremeta"}, []string{"aware"}},
		{"lower-case initial", lower + lower + "plan extubation in am. s. odile rrt, t. quennby bsn/rn.", []string{"s. odile", "t. quennby"}, []string{"rrt", "extubate"}},
		{"lower-case credential", lower + "weaned per odile brankowicz rrt this am.", []string{"odile brankowicz"}, []string{"rrt"}},
		{"unknown surname after a first name", lower + "spoke with nurse odile brankowicz re plan.", []string{"odile brankowicz"}, []string{"nurse"}},
		{"ward and floor", upper + "PLAN: TO BLAKEMORE 6 WHEN BED AVAILABLE. NGT TO LIS, FROM AC TO PS.", []string{"BLAKEMORE"}, []string{"LIS", "AC", "PS"}},
		{"any word with its floor after a verb of motion", upper + upper + "PLAN: TRANSFER TO MEADOW 2 TOMORROW. TRANSFERRED TO CCU 2. WENT TO OR 7/21. CHANGED BACK TO PS 5. TRANSFERRED BACK TO LANTERN 3.\n" +
			mixed + "Plan: transfer to bay 2 in am, then go to Memorial 3. Weaned to cpap 5.",
			[]string{"MEADOW", "LANTERN", "bay", "Memorial"}, []string{"CCU", "PS 5", "cpap"}},
		{"a longer word on no list before a site of care", upper + upper + "PT WAS SENT HOME FROM KWIATOSZ TCU LAST MONTH. SEEN AT VELMARDE EW FIRST. TO NEURO ICU, THEN TO VISTED ER.",
			[]string{"KWIATOSZ", "VELMARDE"}, []string{"NEURO", "VISTED"}},
		{"a capitalised name before a facility word in lower case", mixed + "Gets follow-up care at Meadow hospital. Had rehab at Velmarde clinic. Records from Community hospital. Outside hospital notes.",
			[]string{"Meadow", "Velmarde"}, []string{"hospital", "clinic", "Community", "Outside"}},
		{"the place a facility is in", mixed + "Pt was seen at a Medical Center in Kwiatosz last week, lasix given.\n" + upper + upper + "SENT TO A REHAB IN VELMARDE. IN HOSPITAL IN NO DISTRESS.",
			[]string{"Kwiatosz", "VELMARDE"}, []string{"DISTRESS"}},
		{"a ward's floor is no house number", upper + upper + "PLAN: TRANSFER TO KWIATOSZ 4\nLIVES AT 12 OAK STREET",
			[]string{"KWIATOSZ", "12 OAK STREET"}, []string{"4"}},
		{"ward and floor in mixed case", mixed + "Rapid response paged To blakemore 6 overnight. Weaned to ps 5, then to simv 12.", []string{"blakemore"}, []string{"ps", "simv"}},
		{"sentence glue is no domain", mixed + "Drain output dark maroon.no sediment, settled about 2pm.Pt resting, WARM.CO stable. See example.no/x.", []string{"example.no/x"}, []string{"maroon.no", "2pm.Pt", "WARM.CO"}},
		{"quantities are no IDs", upper + "FENTANYL 200MCGS/MIN, TV 350mls, PEEP 10cmH2O, #20G RAC, #4PRBC, TYLENOL650 PR, sbp146, ID: 98.9, PA #- 35/18.", nil, []string{"200MCGS", "350mls", "10cmH2O", "20G", "4PRBC", "TYLENOL650", "sbp146", "98.9", "35/18"}},
		{"a dose or a value after an identifier's trigger", mixed + "Asked for an order of 4mg, order # 0.5mg. ID- T101.2 overnight, ID: sbp146. Order 4471920.",
			[]string{"4471920"}, []string{"4mg", "0.5mg", "T101.2", "sbp146"}},
		{"values glued to what they measure", lower + lower + "fentanyl up to 250mcq, levo from .380mck/kg/min. bp ~110-140sys, hr 90-110sinus tach, tv 6-700stv. had cp 6/10, seen on 5/12. code 4471abc.",
			[]string{"5/12", "4471abc"}, []string{"250mcq", "380mck", "140sys", "110sinus", "700stv", "6/10"}},
		{"ranges and shifts are no phones", mixed + "Note 0700-1900. Tidal volumes 950-1000, BP 100-110/40-50, CK drawn at 1515 373.", nil, []string{"0700-1900", "950-1000", "100-110/40-50", "1515 373"}},
		{"phone with spaced hyphens", mixed + "Daughter reachable at 212- 555- 0142 after work.", []string{"212- 555- 0142"}, nil},
		{"settings and scores are no dates", lower + "cpap .5% 5/8, simv 900 10/25, on 1/2 ns at 60cc/hr, c/o 5-6/10 pain, abg 7.2/98/131/4/45.", nil, []string{"5/8", "10/25", "1/2", "6/10", "4/45"}},
		{"ventilator settings after weaning and before a label or a percentage", lower + lower + "weaned down to 12/5, trialed on 8/8 today. ac 500x14 8/5 peep. on bipap 9/4 35%, then 11/6/45%. simv 450x12, 50%, & 6/8. face mask bipap, 14/6. rates pain as 7/10. seen on 5/12.",
			[]string{"5/12"}, []string{"12/5", "8/8", "8/5", "9/4", "11/6/45", "6/8", "14/6", "7/10"}},
		{"setting of a ventilator", mixed + "Placed on PSV of 10/5, 50%. On Pressure Support/CPAP of 14/6, FiO2 35%. Date of 3/14 visit.", []string{"3/14"}, []string{"10/5", "14/6"}},
		{"c for with after a date", upper + "58 YO MALE ADMITTED TO BLAKEMORE HOSPITAL 4/19 C AMI. TEMP 37.2 C. GIVE 1/2 C WATER.", []string{"4/19"}, []string{"37.2", "1/2"}},
		{"a day after a clock time or an event", mixed + "Pt extubated 1/3, at 9p 4/4 glucose 240. See admission note 6/6. Strength 5/5, took 1/2 tab. Note: 5/5 grips.\n" +
			upper + "AT 3A 2/2 PT DESATURATED. ADMITTED TO CCU 3/4.",
			[]string{"1/3", "4/4", "6/6", "2/2", "3/4"}, []string{"5/5", "1/2", "240"}},
		{"a day after what the patient is status post or after a weekday", mixed + "PMH: s/p knee repair 4/4, HTN. Cardiology visit booked for Thursday 1/2. Strength 5/5 s/p PT.\n" +
			upper + "S/P FALL 7/7 AT HOME. S/P FALL. 5/5 STRENGTH. TOOK 1/2 TAB ON SATURDAY.",
			[]string{"4/4", "Thursday 1/2", "7/7"}, []string{"5/5", "1/2 TAB"}},
		{"where the patient knows he is, a long word in capitals", mixed + "Pt believes she is in QUENNBURY now. Knows he is in TROUBLE, knows he is in PROPOFOL trial, knows he is in CSRU.",
			[]string{"QUENNBURY"}, []string{"TROUBLE", "PROPOFOL", "CSRU"}},
		{"a day right after what was done", mixed + "PICC removed 2/2, urine cx sent 4/4. Ambulated 3/4 of the hall, started 1/2 NS.",
			[]string{"2/2", "4/4"}, []string{"3/4", "1/2 NS"}},
		{"a day after d/c or f/u", mixed + "Heparin d/c 2/2 after the bleed. Knee f/u 3/3 in clinic. D/C 1/4 NS, strength 5/5 d/c.",
			[]string{"2/2", "3/3"}, []string{"1/4 NS", "5/5"}},
		{"a date glued after a word", upper + "PMH: S/P HIP FX6/95, CABG10/3/02. ON PEEP5/10, PS10/5. MAG2/3 REPLETED.",
			[]string{"6/95", "10/3/02"}, []string{"PEEP5/10", "PS10/5", "MAG2/3"}},
		{"a month and a year in parentheses after a label", upper + "PMH: COLON CA (11/94) S/P RESECTION. BP (110/70). CA 8.9 (LOW).",
			[]string{"11/94"}, []string{"110/70", "8.9"}},
		{"a day that opens a line or sentence", upper + "DRESSING DRY. 7/7 ANTIBIOTICS STOPPED.\n3/4 BACK TO CATH LAB.\n5/5 STRENGTH IN ALL LIMBS. 1/2 TAB GIVEN.",
			[]string{"7/7", "3/4"}, []string{"5/5", "1/2"}},
		{"dates stay dates", lower + "admitted on 4/19 with chest pain, seen 11/19 0400, mi 8/88.", []string{"4/19", "11/19", "8/88"}, nil},
		{"month of year", lower + "in march of 2019 pt was in a rehab, may of '92 too. will march 2 miles.", []string{"march of 2019", "may of '92"}, []string{"2 miles"}},
		{"short month as shorthand", lower + lower + "nc 02 dec from 5->3 w/ sats 96%, lasix 20 mg.", nil, []string{"02 dec"}},
		{"two letters are shorthand", upper + "HO AWARE. PT NT SXN'D. SPOKE WITH HO CREEDEN. ST DEPRESSION IN SR WO Q'S. SR PACS NOTED.", []string{"CREEDEN"}, []string{"HO AWARE", "NT", "WO", "PACS"}},
		{"no street in shorthand", upper + "REQUIRING HIGHER FIO2. STOOL VIA NGT UNTIL 5AM. ATIVAN 0.5MG PO X1. ADJUSTED DRIVE PRESSURE. AMBULATED AROUND UNIT X3.", nil, []string{"REQUIRING", "VIA NGT", "PO X1", "DRIVE", "UNIT X3"}},
		{"capitalised shorthand in a clinical note", mixed + "Pulm: Conts on the vent, RSBI today 66. Pt NPO after MN. PT STILL INTUBATED. Integrelin gtt at 12.", nil, []string{"Conts", "RSBI", "NPO", "STILL", "Integrelin"}},
		{"a name in capitals in a clinical note", mixed + "Note by ODILE QZARNOWICK today, lasix 40 mg given, sats stable.", []string{"ODILE QZARNOWICK"}, []string{"Note", "today"}},
		{"places in a clinical note", mixed + "Social: lives in Marbleton with wife, moved to Quenby Falls from Ostrander last year. Changed to Neo.", []string{"Marbleton", "Quenby", "Ostrander"}, []string{"Neo"}},
		{"names in a clinical note", mixed + "Wife and lawyer (Osric Vantongeren) aware of plan. Dr. Quennell notified. Brankowicz aware.", []string{"Osric Vantongeren", "Quennell", "Brankowicz"}, []string{"Wife", "lawyer"}},
		{"titles that are shorthand", mixed + "HR 74-88 SR. BP 96-124/52-68. SKIN: MS INCISION WITH DSD. Dr. Quennell aware. Spoke with MS SMITH.", []string{"Quennell", "SMITH"}, []string{"BP", "INCISION"}},
		{"pronouns and verbs after a relation", upper + "FAMILY WILL BE IN TO SPEAK WITH THEM. A FRIEND CAME TO VISIT. WIFE ROSE CALLED.", []string{"ROSE"}, []string{"THEM", "CAME"}},
		{"devices named for people", mixed + mixed + "Ted stockings applied. Left femoral Quinton catheter, Swan-Ganz in place, Bair Hugger off, Duoderm to sacrum. Dr. Hickman aware.",
			[]string{"Hickman"}, []string{"Ted", "Quinton", "Swan-Ganz", "Bair Hugger", "Duoderm"}},
		{"a catheter's size is no title", upper + upper + "#18 FR FOLEY INSERTED. 14 FR SALEM SUMP. SPOKE WITH FR KWIATOSZ.",
			[]string{"KWIATOSZ"}, []string{"FOLEY", "SALEM"}},
		{"places of care that name none", upper + upper + "ARRIVED FROM OSH LAST NIGHT. TYPE AND SCREEN SENT TO BB. FROM KWIATOSZ TCU.",
			[]string{"KWIATOSZ"}, []string{"OSH", "BB"}},
		{"languages", mixed + "Pt speaks Russian only, grew restless and was speaking in Russian; daughter interprets.", nil, []string{"Russian"}},
		{"a letter glued to a word is no initial", upper + "POOR U/O. HANDS AND ARMS SWOLLEN. RR 40'S. AMBUED, LAVAGED.", nil, []string{"HANDS", "AMBUED"}},
		{"units and states are no facilities", mixed + "Pt went to OR for a washout, then traveling to CT. Tmax ED 104.2. Moving from Florida.\nPlan: wean. Her home city Amiens: lovely.", []string{"Amiens"}, []string{"OR", "CT", "Tmax", "Florida", "Plan"}},
		{"facilities without case", upper + "HAD PROLONGED HOSPITAL STAY. TAKEN TO ST AGATHA MEMORIAL HOSPITAL, THEN FROM UNIVERSITY OF VERMONT MEDICAL CENTER.", []string{"AGATHA MEMORIAL HOSPITAL", "UNIVERSITY OF VERMONT MEDICAL CENTER"}, []string{"PROLONGED"}},
		{"apostrophe surnames", mixed + "Dr. O'brien notified. Ardwin O'burney MD met with the son. Meds at 5 o'clock.", []string{"O'brien", "Ardwin O'burney"}, []string{"o'clock", "MD"}},
		{"lower-case name after a title", mixed + "ph 7.29. Dr. quennell aware. Mild stridor noted, dr brown aware. Dr. to follow.", []string{"quennell", "brown"}, []string{"follow"}},
		{"a capital after a lower-case title", mixed + "Discussed plan with dr. Kwiatosz at noon. Also mr. Thimble, son. ms Lasix given.", []string{"Kwiatosz", "Thimble"}, []string{"Lasix"}},
		{"dates beside labels and units", upper + "CABG 3/81 C/B WOUND INFECTION. CO/CI/SVR (11/19 0400) 4.1/2.2. BC FROM 7/4 GM + RODS. LAST BM SEEMS TO BE 7/26.", []string{"3/81", "11/19", "7/4", "7/26"}, []string{"4.1/2.2"}},
		{"hospital names", upper + "SEEN AT GOOD SHEPHERD FOR A FEVER OF 103 ON 2/27. AT LIBERTY MEMORIAL SHE GOT A RASH. WORKS @ BELCAMP MEMORIAL.", []string{"GOOD SHEPHERD", "LIBERTY MEMORIAL", "BELCAMP MEMORIAL"}, []string{"103"}},
		{"hospital pair whose first word another rule took", mixed + "He was transferred to Liberty Memorial yesterday, then went to Good Shepherd for surgery.", []string{"Liberty Memorial", "Good Shepherd"}, nil},
		{"hospital names in lower case", lower + lower + "recieved from university of vermont hospital, transferred from mount sinai hosp. under general anesthesia.", []string{"university of vermont hospital", "mount sinai hosp"}, []string{"general"}},
		{"English words that are names, alone in a clinical note", mixed + "Still has a persistent cough. Seen by Speech and swallow. Dr B Quennell stopped by, then spoke with Brankowicz.", []string{"Quennell", "Brankowicz"}, []string{"Still", "Speech"}},
		{"a capital in a lower-case clinical note", lower + lower + "social: wife gave the keys to Ravenhurst at the desk. Neuro: conts sedated.", []string{"Ravenhurst"}, []string{"Neuro", "conts", "keys"}},
		{"short lower-case clinical note", "neuro: conts sedated with propofol gtt, ogt to lws, extreemly restless, fentanly prn.", nil, []string{"conts", "ogt", "lws", "extreemly", "fentanly"}},
		{"clinical register from allow-list shorthand", "rt note: vent settings unchanged, ett secure at 23, nts x2 for thick secretions, pacs noted on monitor, tf at goal via ngt. oet taped. mednebs q4h, rle warm. wife quellmorn called.",
			[]string{"quellmorn"}, []string{"oet", "mednebs"}},
		{"short lower-case chat keeps names", "don't be late for class, sandra! ask zhenyu and bulgakova about it.", []string{"zhenyu", "bulgakova"}, nil},
		{"university hospitals", mixed + "Pt came over from university of oregon hospital. PT ADMITTED FROM UNIVERSITY OF VERMONT MEDICAL YESTERDAY. Studied at the university of the arts.", []string{"university of oregon", "UNIVERSITY OF VERMONT"}, []string{"arts"}},
		{"per first and last name", lower + lower + "keep weaning despite low ci per clement whaley, per protocol.", []string{"clement whaley"}, []string{"protocol"}},
		{"employers", "Injured at work: he works for Vantaro Logistics as a driver; his wife is employed by Brightline Foods. He works for a living.", []string{"Vantaro Logistics", "Brightline Foods"}, []string{"living", "driver"}},
		{"shorthand motion verbs", upper + "PT WAS TX TO BH FOR FOLLOW UP. MED-FLIGHTED TO KVH FOR CATH. RETIRED FROM ACMEWORKS. TX TO OR.", []string{"BH", "KVH", "ACMEWORKS"}, []string{"OR"}},
		{"travel to or from a place", upper + upper + "DTR WILL FLY FROM KWIATOSZ NEXT WEEK. SON DROVE TO VELMARDE. WIFE DRIVING TO REHAB.",
			[]string{"KWIATOSZ", "VELMARDE"}, []string{"REHAB"}},
		{"a word that may be a name after from the, at the, to the", upper + upper + "CONSULT NOTE FROM THE KWIATOSZ. SISTER IS A NURSE AT THE VELMARDE. FROM THE EW TO THE OR. AT THE BEDSIDE.",
			[]string{"KWIATOSZ", "VELMARDE"}, []string{"EW", "OR", "BEDSIDE"}},
		{"a capitalised word on no list after in, mid-sentence", mixed + mixed + "Pt owned a shop in Kwiatosz for years. Pt in Trendelenburg. Placed in Restraints.",
			[]string{"Kwiatosz"}, []string{"Trendelenburg", "Restraints"}},
		{"back to", upper + "CHANGED BACK TO NRB WITH GOOD EFFECT. PLAN TRANSFER BACK TO OSTRANDERVILLE.", []string{"OSTRANDERVILLE"}, []string{"NRB"}},
		{"sites of care", upper + "SCREENED BY DEARBORN REHAB AND OSTRANDERVILLE. AWAITING BED AT QUENBY REHAB. FROM THE ER TO THE CATH LAB AND CCU.", []string{"DEARBORN", "OSTRANDERVILLE", "QUENBY"}, []string{"REHAB", "THE ER", "CATH", "CCU", "LAB"}},
		{"campus and room", lower + lower + "transferred from er quennbury campus, then transferred to 209 ostrander. c/o to blakemore if stable. c/o pain, back to sleep.", []string{"quennbury", "ostrander", "blakemore"}, []string{"campus", "209", "pain", "sleep"}},
		{"university hospital without of", mixed + "Pt taken to U Vermont ER with chest pain. Pt told u oregon is far.", []string{"U Vermont"}, []string{"ER", "u oregon"}},
		{"employer with an organisation word", lower + lower + "he works for summit health. she works for home health. he works for a living.", []string{"summit health"}, []string{"home health", "living"}},
		{"places of ordinary words after a cue", lower + lower + "son returned to long beach today. a friend from Grand Rapids, MI called. went to new ground on the vent.", []string{"long beach", "Grand Rapids"}, []string{"new ground"}},
		{"initials with a surname", upper + "J CORDES ORDERED LASIX. B BROWN STOOL.\n" + lower + lower + "per d cordes, per b korvath. x2 per d. 2 l per d.", []string{"J CORDES", "d cordes", "b korvath"}, []string{"B BROWN STOOL", "x2", "2 l"}},
		{"where the patient knows he is", mixed + "Knows he is in KVH, that it is Tuesday. \"I know I'm in BMC and it is cold.\" Knows he is in ICU.", []string{"KVH", "BMC"}, []string{"ICU"}},
		{"where the patient knows he is, capitalised", mixed + "Oriented to year; knew he was in Velmarde today. Knows he is in Restraints.", []string{"Velmarde"}, []string{"Restraints"}},
		{"where the patient lives", lower + lower + "social: lives alone in white quenbury, daughter lives in ostrandale. lives alone in an apartment.", []string{"white quenbury", "ostrandale"}, []string{"apartment", "alone"}},
		{"medical center acronyms", upper + "CONSULT REQUESTED FROM QBMC CARDIOLOGY. HCT 30, CMC ATTACHED.", []string{"QBMC"}, []string{"HCT", "CMC"}},
		{"a building glued to its floor", upper + "WENT BACK TO BLAKEMORE 3 AFTER CATH. PT ON BLAKEMORE3 TOLERATED.", []string{"BLAKEMORE"}, []string{"AFTER", "PT ON"}},
		{"years with an apostrophe", upper + "HX: MI '91, CABG '94, BREAST CA'02. HT 5'10\" RR 40'S, LABEL '12' ON BAG.", []string{"'91", "'02"}, []string{"5'10", "40'S", "'12'"}},
		{"street in upper case", upper + "LIVES AT 12 OAK STREET WITH HER SON.", []string{"12 OAK STREET"}, nil},
		// found by swapping the dev notes' surrogate names, places and
		// dates for others: rules that held only for the values they were
		// built on
		{"a word on no list after a relation", upper + "SOCIAL: SON KWIATOSZ VISITED THIS PM. DTR ZARNECKI CALLED. WIFE VISTED TODAY.",
			[]string{"KWIATOSZ", "ZARNECKI"}, []string{"VISTED"}},
		{"a word on no list after a relation, lower case", lower + lower + "social: wife, quellmorn, gave her cell number. daughter dorvanek at bedside, son presnt till 9.",
			[]string{"quellmorn", "dorvanek"}, []string{"presnt"}},
		{"a word on no list before a name", upper + "TREATMENT CONTINUES.\nKWIATOSZ C. VELMARDE, RRT\n" + lower + lower + "plan to wean. trelisko mary, rn",
			[]string{"KWIATOSZ C. VELMARDE", "trelisko mary"}, []string{"TREATMENT", "wean"}},
		{"what a relative says or wants", upper + "SON IS A TEACHER; KOWALCZYK STATES SHE WILL CALL BACK. FAMILY STATES PT WAS WELL. CULTURE REPORTS GPC.\n" +
			mixed + "Today, Brankowicz wishes to discuss code status. Osric verbalizes understanding.",
			[]string{"KOWALCZYK", "Brankowicz", "Osric"}, []string{"FAMILY", "CULTURE", "understanding"}},
		{"an ordinary word after an initial", upper + "DRIP TITRATED PER DR B. THIMBLE. K. LANTERN AWARE OF K 3.1. E. COLI IN URINE. S. INTUBATED, SEDATED.",
			[]string{"B. THIMBLE", "K. LANTERN"}, []string{"COLI", "INTUBATED"}},
		{"an ordinary word after by, per or with and an initial", upper + upper + "LINE PLACED BY C. LANTERN. WEAN PER B. THIMBLE. INFECTED WITH E. COLI.",
			[]string{"C. LANTERN", "B. THIMBLE"}, []string{"COLI"}},
		{"an ordinary word between an initial and a credential", upper + upper + "KWIATOSZ J. LANTERN BSN/RN\nJ. THIMBLE, RN",
			[]string{"KWIATOSZ J. LANTERN", "J. THIMBLE"}, []string{"BSN/RN", ", RN"}},
		{"per two words that may be names", lower + lower + "sedation weaned per grzelak brankowicz, per nsurg team, per tsicu nsurg.",
			[]string{"grzelak brankowicz"}, []string{"team", "tsicu nsurg"}},
		{"the subject of an age", lower + lower + "kwiatosz lantern is a 64 yr old female admitted with cp. pt is a 64 yo. gentleman is a 64 yo.\n" +
			upper + "TRELISKO IS AN 81 YEAR OLD MAN.",
			[]string{"kwiatosz lantern", "TRELISKO"}, []string{"pt is", "gentleman"}},
		{"a name in parentheses after a label", upper + "PLEASE CALL CONTACT PERSON (KOWALCZYK) FIRST. SPOKE WITH WIFE (KWIATOSZ) AND DAUGHTER (HCP). SON (VISTED).",
			[]string{"KOWALCZYK", "KWIATOSZ"}, []string{"HCP", "VISTED"}},
		{"relations of more than one word, in quotes and after the name", upper + "CONTACT PERSON KWIATOSZ VELMARDE (555-0142). ZARNECKI (SIGNIFICANT OTHER) CALLED TWICE. CONTACT ISOLATION.\n" +
			lower + lower + "social: daughter \"dorvanek\" at bedside. updated by significant other quellmorn.",
			[]string{"KWIATOSZ VELMARDE", "ZARNECKI", "dorvanek", "quellmorn"}, []string{"ISOLATION", "SIGNIFICANT", "other"}},
		{"where a relative lives or comes from", upper + "NIECE IN VELMARDE PHONED. WIFE FROM NH. SON IN ICU. DAUGHTER IN LAW AT BEDSIDE.\n" +
			mixed + "Social: sister from QH phoned, niece (\"from Kwiatosz\") too, brother in Ostrander. Son in ER.",
			[]string{"VELMARDE", "Kwiatosz", "QH", "Ostrander"}, []string{"NH", "ICU", "LAW", "ER"}},
		{"an adverb between a verb of motion and a ward with its floor", upper + "PT GOING TOMORROW TO MEADOW 2. TO BE SENT TONIGHT TO QH 4. WILL TRANSFER TODAY TO PS 5.\n" +
			lower + lower + "changed today to ps 5. went out to walk 3 times.",
			[]string{"MEADOW", "QH"}, []string{"PS 5", "ps 5", "walk 3"}},
		{"an English word that is a surname after a relation", upper + "SON COOK, PHONE ON CHART. WIFE HILLS 555-0142. SON UPDATED. WIFE PRESENT. HUSBAND SMOKES. DAUGHTER HOME.\n" +
			lower + lower + "niece is away, dtr marsh will call back tonight.",
			[]string{"COOK", "HILLS", "marsh"}, []string{"UPDATED", "PRESENT", "SMOKES", "HOME"}},
		{"a signature with a surname that is an English word", mixed + "Insulin drip titrated per protocol.\nQuennby Fields, RN\nLasix given, RN aware. Sats Stable, RN\n" +
			lower + lower + "plan as above.\nvelmarde cook rn\nsats stable rn aware.",
			[]string{"Quennby Fields", "velmarde cook"}, []string{"Lasix", "Sats Stable", "sats stable"}},
		{"a word on no list after a credential used as a title", upper + "SPOKE WITH HO KWIATOSZ RE: PLAN. NP Velmarde AWARE. MD NOTIFIED. RN VISTED.",
			[]string{"KWIATOSZ", "Velmarde"}, []string{"NOTIFIED", "VISTED"}},
		{"a hospital's acronym with its floor", upper + "RAPID RESPONSE PAGED TO KVH 6 AT NOON. BED ON QBH 4 IS READY. WEANED TO NC 2. BACK TO OR 2. ON TF 20. LIVES IN NH 3 DAYS A WEEK.\n" +
			mixed + "Rapid response paged To qh 6 overnight. Sats fine on NC 3.",
			[]string{"KVH", "QBH", "qh"}, []string{"NC 2", "OR 2", "TF 20", "NH", "NC 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := redact(t, tt.text, nil)
			for _, w := range tt.redact {
				if ok, _ := covered(tt.text, r.Spans, w); !ok {
					t.Errorf("%q not redacted: %q", w, r.Text)
				}
			}
			for _, w := range tt.keep {
				if touched(tt.text, r.Spans, w) {
					t.Errorf("%q redacted: %q", w, r.Text)
				}
			}
		})
	}
}

// TestGluedBuilding checks that a building found with its floor is redacted
// where it recurs glued to a floor number.
func TestGluedBuilding(t *testing.T) {
	text := "PT REMAINS INTUBATED ON PROPOFOL, BP STABLE, NO ECTOPY NOTED, LUNGS CLEAR, ABD SOFT, FOLEY DRAINING WELL.\n" +
		"WENT BACK TO BLAKEMORE 3 AFTER CATH. PT ON BLAKEMORE3 TOLERATED."
	r, _ := redact(t, text, nil)
	if strings.Contains(r.Text, "BLAKEMORE") {
		t.Errorf("building left visible: %q", r.Text)
	}
}
