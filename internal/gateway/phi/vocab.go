package phi

import "strings"

// The tables below are read-only lookup sets of lower-case words, written by
// hand. They hold vocabulary (titles, units, trigger words), never PHI.
// The engine reads most of them only as bits of the embedded overlay
// (data/overlay.bin, which TestOverlayTable writes from them): those are
// functions, so that no process builds their maps when it starts.

// Vocabulary bits, stored in the high bits of the lexicon so that one map
// lookup per word answers every table below.
const (
	vTitle uint64 = 1 << (16 + iota)
	vCredential
	vNameLabel
	vStopword
	vMonth
	vWeekday
	vHoliday
	vTrigger
	vUnitWord
	vStreetPrefix
	vStreetSuffix
	vUnit
	vVitalLabel
	vEponymHead
	vFacilityEnder
	vLocPrep
)

// vocabTables lists the tables folded into the lexicon.
func vocabTables() map[uint64]map[string]bool {
	trig := map[string]bool{}
	for w := range idTriggers {
		trig[w] = true
	}
	mon := map[string]bool{}
	for w := range months {
		mon[w] = true
	}
	return map[uint64]map[string]bool{
		vTitle: titles, vCredential: credentials, vNameLabel: nameLabels(), vStopword: stopwords(),
		vMonth: mon, vWeekday: weekdays(), vHoliday: holidays(), vTrigger: trig, vUnitWord: unitWords(),
		vStreetPrefix: streetPrefixes(), vStreetSuffix: streetSuffixes(), vUnit: units(), vVitalLabel: vitalLabels(),
		vEponymHead: eponymHeads(), vFacilityEnder: facilityEnders(), vLocPrep: locPreps(),
	}
}

// set makes the set of the words of a space-separated list (ASCII white
// space only: the lists are written in this package, and TestSetLists
// checks each against strings.Fields). It runs at start-up for some forty
// lists, so it sizes the map once and slices the words out of the list in
// place: strings.Fields and maps grown from empty were most of the
// package's start-up time and a third of its allocations.
func set(words string) map[string]bool {
	n := 0
	for i := 0; i < len(words); {
		i = skipSpace(words, i)
		if i < len(words) {
			n++
			i = skipWord(words, i)
		}
	}
	m := make(map[string]bool, n)
	for i := 0; i < len(words); {
		i = skipSpace(words, i)
		if j := skipWord(words, i); j > i {
			m[words[i:j]] = true
			i = j
		}
	}
	return m
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

func skipWord(s string, i int) int {
	for i < len(s) && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r' {
		i++
	}
	return i
}

// titles precede a name: "Dr. Smith".
var titles = set(`dr doctor mr mrs ms miss mx prof professor sir madam mister dame rev reverend fr father sr sister nurse
rabbi pastor imam
dra sra srta mme mlle herr frau dott dssa señora señor señorita`)

// credentials follow a name: "Jane Roe, RN".
var credentials = set(`md do rn np pa pac pa-c phd rrt lpn lvn cna dds dmd dpm crna msw lcsw pharmd od dnp aprn fnp mph mba psyd ot slp rd cnm facs facp mbbs frcs jr sr ii iii iv esq
bsn msn rnc cnp ccrn licsw lmsw lmft lcpc ldn rdn crnp acnp agnp rph
dpt otr otd cota cdces cde cnsc ibclc lpc lmhc bcba bcps ccm mspt bcnsp facoem faafp facc facep fccp
emt aemt nrp cgc aud ccc-a ccc-slp
faaaai faap facog facr fasn faan fache fsvm
ches mches chwc nbc-hwc cscs`)

// nameLabels make the next capitalised words a name even when they are
// ordinary words: "Attending: Hope Rose", "wife Grace".
func nameLabels() map[string]bool {
	return set(`name patient pt attending pcp provider physician resident fellow surgeon intern
referring cosigner signer author dictated transcribed signed witness interpreter contact
wife husband son daughter mother father mom dad sister brother aunt uncle cousin niece nephew
grandson granddaughter grandmother grandfather grandma grandpa friend partner spouse fiance fiancee
guardian proxy caregiver roommate boyfriend girlfriend stepson stepdaughter stepmother stepfather
neighbor neighbour landlord employer coworker colleague boss child baby hcp poa named called nicknamed surnamed aka
dtr dau sis bro husb nok stepbrother stepsister grandchild granddtr
wife's husband's daughters sons sisters brothers friends children grandchildren
dear hi hello hey client therapist dietitian dietician nutritionist chaplain counselor counsellor
clinician caseworker advocate technician technologist sonographer pathologist radiologist anesthesiologist
transcriptionist typist scribe participant applicant camper sponsor
esposo esposa marido hijo hija hijos hijas hermana abuelo abuela paciente filha irmao fille epouse epoux
tochter ehefrau schwester dochter echtgenote echtgenoot`)
}

