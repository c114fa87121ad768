package phi

import "testing"

// TestNoteTypes checks rules for note types the engine was not tuned on
// (letters, messages, dietitian notes, histories and physicals, forms),
// with invented lines: what must be redacted and what must stay. Mixed is
// a clinical note's first line, so that each line is judged in a note.
func TestNoteTypes(t *testing.T) {
	mixed := "Pt remains intubated on propofol, BP stable, no ectopy noted, lungs clear, abd soft, foley draining well.\n"
	tests := []struct {
		name   string
		text   string
		redact []string
		keep   []string
	}{
		// a lab or vital label keeps a value, not an identifier
		{"a phone after a label", mixed + "Called pt at 617-555-0163, no answer. T: 617.555.0163", []string{"617-555-0163", "617.555.0163"}, nil},
		{"a full date after a label", mixed + "Next appt for pt is 04/12/2024. Last dose was 03/14/2024. D: 04/03/2024 T: 04/04/2024.",
			[]string{"04/12/2024", "03/14/2024", "04/03/2024", "04/04/2024"}, nil},
		{"a ZIP code after a state's code", "Lives at 12 Oak St, Los Angeles, CA 90033; sister in Burlington, VT 05401.",
			[]string{"90033", "05401"}, nil},
		{"an identifier after a label", mixed + "Pt: 00482913. Ca 9.8, PLT 250000, WBC 12000, PT 13.2.", []string{"00482913"},
			[]string{"9.8", "250000", "12000", "13.2"}},
		{"a padded date with a two-digit year after a label", mixed + "D: 05/03/67  T: 05/05/67\nDD 09/19/74 DT 09/20/74. Vent SIMV 12/5/40, PS 10/12/14.",
			[]string{"05/05/67", "09/20/74"}, []string{"12/5/40", "10/12/14"}},
		// ages over 89 as histories write them
		{"old ages", mixed + "92F presents with a fall. A 94 M with CHF. Patient is 91 yrs. Her mother, 97, lives alone. Pt (93) alert.",
			[]string{"92", "94", "91", "97", "93"}, nil},
		{"old ages in words", mixed + "Her sister is ninety years of age. She is a ninety-one year old widow; her brother, aged ninety-two, visits. Her aunt is in her early nineties.",
			[]string{"ninety", "ninety-one", "ninety-two", "nineties"}, []string{"widow", "aunt", "early"}},
		{"numbers in words that are no ages", mixed + "Sats in the nineties. Waited forty minutes. Ninety years ago the hospital opened. Sixty-one year old man.",
			nil, []string{"nineties", "Ninety", "Sixty-one"}},
		{"temperatures are no ages", mixed + "T 101F, HR 92. Spiked to 102F overnight. Febrile to 101 F. Temp 99 F; sats 94, 92, 95.",
			nil, []string{"101F", "92", "102F", "101 F", "99 F", "94", "95"}},
		// a city that bears a state's name, with its state after it
		{"a city named as a state", "Lives in New York, NY 10001 with her son. He is from Washington, DC originally. Born in Nevada, MO.",
			[]string{"New York", "Washington", "Nevada"}, []string{"NY", "DC", "MO"}},
		{"states stay", "She grew up in Georgia, then moved to Texas. Is it Oregon, OR Alabama? Her mother lives in New York.",
			nil, []string{"Georgia", "Texas", "Oregon", "Alabama", "New York"}},
		{"a brand named as a place", "Lives in New York, NY 10001.\nAte a New York strip steak.", []string{"New York"}, []string{"strip steak"}},
		{"may and march as words", "We may go soon. May I call you tomorrow? The march was long.", nil, []string{"may", "May I", "march"}},
		// letters, messages and forms
		{"salutations", "Dear Mary, thank you for the referral.\nHi Ahmed, your labs look good.", []string{"Mary", "Ahmed"},
			[]string{"Dear", "Hi", "referral", "labs"}},
		{"role labels", "Client: Sandra Lee\nTherapist Mark Ng met with the client.", []string{"Sandra Lee", "Mark"}, []string{"Client", "Therapist"}},
		{"the rest of a name in a field", "Attending: Mark Day\nPatient: Hope Rose", []string{"Mark Day", "Hope Rose"}, []string{"Attending", "Patient"}},
		{"signatures", "See you Tuesday.\nBest regards,\nSandra\n\nSincerely,\nFrank Long, RD", []string{"Sandra", "Frank Long"}, []string{"regards", "RD"}},
		{"a sign-off in a message", "can i have pasta before the run? thx, sandra", []string{"sandra"}, []string{"pasta", "thx"}},
		{"a two-letter surname after a title", "Discussed with Dr. Ng. Seen by Dr. Ames Cardiology.", []string{"Ng", "Ames"}, []string{"Cardiology"}},
		{"no name after a greeting or a sign-off", "Hi All, the meeting moved.\nThanks, that helps a lot with the plan.\nDear Sir or Madam,",
			nil, []string{"All", "that helps", "Sir", "Madam"}},
		// ratings on a scale are no dates; dates stay dates
		{"ratings", "Mood 4/10, anxiety: 7/10. Fullness 8/10 after meals. Murmur 2/6, strength 4/5. Pain 4/10 since 3/10.",
			[]string{"3/10"}, []string{"4/10", "7/10", "8/10", "2/6", "4/5"}},
		{"dates after a visit word", "Seen 4/10 for follow-up. Next visit on 4/12.", []string{"4/10", "4/12"}, nil},
		// states and countries that are names, beside a name
		{"a state in a name", "Aaliyah Washington presented with chest pain. Georgia Banks called. Jordan Kim, RD reviewed it.",
			[]string{"Aaliyah Washington", "Georgia Banks", "Jordan Kim"}, []string{"RD"}},
		{"states stay places", "Moved from Georgia last year. Lives in Washington with Maria. PT FROM GEORGIA.",
			[]string{"Maria"}, []string{"Georgia", "Washington", "GEORGIA"}},
		// diseases, scores and equations named for people
		{"eponyms", "82M with advanced Parkinson's. Hx Hashimoto's. Braden 12, Morse 60. Needs per Harris-Benedict and Mifflin-St Jeor. Child-Pugh A.",
			nil, []string{"Parkinson", "Hashimoto", "Braden", "Morse", "Harris-Benedict", "Mifflin", "Child-Pugh"}},
		{"eponyms that are a person's name", "Dr. Parkinson saw the patient. Mrs. Morse called. Seen by Dr. Clark.",
			[]string{"Parkinson", "Morse", "Clark"}, nil},
		// ISO 8601 timestamps, whole
		{"ISO timestamps", mixed + "Msg sent 2025-11-03T09:41:27Z via portal. Weight logged 2025-11-04T07:05, again 2025-11-05T07:02:10.250-05:00.",
			[]string{"2025-11-03T09:41:27Z", "2025-11-04T07:05", "2025-11-05T07:02:10.250-05:00"}, []string{"via", "again"}},
		// identifiers written in groups after their label
		{"spaced identifiers", mixed + "MRN: 552 301 884. Member ID 7731 0042 19 on file. SSN 078 05 1120. Chart # 408 771 reviewed.",
			[]string{"552 301 884", "7731 0042 19", "078 05 1120", "408 771"}, []string{"on file", "reviewed"}},
		{"no group before a unit", mixed + "Order 1500 2000 mg given. Order 125 250 mcg.", nil, []string{"2000 mg", "250 mcg"}},
		// codes of a code system are no ZIP codes
		{"service codes", mixed + "Billed CPT 97802 and CPT code: 97803, 97804. HCPCS 99401 too.", nil,
			[]string{"97802", "97803", "97804", "99401"}},
		{"lab values of five digits", mixed + "Na 148, CPKs 12345, creat 1.9. CPK peak 14000 then down. +12480 since midnight. Lives in Quincy, MA 02169.",
			[]string{"02169"}, []string{"12345", "14000", "12480"}},
		{"codes named by their use", mixed + "Billing code 99213 for the visit. Procedure code: 93000. Billing: 55821.", []string{"55821"},
			[]string{"99213", "93000"}},
		// social handles
		{"handles", "Loved the recipe you posted, @nina_eats91! My sister is on tiktok: ritabakes.\nIG: @coach.dlamini",
			[]string{"nina_eats91", "ritabakes", "coach.dlamini"}, []string{"tiktok", "IG", "recipe"}},
		{"at is no handle", mixed + "TF @ 50 ml/hr, oxycodone @q4h, melatonin @hs, walked @home, @2200 resting, IVF @KVO. Email r.li@mail.com.",
			[]string{"r.li@mail.com"}, []string{"50 ml", "q4h", "hs", "home", "2200", "KVO"}},
		// streets named by numbers and ordinals, numbered roads
		{"numbered streets", "Lives at 4410 N 142nd Ave with her son. Mailing: 77 Route 30A, Unit 2. Farm at 930 County Road 12. Moved to 8 East 81st Street.",
			[]string{"4410 N 142nd Ave", "77 Route 30A", "930 County Road 12", "8 East 81st Street"}, []string{"son", "Farm"}},
		{"a numbered road after a place word", mixed + "Pt lives off Hwy 287 near the lake. MVA on Route 17 at dusk.",
			[]string{"Hwy 287", "Route 17"}, []string{"lake", "dusk"}},
		{"ordinals that are no streets", mixed + "Given 2 3rd doses today. On 2nd shift RN aware. Route PO, 4th day of abx.", nil,
			[]string{"3rd", "2nd", "Route", "4th"}},
		// postcodes outside the United States, in an address
		{"UK and Canadian postcodes", "Address: 7 Mill Lane, Leeds LS6 2QH. Lives at 300 Rue Ste-Catherine, Montreal QC H3B 1A7.\nPostal code: V6B 4Y8. Postcode: G2 3BA",
			[]string{"LS6 2QH", "H3B 1A7", "V6B 4Y8", "G2 3BA"}, []string{"Postal", "Postcode"}},
		{"postcode shapes outside an address", mixed + "Staging T2 N0 M0. Lead V1 2AB noted. Pt on 3L NC.", nil, []string{"V1 2AB", "T2", "3L"}},
		// name particles with one known side, and particles of more languages
		{"particle runs", "Ana de la Cruz called. Seen with Pieter van der Berg. Dr. van Houten reviewed. Mr. de la Vega agreed.",
			[]string{"Ana de la Cruz", "Pieter van der Berg", "van Houten", "de la Vega"}, []string{"called", "reviewed"}},
		{"more particles", "Referred by Niamh Ó Súilleabháin and Dr. Yusuf ibn Tariq; Callum Mac Neil and Amira bint Faisal came.",
			[]string{"Niamh Ó Súilleabháin", "Yusuf ibn Tariq", "Callum Mac Neil", "Amira bint Faisal"}, []string{"Referred"}},
		{"particles alone stay", mixed + "Pt able to do la la, e tube, to de Tx, do so. Mac address noted.", nil, []string{"do la la", "to de", "Mac"}},
		// food, supplement and tube-feed brands are no names
		{"brands in a message", "Had Oreos after dinner again. Nepro at night, Glucerna in the am. Cheerios for breakfast. Tried Kate Farms and Splenda. Thanks, Priya",
			[]string{"Priya"}, []string{"Oreos", "Nepro", "Glucerna", "Cheerios", "Kate Farms", "Splenda"}},
		{"a brand's plural", "Snacks were Triscuits and Tostitos, then Doritos.", nil, []string{"Triscuits", "Tostitos", "Doritos"}},
		{"a rated word at a line's start", "Hunger 3/10 before lunch.\nSatiety: 7/10 after.\nHunger at 2/10 at noon", nil, []string{"Hunger", "Satiety", "3/10"}},
		{"a surname that rates nothing", "Dr. Hunger called about the results.", []string{"Hunger"}, nil},
		// allow-listed cities in an upper-case note
		{"cities in capitals", "PT RESTING COMFORTABLY ON PROPOFOL GTT, VSS, LUNGS COARSE, SXN FOR THICK TAN SECRETIONS, ABD SOFT, FOLEY PATENT. " +
			"DAUGHTER CALLED FROM BOSTON, UPDATED. SON DRIVING IN FROM DENVER. PT CONVERSES IN ENGLISH. PLAN TO WEAN FIO2 AS TOLERATED.",
			[]string{"BOSTON", "DENVER"}, []string{"ENGLISH", "DAUGHTER", "PLAN"}},
		// dictated reports: discharge summaries, radiology, pathology, consults
		{"a dictation's reference initials", mixed + "Dictated by: Lorne Wexcombe, MD\nLTW/kmq\nRS/dlt  2/11/91\nPAS/jw  DD: 7/27/84\nCXR PA/lat done.\nMCG/kg/min\nHR/bp stable",
			[]string{"LTW", "kmq", "RS", "dlt", "PAS", "jw"}, []string{"PA/lat", "MCG/kg", "HR/bp"}},
		{"reference initials with a particle's letters", mixed + "Sincerely,\nPim van der Sloot, M.D.\nPvdS/ak\nHbA/ok stable", []string{"PvdS", "ak"}, []string{"HbA"}},
		{"a dictation's reference initials with a colon", mixed + "LP:bw  D: 07/07/69  T: 07/08/69\nCV:rrr\nGI:nt, tolerating diet\nEXT:wwp",
			[]string{"LP", "bw"}, []string{"D:", "T:", "CV:rrr", "GI:nt", "EXT:wwp"}},
		{"a name field in a report written in capitals", "PT ADMITTED FROM THE ER WITH CHEST PAIN AND SOB, RULED IN FOR NSTEMI, TAKEN TO CATH LAB, STENT TO LAD PLACED WITHOUT COMPLICATION.\n" +
			"DISCHARGE SUMMARY   NAME: VOSKUIJLEN, TEODOR   MRN: 82-441-990\nSURGEON: QUELLMORN\nPT: LETHARIC BUT AROUSABLE. NEURO: INTACT.\nPLAN: DIURESE.",
			[]string{"VOSKUIJLEN", "TEODOR", "QUELLMORN"}, []string{"LETHARIC", "INTACT", "DIURESE"}},
		{"a first name that is an eponym, after a surname", mixed + "Name: Okoro, Benedict     MR#: 0449182\nReferring: Quimby, Addison",
			[]string{"Benedict", "Addison"}, []string{"Name", "Referring"}},
		{"eponyms that are first names, alone", mixed + "BMR by Harris-Benedict. Hx of Addison's, on hydrocortisone. Braden 12.", nil, []string{"Harris-Benedict", "Addison's", "Braden"}},
		{"a report's staff by their role", mixed + "Technician: MK\nSonographer: JT\nPathologist: Quellmorn\nA technician will set up the CPAP; pathologist to review.",
			[]string{"MK", "JT", "Quellmorn"}, []string{"technician", "CPAP", "pathologist"}},
		{"an internal extension after x", mixed + "Linnea Yip, MD (resident) x5-3381. Page the fellow at x 4-4471.\nAbx x3 days, x2-3 days, repeat x 1-2000 units.",
			[]string{"x5-3381", "x 4-4471"}, []string{"x3", "x2-3", "1-2000"}},
		{"the names of practices and agencies", mixed + "Harborview Internal Medicine, 412 Kessler Avenue\nf/u with PCP at Bellmont Family Medicine in 1 week; PT through Sunnyvale Home Health.\n" +
			"Hematology/Oncology Associates of Fallowmere. Consulted Internal Medicine and Palliative Care; Home Health to follow; Primary Care Associates of the county.",
			[]string{"Harborview", "Bellmont", "Sunnyvale", "Fallowmere"}, []string{"Internal Medicine", "Family Medicine", "Home Health", "Palliative Care", "Primary Care", "Oncology Associates", "county"}},
		{"a relation that is also a surname opens a sentence", "Met with the patient at bedside. She lives with her husband Cornelius Weber. Husband has dementia. Son said he would visit; Daughter's plans unclear.",
			[]string{"Cornelius Weber"}, []string{"Husband", "Son", "Daughter"}},
		{"a unit number in hyphenated groups", mixed + "Patient Name: Zellweger, Orla     Unit #: 441-88-02\nLives at 12 Oak St, Unit 4.",
			[]string{"441-88-02", "Unit 4"}, []string{"Unit #"}},
		{"credentials of social work, nutrition and nursing", "Met with the patient and her daughter at bedside.\nAmara Quellmorn, LICSW\nTeodor Velmarde, RDN, LDN\nIngrid Brankowicz, CRNP",
			[]string{"Amara Quellmorn", "Teodor Velmarde", "Ingrid Brankowicz"}, []string{"LICSW", "RDN", "LDN", "CRNP"}},
		{"the operating room's eponyms", mixed + "A Hasson trocar was placed. A Lichtenstein repair was done through a Pfannenstiel incision with a Kelly clamp, Metzenbaum scissors and a Blake drain.",
			nil, []string{"A Hasson", "A Lichtenstein", "Pfannenstiel", "Kelly", "Metzenbaum", "Blake"}},
		{"a surgeon before an instrument", mixed + "Dr. Quellmorn drain check at noon.", []string{"Quellmorn"}, []string{"drain"}},
		{"a street without a house number before an abbreviated suffix", mixed + "Seen at urgent care on Elm St. for a dog bite. He lives on Maple Ave. near the park; works on Oak St near the school.\nPain on Left Side. Lives near St. Anselm church.",
			[]string{"Elm St", "Maple Ave", "Oak St"}, []string{"Left Side", "near St"}},
		{"an abbreviated month alone after a word that dates", mixed + "Hgb 7.1 (from 11.2 in Feb). Back pain since Jan. Iron low since Oct, better by Dec.\nO2 dec from 5 to 3. Aug sats overnight. In Mar pt fell.",
			[]string{"Feb", "Jan", "Oct", "Dec", "Mar"}, []string{"dec from", "Aug"}},
		{"a city after travel or a trip", mixed + "He'd like to travel to Reykjavik in the summer. Recent trip to Oaxaca. Recent travel to Mexico. Trip to OR at noon; travel to CT for the scan.",
			[]string{"Reykjavik", "Oaxaca"}, []string{"Mexico", "OR", "CT"}},
		{"a surname that is an English word after a title and a first name, in capitals", "PT ADMITTED FROM THE ER WITH CHEST PAIN AND SOB, RULED IN FOR NSTEMI, TAKEN TO CATH LAB, STENT TO LAD PLACED WITHOUT COMPLICATION.\n" +
			"ATTENDING: ROSE HILL, M.D.\nFOLLOW UP WITH DR. GRACE WOOD IN 2 WEEKS. CC: DR. MAYA STONE; DR. GRACE AWARE OF K 3.2.",
			[]string{"ROSE HILL", "GRACE WOOD", "MAYA STONE"}, []string{"AWARE"}},
		// eighth pass: therapy, home-health and nutrition notes
		{"scores of screening tests", mixed + "Mini-Cog 2/5 today, MoCA 3/5 on delayed recall. Apgars 7/9. Rates 8/10 with walking.",
			nil, []string{"2/5", "3/5", "7/9", "8/10"}},
		{"the next rating of a list", mixed + "Pain: 5/10 at rest, 8/10 with reaching. Pain 2/10 now, 6/10 at worst.\nSeen 3/10, 4/10 and 7/10 in clinic.",
			[]string{"3/10", "4/10", "7/10"}, []string{"8/10", "6/10"}},
		{"credentials of therapy, nutrition and counselling", "Met with the patient and her son at home.\nSupervising PT Hyacinth Quellmorn, DPT\nOrla Brankowicz, OTR/L\nTeodor Velmarde, MS, RD, CDCES\nAmara Kwiatosz, PT, DPT\nJun Okafor, LMHC",
			[]string{"Hyacinth Quellmorn", "Orla Brankowicz", "Teodor Velmarde", "Amara Kwiatosz", "Jun Okafor"}, []string{"DPT", "OTR", "CDCES", "LMHC"}},
		{"a facility name does not cross a sentence's end", mixed + "Discussed with the POA and Dr. Quellmorn. Hospice eval if weight loss continues. Came from St. Brendan's Hospital.",
			[]string{"Quellmorn", "Brendan's Hospital"}, []string{"Hospice eval", "Dr."}},
		{"an employer after work at", mixed + "Wants to go back to work at Blue Heron in May. Unable to work for 2 weeks. Cleared to work at home.",
			[]string{"Blue Heron"}, []string{"2 weeks", "home"}},
		{"a nickname in parentheses after a name", mixed + "Sister Genevieve (Gen) phoned. Son Robert (Bob) called. Seen with Dr. Quellmorn (Cardiology) and Dr. Lee (ID). Husband Carlos (HCP) at bedside.",
			[]string{"Gen", "Bob"}, []string{"Cardiology", "ID", "HCP"}},
		{"a first name beside the full name", mixed + "Grandmother watches Wren on weekdays; Mom packs lunch.\nPatient: Wren Abernathy   DOB 08/22/2019",
			[]string{"Wren", "Wren Abernathy"}, []string{"Grandmother", "Mom"}},
		{"a first name that starts a sentence is no echo", mixed + "Ms. Hope Quellmorn seen today. Hope is what she has.\nGrace period for Grace.",
			[]string{"Hope Quellmorn"}, []string{"Hope is", "Grace period"}},
		{"a form's next item is no unit after an identifier", mixed + "M0063 Medicare #: 4TE7-RJ2-QK83   M0065 Medicaid #: N/A\nBSA 1.8 m2. Dose 45 mg/m2.",
			[]string{"4TE7-RJ2-QK83"}, []string{"1.8 m2", "45 mg"}},
		{"an employer after what the patient does there", mixed + "Works as a line cook at Copperleaf Coffee on Main. Works from home as a claims processor for Allstate. Worked as a nurse for 30 years at the hospital.",
			[]string{"Copperleaf Coffee", "Allstate"}, []string{"line cook", "claims processor", "30 years", "hospital"}},
		{"a county named by an ordinary word", mixed + "Transported by Manatee County EMS. Lives in Lake County with her son. Referred to County Social Services; the county jail.",
			[]string{"Manatee", "Lake"}, []string{"Social Services", "county jail", "EMS"}},
		{"a screening test's score out of its own maximum", mixed + "Nutrition: MNA-SF 9/14 (at risk). GDS 5/15 today. Seen 9/12 in clinic.",
			[]string{"9/12"}, []string{"9/14", "5/15"}},
		{"the names of specialty practices", mixed + "Referring: Ezekiel Adeyemi, PA-C, Pinecrest Orthopaedics. PT at Quellmorn Physical Therapy. Seen by Cardiology; Outpatient Physical Therapy to follow.",
			[]string{"Pinecrest", "Quellmorn"}, []string{"Orthopaedics", "Cardiology", "Outpatient Physical Therapy"}},
		{"the words of workers' compensation", "Records reviewed: 214 pages incl. FROI dated 04/19/2023, OSHA 300 log entry, PT notes. He has not reached MMI. TTD benefits continue; RTW pending FCE.",
			[]string{"04/19/2023"}, []string{"FROI", "OSHA", "MMI", "TTD", "RTW", "FCE"}},
		{"a fellowship after a signature", "Signed: Reginald Quellmorn, MD, MPH, FACOEM   Date: 09/06/2024", []string{"Reginald Quellmorn"}, []string{"FACOEM"}},
		{"a city after at the, from the, to the", mixed + "He was picking apples at the Wenatchee orchard when he fell. Sent to the OR at noon. Wife at the bedside.",
			[]string{"Wenatchee"}, []string{"orchard", "OR", "bedside"}},
		{"attending as a verb, a service named by an ordinary word", mixed + "Pt has been attending AA meetings. Referred to Elder Services for support. Discussed with attending Dr. Quellmorn; referred to Dr. Grace Kwiatosz.",
			[]string{"Quellmorn", "Grace Kwiatosz"}, []string{"AA meetings", "Elder Services"}},
		{"places named with a generic word where case is no evidence", "PT RESTING ON PROPOFOL GTT, VSS, LUNGS COARSE, SXN FOR THICK TAN SECRETIONS, ABD SOFT, FOLEY PATENT. " +
			"PT LIVES IN HEMLOCK BAY WITH HIS WIFE. WIFE CALLED FROM PORT JARROW. WAS A LONGSHOREMAN AT PORT OF TACOMA. LABS DRAWN FROM PORT. DAUGHTER LIVES IN SENIOR HOUSING.",
			[]string{"HEMLOCK BAY", "PORT JARROW", "TACOMA"}, []string{"DRAWN FROM PORT", "SENIOR HOUSING", "PORT OF"}},
		{"places named with a generic word in lower case", "pt resting on propofol gtt, vss, lungs coarse, sxn for thick tan secretions, abd soft, foley patent. pt lives in hemlock bay with wife. son drove in from cedar falls. flushed port a cath.",
			[]string{"hemlock bay", "cedar falls"}, []string{"port a cath"}},
		{"a road's number after a road named without a house number", mixed + "Lives off County Rd 130 near the lake. Farm on Mill Road 2 miles out.",
			[]string{"County Rd 130"}, []string{"2 miles"}},
		{"the day of a measurement in parentheses after its unit", mixed + "Wt 61.2 kg (2/10), 63.0 kg (2/3). Cr 1.4 mg/dL (1/1). Tylenol 325 mg (1/2 tab). NS (1/2) at 75 ml/hr.",
			[]string{"2/10", "2/3", "1/1"}, []string{"1/2 tab", "NS (1/2)"}},
		{"a verb after a name in a message", "hi this is ramona, the lactation lady at st vincent said to ask you about pumping. my mom dorothea said to eat oatmeal lol. thx - ramona",
			[]string{"ramona", "dorothea", "vincent"}, []string{"said to ask", "said to eat"}},
		{"a day of the month as an ordinal", "hi, i had my baby on the 12th and go back to work by the 3rd. my room is on the 2nd floor; extubated on the 4th day.",
			[]string{"12th", "3rd"}, []string{"2nd floor", "4th day"}},
		{"a street without a house number in lower case", "hi this is ramona, i had my baby and the lactation nurse said to ask you about pumping. i work at the dmv on harlow ave and my sister lives near elm st.\n" +
			"pt resting on propofol gtt, vss, lungs coarse, abd soft, foley patent. hr 110s on neo st, bp stable.",
			[]string{"harlow ave", "elm st"}, []string{"neo st"}},
		{"a role before an ordinary word heads a title", "NICU Dietitian Note\nDietitian Telehealth Note (video)\nEmployer HR contact: Giselle Quellmorn. Dietitian Frank Quellmorn met the family. Wife Hope visited.",
			[]string{"Giselle Quellmorn", "Frank Quellmorn", "Hope"}, []string{"Note", "Telehealth", "HR"}},
		{"growth charts, equations and tests of nutrition and therapy", mixed + "Fenton z-scores: wt -0.4. Needs 1300 kcal (Schofield); fluids per Holliday-Segar. Division of responsibility (Satter). Neer protocol. TUG 18.4 s, 5xSTS 21 s.",
			nil, []string{"Fenton", "Schofield", "Holliday-Segar", "Satter", "Neer", "TUG"}},
		{"a street named by an ordinal without a house number", mixed + "Found down at the bus station on 5th Ave after midnight. Transferred on 2nd shift.",
			[]string{"5th Ave"}, []string{"2nd shift"}},
		{"a nursing home named as a manor", mixed + "Resident of Willowbrook Manor, transferred from Cedar Manor. The Manor staff called. Lives in a manor house.",
			[]string{"Willowbrook", "Cedar"}, []string{"Manor staff", "manor house"}},
		{"a claim's report in prose keeps its places", "INDEPENDENT MEDICAL EXAMINATION\nRequested by: Priscilla Quellmorn, Claims Adjuster, Zenith Insurance Company.\n" +
			"Employer at time of injury: Sandpiper Roofing & Gutters, Bradenton\nOccupation: roofer (foreman), 11 years with employer. He fell approximately 12 feet onto a concrete driveway " +
			"and was taken to the nearest hospital. Treating physicians: Dr. Anand Kulkarni (orthopedics), Dr. Sofia Lindqvist (pain management, Suncoast Spine & Pain).\n" +
			"Records reviewed: 214 pages incl. FROI dated 04/19/2023, OSHA 300 log entry, PT notes. MMI not reached; TTD continues, RTW pending FCE.",
			[]string{"Bradenton", "Zenith", "Suncoast"}, []string{"FROI", "OSHA", "MMI", "TTD", "RTW", "FCE"}},
		{"an appointment's day", mixed + "Next appt 4/4 at 9:30 via video. Appointment 3/3 confirmed. Return visit 2/2 at 10am. Repeat 1/2 at 2 pm.",
			[]string{"4/4", "3/3", "2/2", "1/2"}, []string{"via video", "confirmed"}},
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
