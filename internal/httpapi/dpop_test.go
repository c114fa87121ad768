package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
)

// DPoP (RFC 9449): a client that signs in with a proof gets a session bound
// to its key, and every later request with it needs a fresh, matching
// proof; the database resolves the session only with the key's thumbprint.
func TestDPoP(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("DPoP practice")
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) { testDPoP(t, w, o, alg) })
	}
}

func testDPoP(t *testing.T, w *world, o *org, alg jose.SignatureAlgorithm) {
	ctx := context.Background()
	key := newDPoPKey(t, alg)
	email := "dpop-" + strings.ToLower(string(alg)) + "@example.test"
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": email, "role": "provider", "invite": false},
		http.StatusCreated, nil)

	// Sign in with a proof (no ath: there is no token yet).
	link, err := w.ops.OperatorLink(ctx, w.env.Super, email, uuid.NullUUID{UUID: o.ID, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	linkToken := link[strings.LastIndex(link, "=")+1:]
	consume := w.base + "/v1/auth/magic"
	resp, body := w.request("POST", "/v1/auth/magic", "", map[string]string{"token": linkToken},
		"DPoP", key.proof("POST", consume, "", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in with a proof: %d %s", resp.StatusCode, body)
	}
	var sess struct {
		Token     string `json:"token"`
		TokenType string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &sess); err != nil || sess.TokenType != "DPoP" || sess.Token == "" {
		t.Fatalf("sign-in with a proof answered %s", body)
	}
	if len(resp.Cookies()) != 0 && strings.Contains(resp.Header.Get("Set-Cookie"), "ward_session=") &&
		!strings.Contains(resp.Header.Get("Set-Cookie"), "ward_session=;") {
		t.Errorf("a DPoP sign-in set a session cookie: %s", resp.Header.Get("Set-Cookie"))
	}
	// Nor a browser's device cookie: an app's sign-in has no browser to
	// remember, and trying (with the bound token, which resolves only with
	// its proof) failed and logged a warning on every app sign-in.
	if strings.Contains(resp.Header.Get("Set-Cookie"), "ward_device=") ||
		strings.Contains(w.logs.String(), "sign-in device not remembered") {
		t.Errorf("a DPoP sign-in tried to remember a browser: %s\n%s", resp.Header.Get("Set-Cookie"), w.logs.String())
	}
	var jkt string
	if err := w.env.Super.Pool.QueryRow(ctx, `select dpop_jkt from app.sessions where token_hash = sha256($1::bytea)`,
		[]byte(sess.Token)).Scan(&jkt); err != nil || len(jkt) != 43 {
		t.Fatalf("session binding: %q %v", jkt, err)
	}

	me := w.base + "/v1/me"
	get := func(name string, authz string, proof string, want int, code string) {
		t.Helper()
		hdr := []string{"Authorization", authz}
		if proof != "" {
			hdr = append(hdr, "DPoP", proof)
		}
		resp, body := w.request("GET", "/v1/me", "", nil, hdr...)
		if resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, want, body)
		}
		if code != "" && !strings.Contains(string(body), `"code":"`+code+`"`) {
			t.Fatalf("%s: want code %s: %s", name, code, body)
		}
		if want == http.StatusUnauthorized && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "DPoP") {
			t.Fatalf("%s: WWW-Authenticate %q names no DPoP", name, resp.Header.Get("WWW-Authenticate"))
		}
	}
	tok := sess.Token
	get("valid proof", "DPoP "+tok, key.proof("GET", me, tok, nil), http.StatusOK, "")
	get("another valid proof", "DPoP "+tok, key.proof("GET", me, tok, nil), http.StatusOK, "")
	get("bound token as Bearer", "Bearer "+tok, "", http.StatusUnauthorized, "")
	get("bound token as Bearer, proof ignored", "Bearer "+tok, key.proof("GET", me, tok, nil), http.StatusUnauthorized, "")
	get("missing proof", "DPoP "+tok, "", http.StatusUnauthorized, "dpop_invalid")
	get("wrong htm", "DPoP "+tok, key.proof("POST", me, tok, nil), http.StatusUnauthorized, "dpop_invalid")
	get("wrong htu", "DPoP "+tok, key.proof("GET", w.base+"/v1/sessions", tok, nil), http.StatusUnauthorized, "dpop_invalid")
	get("htu with a query", "DPoP "+tok, key.proof("GET", me+"?x=1", tok, nil), http.StatusUnauthorized, "dpop_invalid")
	// The jti is recorded in the round trip that resolves the session
	// (app.whoami, migration 00100; in the unlogged app.dpop_jtis since
	// 00112): once, and a replay is refused there.
	proofs := func(jkt string) int {
		t.Helper()
		var n int
		if err := w.env.Super.Pool.QueryRow(ctx, `select count(*) from app.dpop_jtis where jkt = $1`, jkt).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	replayed := key.proof("GET", me, tok, nil)
	before := proofs(jkt)
	get("first use", "DPoP "+tok, replayed, http.StatusOK, "")
	get("replayed jti", "DPoP "+tok, replayed, http.StatusUnauthorized, "dpop_invalid")
	if n := proofs(jkt); n != before+1 {
		t.Fatalf("a proof used, then replayed, left %d more jtis for the key, want 1", n-before)
	}
	get("stale iat", "DPoP "+tok, key.proof("GET", me, tok, func(c map[string]any) {
		c["iat"] = time.Now().Add(-10 * time.Minute).Unix()
	}), http.StatusUnauthorized, "dpop_invalid")
	get("iat from the future", "DPoP "+tok, key.proof("GET", me, tok, func(c map[string]any) {
		c["iat"] = time.Now().Add(10 * time.Minute).Unix()
	}), http.StatusUnauthorized, "dpop_invalid")
	get("ath mismatch", "DPoP "+tok, key.proof("GET", me, tok, func(c map[string]any) {
		c["ath"] = auth.TokenHash("another token")
	}), http.StatusUnauthorized, "dpop_invalid")
	get("no ath", "DPoP "+tok, key.proof("GET", me, tok, func(c map[string]any) { delete(c, "ath") }),
		http.StatusUnauthorized, "dpop_invalid")
	thief := newDPoPKey(t, alg)
	get("stolen token with another key", "DPoP "+tok, thief.proof("GET", me, tok, nil), http.StatusUnauthorized, "")
	if n := proofs(thief.jkt()); n != 0 {
		t.Fatalf("a proof whose credential did not resolve recorded %d jtis", n)
	}
	// A revoked session resolves nobody: its proof's jti is not recorded,
	// and the same proof is refused for the session, not as a replay.
	revoked := w.addMember(o, "dpop-revoked-"+strings.ToLower(string(alg))+"@example.test", identity.RolePatient)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set revoked_at = now(), revoked_reason = 'test'
		where token_hash = sha256($1::bytea)`, []byte(revoked.Token)); err != nil {
		t.Fatal(err)
	}
	refused := thief.proof("GET", me, revoked.Token, nil)
	get("revoked session with a proof", "DPoP "+revoked.Token, refused, http.StatusUnauthorized, "session_revoked")
	get("revoked session with the same proof", "DPoP "+revoked.Token, refused, http.StatusUnauthorized, "session_revoked")
	if n := proofs(thief.jkt()); n != 0 {
		t.Fatalf("a proof for a revoked session recorded %d jtis", n)
	}
	get("garbage proof", "DPoP "+tok, "not.a.jwt", http.StatusUnauthorized, "dpop_invalid")

	// An unbound session (a patient's: the org binds staff only) may use
	// DPoP too (the proof is checked), and stays usable as Bearer.
	pat := w.addMember(o, "dpop-pat-"+strings.ToLower(string(alg))+"@example.test", identity.RolePatient)
	get("unbound session with a proof", "DPoP "+pat.Token, key.proof("GET", me, pat.Token, nil), http.StatusOK, "")
	resp, body = w.request("GET", "/v1/me", pat.Token, nil)
	if resp.StatusCode != http.StatusOK || resp.Request.Header.Get("DPoP") != "" {
		t.Fatalf("unbound session as Bearer: %d %s", resp.StatusCode, body)
	}

	// The binding is the database's: as ward_app, the stolen token resolves
	// to nobody without the thumbprint, or with another one. With a
	// thumbprint, whoami needs the proof's jti hash (ward.dpop_jti) and iat
	// (ward.dpop_iat, since 00227), records
	// it only when the session resolved, and refuses it the second time.
	fresh := strings.Repeat("ab", 32)
	for _, c := range []struct {
		name, dpop, jti string
		want            int
		code            string
	}{
		{"no thumbprint", "", "", 0, ""},
		{"another thumbprint", strings.Repeat("A", 43), fresh, 0, ""},
		{"its thumbprint without a jti", jkt, "", 0, postgres.CodeInvalidParameter},
		{"its thumbprint with a malformed jti", jkt, "' or true --", 0, postgres.CodeInvalidParameter},
		{"its thumbprint", jkt, fresh, 1, ""}, // fresh: the other key's attempt recorded nothing
		{"its thumbprint, the jti replayed", jkt, fresh, 0, postgres.CodeUniqueViolation},
	} {
		var n int
		cred := postgres.Credential{Hash: identity.HashToken(tok), DPoP: c.dpop}
		err := w.env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`, c.jti, strconv.FormatInt(time.Now().Unix(), 10)); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		})
		switch {
		case c.code != "" && !postgres.IsCode(err, c.code):
			t.Fatalf("ward_app, %s: %d principals (%v), want SQLSTATE %s", c.name, n, err, c.code)
		case c.code == "" && (err != nil || n != c.want):
			t.Fatalf("ward_app, %s: %d principals (%v), want %d", c.name, n, err, c.want)
		}
	}
	if n := proofs(strings.Repeat("A", 43)); n != 0 {
		t.Fatalf("whoami with another key's thumbprint recorded %d jtis", n)
	}

	// A session binds once, in its first minute: not again, and not later.
	bind := func(token, dpop string) bool {
		t.Helper()
		var bound bool
		cred := postgres.Credential{Hash: identity.HashToken(token), DPoP: dpop}
		if err := w.env.App.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select app.dpop_bind($1)`, strings.Repeat("B", 43)).Scan(&bound)
		}); err != nil {
			t.Fatal(err)
		}
		return bound
	}
	if bind(tok, jkt) {
		t.Fatal("a bound session was bound again, to another key")
	}
	oldEmail := "dpop-old-" + strings.ToLower(string(alg)) + "@example.test"
	// (A patient: an unbound session; the harness binds staff at sign-in.)
	w.do("POST", "/v1/members", o.Admin.Token, map[string]any{"email": oldEmail, "role": "patient", "invite": false},
		http.StatusCreated, nil)
	old := w.operatorSignIn(oldEmail, o.ID)
	if _, err := w.env.Super.Pool.Exec(ctx, `update app.sessions set created_at = now() - interval '2 minutes'
		where token_hash = sha256($1::bytea)`, []byte(old)); err != nil {
		t.Fatal(err)
	}
	if bind(old, "") {
		t.Fatal("a session two minutes old was bound to a key")
	}

	// A spent link signs nobody in, proof or not.
	resp, body = w.request("POST", "/v1/auth/magic", "", map[string]string{"token": linkToken},
		"DPoP", thief.proof("POST", consume, "", nil))
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("a spent link signed in again: %s", body)
	}
}