// signOffs close a letter or a message; the name after them (on the same
// line after a comma or dash, or alone on the next) is its writer's:
// "Best regards,\nSandra", "thx, sandra".
var signOffs = set(`regards sincerely thanks thank thx ty cheers best warmly respectfully yours love`)

// nameVerbs precede a name after a short phrase: "seen by", "spoke with".
var nameVerbs = set(`by with to cc is me him her was`)

// nameVerbHeads are the words that make nameVerbs a name context.
var nameVerbHeads = set(`this seen spoke discussed met evaluated examined signed dictated referred reviewed
called paged consulted covered accompanied visited transcribed cosigned attended treated staffed
notified informed texted emailed messaged name maiden call named called speak speaking talk talked
spoken`)

// meetingWords take "w/" before a person: "appt w/ Sarah".
var meetingWords = set(`appt appointment appts meeting mtg visit session call`)

// selfIntro words introduce the writer's own name in a message: "its
// Jessica", "im Marcus" (apostrophes dropped).
var selfIntro = set(`its im iam`)

// locPreps precede a place: "lives in Quincy".
func locPreps() map[string]bool {
	return set(`in from at near to lives moved resides born visiting city town village`)
}

// streetSuffixes end a street name: "12 Oak Street".
func streetSuffixes() map[string]bool {
	return set(`street st avenue ave av road rd boulevard blvd lane ln drive dr court ct way
place pl terrace ter terr circle cir highway hwy parkway pkwy square sq trail trl crescent cres
alley aly row plaza plz point pt pike turnpike tpke expressway expy freeway fwy loop run walk path
close grove gardens gdns heights hts hill hollow park ridge view vista crossing xing landing
commons estates mews quay wharf broadway causeway bypass route rte`)
}

// streetPrefixes start a street name in many languages: "Via Roma 12".
func streetPrefixes() map[string]bool {
	return set(`via viale vicolo corso piazza piazzale largo strada rue avenue av boulevard bd chemin
impasse allée allee calle carrer paseo avenida av. rua travessa estrada praça praca rambla camino
ronda plaza ul ulica al aleja os osiedle plac ctra carretera strasse straße str`)
}

// streetMorphemes end a one-word street name: "Lindenstrasse 21", "Beukendreef 40", "Keizersgracht 221".
var streetMorphemes = []string{"strasse", "straße", "str.", "weg", "gasse", "allee", "platz", "ring",
	"damm", "ufer", "gade", "vej", "vägen", "gatan", "veien", "gata", "laan", "dreef", "straat",
	"plein", "kade", "singel", "katu", "tie", "utca", "ulica", "ulice", "cesta", "rakpart", "sokak",
	"caddesi", "street", "road", "avenue", "lane", "drive", "gracht", "dijk", "steeg", "markt", "chaussee"}

// unitWords introduce a unit or box number: "Apt. 318", "PO Box 12".
func unitWords() map[string]bool {
	return set(`apt apartment suite ste unit box bldg building floor fl lot room rm po pmb psc apo dpo fpo flat`)
}

// months maps month names and abbreviations to their number.
var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12,
}

// weekdays are dates on their own: "seen on Sunday".
func weekdays() map[string]bool {
	return set(`monday tuesday wednesday thursday friday saturday sunday tue tues thu thur thurs weds`)
}

// holidays are dates on their own (the year stays).
func holidays() map[string]bool {
	return set(`christmas thanksgiving easter halloween hanukkah kwanzaa ramadan diwali passover
new independence memorial labor labour veterans veteran valentine valentines mother mothers father fathers
patrick patricks presidents columbus boxing anzac remembrance`)
}

