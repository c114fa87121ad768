// Package phi finds protected health information (PHI) in free text, replaces
// it with typed placeholders, and puts the identifiers back into a model's
// reply. It is a pure library: no I/O, no logging, no mutable global state
// (package-level tables are read-only vocabulary, never PHI).
//
// # What it detects
//
// All 18 HIPAA Safe Harbor identifier categories (45 CFR 164.514(b)(2)):
// names, geographic units smaller than a state (street addresses, cities,
// ZIP codes), all elements of dates except the year, ages over 89, phone and
// fax numbers, email addresses, SSNs, medical record, health plan, account,
// certificate and licence numbers, vehicle and device identifiers, URLs, IP
// addresses, biometric and photo references and other unique identifying
// numbers; plus payment cards (Luhn), IBANs (mod 97) and NPIs. Detection runs
// in tiers: the caller's own record of the patient ([Record]) first, then
// hand-written scanners for structured identifiers, then dictionaries of
// names and places with context rules. Keep rules (lab values with units,
// vitals, doses, fractions, clock times) veto a hit only on positive
// evidence; otherwise recall wins.
//
// # PHI rules
//
// These hold for every exported function and are checked in review:
//
//  1. PHI never appears in an error, a panic message, a String or LogValue
//     method, or anything meant for a log. Errors name a position, a type or
//     a count, never text from the input.
//  2. Fail closed: when detection cannot finish (an internal panic, a
//     cancelled context, a deadline) the caller gets an error and no text.
//     A caller must then refuse the text, never send it on.
//  3. The placeholder mapping lives only in a [Session], in memory, for one
//     request. Nothing is cached across sessions and nothing is written
//     anywhere; [Session.Close] drops the mapping.
//  4. Placeholders are [[TYPE_N]], numbered by first occurrence, so the same
//     transcript always gets the same numbering and a client that resends its
//     history needs no stored state. A first name alone that starts exactly
//     one full name of the session shares its number ("Maria" and "Maria
//     Gonzalez"), and re-identification restores the full name.
//  5. Re-identification restores only placeholders the session issued;
//     anything else that looks like a placeholder is left as it is and
//     reported, never guessed.
//
// # Speed
//
// Detection is linear in the input: one tokenising pass, hash-set lookups and
// hand-written scanners, no backtracking regular expressions. The embedded
// lexicon (Philter's name and safe-word lists, GeoNames places, clinical
// and food vocabularies) is a hash table read in place, so [New] costs
// almost nothing; an [Engine] is safe for concurrent use.
//
// # Case
//
// Capitalisation is evidence only on lines whose writer uses it. On a line
// written mostly in upper case, or with no capital at all, an unknown word
// is shorthand rather than a name, and a word is a name only with evidence
// beyond its shape (the record, a title, label, credential or verb next to
// it); see caseless.go.
//
// # Register
//
// A note in clinical register (one word in twenty, or in a short lower-case
// note one in ten, is a clinical term that is no English word, or a word
// only the clinical allow-list holds) is read as
// clinicians write: a long lower-case note is judged like an upper-case one,
// and in mixed case a capitalised word on no list, a short upper-case word
// or an English word that is also a name needs context to be a name. Chat
// messages and letters keep shape as evidence. See docs/deid.md.
package phi
