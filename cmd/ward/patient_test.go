package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/pgtest"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// TestPatientKey: `ward patient key` gives a patient created before the
// per-patient key tier (keyset null, the name and an entry's note sealed
// under the org's keys) a keyset of their own, with the same values sealed
// under it, says how many, and records patient.key; `ward migrate` does
// the same for one created afterwards; a second run keys nothing; a
// patient whose value does not open is left as it was while the others
// are keyed, and the run fails naming it; bad arguments are refused with
// plain messages.
func TestPatientKey(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	dir := filepath.Join(reachableTempDir(t), "var")
	mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	out := mustWard(t, "org", "create", "--data-dir", dir, "--database-url", env.URL("ward_ops"),
		"--name", "Keying Clinic", "--admin-email", "admin@keying.test")
	org := uuid.MustParse(regexp.MustCompile(`org_id=([0-9a-f-]{36})`).FindStringSubmatch(out)[1])
	root, err := envelope.LoadOrCreateLocalRoot(filepath.Join(dir, "root-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	keys := keystore.New(envelope.NewKeyring(root, envelope.Config{}))
	k, err := keys.OpsOrg(ctx, env.Super, org)
	if err != nil {
		t.Fatal(err)
	}

	// A patient and an entry as they were written before 00275: sealed
	// under the org's keys, no keyset (the superuser, with the triggers
	// of later migrations off).
	const name, note = "Wilhelmina Quarrender", "slept badly before the fasting draw"
	legacy := func() (patient, entry uuid.UUID) {
		t.Helper()
		patient, entry = uuid.New(), uuid.New()
		nameCT, err := k.Seal([]byte(name), envelope.AD{Table: "patients", Column: "name", Org: org, Row: patient})
		if err != nil {
			t.Fatal(err)
		}
		noteCT, err := k.Seal([]byte(note), envelope.AD{Table: "clinical_entries", Column: "note", Org: org, Row: entry})
		if err != nil {
			t.Fatal(err)
		}
		err = env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `set local session_replication_role = replica`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by)
				select $1, $2, $3, m.user_id from app.memberships m where m.org_id = $1`, org, patient, nameCT); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `insert into app.clinical_entries (org_id, id, patient_id, kind, name, observed_at, note_enc,
				created_by) select $1, $2, $3, 'symptom', 'Fatigue', now(), $4, created_by from app.patients where id = $3`,
				org, entry, patient, noteCT)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return patient, entry
	}
	// check: the patient has a keyset, under which (and not the org's
	// keys) the name and the note open as they were.
	check := func(patient, entry uuid.UUID) {
		t.Helper()
		var wrapped, nameCT, noteCT []byte
		if err := env.Super.Pool.QueryRow(ctx, `select p.keyset, p.name_enc, e.note_enc from app.patients p
			join app.clinical_entries e on e.patient_id = p.id where p.id = $1 and e.id = $2`, patient, entry).
			Scan(&wrapped, &nameCT, &noteCT); err != nil {
			t.Fatal(err)
		}
		if wrapped == nil {
			t.Fatal("the patient has no keyset")
		}
		pk, err := k.PatientKeys(patient, wrapped)
		if err != nil {
			t.Fatal(err)
		}
		nameAD := envelope.AD{Table: "patients", Column: "name", Org: org, Row: patient}
		noteAD := envelope.AD{Table: "clinical_entries", Column: "note", Org: org, Row: entry}
		if got, err := pk.Open(nameCT, nameAD); err != nil || string(got) != name {
			t.Fatalf("the name under the patient's keyset: %v", err)
		}
		if got, err := pk.Open(noteCT, noteAD); err != nil || string(got) != note {
			t.Fatalf("the note under the patient's keyset: %v", err)
		}
		if _, err := k.Open(nameCT, nameAD); err == nil {
			t.Fatal("the org's keys still open the name")
		}
	}

	p1, e1 := legacy()
	out = mustWard(t, "patient", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops"), "--org", org.String())
	if !strings.Contains(out, "keyed 1 patient(s) in 1 org(s)") {
		t.Fatalf("patient key printed:\n%s", out)
	}
	check(p1, e1)
	if out = mustWard(t, "patient", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops")); !strings.Contains(out,
		"keyed 0 patient(s) in 0 org(s)") {
		t.Fatalf("a second run printed:\n%s", out)
	}

	p2, e2 := legacy()
	out = mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL())
	if !strings.Contains(out, "gave 1 patient(s) created before the per-patient key tier a keyset of their own") {
		t.Fatalf("migrate printed:\n%s", out)
	}
	check(p2, e2)
	if out = mustWard(t, "migrate", "--data-dir", dir, "--database-url", env.SuperURL()); strings.Contains(out, "keyset") {
		t.Fatalf("a second migrate printed:\n%s", out)
	}
	var events int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'patient.key'
		and outcome = 'success' and details->>'patients' = '1'`, org).Scan(&events); err != nil || events != 2 {
		t.Fatalf("%d patient.key events (%v), want 2", events, err)
	}

	// A patient whose name does not open under the org's keys is left as
	// it was, the run keys the others and fails with a plain message.
	bad := uuid.New()
	if _, err := env.Super.Pool.Exec(ctx, `insert into app.patients (org_id, id, name_enc, created_by, keyset)
		select $1, $2, '\x0102030405', m.user_id, '\x00' from app.memberships m where m.org_id = $1`, org, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Super.Pool.Exec(ctx, `update app.patients set keyset = null where id = $1`, bad); err != nil {
		t.Fatal(err)
	}
	p3, e3 := legacy()
	out, err = ward(t, "patient", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops"))
	if err == nil || !strings.Contains(err.Error(), "1 patient(s) could not be keyed") ||
		!strings.Contains(err.Error(), bad.String()) || !strings.Contains(out, "keyed 1 patient(s) in 1 org(s)") {
		t.Fatalf("a run with a patient that does not open: %q, %v", out, err)
	}
	check(p3, e3)
	var badKeyset []byte
	if err := env.Super.Pool.QueryRow(ctx, `select keyset from app.patients where id = $1`, bad).Scan(&badKeyset); err != nil ||
		badKeyset != nil {
		t.Fatalf("the patient that does not open was given a keyset (%v)", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"patient"}, "usage: ward patient key"},
		{[]string{"patient", "shred"}, "usage: ward patient key"},
		{[]string{"patient", "key", "--data-dir", dir, "--database-url", env.URL("ward_ops"), "--org", "clinic"},
			"--org: not an org id"},
	} {
		if _, err := ward(t, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ward %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