// dayHolidays name a holiday only before "Day" (or "Eve"), capitalised:
// "Memorial Day", "Mother's Day", "New Year's Eve"; alone they are words
// ("my mother", "labor and delivery").
var dayHolidays = set(`new independence memorial labor labour veterans veteran valentine valentines mother mothers father fathers
patrick patricks presidents columbus boxing anzac remembrance`)

// units after a number keep it: "500 mg", "97 %", "120 bpm".
func units() map[string]bool {
	return set(`mg mcg ug µg g gm gram grams kg lb lbs pound pounds oz ml cc l dl mmol mol meq iu u unit units
mmhg bpm kcal cal calories % percent cm mm m km inch inches ul µl ft feet ° °f °c f c degrees hrs hr h
min mins minute minutes sec secs second seconds day days d wk wks week weeks mo month months yr yrs
tab tabs tablet tablets cap caps capsule capsules puff puffs drop drops gtt spray sprays patch
x times mg/dl mmol/l ng ng/ml pg meq/l mosm iu/l u/l k/ul /min breaths beats steps servings
serving cups cup tbsp tsp slices pieces hours hour l/min lpm liters liter litres litre ml/hr
mcg/kg mg/kg mg/day units/kg grams/day g/dl g/l mm3 cells reps sets miles mile`)
}

// vitalLabels before a number keep it: "BP 120/80", "Na 140".
func vitalLabels() map[string]bool {
	return set(`bp sbp dbp hr rr pulse temp t tmax spo2 sao2 o2 sat sats fio2 wt weight ht height bmi
na k cl co2 hco3 bun cr creat glu glucose ca mg phos alb tbili ast alt alk ap inr pt ptt wbc hgb hb hct
plt mcv rdw a1c hba1c ldl hdl tg trig chol tsh ft4 t4 t3 psa crp esr bnp trop troponin lactate ph
pco2 po2 be ag gfr egfr uop i/o ins outs dose doses score gcs nihss apgar ef lvef qtc pr qrs map cvp
pap pcwp ci svr iop va kcal calories protein carbs carbohydrates fat fiber sugar sodium potassium
steps sleep hrv vo2 vo2max rmr tdee level levels pain strength motor power rating scale grade stage platelets plts platelet neutrophils lymphocytes
monocytes eosinophils anc alc cd4 viral load count counts titer titre ige igg vitd ferritin b12 folate
peep ps psv cpap bipap ipap epap simv imv ac prvc pcv pc vc tv vt stv mv ve flowby rsbi nif cpk ck ckmb
sys dia systolic diastolic adl adls iadl iadls`)
}

// idTriggers introduce an identifier; the value says which type.
var idTriggers = map[string]Type{
	"mrn": TypeMRN, "mr": TypeMRN, "chart": TypeMRN, "record": TypeMRN, "medical": TypeMRN, "emr": TypeMRN, "ehr": TypeMRN,
	"acct": TypeAccount, "account": TypeAccount, "acc": TypeAccount, "iban": TypeIBAN, "routing": TypeAccount, "card": TypeAccount,
	"member": TypeHealthPlan, "subscriber": TypeHealthPlan, "policy": TypeHealthPlan, "insurance": TypeHealthPlan,
	"medicaid": TypeHealthPlan, "medicare": TypeHealthPlan, "hicn": TypeHealthPlan, "mbi": TypeHealthPlan, "group": TypeHealthPlan,
	"beneficiary": TypeHealthPlan, "plan": TypeHealthPlan, "ohip": TypeHealthPlan, "phn": TypeHealthPlan, "ramq": TypeHealthPlan,
	"license": TypeLicense, "licence": TypeLicense, "lic": TypeLicense, "dl": TypeLicense, "certificate": TypeLicense,
	"cert": TypeLicense, "dea": TypeLicense, "passport": TypeLicense, "permit": TypeLicense, "registration": TypeLicense,
	"npi":    TypeNPI,
	"serial": TypeDevice, "sn": TypeDevice, "s/n": TypeDevice, "imei": TypeDevice, "udi": TypeDevice, "device": TypeDevice,
	"mac": TypeDevice, "model": TypeDevice, "lot": TypeDevice,
	"vin": TypeVehicle, "plate": TypeVehicle, "tag": TypeVehicle, "vehicle": TypeVehicle,
	"ssn": TypeSSN, "social": TypeSSN, "ss#": TypeSSN, "sin": TypeSSN, "nin": TypeSSN,
	"id": TypeID, "identifier": TypeID, "number": TypeID, "no": TypeID, "num": TypeID, "nr": TypeID, "#": TypeID,
	"case": TypeID, "claim": TypeID, "encounter": TypeID, "accession": TypeID, "specimen": TypeID, "visit": TypeID,
	"order": TypeID, "ref": TypeID, "reference": TypeID, "confirmation": TypeID, "ticket": TypeID, "badge": TypeID,
	"employee": TypeID, "student": TypeID, "patient": TypeID, "pin": TypeID, "code": TypeID, "username": TypeID,
	"user": TypeID, "login": TypeID, "handle": TypeID, "fin": TypeID, "csn": TypeID, "har": TypeID,
	"autopsy": TypeID,                                      // a medical examiner's case number: "Autopsy: A-26-118"
	"docket":  TypeID, "inmate": TypeID, "booking": TypeID, // a court's or a jail's number: "Docket FC-26-1187"
	"fingerprint": TypeBiometric, "biometric": TypeBiometric, "retina": TypeBiometric, "retinal": TypeBiometric,
	"iris": TypeBiometric, "voiceprint": TypeBiometric, "faceprint": TypeBiometric, "dna": TypeBiometric,
	"photo": TypePhoto, "photograph": TypePhoto, "image": TypePhoto, "img": TypePhoto, "picture": TypePhoto, "selfie": TypePhoto,
	"phone": TypePhone, "tel": TypePhone, "telephone": TypePhone, "cell": TypePhone, "mobile": TypePhone,
	"pager": TypePhone, "pgr": TypePhone, "beeper": TypePhone, "ext": TypePhone, "extension": TypePhone, "call": TypePhone,
	"fax": TypeFax,
}

