package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The checks the database makes of a passkey ceremony's signed bytes
// without the server: private.webauthn_auth_data (RP ID hash, UP, UV,
// backup flags, counter, attested credential data) and
// private.webauthn_client_data (type, challenge, origin, cross-origin).
func TestWebAuthnSQL(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	rp := sha256.Sum256([]byte("ward.example"))
	authData := func(rpHash []byte, flags byte, count uint32, attested []byte) []byte {
		b := append(append([]byte{}, rpHash...), flags, byte(count>>24), byte(count>>16), byte(count>>8), byte(count))
		return append(b, attested...)
	}
	credID := make([]byte, 20)
	for i := range credID {
		credID[i] = byte(i + 1)
	}
	aaguid := []byte("0123456789abcdef")
	key := []byte{0xa5, 0x01, 0x02, 0x03, 0x26}
	attested := append(append(append(append([]byte{}, aaguid...), 0, byte(len(credID))), credID...), key...)
	other := sha256.Sum256([]byte("evil.example"))
	for _, c := range []struct {
		name  string
		data  []byte
		ok    bool
		count int64
	}{
		{"UP and UV", authData(rp[:], 0x05, 7, nil), true, 7},
		{"UP, UV, BE and BS", authData(rp[:], 0x1d, 0, nil), true, 0},
		{"no UV", authData(rp[:], 0x01, 7, nil), false, 0},
		{"no UP", authData(rp[:], 0x04, 7, nil), false, 0},
		{"another RP ID", authData(other[:], 0x05, 7, nil), false, 0},
		{"BS without BE", authData(rp[:], 0x15, 7, nil), false, 0},
		{"short", authData(rp[:], 0x05, 7, nil)[:36], false, 0},
		{"attested", authData(rp[:], 0x45, 0, attested), true, 0},
		{"attested, truncated", authData(rp[:], 0x45, 0, attested[:30]), false, 0},
	} {
		var ok bool
		var count *int64
		var gotCred []byte
		var off *int
		if err := env.Super.Pool.QueryRow(ctx,
			`select ok, sign_count, credential_id, key_offset from private.webauthn_auth_data($1, 'ward.example')`,
			c.data).Scan(&ok, &count, &gotCred, &off); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ok != c.ok || (ok && *count != c.count) {
			t.Errorf("%s: ok %v count %v, want %v %d", c.name, ok, count, c.ok, c.count)
		}
		if c.name == "attested" && (string(gotCred) != string(credID) || off == nil ||
			string(c.data[*off-1:*off-1+len(key)]) != string(key)) {
			t.Errorf("attested: credential id %x, key offset %v", gotCred, off)
		}
	}

	challenge := make([]byte, 32)
	challenge[0] = 0xfb
	ch := base64.RawURLEncoding.EncodeToString(challenge)
	for _, c := range []struct {
		name, json string
		ok         bool
	}{
		{"good", `{"type":"webauthn.get","challenge":"` + ch + `","origin":"https://ward.example"}`, true},
		{"good, same-origin flag", `{"type":"webauthn.get","challenge":"` + ch + `","origin":"https://ward.example","crossOrigin":false}`, true},
		{"cross-origin", `{"type":"webauthn.get","challenge":"` + ch + `","origin":"https://ward.example","crossOrigin":true}`, false},
		{"another origin", `{"type":"webauthn.get","challenge":"` + ch + `","origin":"https://evil.example"}`, false},
		{"another type", `{"type":"webauthn.create","challenge":"` + ch + `","origin":"https://ward.example"}`, false},
		{"another challenge", `{"type":"webauthn.get","challenge":"AAAA","origin":"https://ward.example"}`, false},
		{"not JSON", `{"type":`, false},
		{"not an object", `[1]`, false},
	} {
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx,
			`select private.webauthn_client_data($1, 'webauthn.get', $2, 'https://ward.example')`,
			[]byte(c.json), challenge).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ok != c.ok {
			t.Errorf("client data %s: %v, want %v", c.name, ok, c.ok)
		}
	}
}
