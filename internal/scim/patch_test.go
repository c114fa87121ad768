package scim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/internal/errkind"
)

func ops(t *testing.T, s string) []PatchOp {
	t.Helper()
	p, err := DecodePatch([]byte(`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ` + s + `}`))
	if err != nil {
		t.Fatal(err)
	}
	return p.Operations
}

// TestApplyPatch covers the operation shapes Okta and Entra ID send and
// the errors of RFC 7644 §3.5.2.
func TestApplyPatch(t *testing.T) {
	ext := "x1"
	base := func() User {
		return User{UserName: "a@b.test", Active: true, DisplayName: "A B", Title: "RN", ExternalID: &ext,
			Name: &Name{GivenName: "A", FamilyName: "B"}}
	}
	for _, c := range []struct {
		name, ops string
		want      func(u *User)
		err       error
	}{
		{"okta deactivate", `[{"op": "replace", "value": {"active": false}}]`, func(u *User) { u.Active = false }, nil},
		{"entra string false", `[{"op": "Replace", "path": "active", "value": "False"}]`, func(u *User) { u.Active = false }, nil},
		{"entra string true", `[{"op": "replace", "path": "active", "value": "True"}]`, func(u *User) {}, nil},
		{"remove displayName", `[{"op": "Remove", "path": "displayName"}]`, func(u *User) { u.DisplayName = "" }, nil},
		{"sub-attribute", `[{"op": "Replace", "path": "name.givenName", "value": "C"}]`, func(u *User) { u.Name.GivenName = "C" }, nil},
		{"name object merges", `[{"op": "add", "path": "name", "value": {"middleName": "M"}}]`,
			func(u *User) { u.Name.MiddleName = "M" }, nil},
		{"no path, dotted key", `[{"op": "replace", "value": {"name.familyName": "D", "title": "MD"}}]`,
			func(u *User) { u.Name.FamilyName = "D"; u.Title = "MD" }, nil},
		{"no path, core URN key", `[{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": {"displayName": "Z"}}}]`,
			func(u *User) { u.DisplayName = "Z" }, nil},
		{"URN-prefixed path", `[{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:title", "value": "DO"}]`,
			func(u *User) { u.Title = "DO" }, nil},
		{"enterprise extension ignored", `[{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m"}]`,
			func(u *User) {}, nil},
		{"emails ignored", `[{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "z@b.test"}]`, func(u *User) {}, nil},
		{"remove externalId", `[{"op": "remove", "path": "externalId"}]`, func(u *User) { u.ExternalID = nil }, nil},
		{"same userName", `[{"op": "replace", "path": "userName", "value": "A@B.test"}]`, func(u *User) {}, nil},
		{"other userName", `[{"op": "replace", "path": "userName", "value": "c@b.test"}]`, nil, ErrMutability},
		{"remove without path", `[{"op": "remove"}]`, nil, ErrNoTarget},
		{"unknown op", `[{"op": "move", "path": "title"}]`, nil, ErrInvalidSyntax},
		{"unknown attribute", `[{"op": "add", "path": "shoeSize", "value": 1}]`, nil, ErrInvalidPath},
		{"bad boolean", `[{"op": "replace", "path": "active", "value": "yes"}]`, nil, ErrInvalidInput},
		{"remove active", `[{"op": "remove", "path": "active"}]`, nil, ErrMutability},
		{"read-only id", `[{"op": "replace", "path": "id", "value": "x"}]`, nil, ErrMutability},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := base()
			err := applyPatch(&u, ops(t, c.ops))
			if c.err != nil {
				if errkind.Code(err) != errkind.Code(c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := base()
			c.want(&want)
			if d := cmp.Diff(want, u); d != "" {
				t.Fatalf("-want +got:\n%s", d)
			}
		})
	}
}

// TestParseFilter covers the filters directories send and refuses the
// rest.
func TestParseFilter(t *testing.T) {
	for _, c := range []struct {
		filter string
		n      int // conjunctions; -1: ErrInvalidFilter
	}{
		{``, 1},
		{`userName eq "A@b.test"`, 1},
		{`USERNAME EQ "a@b.test"`, 1},
		{`emails.value eq "a@b.test"`, 1},
		{`externalId eq "x" and active eq true`, 1},
		{`userName eq "a@b.test" and userName eq "c@b.test"`, 0},
		{`userName eq "a@b.test" or userName eq "c@b.test"`, 2},
		{`(userName eq "a@b.test" or externalId eq "x") and active eq false`, 2},
		{`id eq "not-a-uuid"`, 0},
		{`emails[type eq "work" and value eq "a@b.test"]`, 1},
		{`userName co "a"`, -1},
		{`displayName eq "A"`, -1},
		{`not (userName eq "a@b.test")`, -1},
		{`userName eq`, -1},
	} {
		got, err := parseFilter(c.filter)
		switch {
		case c.n < 0 && errkind.Code(err) != "invalid_filter":
			t.Errorf("%q: %v, want invalid_filter", c.filter, err)
		case c.n >= 0 && (err != nil || len(got) != c.n):
			t.Errorf("%q: %d conjunctions (%v), want %d", c.filter, len(got), err, c.n)
		}
	}
	got, _ := parseFilter(`USERNAME eq "A@B.test" and externalId eq "x"`)
	if b, _ := json.Marshal(map[string]any{"email": *got[0].email, "ext": *got[0].externalID}); string(b) != `{"email":"a@b.test","ext":"x"}` {
		t.Fatalf("normalised conjunction %s", b)
	}
}

// TestToken: the format, the checksum and the prefix.
func TestToken(t *testing.T) {
	tok := NewToken()
	if !ValidToken(tok) || len(tok) != tokenLen || tok[:5] != "scim_" {
		t.Fatalf("token %q", tok)
	}
	bad := []byte(tok)
	bad[10] ^= 1
	if ValidToken(string(bad)) || ValidToken(tok[:len(tok)-1]) || ValidToken("sk_live_"+tok[5:]) {
		t.Fatal("a mistyped token passed")
	}
	if NewToken() == tok {
		t.Fatal("two equal tokens")
	}
}

// TestApplyPatchEchoesNoKey: an unknown key of a name object is refused
// as an unknown sub-attribute whatever its value, and the problem does
// not repeat it (it may be a phone or record number).
func TestApplyPatchEchoesNoKey(t *testing.T) {
	for _, s := range []string{
		`[{"op": "replace", "path": "name", "value": {"617-555-0142": 7}}]`,
		`[{"op": "add", "value": {"name": {"MRN884213": true}}}]`,
		`[{"op": "replace", "path": "name", "value": {"617-555-0142": "x"}}]`,
	} {
		u := User{UserName: "a@b.test", Active: true}
		err := applyPatch(&u, ops(t, s))
		if errkind.Code(err) != "invalid_path" {
			t.Errorf("%s: %v, want invalid_path", s, err)
		}
		if msg := strings.ToLower(errkind.PublicText(err)); strings.Contains(msg, "617-555-0142") || strings.Contains(msg, "mrn884213") {
			t.Errorf("%s: the problem repeats the key: %q", s, msg)
		}
	}
}