// idFillers may sit between a trigger and its value: "MRN no. 12345".
var idFillers = set(`: # - no no. number num nr is id of = # . / was ending last four digits`)

// stateAbbrevs are USPS state codes.
var stateAbbrevs = set(`al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny
nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc pr gu vi as mp aa ae ap`)

// tlds are top-level domains accepted for bare domain names ("example.org").
var tlds = set(`com org net edu gov mil int io co us uk ca de fr es it nl be ch at se no dk fi pl cz hu pt
ie au nz jp cn in br mx ar za ru info biz health care clinic app dev ai me tv ly sk si ro bg gr tr
il ae sg hk tw kr eu uy tn cl pe ve ec`)

// imageExts mark a file name as a photo reference.
var imageExts = set(`jpg jpeg png gif heic heif tif tiff bmp webp dcm dicom raw mp4 mov avi`)

// stopwords are never names, even after a label.
func stopwords() map[string]bool {
	return set(`the a an and or but of to in on at by for with from as is was are were be been has had have
he she it they we you i his her their our your my its this that these those who whom which what
not no yes did does do will would can could should may might must shall also then than there here
when where while since until after before during about into over under again further once up down
out off very so too just only both each few more most other some such own same any all nor
him them us me mine yours hers ours theirs himself herself themselves myself yourself itself`)
}

// languages are signal, not identity: "speaking in Russian" (Safe Harbor
// does not cover nationality or language).
func languages() map[string]bool {
	return set(`english spanish russian chinese mandarin cantonese vietnamese korean japanese arabic french
haitian creole portuguese italian polish greek hindi urdu bengali punjabi tagalog farsi persian hebrew
yiddish german dutch swedish norwegian danish finnish turkish armenian albanian somali amharic swahili
ukrainian romanian hungarian czech serbian croatian bosnian khmer lao thai hmong burmese nepali tamil
telugu gujarati marathi cape verdean sign asl`)
}

// foreignNoteWords are the words of notes written in Spanish, Portuguese,
// French or German that open a sentence or a heading as names do ("Nota de
// la visita", "Fecha: 3 de marzo", "Esposo Rigoberto presente"): English
// and allowed words there. Words that are first names as often (Irma,
// Nieta, Sohn) are left out; of the relations, those on no surname list
// and Esposo are name labels too (with Madre, Hermano, Vater… as labels
// the swapped PhysioNet copies lost a name).
func foreignNoteWords() map[string]bool {
	return set(`nota notas fecha visita medico enfermera familia familiar cuidadora cuidador
esposo esposa marido hijo hija hijos hijas madre padre hermano hermana abuelo abuela nieto paciente
filho filha irmao fils fille epouse epoux soeur tochter mutter vater ehefrau ehemann bruder schwester dochter echtgenote echtgenoot
dirección direccion teléfono telefono correo llamar nació nacio vive domicilio celular`)
}

