package envelope

import (
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Normalisers map the spellings of one value that people consider equal to
// one string, so that a blind index (see BlindIndex) matches them all. Each
// is pure, cannot fail, and returns "" for input that holds nothing of its
// kind; callers should store no blind index for "". Changing a normaliser
// changes the indexes of existing rows, so each is versioned by its name: a
// different rule gets a new function and a re-index job, never an edit.

// NormalizeEmail normalises an email address for blind indexing: Unicode
// NFKC (so full-width and compatibility forms fold to their plain form),
// surrounding white space trimmed, then lower-cased in full, local part
// included. It does not remove "+tags" or dots, which only some providers
// ignore and which would otherwise merge distinct mailboxes. It never fails.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
}

// NormalizeIdentifier normalises an opaque identifier such as a medical
// record number, member id or claim number: Unicode NFKC, upper-cased, with
// every white-space character and every dash (hyphen, en and em dash, minus
// and the like: Unicode category Pd) removed, so "mrn 12-ab" and "MRN12AB"
// match. Other punctuation is kept, since it may be significant. It never
// fails.
func NormalizeIdentifier(s string) string {
	s = strings.ToUpper(norm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '\u2212' {
			return -1
		}
		return r
	}, s)
}

// NormalizePhone normalises a telephone number: Unicode NFKC (so full-width
// digits count), then only the ASCII digits kept, and a leading "1" dropped
// from an 11-digit result (the US/NANP country code), so "+1 (555)
// 010-0199", "555.010.0199" and "5550100199" match. Digits of an extension
// are kept; other country codes are kept as typed. It never fails.
func NormalizePhone(s string) string {
	s = norm.NFKC.String(s)
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	if len(b) == 11 && b[0] == '1' {
		b = b[1:]
	}
	return string(b)
}

// EmailDomainField names the blind index of an address's domain, under the
// instance keys: users' addresses (noted in app.email_domains) and the
// domains an org claims for SSO (app.sso_domains.domain_bidx) share it, so
// the database can tell a member on an enforced domain (migration 00128).
const EmailDomainField = "users.email_domain"

// EmailDomain returns the domain of a normalised address (NormalizeEmail)
// as the DNS looks it up: what follows its last "@", mapped by UTS #46
// (the IDNA lookup profile that mail software applies: ideographic and
// full-width full stops become ".", soft hyphens and zero-width spaces
// vanish, letters fold, internationalised labels become their xn-- form),
// without a trailing dot; "" when there is no domain. Without the mapping,
// "nurse@hospital。test" named a domain that matched no claim although
// mail for it reaches hospital.test. A domain UTS #46 refuses comes back
// as written (identity.ValidEmail refuses such addresses). Index it with
// BlindIndex(EmailDomainField, …); a claimed SSO domain is indexed the same
// way.
func EmailDomain(normalized string) string {
	i := strings.LastIndexByte(normalized, '@')
	if i < 0 || i == len(normalized)-1 {
		return ""
	}
	d := normalized[i+1:]
	if a, err := idna.Lookup.ToASCII(d); err == nil && a != "" {
		d = a
	}
	if t := strings.TrimSuffix(d, "."); t != "" {
		d = t
	}
	return d
}

// EmailDomainIndex is the blind index of address's domain under k
// (EmailDomain of NormalizeEmail(address), field EmailDomainField): what
// app.note_email_domain records for every address the server writes.
func (k *OrgKeys) EmailDomainIndex(address string) []byte {
	return k.BlindIndex(EmailDomainField, EmailDomain(NormalizeEmail(address)))
}
