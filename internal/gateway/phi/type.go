package phi

// Type is the kind of identifier a span holds. Its string form is the
// placeholder prefix ("PERSON" in [[PERSON_1]]).
type Type uint8

// Identifier types. The comment gives the HIPAA Safe Harbor category.
const (
	TypeNone         Type = iota
	TypePerson            // (A) names
	TypeLocation          // (B) cities, facilities and other places smaller than a state
	TypeAddress           // (B) street address, unit, PO box
	TypeZIP               // (B) ZIP code
	TypeDate              // (C) dates and their elements except the year
	TypeAge               // (C) ages over 89
	TypePhone             // (D) telephone numbers
	TypeFax               // (E) fax numbers
	TypeEmail             // (F) email addresses
	TypeSSN               // (G) social security numbers
	TypeMRN               // (H) medical record numbers
	TypeHealthPlan        // (I) health plan beneficiary numbers
	TypeAccount           // (J) account numbers
	TypeLicense           // (K) certificate and licence numbers
	TypeVehicle           // (L) vehicle identifiers, plates
	TypeDevice            // (M) device identifiers and serial numbers
	TypeURL               // (N) web addresses
	TypeIP                // (O) IP addresses
	TypeBiometric         // (P) biometric identifiers
	TypePhoto             // (Q) photographs and image references
	TypeID                // (R) other unique identifying numbers
	TypeCreditCard        // (J) payment card numbers (Luhn-valid)
	TypeIBAN              // (J) international bank account numbers
	TypeNPI               // (R) national provider identifiers
	TypeOrganization      // employers and other organisations (not a Safe Harbor category)
	numTypes
)

var typeNames = [numTypes]string{
	TypeNone:         "NONE",
	TypePerson:       "PERSON",
	TypeLocation:     "LOCATION",
	TypeAddress:      "ADDRESS",
	TypeZIP:          "ZIP",
	TypeDate:         "DATE",
	TypeAge:          "AGE",
	TypePhone:        "PHONE",
	TypeFax:          "FAX",
	TypeEmail:        "EMAIL",
	TypeSSN:          "SSN",
	TypeMRN:          "MRN",
	TypeHealthPlan:   "HEALTH_PLAN",
	TypeAccount:      "ACCOUNT",
	TypeLicense:      "LICENSE",
	TypeVehicle:      "VEHICLE",
	TypeDevice:       "DEVICE",
	TypeURL:          "URL",
	TypeIP:           "IP",
	TypeBiometric:    "BIOMETRIC",
	TypePhoto:        "PHOTO",
	TypeID:           "ID",
	TypeCreditCard:   "CREDIT_CARD",
	TypeIBAN:         "IBAN",
	TypeNPI:          "NPI",
	TypeOrganization: "ORGANIZATION",
}

// String returns the placeholder prefix of t, e.g. "PERSON".
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "NONE"
}

// ParseType returns the Type whose String is s, or TypeNone.
func ParseType(s string) Type {
	if len(s) < 2 || len(s) > 12 {
		return TypeNone
	}
	for i, n := range typeNames {
		if i != int(TypeNone) && n == s {
			return Type(i)
		}
	}
	return TypeNone
}

// parseTypeFold is ParseType ignoring ASCII case, without allocating.
func parseTypeFold(s string) Type {
	if len(s) < 2 || len(s) > 12 {
		return TypeNone
	}
	for i, n := range typeNames {
		if i != int(TypeNone) && len(n) == len(s) && equalFoldASCII(n, s) {
			return Type(i)
		}
	}
	return TypeNone
}

// equalFoldASCII compares upper-case u with s ignoring ASCII case.
func equalFoldASCII(u, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 32
		}
		if c != u[i] {
			return false
		}
	}
	return true
}

// Types returns every identifier type, in order.
func Types() []Type {
	ts := make([]Type, 0, numTypes-1)
	for t := TypePerson; t < numTypes; t++ {
		ts = append(ts, t)
	}
	return ts
}

// MarshalText implements encoding.TextMarshaler.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Span is one detected identifier: bytes [Start, End) of the input.
type Span struct {
	Start int  `json:"start"`
	End   int  `json:"end"`
	Type  Type `json:"type"`
}