// clinicalWords are kept even when a name list holds them. The last lines
// are the devices, dressings and lines of an ICU named for people or
// brands ("Swan-Ganz", "Quinton catheter", "Ted stockings", "Bair
// Hugger"): a title or a label before one still makes it a name; then
// places of care that name none ("from OSH", an outside hospital; "sent
// to BB", the blood bank).
func clinicalWords() map[string]bool {
	return set(`patient pt pain plan exam labs vitals note hx dx rx sx tx fx px sob cp ha abd ext neuro psych
heent cv resp gi gu msk skin derm ros hpi pmh psh fh sh meds allergies nkda vs bp hr rr temp
spo2 wt ht bmi daily bid tid qid qhs qam qpm prn po iv im sq sc subq stat npo dnr dni full code
follow followup f/u return precautions discussed counseled diet exercise sleep stress mood anxiety
depression insulin metformin glucose a1c cholesterol statin aspirin lisinopril amlodipine losartan
hydrochlorothiazide atorvastatin simvastatin rosuvastatin levothyroxine omeprazole pantoprazole
gabapentin sertraline fluoxetine escitalopram trazodone albuterol prednisone amoxicillin
azithromycin doxycycline ciprofloxacin cephalexin ibuprofen acetaminophen tylenol advil motrin
naproxen tramadol oxycodone hydrocodone morphine warfarin apixaban rivaroxaban heparin enoxaparin
furosemide lasix spironolactone carvedilol metoprolol atenolol propranolol diltiazem digoxin
ozempic semaglutide tirzepatide mounjaro wegovy jardiance empagliflozin farxiga dapagliflozin
januvia sitagliptin glipizide glyburide lantus humalog novolog basal bolus protein carbs fat
fiber calories kcal macros hba1c ldl hdl triglycerides tsh vitamin ferritin iron b12 folate
creatinine egfr bun sodium potassium chloride bicarbonate calcium magnesium phosphorus albumin
bilirubin alt ast alp ggt inr ptt crp esr procalcitonin troponin bnp lactate wbc hgb hct plt
mcv rdw neutrophils lymphocytes monocytes eosinophils basophils urinalysis culture covid
influenza rsv strep hiv hcv hbv mri ct cxr xr us ekg ecg echo tte tee eeg emg pet dexa
hypertension diabetes hyperlipidemia obesity asthma copd chf cad afib ckd esrd gerd ibs ibd
osteoarthritis arthritis migraine epilepsy stroke tia mi dvt pe uti pneumonia sepsis cancer
tug sts fga dgi 6mwt woc
tumor mass lesion nodule cyst fracture sprain strain laceration contusion abrasion burn rash
acne eczema psoriasis dermatitis cellulitis abscess hernia appendicitis cholecystitis
pancreatitis hepatitis cirrhosis anemia thrombocytopenia leukocytosis neutropenia hypoglycemia
hyperglycemia hyponatremia hypokalemia hyperkalemia dehydration syncope vertigo dizziness
fatigue malaise fever chills nausea vomiting diarrhea constipation cough wheeze dyspnea
orthopnea edema palpitations tachycardia bradycardia murmur rales rhonchi crackles
ambulatory ambulating alert oriented appropriate pleasant cooperative well nourished
icu ccu micu sicu nicu picu csru tsicu cvicu pacu ct mri ir ep cath lab floor rehab tcu snf ltac
ltach icu's unit ward pacer cabg abg vbg
swan ganz quinton hickman groshong broviac coude ted teds bair hugger duoderm tegaderm mepilex allevyn
xeroform kerlix aquacel telfa yankauer dobhoff corpak penrose hemovac posey shiley bivona cordis passy
ambu bovie doppler sengstaken pleurx tenckhoff mahurkar trialysis impella vigileo licox jobst chux
flexiseal osh bb outpt inpt nsicu
huber`)
}

