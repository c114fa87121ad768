package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestMigrateSealsLegalHoldTexts: `ward migrate` seals the reason and
// release note of a legal hold written in the clear before migration
// 00280 under the org's keys and clears the clear columns, says so, and
// seals nothing on the next run.
func TestMigrateSealsLegalHoldTexts(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Upgrade Clinic", "--admin-email", "admin@upgrade.test")
	org := regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1]
	const reason, note = "Deposition of Ottilie Brandqvist", "Brandqvist case closed"
	var hold string
	if err := env.Super.Pool.QueryRow(ctx, `insert into app.legal_holds (org_id, reason, created_by, released_at, released_by,
	    release_note) select $1, $2, m.user_id, now(), m.user_id, $3 from app.memberships m where m.org_id = $1
	    returning id::text`, org, reason, note).Scan(&hold); err != nil {
		t.Fatal(err)
	}

	out = mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	if !strings.Contains(out, "sealed the clear texts of 1 legal hold(s)") {
		t.Fatalf("migrate printed:\n%s", out)
	}
	var clear int
	var reasonEnc, noteEnc []byte
	if err := env.Super.Pool.QueryRow(ctx, `select num_nonnulls(reason, release_note), reason_enc, release_note_enc
	    from app.legal_holds where id = $1::uuid`, hold).Scan(&clear, &reasonEnc, &noteEnc); err != nil {
		t.Fatal(err)
	}
	if clear != 0 || len(reasonEnc) == 0 || len(noteEnc) == 0 ||
		bytes.Contains(reasonEnc, []byte("Brandqvist")) || bytes.Contains(noteEnc, []byte("Brandqvist")) {
		t.Errorf("after migrate: %d clear texts, sealed %d and %d bytes (holding the text: %v); want 0 clear, both sealed",
			clear, len(reasonEnc), len(noteEnc), bytes.Contains(reasonEnc, []byte("Brandqvist")) || bytes.Contains(noteEnc, []byte("Brandqvist")))
	}
	if out = mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL()); strings.Contains(out, "sealed") {
		t.Errorf("a second migrate printed:\n%s", out)
	}
}