// adminWords are the shorthand of claims and visits (workers'
// compensation, telehealth, equipment orders, chiropractic visits,
// explanations of benefits, chat transcripts, hearing-aid fittings): FROI,
// OSHA, MMI, TTD, RTW, HCPCS, EOB, RIC… They are no names,
// but no clinical register either: the overlay gives them the flags of an
// ordinary English word, so that a report of a claim written in prose is
// not read as an ICU note, whose unknown capitalised words are shorthand.
func adminWords() map[string]bool {
	return set(`froi osha mmi ime ttd tpd rtw fce ncm aww telehealth telemedicine televisit
hcpcs chiro eob chat ric bte rxbin rxpcn rxgrp rxgroup pcn eircode imei ein`)
}

// productNames are single-word brands of foods, drinks, sweeteners, oral
// supplements and tube feeds that patients and dietitians write alone
// ("Nepro at night", "had Oreos"), and vaccine makers a vaccine record
// names ("lot from Merck", "Seqirus"), hearing aids and contact lenses
// ("Phonak Audeo", "Acuvue Oasys"); they are allow-listed, never names.
// Brands that are also on a name list (Kate, Huel) are left out: a name
// needs its context there.
func productNames() map[string]bool {
	return set(`nepro nutren suplena renalcal beneprotein prosource glytrol diabetisource fibersource jevity
osmolite glucerna pediasure peptamen isosource vivonex novasource juven compleat kindercal liquaprotein
arginaid twocal vitalaha thickit simplythick pedialyte gatorade powerade duocal soylent fairlife slimfast
splenda truvia oreo oreos doritos cheetos fritos tostitos triscuits kitkat nutella lunchables eggo
poptarts chobani yoplait cheerios nutrigrain
merck seqirus novavax phonak oticon widex signia audeo oasys biofinity acuvue
vsee doxy facetime instagram venmo whatsapp tiktok mychart zelle cashapp paypal snapchat skype webex`)
}

// planNames are health plans and payers, which claims, prior
// authorizations and workers' compensation notes write alone ("Humana
// ID", "Cigna denied"): Humana and Cigna are on the surname list and Aetna
// on the first names', but no one is named so. Plans that are common
// names (Molina, Oscar, Harvard) are left out. Like adminWords, the
// overlay gives them the flags of an ordinary English word: a letter that
// names a plan is no ICU note, whose unknown capitalised words are
// shorthand.
func planNames() map[string]bool {
	return set(`humana aetna cigna centene wellcare ambetter tricare unitedhealthcare optum highmark bcbs bluecross
blueshield caresource amerigroup premera regence wellmark emblemhealth healthnet`)
}

// foodNames are foods, drinks, diets and brands that the USDA lists lack
// (newer products, diet programmes), matched as whole phrases like them.
func foodNames() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(`ezekiel bread|earl grey|earl grey tea|lady grey tea|english breakfast tea|
kombucha tea|oat milk|almond milk|cashew milk|greek yogurt|skyr yogurt|beyond burger|impossible burger|
weight watchers|jenny craig|south beach diet|atkins diet|dash diet|mediterranean diet|keto diet|paleo diet|
whole30 diet|zone diet|dukan diet|ornish diet|mind diet|nutrisystem shakes|slim fast|premier protein|
fairlife milk|core power|muscle milk|ensure plus|ensure max protein|glucerna shake|boost plus|
boost high protein|dr pepper|mr pibb|ben jerry|ben and jerry|hagen dazs|clif bar|kind bar|rx bar|
quest bar|larabar|nature valley|uncle bens|aunt jemima|sara lee|little debbie|marie callender|
lean cuisine|healthy choice|stouffer lasagna|eggs benedict|caesar salad|graham crackers|graham cracker|
waldorf salad|salisbury steak|beef wellington|chicken marsala|chicken parmesan|oysters rockefeller|
shirley temple|arnold palmer|tom collins|bloody mary|rachel sandwich|reuben sandwich|sloppy joe|
french toast|french fries|swiss cheese|jack cheese|monterey jack|colby jack|philly cheesesteak|
buffalo wings|boston cream pie|new england clam chowder|manhattan clam chowder|key lime pie|
granny smith|golden delicious|red delicious|honeycrisp apple|bartlett pear|bing cherries|
cobb salad|nicoise salad|alfredo sauce|fettuccine alfredo|bearnaise sauce|hollandaise sauce|
lorna doone|nilla wafers|fig newtons|mrs dash|kate farms`, "|") {
		if l = strings.TrimSpace(l); l != "" {
			m[l] = true
		}
	}
	return m
}
