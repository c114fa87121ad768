package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// The actor × table × operation matrix of DESIGN §10: every cell runs as
// ward_app with a credential bound exactly as the server binds it, in its
// own transaction that is always rolled back, and compares what the
// database did with the oracle (rls_oracle_test.go) computed from the seed
// (rls_seed_test.go). Reads compare the visible set of primary keys;
// UPDATE and DELETE run over the whole table (the statement a bug without
// a WHERE clause would run) and compare the set of rows they touched;
// INSERT must succeed where the oracle allows it and fail with 42501
// everywhere else. A forbidden UPDATE or DELETE may touch no rows or fail
// with 42501.

// errRLSRollback makes InTenantTx roll a cell back.
var errRLSRollback = errors.New("rls matrix: roll back")

// rlsCell is one actor, table and operation.
type rlsCell struct {
	actor rlsActor
	table *rlsTable
	op    string
	sql   string
	args  []any
	// insert cells
	insert bool
	mayDo  bool
	target rlsTarget
	// set cells (select, update, delete)
	want []string
}

func (c rlsCell) String() string { return c.actor.name + "/" + c.table.name + "/" + c.op }

// cells builds every cell of the matrix for one actor.
func (s *rlsSeed) cells(a rlsActor) []rlsCell {
	p := s.resolve(a.cred)
	var out []rlsCell
	for _, t := range rlsTables() {
		out = append(out, rlsCell{actor: a, table: t, op: "select",
			sql: fmt.Sprintf(`select %s from %s`, t.pk, t.name), want: s.expect(t, p, t.read)})
		targets := s.targets(t)
		names := make([]string, 0, len(targets))
		for n := range targets {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, ins := range t.inserts {
			for _, n := range names {
				sql, args := ins.build(s, a, targets[n])
				out = append(out, rlsCell{actor: a, table: t, op: ins.name + n, sql: sql, args: args, insert: true,
					mayDo: p.live && ins.may != nil && ins.may(s, p, targets[n]), target: targets[n]})
			}
		}
		for _, u := range t.updates {
			out = append(out, rlsCell{actor: a, table: t, op: u.name,
				sql:  fmt.Sprintf(`update %s %s returning %s`, t.name, u.tail, t.pk),
				want: s.expect(t, p, u.may)})
		}
		out = append(out, rlsCell{actor: a, table: t, op: "delete",
			sql: fmt.Sprintf(`delete from %s returning %s`, t.name, t.pk), want: s.expect(t, p, t.delete)})
	}
	return out
}

// cell finds one cell by its actor, table and operation names.
func (s *rlsSeed) cell(actor, table, op string) rlsCell {
	for _, a := range s.actors {
		if a.name != actor {
			continue
		}
		for _, c := range s.cells(a) {
			if c.table.name == table && c.op == op {
				return c
			}
		}
	}
	panic("rls matrix: no cell " + actor + "/" + table + "/" + op)
}

// check runs c as ward_app and returns an error describing any difference
// from the oracle.
func (s *rlsSeed) check(ctx context.Context, app *postgres.DB, c rlsCell) error {
	var (
		got   []string
		n     int64
		opErr error
	)
	err := app.InTenantTx(ctx, c.actor.cred, func(ctx context.Context, tx pgx.Tx) error {
		if c.insert {
			tag, err := tx.Exec(ctx, c.sql, c.args...)
			n, opErr = tag.RowsAffected(), err
			return errRLSRollback
		}
		rows, err := tx.Query(ctx, c.sql, c.args...)
		if err == nil {
			got, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		opErr = err
		return errRLSRollback
	})
	if !errors.Is(err, errRLSRollback) {
		return fmt.Errorf("%v: transaction: %w", c, err)
	}
	who := s.describe(s.resolve(c.actor.cred))
	denied := postgres.IsCode(opErr, postgres.CodeInsufficientPrivilege)
	if c.insert {
		switch {
		case c.mayDo && opErr != nil:
			return fmt.Errorf("%v: %s may insert, the database refused: %w", c, who, opErr)
		case c.mayDo && n != 1:
			return fmt.Errorf("%v: %s inserted %d rows, want 1", c, who, n)
		case !c.mayDo && opErr == nil:
			return fmt.Errorf("%v: %s may not insert, the database accepted it (%d rows)", c, who, n)
		case !c.mayDo && !denied:
			return fmt.Errorf("%v: %s may not insert; want SQLSTATE 42501, got %w", c, who, opErr)
		}
		return nil
	}
	if opErr != nil {
		if denied && len(c.want) == 0 {
			return nil
		}
		return fmt.Errorf("%v: %s: want %s, got error %w", c, who, s.readableSet(c.want), opErr)
	}
	var extra, missing []string
	for _, pk := range got {
		if !slices.Contains(c.want, pk) {
			extra = append(extra, pk)
		}
	}
	for _, pk := range c.want {
		if !slices.Contains(got, pk) {
			missing = append(missing, pk)
		}
	}
	if len(extra) > 0 || len(missing) > 0 || len(got) != len(c.want) {
		return fmt.Errorf("%v: %s: %d rows, want %d; beyond the oracle: %s; missing: %s",
			c, who, len(got), len(c.want), s.readableSet(extra), s.readableSet(missing))
	}
	return nil
}

func (s *rlsSeed) readableSet(pks []string) string {
	out := make([]string, len(pks))
	for i, pk := range pks {
		out[i] = s.readable(pk)
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

func TestRLSMatrix(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()

	cells := 0
	for _, a := range s.actors {
		t.Run(a.name, func(t *testing.T) {
			regrace(t, env, s, a.name) // the seed and the actors before may take longer than the grace
			for _, c := range s.cells(a) {
				cells++
				t.Run(c.table.name+"/"+c.op, func(t *testing.T) {
					if err := s.check(ctx, env.App, c); err != nil {
						t.Error(err)
					}
				})
			}
		})
	}
	t.Logf("%d cells", cells)

	// The same cells with the shared cache off (ward.principal_cache, a
	// startup setting of this pool): every policy then takes the helper arm
	// of its COALESCE (00164), which must answer as the cached arm does.
	t.Run("without the cache", func(t *testing.T) {
		u, err := url.Parse(env.URL("ward_app"))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("ward.principal_cache", "off")
		u.RawQuery = q.Encode()
		off, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer off.Close()
		var setting string
		if err := off.Pool.QueryRow(ctx, `select current_setting('ward.principal_cache', true)`).Scan(&setting); err != nil || setting != "off" {
			t.Fatalf("ward.principal_cache on the pool: %q (%v)", setting, err)
		}
		for _, a := range s.actors {
			t.Run(a.name, func(t *testing.T) {
				regrace(t, env, s, a.name)
				for _, c := range s.cells(a) {
					if err := s.check(ctx, off, c); err != nil {
						t.Errorf("%s/%s: %v", c.table.name, c.op, err)
					}
				}
			})
		}
	})

	// The query an application bug runs: every column, no WHERE.
	t.Run("app-bug", func(t *testing.T) {
		for _, table := range []string{"app.patients", "app.clinical_entries"} {
			var spec *rlsTable
			for _, x := range rlsTables() {
				if x.name == table {
					spec = x
				}
			}
			for _, a := range s.actors {
				t.Run(a.name+"/"+table, func(t *testing.T) {
					regrace(t, env, s, a.name)
					want := s.expect(spec, s.resolve(a.cred), spec.read)
					var got []string
					err := env.App.InTenantTx(ctx, a.cred, func(ctx context.Context, tx pgx.Tx) error {
						rows, err := tx.Query(ctx, "select * from "+table)
						if err != nil {
							return err
						}
						maps, err := pgx.CollectRows(rows, pgx.RowToMap)
						if err != nil {
							return err
						}
						for _, m := range maps {
							org, id := m["org_id"].([16]byte), m["id"].([16]byte)
							got = append(got, uuid.UUID(org).String()+"/"+uuid.UUID(id).String())
						}
						return errRLSRollback
					})
					if !errors.Is(err, errRLSRollback) {
						t.Fatalf("select *: %v", err)
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("select * from %s: got %s, want %s", table, s.readableSet(got), s.readableSet(want))
					}
				})
			}
		}
	})

	t.Run("closed cases", func(t *testing.T) { testRLSClosedCases(t, env, s) })

	// The procedures run on a seed of their own, made just before them:
	// the seed's sessions stepped up when it was made, and its sign-in
	// links, SSO states and WebAuthn challenges last minutes. The cells
	// above took 13 minutes on a loaded machine (778 s measured), after
	// which every procedure that wants a second factor within the last 10
	// minutes refused the seed's admins and its SSO states had expired.
	t.Run("procedures", func(t *testing.T) {
		fresh := pgtest.New(t)
		testRLSProcedures(t, fresh, seedRLS(t, fresh))
	})

	// What the sessions/unrevoke cell guards: a user's live session must not
	// bring one of their revoked sessions (a stolen token, a session ended by
	// reuse detection) back to life.
	t.Run("revocation is final", func(t *testing.T) {
		var uid *string
		err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
			// The attempt runs in a savepoint: a policy may refuse it with an error.
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, `update app.sessions set revoked_at = null, revoked_reason = null where id = $1`,
				s.must("s.a_admin.revoked")); err != nil {
				_ = sp.Rollback(ctx)
			} else if err := sp.Commit(ctx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `select app.bind($1, $2, $3, $4)`, rlsActorNamed(s, "revoked_session").cred.Hash, "", "", ""); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `select private.uid()::text`).Scan(&uid); err != nil {
				return err
			}
			return errRLSRollback
		})
		if !errors.Is(err, errRLSRollback) {
			t.Fatal(err)
		}
		if uid != nil {
			t.Errorf("a revoked session was revived through app.sessions and resolves to %s again", s.readable(*uid))
		}
	})
}

func rlsActorNamed(s *rlsSeed, name string) rlsActor {
	for _, a := range s.actors {
		if a.name == name {
			return a
		}
	}
	panic("rls matrix: no actor " + name)
}

// testRLSProcedures checks the procedures and columns ward_app must not
// reach, and the one way to key material.
// rlsProcedureCell is a statement an actor runs, with what it returns or
// the SQLSTATE it fails with.
type rlsProcedureCell struct {
	name, actor, sql string
	args             []any
	want             []string // nil: must fail, with SQLSTATE code (42501 when empty)
	code             string
}

func testRLSProcedures(t *testing.T, env *pgtest.Env, s *rlsSeed) {
	ctx := context.Background()
	A, B := s.must("A"), s.must("B")
	cases := []rlsProcedureCell{
		{"create_org is for operators", "a_admin",
			`select (app.create_org('Evil', '\x00', '\x00', $1, $2, '\x00', $3)).org_id::text`,
			[]any{rlsNew(), rlsRandom(32), rlsNew()}, nil, ""},
		{"create_org anonymous", "anonymous",
			`select (app.create_org('Evil', '\x00', '\x00', $1, $2, '\x00', $3)).org_id::text`,
			[]any{rlsNew(), rlsRandom(32), rlsNew()}, nil, ""},
		{"issue_operator_link is for operators", "a_admin",
			`select (app.issue_operator_link($1, $2, $3)).user_id::text`,
			[]any{rlsRandom(32), A, rlsRandom(32)}, nil, ""},
		{"issue_operator_link is for operators, anonymous", "anonymous",
			`select (app.issue_operator_link($1, null, $2)).user_id::text`,
			[]any{s.bidx["a_admin"], rlsRandom(32)}, nil, ""},

		// API keys: the procedures' writes are held to the key's scopes too.
		{"update_member under a key without the members scope", "a_key_gateway",
			`select app.update_member($1, 'provider', false)::text`, []any{s.must("a_prov0")}, nil, ""},
		{"update_member under a key with the members scope", "a_key",
			`select 'updated' from (select app.update_member($1, 'provider', false)) u`, []any{s.must("a_prov0")},
			[]string{"updated"}, ""},
		{"revoke_api_key under a key", "a_key",
			`select app.revoke_api_key($1)::text`, []any{s.must("k.a.gw")}, nil, ""},
		// DPoP: the procedures take no identity and refuse what is not a
		// thumbprint or a jti hash.
		{"dpop_use with a malformed thumbprint", "anonymous", `select app.dpop_use($1, $2)::text`,
			[]any{"' or true --", rlsRandom(32)}, nil, "22023"},
		{"dpop_use with a short jti hash", "anonymous", `select app.dpop_use($1, $2)::text`,
			[]any{strings.Repeat("A", 43), rlsRandom(8)}, nil, "22023"},
		{"dpop_bind anonymous", "anonymous", `select app.dpop_bind($1)::text`, []any{strings.Repeat("A", 43)}, nil, ""},
		{"dpop_bind under a key", "a_key", `select app.dpop_bind($1)::text`, []any{strings.Repeat("A", 43)}, nil, ""},
		{"dpop_bind with a malformed thumbprint", "a_admin", `select app.dpop_bind($1)::text`, []any{"short"}, nil, "22023"},

		// The operator's path to enable a provider is not the server's.
		{"ops_enable_gateway_provider is for operators", "a_admin",
			`select app.ops_enable_gateway_provider($1, 'anthropic')::text`, []any{A}, nil, ""},
		{"ops_enable_gateway_provider for another org", "b_admin",
			`select app.ops_enable_gateway_provider($1, 'anthropic')::text`, []any{A}, nil, ""},
		// Key rotation (00145) is the operator's: no session or key of the
		// server's role lists, replaces or rewraps a keyset or a data key.
		{"ops_keysets is for operators", "a_admin", `select count(*)::text from app.ops_keysets($1)`, []any{A}, nil, ""},
		{"ops_keysets anonymous", "anonymous", `select count(*)::text from app.ops_keysets(null)`, nil, nil, ""},
		{"ops_replace_keyset is for operators", "a_admin",
			`select app.ops_replace_keyset($1, 'aead', '\x00', '\x01', 'rotate')::text`, []any{A}, nil, ""},
		{"ops_data_keys is for operators", "a_lead", `select count(*)::text from app.ops_data_keys($1, null, 10)`, []any{A}, nil, ""},
		// The operator's breach revocation (00251) ends credentials in any
		// org: no actor of the server's role may call it.
		{"ops_breach_revoke is for operators", "a_admin",
			`select count(*)::text from app.ops_breach_revoke('{}', '{}', '{}', '{}')`, nil, nil, ""},
		{"ops_breach_revoke anonymous", "anonymous",
			`select count(*)::text from app.ops_breach_revoke('{}', '{}', '{}', '{}')`, nil, nil, ""},
		// The operator's view of the DSR queue (00252) reads every org's.
		{"ops_dsr_queue is for operators", "a_admin", `select count(*)::text from app.ops_dsr_queue(null, 10)`, nil, nil, ""},
		// The operator's list of orgs (00254).
		{"ops_orgs is for operators", "a_admin", `select count(*)::text from app.ops_orgs()`, nil, nil, ""},
		// The operator's look-up of an org's name and shredding (00285).
		{"ops_org_state is for operators", "a_admin", `select count(*)::text from app.ops_org_state($1)`, []any{A}, nil, ""},
		{"ops_org_state anonymous", "anonymous", `select count(*)::text from app.ops_org_state(null)`, nil, nil, ""},
		// The operator's view of members (00253) reads any org's.
		{"ops_members is for operators", "a_admin", `select count(*)::text from app.ops_members($1, null)`, []any{A}, nil, ""},
		// Crypto-shredding an org (00268) is the operator's alone: no actor of
		// the server's role may preview or run it, its own org's admin included.
		{"ops_org_shred is for operators", "a_admin",
			`select count(*)::text from app.ops_org_shred($1, 'A', false)`, []any{A}, nil, ""},
		{"ops_org_shred dry run is for operators", "anonymous",
			`select count(*)::text from app.ops_org_shred($1, 'A', true)`, []any{A}, nil, ""},
		// Erasing a shredded org's addresses and secrets (00271) too.
		{"ops_org_shred_erase is for operators", "a_admin",
			`select count(*)::text from app.ops_org_shred_erase($1)`, []any{A}, nil, ""},
		{"ops_org_shred_erase of another org is for operators", "anonymous",
			`select count(*)::text from app.ops_org_shred_erase($1)`, []any{B}, nil, ""},
		// Crypto-shredding one patient (00275): an admin's session that
		// stepped up, never anyone else, and only in the admin's own org
		// (a patient without a keyset of their own, from before 00275, is
		// refused too: TestPatientKeyLegacy).
		{"patient_shred by a lead", "a_lead", `select count(*)::text from app.patient_shred($1)`, []any{s.must("P1")}, nil, ""},
		{"patient_shred by a provider", "a_prov1", `select count(*)::text from app.patient_shred($1)`, []any{s.must("P1")}, nil, ""},
		{"patient_shred by the patient", "a_pat1", `select count(*)::text from app.patient_shred($1)`, []any{s.must("P1")}, nil, ""},
		{"patient_shred by an admin's key", "a_key", `select count(*)::text from app.patient_shred($1)`, []any{s.must("P1")}, nil, ""},
		{"patient_shred by an admin without step-up", "a_admin_aal1", `select count(*)::text from app.patient_shred($1)`,
			[]any{s.must("P1")}, nil, ""},
		{"patient_shred by break-glass", "a_prov0_break_glass", `select count(*)::text from app.patient_shred($1)`,
			[]any{s.must("P1")}, nil, ""},
		{"patient_shred anonymous", "anonymous", `select count(*)::text from app.patient_shred($1)`, []any{s.must("P1")}, nil, ""},
		{"patient_shred of another org's patient", "b_admin", `select count(*)::text from app.patient_shred($1)`,
			[]any{s.must("P1")}, nil, "P0002"},
		{"patient_shred of no patient", "a_admin", `select count(*)::text from app.patient_shred(null)`, nil, nil, "22023"},
		// Org A holds an org-wide legal hold (the seed's patients carry a
		// keyset since 00289, so the hold is what refuses).
		{"patient_shred under the org's legal hold", "a_admin", `select count(*)::text from app.patient_shred($1)`,
			[]any{s.must("P1")}, nil, "55000"},
		// Whether a live org knows a person (00271), for the erasure's
		// trigger: it reads every org's memberships and invitations, so no
		// actor of the server's role may ask it, of a person of its own org
		// or of another's.
		{"user_known_live is the erasure's", "a_admin",
			`select app.user_known_live($1)::text`, []any{s.must("a_lead")}, nil, ""},
		{"user_known_live of another org's person", "a_admin",
			`select app.user_known_live($1)::text`, []any{s.must("b_admin")}, nil, ""},
		{"user_known_live anonymous", "anonymous",
			`select app.user_known_live($1)::text`, []any{s.must("a_admin")}, nil, ""},
		// Sealing the legal-hold texts written in the clear before 00280
		// is the operator's (`ward migrate`): no actor of the server's role
		// reads those texts or writes a hold's sealed ones through it.
		{"ops_legal_hold_clear_texts is for operators", "a_admin",
			`select count(*)::text from app.ops_legal_hold_clear_texts(null, null, 10)`, nil, nil, ""},
		{"ops_seal_legal_hold is for operators", "a_admin",
			`select app.ops_seal_legal_hold($1, $2, 'seed', '\x01', null, null)::text`, []any{A, A}, nil, ""},
		// The keying of the patients created before the per-patient tier
		// (00288) is the operator's (`ward migrate`, `ward patient key`):
		// no actor of the server's role lists, locks, reads or reseals a
		// patient's cells, or records the keying.
		{"ops_unkeyed_patients is for operators", "a_admin",
			`select count(*)::text from app.ops_unkeyed_patients(null, null, null, 10)`, nil, nil, ""},
		{"ops_unkeyed_patients anonymous", "anonymous",
			`select count(*)::text from app.ops_unkeyed_patients(null, null, null, 10)`, nil, nil, ""},
		{"ops_patient_key_cells is for operators", "a_admin",
			`select count(*)::text from app.ops_patient_key_cells($1, $2)`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key_cells by a lead", "a_lead",
			`select count(*)::text from app.ops_patient_key_cells($1, $2)`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key_cells anonymous", "anonymous",
			`select count(*)::text from app.ops_patient_key_cells($1, $2)`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key is for operators", "a_admin",
			`select app.ops_patient_key($1, $2, '\x01', '{}', '{}', '{}', '{}', '{}')::text`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key by a provider", "a_prov1",
			`select app.ops_patient_key($1, $2, '\x01', '{}', '{}', '{}', '{}', '{}')::text`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key anonymous", "anonymous",
			`select app.ops_patient_key($1, $2, '\x01', '{}', '{}', '{}', '{}', '{}')::text`, []any{A, s.must("P1")}, nil, ""},
		{"ops_patient_key_record is for operators", "a_admin",
			`select app.ops_patient_key_record($1)::text`, []any{A}, nil, ""},
		{"ops_patient_key_record anonymous", "anonymous",
			`select app.ops_patient_key_record($1)::text`, []any{A}, nil, ""},
		{"patient_sealed_cells is the keying's", "a_admin",
			`select count(*)::text from private.patient_sealed_cells($1, $2)`, []any{A, s.must("P1")}, nil, ""},
		{"patient_key_lock is the keying's", "a_admin",
			`select private.patient_key_lock($1, $2)::text`, []any{A, s.must("P1")}, nil, ""},
		// The prefix check's helper (00302) reads a wrapped keyset's bytes:
		// the trigger's, not the server role's.
		{"tink_wrapping_key_id is the trigger's", "a_admin",
			`select private.tink_wrapping_key_id('\x12050100000001')::text`, nil, nil, ""},
		{"ops_rewrap_data_keys is for operators", "a_key",
			`select app.ops_rewrap_data_keys($1, '{}', '{}', '{}')::text`, []any{A}, nil, ""},
		// The compliance report's facts (00146) read across every org: the
		// operator's, refused to every actor of the server's role.
		{"ops_compliance_facts is for operators", "a_admin", `select app.ops_compliance_facts()::text`, nil, nil, ""},
		{"ops_compliance_facts anonymous", "anonymous", `select app.ops_compliance_facts()::text`, nil, nil, ""},
		// An org admin's compliance facts (00263): the bound credential's
		// org only, an admin's session only (not a pending, break-glass or
		// key credential, not another role).
		{"org_compliance_facts by an admin", "a_admin",
			`select (f->'orgs'->0->>'id') || '/' || jsonb_array_length(f->'orgs') from app.org_compliance_facts() f`, nil,
			[]string{A + "/1"}, ""},
		{"org_compliance_facts by another org's admin", "b_admin",
			`select (f->'orgs'->0->>'id') || '/' || jsonb_array_length(f->'orgs') from app.org_compliance_facts() f`, nil,
			[]string{B + "/1"}, ""},
		{"org_compliance_facts by a lead", "a_lead", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts by a provider", "a_prov1", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts by a patient", "a_pat1", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts by a stakeholder", "a_attorney", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts under an admin key", "a_key", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts by a pending admin", "a_admin_aal1", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts anonymous", "anonymous", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"org_compliance_facts by a revoked session", "revoked_session", `select app.org_compliance_facts()::text`, nil, nil, ""},
		{"compliance_org_facts is the definer functions' own", "a_admin",
			`select private.compliance_org_facts($1)::text`, []any{A}, nil, ""},

		// Proof hashes: the caller's own org only.
		{"proof_hashes of another org", "a_admin", `select count(*)::text from audit.proof_hashes($1, 1, '{0}', '{0}')`,
			[]any{B}, nil, ""},
		{"proof_hashes anonymous", "anonymous", `select count(*)::text from audit.proof_hashes($1, 1, '{0}', '{0}')`,
			[]any{A}, nil, ""},
		{"proof_hashes at level 3", "a_admin", `select count(*)::text from audit.proof_hashes($1, 100, '{3}', '{0}')`,
			[]any{A}, nil, postgres.CodeInvalidParameter},
		{"proof_hashes", "a_admin", `select count(*)::text from audit.proof_hashes($1, 1, '{0,4}', '{0,7}')`,
			[]any{A}, []string{"1"}, ""},

		// Claims of uploads in flight (00186): a live session claims a key
		// of its own org, touches and releases only its own claims; the
		// sweeper's reclaim is ward_ops's.
		{"claim_upload", "a_clinic", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/obj/" + rlsNew()}, []string{"claimed"}, ""},
		{"claim_upload of another org's key", "a_clinic", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + B + "/obj/" + rlsNew()}, nil, postgres.CodeInvalidParameter},
		{"claim_upload of a key outside obj/", "a_clinic", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/exports/" + rlsNew()}, nil, postgres.CodeInvalidParameter},
		{"claim_upload of a claimed key", "a_admin", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, nil, postgres.CodeUniqueViolation},
		{"claim_upload anonymous", "anonymous", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/obj/" + rlsNew()}, nil, ""},
		{"claim_upload by an API key", "a_key", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/obj/" + rlsNew()}, nil, ""},
		{"claim_upload by a revoked session", "revoked_session", `select 'claimed' from app.claim_upload($1)`,
			[]any{"orgs/" + A + "/obj/" + rlsNew()}, nil, ""},
		{"touch_upload of one's own claim", "a_clinic", `select app.touch_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, []string{"true"}, ""},
		{"touch_upload of another's claim", "a_admin", `select app.touch_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, []string{"false"}, ""},
		{"touch_upload of another org's claim", "b_admin", `select app.touch_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, []string{"false"}, ""},
		{"touch_upload anonymous", "anonymous", `select app.touch_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, nil, ""},
		{"release_upload of one's own claim", "a_clinic", `select app.release_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, []string{"true"}, ""},
		{"release_upload of another's claim", "a_lead", `select app.release_upload($1)::text`,
			[]any{"orgs/" + A + "/obj/" + s.must("claim.A")}, []string{"false"}, ""},
		{"reclaim_storage_keys is the sweeper's", "a_admin", `select count(*)::text from app.reclaim_storage_keys($1)`,
			[]any{[]string{"orgs/" + A + "/obj/" + s.must("claim.A")}}, nil, ""},

		// Cases and documents: the wrapped data key comes only from
		// app.open_document_version, which holds the caller to a live
		// download grant (or the staff rules) of the version's case.
		// app.open_patient_documents (00172, the right-of-access export):
		// an admin's or the patient's session, the same rule per version.
		{"open_patient_documents by the patient", "a_pat1",
			`select ($2::uuid = any (array_agg(version_id)))::text from app.open_patient_documents($1)`,
			[]any{s.must("P1"), s.must("v.d.C1")}, []string{"true"}, ""},
		{"open_patient_documents by an admin", "a_admin",
			`select ($2::uuid = any (array_agg(version_id)))::text from app.open_patient_documents($1)`,
			[]any{s.must("P1"), s.must("v.d.C1")}, []string{"true"}, ""},
		{"open_patient_documents of another patient", "a_pat1",
			`select count(*)::text from app.open_patient_documents($1)`, []any{s.must("P2")}, nil,
			postgres.CodeInsufficientPrivilege},
		{"open_patient_documents of another org's patient", "b_admin",
			`select count(*)::text from app.open_patient_documents($1)`, []any{s.must("P1")}, []string{"0"}, ""},
		{"open_patient_documents of no patient", "a_admin",
			`select count(*)::text from app.open_patient_documents(null, repeat('x', 5000), 'not an address', repeat('u', 5000))`,
			nil, []string{"0"}, ""},
		{"open_patient_documents by a provider", "a_prov1",
			`select count(*)::text from app.open_patient_documents($1)`, []any{s.must("P1")}, nil,
			postgres.CodeInsufficientPrivilege},
		{"open_patient_documents by a lead", "a_lead",
			`select count(*)::text from app.open_patient_documents($1)`, []any{s.must("P1")}, nil,
			postgres.CodeInsufficientPrivilege},
		{"open_document_version by an attorney with download", "a_attorney",
			`select (data_key is not null)::text from app.open_document_version($1, 'litigation')`,
			[]any{s.must("v.d.C2")}, []string{"true"}, ""},
		{"open_document_version by the case's patient", "a_pat1",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, []string{"true"}, ""},
		{"open_document_version by a provider of the patient", "a_prov1",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, []string{"true"}, ""},
		{"open_document_version by a view-only employer", "a_employer",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version by a clinic without download", "a_clinic",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version after the access end date", "a_payer_expired",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version of a revoked grant", "a_payer_revoked",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version by a provider's break-glass session", "a_prov0_break_glass",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, []string{"true"}, ""},
		{"open_document_version by the same provider's own session", "a_prov0",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version by an expired break-glass session", "a_prov0_break_glass_expired",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, ""},
		{"open_document_version of another org's case by a break-glass session", "a_prov0_break_glass",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.D1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version of another case", "a_attorney",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version of a deleted document", "a_admin",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1.deleted")}, nil, postgres.CodeNoDataFound},
		{"open_document_version of another org", "b_admin",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version under an admin key", "a_key",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, postgres.CodeNoDataFound},
		{"open_document_version anonymous", "anonymous",
			`select (data_key is not null)::text from app.open_document_version($1)`,
			[]any{s.must("v.d.C1")}, nil, ""},
		{"the data key column is not readable", "a_admin",
			`select encode(data_key, 'hex') from app.document_versions`, nil, nil, ""},
		{"the invitation token hash is not readable", "a_admin",
			`select encode(token_hash, 'hex') from app.case_invites`, nil, nil, ""},
		{"delete_document under a legal hold", "a_admin", `select count(*)::text from app.delete_document($1)`,
			[]any{s.must("d.C2")}, nil, "55000"},
		{"delete_document without a hold", "b_admin", `select count(*)::text from app.delete_document($1)`,
			[]any{s.must("d.D2")}, []string{"1"}, ""},
		// A document of a patient whose access request is open (00283).
		{"delete_document while the patient's access request is open", "b_admin",
			`select count(*)::text from app.delete_document($1)`, []any{s.must("d.D1")}, nil, "55000"},
		{"delete_document by a stakeholder", "a_clinic", `select count(*)::text from app.delete_document($1)`,
			[]any{s.must("d.C1")}, nil, ""},
		{"delete_document of another org", "b_admin", `select count(*)::text from app.delete_document($1)`,
			[]any{s.must("d.C1")}, nil, postgres.CodeNoDataFound},
		{"accept_case_invite with short hashes", "anonymous",
			`select status from app.accept_case_invite('\x00', '\x00')`, nil, nil, postgres.CodeInvalidParameter},
		{"accept_case_invite of an unknown token", "anonymous",
			`select status from app.accept_case_invite($1, $2)`, []any{rlsRandom(32), rlsRandom(32)}, []string{"invalid"}, ""},
		// 00218: a break-glass session joins no case, renames no passkey
		// and remembers no device.
		{"accept_case_invite under a break-glass session", "a_prov0_break_glass",
			`select status from app.accept_case_invite($1, $2)`, []any{rlsRandom(32), rlsRandom(32)}, nil,
			postgres.CodeInsufficientPrivilege},
		{"passkey_rename from a break-glass session", "a_prov0_break_glass",
			`select app.passkey_rename($1, 'x')::text`, []any{rlsNew()}, nil, postgres.CodeInsufficientPrivilege},
		{"remember_device from a break-glass session", "a_prov0_break_glass",
			`select app.remember_device($1)::text`, []any{rlsRandom(32)}, nil, postgres.CodeInsufficientPrivilege},
		// 00190: the landing reads an invitation by its token's hash, and
		// who is signed in from the bound credential only.
		{"link_landing with a short hash", "anonymous",
			`select status from app.link_landing('\x00')`, nil, nil, postgres.CodeInvalidParameter},
		{"link_landing of an unknown token", "anonymous",
			`select status from app.link_landing($1)`, []any{rlsRandom(32)}, []string{"invalid"}, ""},
		{"link_landing of an unknown token under a key", "a_key",
			`select status || '/' || coalesce(unbound::text, '-') from app.link_landing($1)`, []any{rlsRandom(32)},
			[]string{"invalid/-"}, ""},
		{"case_invite_landing with a short hash", "anonymous",
			`select status from app.case_invite_landing('\x00')`, nil, nil, postgres.CodeInvalidParameter},
		{"case_invite_landing of an unknown token", "anonymous",
			`select status from app.case_invite_landing($1)`, []any{rlsRandom(32)}, []string{"invalid"}, ""},
		{"case_invite_landing anonymous", "anonymous", rlsLanding, nil, []string{"ok/none/false"}, ""},
		{"case_invite_landing in the invitee's session", "a_attorney", rlsLanding, nil,
			[]string{"ok/invitee/true"}, ""},
		{"case_invite_landing in another member's session", "a_prov1", rlsLanding, nil, []string{"ok/other/true"}, ""},
		{"case_invite_landing in another org's session", "b_admin", rlsLanding, nil, []string{"ok/other/true"}, ""},
		{"case_invite_landing in a pending session", "a_admin_aal1", rlsLanding, nil, []string{"ok/other/true"}, ""},
		{"case_invite_landing in a revoked session", "revoked_session", rlsLanding, nil, []string{"ok/none/false"}, ""},
		{"case_invite_landing under a key", "a_key", rlsLanding, nil, []string{"ok/none/false"}, ""},
		{"case_invite_landing names the caller's own user", "a_prov1",
			`select (signed_in_user = $1)::text from app.case_invite_landing(sha256('inv.C1'::bytea))`,
			[]any{s.must("a_prov1")}, []string{"true"}, ""},
		// 00193: a refusal in another member's session is recorded only
		// for a pending invitation and a live session of another address.
		{"audit_case_invite_other_account with short hashes", "anonymous",
			`select app.audit_case_invite_other_account('\x00', '\x00')::text`, nil, nil, postgres.CodeInvalidParameter},
		{"audit_case_invite_other_account in another member's session", "anonymous", rlsOtherAccount,
			[]any{rlsActorNamed(s, "a_prov1").cred.Hash}, []string{"true"}, ""},
		{"audit_case_invite_other_account in another org's session", "anonymous", rlsOtherAccount,
			[]any{rlsActorNamed(s, "b_admin").cred.Hash}, []string{"true"}, ""},
		{"audit_case_invite_other_account in the invitee's session", "anonymous", rlsOtherAccount,
			[]any{rlsActorNamed(s, "a_attorney").cred.Hash}, []string{"false"}, ""},
		{"audit_case_invite_other_account in a revoked session", "anonymous", rlsOtherAccount,
			[]any{rlsActorNamed(s, "revoked_session").cred.Hash}, []string{"false"}, ""},
		{"audit_case_invite_other_account in an unknown session", "anonymous", rlsOtherAccount,
			[]any{fmt.Sprintf("%x", rlsRandom(32))}, []string{"false"}, ""},
		{"audit_case_invite_other_account of an unknown token", "anonymous",
			`select app.audit_case_invite_other_account($1, decode($2, 'hex'))::text`,
			[]any{rlsRandom(32), rlsActorNamed(s, "a_prov1").cred.Hash}, []string{"false"}, ""},
		// 00192: the invitation's status test decides for the two
		// definer functions only.
		{"case_invite_status is not for ward_app", "a_admin",
			`select private.case_invite_status(x) from app.case_invites x`, nil, nil, ""},
		{"case_invite_status is not for ward_app, anonymous", "anonymous",
			`select private.case_invite_status(null::app.case_invites)`, nil, nil, ""},
		{"due_reminders is not for ward_app", "a_admin", `select count(*)::text from app.due_reminders()`, nil, nil, ""},
		{"dsr_due_reminders is not for ward_app", "a_admin", `select count(*)::text from app.dsr_due_reminders()`, nil, nil, ""},
		{"record_access_expiries is not for ward_app", "a_admin", `select app.record_access_expiries()::text`, nil, nil, ""},
		{"live_storage_keys is not for ward_app", "a_admin", `select app.live_storage_keys('{}')`, nil, nil, ""},
		{"my_case_ids of an unknown permission", "a_attorney",
			`select cardinality(private.my_case_ids('delete'))::text`, nil, []string{"0"}, ""},
		{"my_case_ids after the access end date", "a_payer_expired",
			`select cardinality(private.my_case_ids('view'))::text`, nil, []string{"0"}, ""},
		{"my_case_ids of a stakeholder", "a_attorney",
			`select cardinality(private.my_case_ids('comment'))::text`, nil, []string{"1"}, ""},
		{"a stakeholder sees no member of the org", "a_clinic",
			`select cardinality(private.my_org_member_ids())::text`, nil, []string{"0"}, ""},

		// Break-glass: the lifetime is the procedure's and the table's;
		// designation and review are for admins who stepped up.
		{"break_glass_activate without a spent challenge", "anonymous",
			`select status from app.break_glass_activate($1, $2, '\x7b7d', $3, $4)`,
			[]any{rlsRandom(32), rlsRandom(32), rlsRandom(37), rlsRandom(32)}, nil, ""},
		{"break_glass_activate takes no lifetime", "anonymous",
			`select status from app.break_glass_activate($1, $2, '\x7b7d', $3, $4, p_minutes => 525600)`,
			[]any{rlsRandom(32), rlsRandom(32), rlsRandom(37), rlsRandom(32)}, nil, "42883"},
		{"break_glass_reason from an ordinary session", "a_admin",
			`select app.break_glass_reason($1, '\x00')::text`, []any{s.must("bg.s.a_prov0.bg")}, nil, ""},
		{"break_glass_reason of a review item whose reason is written", "a_prov0_break_glass",
			`select app.break_glass_reason($1, '\x00')::text`, []any{s.must("bg.s.a_prov0.bg")}, nil, ""},
		{"break_glass_reason of an expired break-glass session", "a_prov0_break_glass_expired",
			`select app.break_glass_reason($1, '\x00')::text`, []any{s.must("bg.s.a_prov0.bg.old")}, nil, ""},
		{"a live break-glass session is one", "a_prov0_break_glass", `select private.am_i_break_glass()::text`,
			nil, []string{"true"}, ""},
		{"an admin session is no break-glass session", "a_admin", `select private.am_i_break_glass()::text`,
			nil, []string{"false"}, ""},
		{"break_glass_designate by a lead", "a_lead", `select app.break_glass_designate($1, true)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"break_glass_designate under a key", "a_key", `select app.break_glass_designate($1, true)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"break_glass_designate of a patient", "a_admin", `select app.break_glass_designate($1, true)::text`,
			[]any{s.must("a_pat1")}, nil, postgres.CodeNoDataFound},
		{"break_glass_designate of a member of another org", "a_admin", `select app.break_glass_designate($1, true)::text`,
			[]any{s.must("b_admin")}, nil, postgres.CodeNoDataFound},
		{"break_glass_designate of staff with fewer than two passkeys", "a_admin",
			`select app.break_glass_designate($1, true)::text`, []any{s.must("a_lead")}, nil, postgres.CodeInvalidParameter},
		{"break_glass_designate again changes nothing", "a_admin", `select app.break_glass_designate($1, true)::text`,
			[]any{s.must("a_prov0")}, []string{"false"}, ""},
		{"break_glass_designate off", "a_admin", `select app.break_glass_designate($1, false)::text`,
			[]any{s.must("a_prov0")}, []string{"true"}, ""},
		{"break_glass_review by a lead", "a_lead", `select app.break_glass_review($1, '\x00')::text`,
			[]any{s.must("bg.s.a_prov0.bg")}, nil, ""},
		{"break_glass_review by the operator's break-glass session", "a_prov0_break_glass",
			`select app.break_glass_review($1, '\x00')::text`, []any{s.must("bg.s.a_prov0.bg")}, nil, ""},
		{"break_glass_review of another org's item", "b_admin", `select app.break_glass_review($1, '\x00')::text`,
			[]any{s.must("bg.s.a_prov0.bg")}, []string{"false"}, ""},
		{"break_glass_review without a note", "a_admin", `select app.break_glass_review($1, null)::text`,
			[]any{s.must("bg.s.a_prov0.bg")}, nil, postgres.CodeInvalidParameter},
		{"break_glass_review", "a_admin", `select app.break_glass_review($1, '\x00')::text`,
			[]any{s.must("bg.s.a_prov0.bg")}, []string{"true"}, ""},

		// Risk and device-binding policies: admins' sessions that stepped
		// up; the values are checked.
		{"set_risk_policy by a lead", "a_lead", `select app.set_risk_policy(40)::text`, nil, nil, ""},
		{"set_risk_policy under a key", "a_key", `select app.set_risk_policy(40)::text`, nil, nil, ""},
		{"set_risk_policy from a break-glass session", "a_prov0_break_glass", `select app.set_risk_policy(40)::text`, nil, nil, ""},
		{"set_risk_policy beyond 200", "a_admin", `select app.set_risk_policy(201)::text`, nil, nil, postgres.CodeInvalidParameter},
		{"set_risk_policy", "a_admin", `select app.set_risk_policy(40)::text`, nil, []string{""}, ""},
		{"set_risk_policy off", "a_admin", `select app.set_risk_policy(null)::text`, nil, []string{""}, ""},
		{"signin_risk is not for ward_app", "a_admin",
			`select score::text from private.signin_risk($1, $2, '10.0.0.1', 'ua', null)`, []any{A, s.must("a_admin")}, nil, ""},
		{"set_device_binding_policy by a lead", "a_lead", `select app.set_device_binding_policy('{provider}')::text`, nil, nil, ""},
		{"set_device_binding_policy under a key", "a_key", `select app.set_device_binding_policy('{provider}')::text`, nil, nil, ""},
		{"set_device_binding_policy with an unknown role", "a_admin", `select app.set_device_binding_policy('{root}')::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_device_binding_policy with a null role", "a_admin", `select app.set_device_binding_policy(array[null]::text[])::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_device_binding_policy", "a_admin", `select app.set_device_binding_policy('{provider,lead}')::text`,
			nil, []string{""}, ""},
		// The gateway's rate limits (00170): a live session's (a patient
		// or above) or a gateway key's own org only, never a pending
		// session's, a stakeholder's, a SCIM token's or another key's;
		// amounts checked; a settle of a reservation the caller did not
		// make settles nothing.
		{"gateway_admit anonymous", "anonymous", `select admitted::text from app.gateway_admit(10)`, nil, nil, ""},
		{"gateway_admit of a pending session", "a_admin_aal1", `select admitted::text from app.gateway_admit(10)`, nil, nil, ""},
		{"gateway_admit under a SCIM token", "a_scim", `select admitted::text from app.gateway_admit(10)`, nil, nil, ""},
		{"gateway_admit by a stakeholder", "a_clinic", `select admitted::text from app.gateway_admit(10)`, nil, nil, ""},
		{"gateway_admit under a key without the gateway scope", "a_key", `select admitted::text from app.gateway_admit(10)`,
			nil, nil, ""},
		{"gateway_admit with a negative reservation", "a_key_gateway", `select admitted::text from app.gateway_admit(-1)`,
			nil, nil, "22023"},
		{"gateway_admit under a gateway key", "a_key_gateway", `select admitted::text from app.gateway_admit(10)`, nil,
			[]string{"true"}, ""},
		{"gateway_admit by a patient", "a_pat1", `select admitted::text from app.gateway_admit(10)`, nil, []string{"true"}, ""},
		{"gateway_settle of the seeded reservation by its org's admin", "a_admin",
			`select app.gateway_settle(id, 0, true)::text from app.gateway_reservations`, nil, nil, ""},
		{"gateway_settle of a reservation by another credential", "a_admin",
			`select app.gateway_settle($1, 0, true)::text`, []any{s.reservations["A"]}, []string{"false"}, ""},
		{"gateway_settle anonymous", "anonymous", `select app.gateway_settle($1, 0, true)::text`,
			[]any{s.reservations["A"]}, []string{"false"}, ""},
		// The gateway policy: an admin's session only, values checked.
		{"set_gateway_policy by a lead", "a_lead", `select app.set_gateway_policy('{anthropic}', '{}', 'mask', 'mask', '{}', '{}', 600, 2000000)::text`, nil, nil, ""},
		{"set_gateway_policy under a key", "a_key", `select app.set_gateway_policy('{anthropic}', '{}', 'mask', 'mask', '{}', '{}', 600, 2000000)::text`, nil, nil, ""},
		{"set_gateway_policy from a break-glass session", "a_prov0_break_glass", `select app.set_gateway_policy('{anthropic}', '{}', 'mask', 'mask', '{}', '{}', 600, 2000000)::text`, nil, nil, ""},
		{"set_gateway_policy with unknown date handling", "a_admin", `select app.set_gateway_policy('{anthropic}', '{}', 'blur', 'mask', '{}', '{}', 600, 2000000)::text`, nil, nil,
			postgres.CodeInvalidParameter},
		{"set_gateway_policy keeping names", "a_admin", `select app.set_gateway_policy('{anthropic}', '{}', 'mask', 'mask', '{}', '{PERSON}', 600, 2000000)::text`, nil, nil,
			postgres.CodeInvalidParameter},
		{"set_gateway_policy", "a_admin", `select app.set_gateway_policy('{anthropic}', '{}', 'shift', 'mask', '{}', '{ORGANIZATION}', 600, 2000000)::text`, nil, []string{""}, ""},

		{"set_assurance_policy under a key", "a_key",
			`select app.set_assurance_policy(false, false)::text`, nil, nil, ""},

		// Hostile arguments: no procedure ward_app may call takes a lifetime,
		// a limit, an identity or an optional verifier from its caller.
		{"request_magic_link takes no lifetime or limits", "anonymous",
			`select status from app.request_magic_link($1, null, $2, $3, '192.0.2.1', $4, 525600, 1, 1000000, 1000000)`,
			[]any{s.bidx["a_admin"], rlsRandom(32), rlsRandom(32), rlsRandom(32)}, nil, "42883"},
		{"request_magic_link without a verifier", "anonymous",
			`select status from app.request_magic_link($1, null, $2, null, '192.0.2.1', $3)`,
			[]any{s.bidx["a_admin"], rlsRandom(32), rlsRandom(32)}, nil, postgres.CodeInvalidParameter},
		{"request_magic_link with short hashes", "anonymous",
			`select status from app.request_magic_link($1, null, '\x00', '\x00', '192.0.2.1', '\x00')`,
			[]any{s.bidx["a_admin"]}, nil, postgres.CodeInvalidParameter},
		{"request_magic_link lifetime is the instance's", "anonymous",
			`select status || '/' || ttl_min || '/' || (select (expires_at - created_at) <= interval '15 minutes'
			   from app.magic_links where user_id = r.user_id order by created_at desc limit 1)
			   from app.request_magic_link($1, null, $2, $3, '192.0.2.1', $4) r`,
			[]any{s.bidx["b_pat1"], rlsRandom(32), rlsRandom(32), rlsRandom(32)}, nil, postgres.CodeInsufficientPrivilege},
		{"request_magic_link for an unknown address", "anonymous",
			`select status || '/' || (org_id is null) from app.request_magic_link($1, null, $2, $3, '192.0.2.1', $4)`,
			[]any{rlsRandom(32), rlsRandom(32), rlsRandom(32), rlsRandom(32)}, []string{"unknown/true"}, ""},
		{"request_magic_link for a member", "anonymous",
			`select status || '/' || ttl_min from app.request_magic_link($1, null, $2, $3, '192.0.2.1', $4)`,
			[]any{s.bidx["b_pat1"], rlsRandom(32), rlsRandom(32), rlsRandom(32)}, []string{"created/15"}, ""},
		{"consume_magic_link takes no session caps", "anonymous",
			`select status from app.consume_magic_link($1, null, $2, 525600, 525600, '192.0.2.1', 'ua')`,
			[]any{s.linkHash["a_pat1"], rlsRandom(32)}, nil, "42883"},
		{"consume_magic_link of a bound link without its verifier", "anonymous",
			`select status from app.consume_magic_link($1, null, $2, '192.0.2.1', 'ua')`,
			[]any{s.linkHash["a_pat1"], rlsRandom(32)}, []string{"wrong_browser"}, ""},
		{"consume_magic_link with a wrong verifier", "anonymous",
			`select status from app.consume_magic_link($1, $2, $3, '192.0.2.1', 'ua')`,
			[]any{s.linkHash["a_pat1"], rlsRandom(32), rlsRandom(32)}, []string{"wrong_browser"}, ""},
		{"consume_magic_link without a session hash", "anonymous",
			`select status from app.consume_magic_link($1, null, null, '192.0.2.1', 'ua')`,
			[]any{s.linkHash["a_pat1"]}, nil, postgres.CodeInvalidParameter},
		{"whoami anonymous", "anonymous", `select user_id::text from app.whoami()`, nil, []string{}, ""},
		{"whoami with a forged hint", "forged_org_hint", `select user_id::text from app.whoami()`, nil, []string{}, ""},
		{"set_session_policy beyond the instance caps", "a_admin", `select app.set_session_policy(1440, 43200)::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_session_policy idle above absolute", "a_admin", `select app.set_session_policy(60, 30)::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_session_policy negative", "a_admin", `select app.set_session_policy(-1, 30)::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_session_policy null", "a_admin", `select app.set_session_policy(null, null)::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"set_session_policy within the caps", "a_admin", `select app.set_session_policy(30, 600)::text`,
			nil, []string{""}, ""},
		{"add_member with an unknown role", "a_admin", `select app.add_member($1, $2, '\x00', 'root')::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, postgres.CodeCheckViolation},
		{"add_member anonymous", "anonymous", `select app.add_member($1, $2, '\x00', 'admin')::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"update_member anonymous", "anonymous", `select app.update_member($1, 'admin', false)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"access_report of another org", "a_admin", `select seq::text from audit.access_report($1, $2)`,
			[]any{B, s.must("Q1")}, nil, ""},
		{"access_report anonymous", "anonymous", `select seq::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"access_report of another patient", "a_pat1", `select seq::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P2")}, nil, ""},
		// An admin API key reads the access report only with the dsr scope.
		{"access_report by an admin's session", "a_admin", `select count(*)::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, []string{s.accessReportRows("P1")}, ""},
		{"access_report under a key with dsr", "a_key_audit", `select count(*)::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, []string{s.accessReportRows("P1")}, ""},
		{"access_report under a key with members only", "a_key", `select count(*)::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"access_report under a key with gateway only", "a_key_gateway", `select count(*)::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"access_report under a revoked key with dsr", "a_key_revoked", `select count(*)::text from audit.access_report($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		// A TOTP factor is removed by its member's stepped-up session, or
		// reset by an admin's (00214): no key, no one without a credential,
		// no member below admin for another member.
		{"totp_delete anonymous", "anonymous", `select app.totp_delete(null)`, nil, nil,
			postgres.CodeInsufficientPrivilege},
		{"totp_delete under a key", "a_key", `select app.totp_delete(null)`, nil, nil,
			postgres.CodeInsufficientPrivilege},
		{"member_totp_reset anonymous", "anonymous", `select app.member_totp_reset($1, null)`,
			[]any{s.must("a_prov1")}, nil, postgres.CodeInsufficientPrivilege},
		{"member_totp_reset under a key", "a_key", `select app.member_totp_reset($1, null)`,
			[]any{s.must("a_prov1")}, nil, postgres.CodeInsufficientPrivilege},
		{"member_totp_reset by a provider", "a_prov1", `select app.member_totp_reset($1, null)`,
			[]any{s.must("a_admin")}, nil, postgres.CodeInsufficientPrivilege},
		// An admin's void of a member's recovery codes (00306) takes what
		// the reset takes.
		{"member_recovery_codes_void anonymous", "anonymous", `select app.member_recovery_codes_void($1, null)`,
			[]any{s.must("a_prov1")}, nil, postgres.CodeInsufficientPrivilege},
		{"member_recovery_codes_void under a key", "a_key", `select app.member_recovery_codes_void($1, null)`,
			[]any{s.must("a_prov1")}, nil, postgres.CodeInsufficientPrivilege},
		{"member_recovery_codes_void by a provider", "a_prov1", `select app.member_recovery_codes_void($1, null)`,
			[]any{s.must("a_admin")}, nil, postgres.CodeInsufficientPrivilege},
		// The paged report (00203) admits whom the whole one admits, and
		// refuses a page out of range.
		{"access_report_page of another org", "a_admin", `select seq::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{B, s.must("Q1")}, nil, ""},
		{"access_report_page anonymous", "anonymous", `select seq::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"access_report_page of another patient", "a_pat1", `select seq::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{A, s.must("P2")}, nil, ""},
		{"access_report_page by an admin's session", "a_admin", `select count(*)::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{A, s.must("P1")}, []string{s.accessReportRows("P1")}, ""},
		{"access_report_page under a key with dsr", "a_key_audit", `select count(*)::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{A, s.must("P1")}, []string{s.accessReportRows("P1")}, ""},
		{"access_report_page under a key with members only", "a_key", `select count(*)::text from audit.access_report_page($1, $2, 0, 1000)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"access_report_page of 1001", "a_admin", `select count(*)::text from audit.access_report_page($1, $2, 0, 1001)`,
			[]any{A, s.must("P1")}, nil, postgres.CodeInvalidParameter},
		{"access_report_page after -1", "a_admin", `select count(*)::text from audit.access_report_page($1, $2, -1, 10)`,
			[]any{A, s.must("P1")}, nil, postgres.CodeInvalidParameter},
		// The accounting of disclosures (00148) admits whom the access
		// report admits. The seed holds no disclosure, so an admitted
		// caller counts 0 (TestCasesWorkersComp counts real ones).
		{"disclosure_accounting of another org", "a_admin", `select seq::text from audit.disclosure_accounting($1, $2)`,
			[]any{B, s.must("Q1")}, nil, ""},
		{"disclosure_accounting anonymous", "anonymous", `select seq::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"disclosure_accounting of another patient", "a_pat1", `select seq::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P2")}, nil, ""},
		{"disclosure_accounting by the patient", "a_pat1", `select count(*)::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P1")}, []string{"0"}, ""},
		{"disclosure_accounting by a provider", "a_prov1", `select count(*)::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"disclosure_accounting under a key with dsr", "a_key_audit", `select count(*)::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P1")}, []string{"0"}, ""},
		{"disclosure_accounting under a key with members only", "a_key", `select count(*)::text from audit.disclosure_accounting($1, $2)`,
			[]any{A, s.must("P1")}, nil, ""},
		{"append_as is not for ward_app", "a_admin",
			`select audit.append_as($1, 'audit.read', 'success', p_actor => $2)::text`,
			[]any{A, s.must("a_lead")}, nil, ""},
		{"audit.append of a reserved success", "a_admin",
			`select audit.append($1, 'membership.add', 'success', 'user', $2)::text`,
			[]any{A, s.must("a_lead")}, nil, ""},
		{"audit.append of a reserved sign-in", "a_admin",
			`select audit.append($1, 'auth.signin', 'success', 'session', $2)::text`,
			[]any{A, rlsNew()}, nil, ""},
		{"audit.append of a reserved refusal", "a_lead",
			`select (audit.append($1, 'membership.add', 'denied') > 0)::text`, []any{A}, []string{"true"}, ""},
		{"audit.append of an unknown action", "a_admin", `select audit.append($1, 'patient.destroy', 'success')::text`,
			[]any{A}, nil, postgres.CodeInvalidParameter},
		{"audit.append of a patient of another org", "a_admin",
			`select audit.append($1, 'patient.read', 'success', 'patient', $2, $2)::text`,
			[]any{A, s.must("Q1")}, nil, postgres.CodeInvalidParameter},
		{"audit.append of a patient that does not exist", "a_admin",
			`select audit.append($1, 'patient.read', 'success', 'patient', $2, $2)::text`,
			[]any{A, rlsNew()}, nil, postgres.CodeInvalidParameter},
		{"audit.append without the patient the action needs", "a_admin",
			`select audit.append($1, 'patient.read', 'success')::text`, []any{A}, nil, postgres.CodeInvalidParameter},
		{"audit.append with a malformed disclosure", "a_admin",
			`select audit.append($1, 'audit.read', 'success', p_disclosure => '{"to": "x"}')::text`,
			[]any{A}, nil, postgres.CodeInvalidParameter},
		{"audit.append naming a recipient on an action that discloses nothing", "a_admin",
			`select audit.append($1, 'patient.read', 'success', 'patient', $2, $2,
			   p_disclosure => '{"recipient": "Acme Claims", "purpose": "claim adjudication"}')::text`,
			[]any{A, s.must("P1")}, nil, postgres.CodeInvalidParameter},
		{"audit.append with a details array", "a_admin",
			`select audit.append($1, 'audit.read', 'success', p_details => '[1]')::text`,
			[]any{A}, nil, postgres.CodeInvalidParameter},
		{"members in roles, for a provider", "a_prov1",
			`select cardinality(private.my_org_members_in_roles('{patient}'))::text`, nil, []string{"0"}, ""},
		{"members in roles, for a lead", "a_lead",
			`select cardinality(private.my_org_members_in_roles('{patient}'))::text`, nil, []string{"2"}, ""},
		{"the instance policy is read-only for ward_app", "a_admin",
			`update app.instance_policy set link_ttl_min = 60 returning link_ttl_min::text`, nil, nil, ""},
		{"org_keyset of another org", "a_admin", `select purpose from app.org_keyset($1)`, []any{B}, nil, ""},
		{"org_keyset of another org, hint forged", "forged_org_hint", `select purpose from app.org_keyset($1)`, []any{B}, nil, ""},
		{"org_keyset own org, hint forged", "forged_org_hint", `select purpose from app.org_keyset($1)`, []any{A}, nil, ""},
		{"org_keyset anonymous", "anonymous", `select purpose from app.org_keyset($1)`, []any{A}, nil, ""},
		{"org_keyset revoked session", "revoked_session", `select purpose from app.org_keyset($1)`, []any{A}, nil, ""},
		{"org_keyset of A from B", "b_admin", `select purpose from app.org_keyset($1)`, []any{A}, nil, ""},
		{"org_keyset own org", "a_admin", `select purpose from app.org_keyset($1) order by 1`, []any{A}, []string{"aead", "prf"}, ""},
		{"org_keyset own org B", "b_admin", `select purpose from app.org_keyset($1) order by 1`, []any{B}, []string{"aead", "prf"}, ""},
		{"audit.append into another org", "a_admin", `select audit.append($1, 'patient.read', 'success', 'patient', $2, $2)::text`,
			[]any{B, s.must("Q1")}, nil, ""},
		{"add_member by a lead", "a_lead", `select app.add_member($1, $2, '\x00', 'admin')::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"add_member with a forged hint", "forged_org_hint", `select app.add_member($1, $2, '\x00', 'admin')::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"add_member by an admin", "a_admin", `select ((app.add_member($1, $2, '\x00', 'provider')).user_id is not null)::text`,
			[]any{rlsNew(), rlsRandom(32)}, []string{"true"}, ""},
		{"add_member invites a new member", "a_admin",
			`select (app.add_member($1, $2, '\x00', 'provider', null, $3)).invite_ttl_min::text`,
			[]any{rlsNew(), rlsRandom(32), rlsRandom(32)}, []string{"1440"}, ""},
		{"add_member cannot mint an invitation for an existing member", "a_admin",
			`select (app.add_member($1, $2, '\x00', 'provider', null, $3)).invite_ttl_min::text`,
			[]any{rlsNew(), s.bidx["a_prov1"], rlsRandom(32)}, nil, postgres.CodeUniqueViolation},
		{"add_member with a short invitation hash", "a_admin",
			`select (app.add_member($1, $2, '\x00', 'provider', null, '\x00')).invite_ttl_min::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, postgres.CodeInvalidParameter},
		{"update_member by a provider", "a_prov1", `select app.update_member($1, 'admin', false)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"update_member of another org", "b_admin", `select app.update_member($1, 'patient', false)::text`,
			[]any{s.must("a_admin")}, nil, postgres.CodeNoDataFound},
		{"set_session_policy by a lead", "a_lead", `select app.set_session_policy(30, 600)::text`, nil, nil, ""},
		// Assurance: a pending session is nobody to data, and only the
		// definer procedures see it.
		{"whoami of a pending admin says what it needs", "a_admin_aal1",
			`select role || '/' || aal || '/' || pending from app.whoami()`, nil, []string{"admin/1/mfa"}, ""},
		{"whoami of a pending member of an org requiring MFA", "b_pat1_aal1",
			`select role || '/' || pending from app.whoami()`, nil, []string{"patient/mfa"}, ""},
		{"whoami of an unbound bearer session of a role the org requires bound", "b_pat1_bearer_unbound",
			`select role || '/' || pending from app.whoami()`, nil, []string{"patient/device_binding"}, ""},
		{"whoami of the same session in the browser's cookie", "b_pat1_browser",
			`select role || '/' || coalesce(pending, 'none') from app.whoami()`, nil, []string{"patient/none"}, ""},
		{"whoami of a token handed out as a bearer token, sent in a cookie", "b_pat1_bearer_token_in_cookie",
			`select role || '/' || pending from app.whoami()`, nil, []string{"patient/device_binding"}, ""},
		{"whoami of a session its live passkey created", "a_prov1_passkey",
			`select role || '/' || coalesce(pending, 'none') from app.whoami()`, nil, []string{"provider/none"}, ""},
		{"whoami of a session whose passkey is gone", "a_prov1_passkey_deleted",
			`select role from app.whoami()`, nil, []string{}, ""},
		// 00173: the factor procedures and the caller's own address see a
		// pending session, never one pending its device binding.
		{"own_email of a pending admin", "a_admin_aal1", `select (app.own_email() is not null)::text`, nil,
			[]string{"true"}, ""},
		{"own_email of an unbound bearer session", "b_pat1_bearer_unbound",
			`select (app.own_email() is not null)::text`, nil, []string{"false"}, ""},
		{"own_email anonymous", "anonymous", `select (app.own_email() is not null)::text`, nil, []string{"false"}, ""},
		{"own_email under a key", "a_key", `select (app.own_email() is not null)::text`, nil, []string{"false"}, ""},
		{"totp_enrol of an unbound bearer session", "b_pat1_bearer_unbound",
			`select app.totp_enrol('\x00'::bytea, sha256('\x00'::bytea))::text`, nil, nil, ""},
		{"passkey_begin of an unbound bearer session", "b_pat1_bearer_unbound",
			`select challenge::text from app.passkey_begin('register', 'localhost', 'https://localhost')`, nil, nil, ""},
		{"rotate_session of an unbound bearer session", "b_pat1_bearer_unbound",
			`select app.rotate_session(sha256('\x01'::bytea))::text`, nil, nil, ""},
		{"session_browser anonymous", "anonymous", `select app.session_browser()::text`, nil, nil, ""},
		{"session_browser under a key", "a_key", `select app.session_browser()::text`, nil, nil, ""},
		{"session_browser of a session whose passkey is gone", "a_prov1_passkey_deleted",
			`select app.session_browser()::text`, nil, nil, ""},
		{"whoami of an AAL1 patient of an org without policy", "a_pat1_aal1",
			`select role || '/' || coalesce(pending, 'none') from app.whoami()`, nil, []string{"patient/none"}, ""},
		{"whoami of an AAL2 admin", "a_admin",
			`select aal || '/' || coalesce(pending, 'none') || '/' || array_to_string(amr, ',') from app.whoami()`,
			nil, []string{"2/none/email,totp"}, ""},
		{"me_pending is not for ward_app", "a_admin_aal1", `select role from private.me_pending()`, nil, nil, ""},
		{"a pending admin has no uid", "a_admin_aal1", `select coalesce(private.uid()::text, 'nobody')`,
			nil, []string{"nobody"}, ""},
		{"a pending admin is no lead", "a_admin_aal1", `select private.am_i_lead_in_org($1)::text`,
			[]any{A}, []string{"false"}, ""},
		{"a pending admin is no lead of its org (am_i_lead)", "a_admin_aal1", `select private.am_i_lead()::text`,
			nil, []string{"false"}, ""},
		{"an admin leads its org (am_i_lead)", "a_admin", `select private.am_i_lead()::text`, nil, []string{"true"}, ""},
		{"a lead leads its org (am_i_lead)", "a_lead", `select private.am_i_lead()::text`, nil, []string{"true"}, ""},
		{"a provider is no lead (am_i_lead)", "a_prov1", `select private.am_i_lead()::text`, nil, []string{"false"}, ""},
		{"an admin key is no lead (am_i_lead)", "a_key", `select private.am_i_lead()::text`, nil, []string{"false"}, ""},
		{"nobody is no lead (am_i_lead)", "anonymous", `select private.am_i_lead()::text`, nil, []string{"false"}, ""},
		{"a pending admin may not add members", "a_admin_aal1",
			`select app.add_member($1, $2, '\x00', 'admin')::text`, []any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"a pending admin may not change the assurance policy", "a_admin_aal1",
			`select app.set_assurance_policy(false, false)::text`, nil, nil, ""},
		{"a pending admin may not append to the log", "a_admin_aal1",
			`select audit.append($1, 'audit.read', 'success')::text`, []any{A}, nil, ""},
		{"a pending session gets its own org's keysets", "a_admin_aal1",
			`select purpose from app.org_keyset($1) order by 1`, []any{A}, []string{"aead", "prf"}, ""},
		{"a pending session gets no other org's keysets", "a_admin_aal1",
			`select purpose from app.org_keyset($1)`, []any{B}, nil, ""},
		{"a pending session may log out", "a_lead_aal1", `select app.logout()::text`, nil, []string{"true"}, ""},
		{"logout without a credential", "anonymous", `select app.logout()::text`, nil, []string{"false"}, ""},
		{"require_passkey from a session without a passkey", "a_admin",
			`select app.set_assurance_policy(true, true)::text`, nil, nil, postgres.CodeInvalidParameter},
		{"require_mfa ends the org's sessions below it", "a_admin",
			`select app.set_assurance_policy(true, false)::text`, nil, []string{"6"}, ""},
		{"the assurance policy by a lead", "a_lead", `select app.set_assurance_policy(true, false)::text`, nil, nil, ""},
		{"totp secret hash", "a_admin", `select encode(secret_hash, 'hex') from app.totp_factors`, nil, nil, ""},
		{"totp sealed secret by select", "a_admin", `select encode(secret_enc, 'hex') from app.totp_factors`, nil, nil, ""},
		{"totp_enrol anonymous", "anonymous", `select app.totp_enrol($1, $2)::text`,
			[]any{rlsRandom(40), rlsRandom(32)}, nil, ""},
		{"totp_enrol over a confirmed factor", "a_admin_aal1", `select app.totp_enrol($1, $2)::text`,
			[]any{rlsRandom(40), rlsRandom(32)}, nil, postgres.CodeUniqueViolation},
		{"totp_enrol with a short hash", "a_lead_aal1", `select app.totp_enrol($1, '\x00')::text`,
			[]any{rlsRandom(40)}, nil, postgres.CodeInvalidParameter},
		{"totp_enrol by a pending session", "a_lead_aal1", `select app.totp_enrol($1, $2)::text`,
			[]any{rlsRandom(40), rlsRandom(32)}, []string{""}, ""},
		{"totp_secret of a pending session is its own", "a_admin_aal1",
			`select (secret_enc is not null)::text || '/' || confirmed::text from app.totp_secret()`,
			nil, []string{"true/true"}, ""},
		{"totp_secret anonymous", "anonymous", `select coalesce(encode(secret_enc, 'hex'), 'none') from app.totp_secret()`,
			nil, []string{"none"}, ""},
		{"totp_verify with a secret that is not the enrolled one", "a_admin_aal1",
			`select app.totp_verify($1, '123456')`, []any{rlsRandom(20)}, nil, postgres.CodeInvalidParameter},
		{"totp_verify without a factor", "a_lead_aal1", `select app.totp_verify($1, '123456')`,
			[]any{rlsRandom(20)}, []string{"not_enrolled"}, ""},
		{"totp_verify anonymous", "anonymous", `select app.totp_verify($1, '123456')`, []any{rlsRandom(20)}, nil, ""},
		// 00219: a replacement secret, pending beside the confirmed factor.
		{"totp pending secret by select", "a_admin", `select encode(pending_secret_enc, 'hex') from app.totp_factors`, nil, nil, ""},
		{"totp_replace anonymous", "anonymous", `select status from app.totp_replace($1, $2)`,
			[]any{rlsRandom(40), rlsRandom(32)}, nil, ""},
		{"totp_replace from a session without a second factor", "a_admin_aal1", `select status from app.totp_replace($1, $2)`,
			[]any{rlsRandom(40), rlsRandom(32)}, nil, ""},
		{"totp_replace from a break-glass session", "a_prov0_break_glass", `select status from app.totp_replace($1, $2)`,
			[]any{rlsRandom(40), rlsRandom(32)}, nil, ""},
		{"totp_pending_secret anonymous", "anonymous",
			`select coalesce(encode(secret_enc, 'hex'), 'none') from app.totp_pending_secret()`, nil, []string{"none"}, ""},
		{"totp_pending_secret without a replacement", "a_admin_aal1",
			`select coalesce(encode(secret_enc, 'hex'), 'none') from app.totp_pending_secret()`, nil, []string{"none"}, ""},
		{"totp_confirm anonymous", "anonymous", `select status from app.totp_confirm($1, '123456')`,
			[]any{rlsRandom(20)}, nil, ""},
		{"totp_confirm from a session without a second factor", "a_admin_aal1",
			`select status from app.totp_confirm($1, '123456')`, []any{rlsRandom(20)}, nil, ""},
		{"hotp is not for ward_app", "a_admin", `select private.hotp('\x00', 1, 6, 'sha1')`, nil, nil, ""},
		{"recovery code hashes", "a_admin", `select encode(code_hash, 'hex') from app.recovery_codes`, nil, nil, ""},
		{"recovery_codes_generate by a pending session", "a_admin_aal1",
			`select app.recovery_codes_generate(array_fill('\x00'::bytea, array[10]))::text`, nil, nil, ""},
		{"recovery_codes_generate with nine codes", "a_admin",
			`select app.recovery_codes_generate((select array_agg(sha256(i::text::bytea)) from generate_series(1, 9) i))::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"recovery_codes_generate with duplicates", "a_admin",
			`select app.recovery_codes_generate(array_fill(sha256('x'), array[10]))::text`, nil, nil, postgres.CodeInvalidParameter},
		{"recovery_codes_generate after a fresh second factor", "a_admin",
			`select app.recovery_codes_generate((select array_agg(sha256(i::text::bytea)) from generate_series(1, 10) i))::text`,
			nil, []string{""}, ""},
		{"recovery_code_use anonymous", "anonymous", `select status from app.recovery_code_use($1)`,
			[]any{rlsRandom(32)}, nil, ""},
		{"recovery_code_use of a code nobody holds", "a_admin_aal1",
			`select status || '/' || remaining from app.recovery_code_use($1)`, []any{rlsRandom(32)}, []string{"invalid/1"}, ""},
		{"rotate_session anonymous", "anonymous", `select app.rotate_session($1)::text`, []any{rlsRandom(32)}, nil, ""},
		{"rotate_session with a short hash", "a_admin", `select app.rotate_session('\x00')::text`, nil, nil,
			postgres.CodeInvalidParameter},
		{"rotate_session from a rotated token", "a_lead_rotated_in_grace", `select app.rotate_session($1)::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"rotate_session", "a_admin", `select (app.rotate_session($1) > now())::text`, []any{rlsRandom(32)},
			[]string{"true"}, ""},
		{"whoami of a rotated token in its grace", "a_lead_rotated_in_grace", `select role from app.whoami()`,
			nil, []string{"lead"}, ""},
		{"whoami of a token rotated away at AAL1 is AAL1 in its grace (pending), not the session's AAL2",
			"a_lead_rotated_aal1_in_grace", `select role || '/' || aal || '/' || pending from app.whoami()`,
			nil, []string{"lead/1/mfa"}, ""},
		{"a token rotated away at AAL1 has no uid in its grace", "a_lead_rotated_aal1_in_grace",
			`select coalesce(private.uid()::text, 'nobody')`, nil, []string{"nobody"}, ""},
		{"whoami of a rotated token after its grace names nobody (and ends the session: TestSessionRotation)", "a_lead_rotated_after_grace",
			`select count(*)::text from app.whoami()`, nil, []string{"0"}, ""},
		{"passkey credential ids", "a_admin", `select encode(credential_id, 'hex') from app.passkeys`, nil, nil, ""},
		{"passkey public keys", "a_pat1", `select encode(public_key, 'hex') from app.passkeys`, nil, nil, ""},
		{"passkey challenges", "a_admin", `select encode(challenge, 'hex') from app.passkey_challenges`, nil, nil, ""},
		{"passkey_begin for a sign-in needs a binder", "anonymous",
			`select encode(challenge, 'hex') from app.passkey_begin('signin', 'localhost', 'https://localhost')`,
			nil, nil, postgres.CodeInvalidParameter},
		{"passkey_begin for a sign-in", "anonymous",
			`select octet_length(challenge)::text from app.passkey_begin('signin', 'localhost', 'https://localhost', $1)`,
			[]any{rlsRandom(32)}, []string{"32"}, ""},
		{"passkey_begin to register anonymous", "anonymous",
			`select 1::text from app.passkey_begin('register', 'localhost', 'https://localhost')`, nil, nil, ""},
		{"passkey_begin to register over a factor from a pending session", "a_admin_aal1",
			`select 1::text from app.passkey_begin('register', 'localhost', 'https://localhost')`, nil, nil, ""},
		{"passkey_begin to register, the first factor, from a pending session", "a_lead_aal1",
			`select cardinality(credential_ids)::text from app.passkey_begin('register', 'localhost', 'https://localhost')`,
			nil, []string{"0"}, ""},
		{"passkey_begin to verify without a passkey", "a_lead_aal1",
			`select 1::text from app.passkey_begin('verify', 'localhost', 'https://localhost')`, nil, nil, postgres.CodeNoDataFound},
		{"passkey_begin to verify lists the member's passkeys", "a_admin_aal1",
			`select cardinality(credential_ids)::text from app.passkey_begin('verify', 'localhost', 'https://localhost')`,
			nil, []string{"1"}, ""},
		{"passkey_take of an unknown challenge", "anonymous",
			`select status from app.passkey_take($1, 'signin', $2)`, []any{rlsRandom(32), rlsRandom(32)}, []string{"invalid"}, ""},
		{"passkey_credential without a spent challenge", "anonymous",
			`select id::text from app.passkey_credential($1, $2, $3)`, []any{rlsRandom(32), rlsRandom(32), rlsRandom(32)}, nil, ""},
		{"passkey_assert without a spent challenge", "a_admin_aal1",
			`select status from app.passkey_assert($1, $2, '\x7b7d', $3)`, []any{rlsRandom(32), rlsRandom(32), rlsRandom(37)},
			nil, ""},
		{"passkey_register without a spent challenge", "a_lead_aal1",
			`select status from app.passkey_register($1, '\x7b7d', $2, $3, 'x', '{}')`,
			[]any{rlsRandom(32), rlsRandom(80), rlsRandom(40)}, nil, ""},
		{"passkey_refuse without a spent challenge", "anonymous",
			`select app.passkey_refuse($1, null, 'signature')::text`, []any{rlsRandom(32)}, nil, ""},
		{"passkey_rename from a pending session", "a_admin_aal1",
			`select app.passkey_rename($1, 'x')::text`, []any{rlsNew()}, nil, ""},
		{"passkey_rename of no passkey of the caller's", "a_admin",
			`select app.passkey_rename($1, 'x')::text`, []any{rlsNew()}, []string{"false"}, ""},
		{"passkey_delete from a pending session", "a_admin_aal1",
			`select app.passkey_delete($1)`, []any{rlsNew()}, nil, ""},
		{"passkey_delete of no passkey of the caller's", "a_admin",
			`select app.passkey_delete($1)`, []any{rlsNew()}, []string{"not_found"}, ""},
		{"webauthn helpers are not for ward_app", "a_admin",
			`select private.webauthn_b64url('\x00')`, nil, nil, ""},
		{"api key hashes", "a_admin", `select encode(key_hash, 'hex') from app.api_keys`, nil, nil, ""},
		{"whoami of an API key", "a_key", `select kind || '/' || role || '/' || aal || '/' || coalesce(pending, 'none') from app.whoami()`,
			nil, []string{"api_key/admin/2/none"}, ""},
		{"api_key_scopes", "a_key", `select array_to_string(app.api_key_scopes(), ',')`, nil, []string{"members"}, ""},
		{"api_key_scopes of a session", "a_admin", `select array_to_string(app.api_key_scopes(), ',')`, nil, []string{""}, ""},
		{"whoami of a key returns its scopes", "a_key", `select array_to_string(scopes, ',') from app.whoami()`,
			nil, []string{"members"}, ""},
		{"whoami of a session returns no scopes", "a_admin", `select array_to_string(scopes, ',') from app.whoami()`,
			nil, []string{""}, ""},
		{"create_api_key from a key", "a_key", `select app.create_api_key($1, 'sk_live_abcd', 'k', '{members}', null)::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"create_api_key from a pending session", "a_admin_aal1",
			`select app.create_api_key($1, 'sk_live_abcd', 'k', '{members}', null)::text`, []any{rlsRandom(32)}, nil, ""},
		{"create_api_key by a lead", "a_lead", `select app.create_api_key($1, 'sk_live_abcd', 'k', '{members}', null)::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"create_api_key beyond a year", "a_admin",
			`select app.create_api_key($1, 'sk_live_abcd', 'k', '{members}', now() + interval '2 years')::text`,
			[]any{rlsRandom(32)}, nil, postgres.CodeInvalidParameter},
		{"create_api_key with an unknown scope", "a_admin",
			`select app.create_api_key($1, 'sk_live_abcd', 'k', '{root}', null)::text`, []any{rlsRandom(32)}, nil,
			postgres.CodeCheckViolation},
		{"create_api_key", "a_admin", `select (app.create_api_key($1, 'sk_live_abcd', 'k', '{members}', null) is not null)::text`,
			[]any{rlsRandom(32)}, []string{"true"}, ""},
		{"revoke_api_key of another org", "b_admin", `select app.revoke_api_key($1)::text`, []any{s.must("k.a")}, []string{"false"}, ""},
		{"revoke_api_key by a lead", "a_lead", `select app.revoke_api_key($1)::text`, []any{s.must("k.a")}, nil, ""},
		{"revoke_api_key", "a_admin", `select app.revoke_api_key($1)::text`, []any{s.must("k.a")}, []string{"true"}, ""},
		// SCIM: the token's procedures take no org, role or identity; a
		// session or a key cannot call them, the token reaches its own org's
		// staff only, and keeps the org's last admin.
		{"whoami of a SCIM token", "a_scim",
			`select kind || '/' || (user_id is null)::text || '/' || coalesce(role, 'none') from app.whoami()`,
			nil, []string{"scim_token/true/none"}, ""},
		{"scim_me of a session", "a_admin", `select org_id::text from app.scim_me()`, nil, []string{}, ""},
		{"scim_me", "a_scim", `select org_id::text from app.scim_me()`, nil, []string{A}, ""},
		{"scim_me of a revoked token", "a_scim_revoked", `select org_id::text from app.scim_me()`, nil, []string{}, ""},
		{"scim_users by a session", "a_admin", `select user_id::text from app.scim_users(null, null, null, 0, 10)`, nil, nil, ""},
		{"scim_users by a key", "a_key", `select user_id::text from app.scim_users(null, null, null, 0, 10)`, nil, nil, ""},
		{"scim_users anonymous", "anonymous", `select user_id::text from app.scim_users(null, null, null, 0, 10)`, nil, nil, ""},
		{"scim_users: org A's staff, never its patients", "a_scim",
			`select count(*)::text || '/' || max(total)::text from app.scim_users(null, null, null, 0, 100) where user_id is not null`,
			nil, []string{"6/6"}, ""},
		{"scim_users: org B's staff", "b_scim",
			`select count(*)::text from app.scim_users(null, null, null, 0, 100) where user_id is not null`, nil, []string{"2"}, ""},
		{"scim_users of a patient by address", "a_scim",
			`select count(*)::text from app.scim_users(null, $1, null, 0, 100) where user_id is not null`,
			[]any{s.bidx["a_pat1"]}, []string{"0"}, ""},
		{"scim_users of another org's user by id", "a_scim",
			`select count(*)::text from app.scim_users($1, null, null, 0, 100) where user_id is not null`,
			[]any{s.must("b_admin")}, []string{"0"}, ""},
		{"scim_users beyond the page limit", "a_scim", `select user_id::text from app.scim_users(null, null, null, 0, 5000)`,
			nil, nil, postgres.CodeInvalidParameter},
		{"scim_create_user by a session", "a_admin", `select app.scim_create_user($1, $2, '\x00', null)::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"scim_create_user of a patient", "a_scim", `select app.scim_create_user($1, $2, '\x00', null)::text`,
			[]any{rlsNew(), s.bidx["a_pat1"]}, nil, postgres.CodeUniqueViolation},
		{"scim_create_user of a member it sees", "a_scim", `select app.scim_create_user($1, $2, '\x00', null)::text`,
			[]any{rlsNew(), s.bidx["a_prov0"]}, nil, postgres.CodeUniqueViolation},
		{"scim_create_user with a short blind index", "a_scim", `select app.scim_create_user($1, '\x00', '\x00', null)::text`,
			[]any{rlsNew()}, nil, postgres.CodeInvalidParameter},
		{"scim_create_user of a person of another org adds them here", "a_scim",
			`select app.scim_create_user($1, $2, '\x00', null)::text`, []any{rlsNew(), s.bidx["b_pat1"]},
			[]string{s.must("b_pat1")}, ""},
		{"scim_update_user of another org's user", "a_scim", `select app.scim_update_user($1, $2, null, null, false)::text`,
			[]any{s.must("b_admin"), s.bidx["b_admin"]}, nil, postgres.CodeNoDataFound},
		{"scim_update_user of a patient", "a_scim", `select app.scim_update_user($1, $2, null, null, false)::text`,
			[]any{s.must("a_pat1"), s.bidx["a_pat1"]}, nil, postgres.CodeNoDataFound},
		{"scim_update_user to another address", "a_scim", `select app.scim_update_user($1, $2, null, null, true)::text`,
			[]any{s.must("a_prov1"), s.bidx["a_prov0"]}, nil, postgres.CodeInvalidParameter},
		{"scim_update_user of the last admin", "a_scim", `select app.scim_update_user($1, $2, null, null, false)::text`,
			[]any{s.must("a_admin"), s.bidx["a_admin"]}, nil, postgres.CodeCheckViolation},
		{"scim_update_user deactivates", "a_scim", `select app.scim_update_user($1, $2, null, null, false)::text`,
			[]any{s.must("a_prov1"), s.bidx["a_prov1"]}, []string{"2"}, ""},
		{"scim_update_user does not restore a membership it did not revoke", "a_scim",
			`select app.scim_update_user($1, $2, null, null, true)::text`, []any{s.must("a_gone"), s.bidx["a_gone"]}, nil, ""},
		{"scim_update_user keeps such a membership revoked", "a_scim",
			`select app.scim_update_user($1, $2, null, null, false)::text`, []any{s.must("a_gone"), s.bidx["a_gone"]},
			[]string{"1"}, ""},
		{"scim_delete_user of another org's user", "a_scim", `select app.scim_delete_user($1)::text`,
			[]any{s.must("b_admin")}, nil, postgres.CodeNoDataFound},
		{"scim_delete_user by a session", "a_admin", `select app.scim_delete_user($1)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"scim_failure by a session", "a_admin", `select app.scim_failure('x')::text`, nil, nil, ""},
		{"scim_failure with a free-text reason", "a_scim", `select app.scim_failure('Alice Smith, DOB 1970')::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"scim_end_access is not for ward_app", "a_admin", `select private.scim_end_access($1, $2, 'x')::text`,
			[]any{A, s.must("a_prov1")}, nil, ""},
		{"add_member by a SCIM token", "a_scim", `select app.add_member($1, $2, '\x00', 'admin')::text`,
			[]any{rlsNew(), rlsRandom(32)}, nil, ""},
		{"update_member by a SCIM token", "a_scim", `select app.update_member($1, 'admin', false)::text`,
			[]any{s.must("a_prov1")}, nil, ""},
		{"audit.append by a SCIM token", "a_scim", `select audit.append($1, 'audit.read', 'denied')::text`,
			[]any{A}, nil, ""},
		{"scim_groups by a session", "a_admin", `select id::text from app.scim_groups(null, null, null, 0, 10)`, nil, nil, ""},
		{"scim_groups of the token's org", "a_scim",
			`select id::text || '/' || cardinality(members)::text from app.scim_groups(null, null, null, 0, 10) where id is not null`,
			nil, []string{s.must("g.A") + "/1"}, ""},
		{"scim_groups of another org by id", "a_scim",
			`select count(*)::text from app.scim_groups($1, null, null, 0, 10) where id is not null`,
			[]any{s.must("g.B")}, []string{"0"}, ""},
		{"scim_put_group over another org's group", "a_scim", `select app.scim_put_group($1, 'x', null, '{}')::text`,
			[]any{s.must("g.B")}, nil, postgres.CodeNoDataFound},
		{"scim_put_group with another org's member", "a_scim", `select app.scim_put_group(null, 'x', null, $1)::text`,
			[]any{[]string{s.must("b_pat1")}}, nil, postgres.CodeInvalidParameter},
		{"scim_put_group with a patient member", "a_scim", `select app.scim_put_group(null, 'x', null, $1)::text`,
			[]any{[]string{s.must("a_pat1")}}, nil, postgres.CodeInvalidParameter},
		{"scim_put_group by a session", "a_admin", `select app.scim_put_group(null, 'x', null, '{}')::text`, nil, nil, ""},
		{"scim_put_group of the org's last admin out of an admin group", "b_scim",
			`select app.scim_put_group($1, 'g.B', null, '{}')::text`, []any{s.must("g.B")}, nil, postgres.CodeCheckViolation},
		{"scim_put_group applies the mapped role", "a_scim",
			`select app.scim_put_group($1, 'g.A', null, $2)::text`, []any{s.must("g.A"), []string{s.must("a_prov1"), s.must("a_lead")}},
			[]string{s.must("g.A")}, ""},
		{"scim_delete_group of another org", "a_scim", `select app.scim_delete_group($1)::text`,
			[]any{s.must("g.B")}, nil, postgres.CodeNoDataFound},
		{"scim_apply_roles is not for ward_app", "a_admin", `select private.scim_apply_roles($1, '{}', 'admin', null)::text`,
			[]any{A}, nil, ""},
		{"set_scim_group_role by the token", "a_scim", `select app.set_scim_group_role($1, 'admin')::text`,
			[]any{s.must("g.A")}, nil, ""},
		{"set_scim_group_role by a key", "a_key", `select app.set_scim_group_role($1, 'admin')::text`,
			[]any{s.must("g.A")}, nil, ""},
		{"set_scim_group_role by a lead", "a_lead", `select app.set_scim_group_role($1, 'admin')::text`,
			[]any{s.must("g.A")}, nil, ""},
		{"set_scim_group_role of another org", "a_admin", `select app.set_scim_group_role($1, 'provider')::text`,
			[]any{s.must("g.B")}, nil, postgres.CodeNoDataFound},
		{"set_scim_group_role to patient", "a_admin", `select app.set_scim_group_role($1, 'patient')::text`,
			[]any{s.must("g.A")}, nil, postgres.CodeCheckViolation},
		{"set_scim_group_role", "a_admin", `select app.set_scim_group_role($1, 'lead')::text`,
			[]any{s.must("g.A")}, []string{""}, ""},
		// SSO: the sign-in procedures take the org, the connection, the
		// lifetimes and the assurance rule from the state and the connection,
		// never from their caller.
		{"sso_begin by a verified domain", "anonymous",
			`select org_id::text from app.sso_begin('A.test', null, null, $1, $2)`, []any{rlsRandom(32), rlsRandom(32)},
			[]string{A}, ""},
		{"sso_begin by an unverified domain", "anonymous",
			`select org_id::text from app.sso_begin('a-pending.test', null, null, $1, $2)`, []any{rlsRandom(32), rlsRandom(32)},
			[]string{}, ""},
		{"sso_begin by a connection of another org", "anonymous",
			`select org_id::text from app.sso_begin(null, $1, $2, $3, $4)`, []any{A, s.must("c.B"), rlsRandom(32), rlsRandom(32)},
			[]string{}, ""},
		{"sso_begin with short hashes", "anonymous", `select org_id::text from app.sso_begin('a.test', null, null, '\x00', '\x00')`,
			nil, nil, postgres.CodeInvalidParameter},
		{"sso_take of an unknown state", "anonymous", `select status from app.sso_take($1, $2)`,
			[]any{rlsRandom(32), rlsRandom(32)}, []string{"invalid"}, ""},
		{"sso_take in another browser", "anonymous", `select status from app.sso_take($1, $2)`,
			[]any{s.ssoStateHash, rlsRandom(32)}, []string{"wrong_browser"}, ""},
		{"sso_take without a binder", "anonymous", `select status from app.sso_take($1, null)`,
			[]any{s.ssoStateHash}, []string{"wrong_browser"}, ""},
		{"sso_take", "anonymous", `select status || '/' || org_id::text from app.sso_take($1, $2)`,
			[]any{s.ssoStateHash, s.ssoBinderHash}, []string{"ok/" + A}, ""},
		{"sso_complete of a state nobody took", "anonymous",
			`select status from app.sso_complete($1, $2, null, null, null, true, null, '{}', null, $3, null, null)`,
			[]any{s.ssoStateHash, rlsRandom(32), rlsRandom(32)}, []string{"invalid"}, ""},
		{"sso_complete with short hashes", "anonymous",
			`select status from app.sso_complete('\x00', '\x00', null, null, null, true, null, '{}', null, '\x00', null, null)`,
			nil, nil, postgres.CodeInvalidParameter},
		{"sso_failure with free text", "anonymous", `select app.sso_failure($1, 'Alice Smith')::text`,
			[]any{s.ssoStateHash}, nil, postgres.CodeInvalidParameter},
		{"sso_enforced is gone: it told anyone whether an address is a member anywhere (00142)", "anonymous",
			`select app.sso_enforced('a.test', sha256('x'), null)::text`, nil, nil, "42883"},
		{"unlink_sso_identities of another org's connection and member", "a_admin",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.B"), s.must("b_admin")}, []string{"0"}, ""},
		// 00179: unlinking ends the member's sessions from the connection,
		// only after an identity of the caller's org went: naming the org's
		// own connection and another org's member ends nothing of theirs.
		{"unlink_sso_identities of the org's connection and another org's member", "a_admin",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.A"), s.must("b_admin")}, []string{"0"}, ""},
		{"unlink_sso_identities of a linked member", "a_admin",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.A"), s.must("a_sso")}, []string{"1"}, ""},
		// 00180: a failed DNS verification is audited for the org's own
		// claims only, by an admin who stepped up, with a reason code.
		{"sso_domain_verify_failed of the org's claim", "a_admin",
			`select 'recorded' from (select app.sso_domain_verify_failed('a-pending.test', 'dns_record_missing')) f`, nil,
			[]string{"recorded"}, ""},
		{"sso_domain_verify_failed of another org's claim", "a_admin",
			`select app.sso_domain_verify_failed('b.test', 'dns_record_missing')::text`, nil, nil, postgres.CodeNoDataFound},
		{"sso_domain_verify_failed with free text", "a_admin",
			`select app.sso_domain_verify_failed('a-pending.test', 'token ward-verification=abc')::text`, nil, nil,
			postgres.CodeInvalidParameter},
		{"sso_domain_verify_failed by a lead", "a_lead",
			`select app.sso_domain_verify_failed('a-pending.test', 'dns_record_missing')::text`, nil, nil, ""},
		{"sso_domain_verify_failed from a key", "a_key",
			`select app.sso_domain_verify_failed('a-pending.test', 'dns_record_missing')::text`, nil, nil, ""},
		{"sso_domain_verify_failed anonymous", "anonymous",
			`select app.sso_domain_verify_failed('a-pending.test', 'dns_record_missing')::text`, nil, nil, ""},
		{"unlink_sso_identities by a lead", "a_lead",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.A"), s.must("a_prov1")}, nil, ""},
		{"unlink_sso_identities from a key", "a_key",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.A"), s.must("a_prov1")}, nil, ""},
		{"unlink_sso_identities anonymous", "anonymous",
			`select app.unlink_sso_identities($1, $2)::text`, []any{s.must("c.A"), s.must("a_prov1")}, nil, ""},
		{"create_sso_connection from a key", "a_key",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, false, null)::text`,
			[]any{rlsNew()}, nil, ""},
		{"create_sso_connection from a SCIM token", "a_scim",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, false, null)::text`,
			[]any{rlsNew()}, nil, ""},
		{"create_sso_connection from a pending SSO session", "a_admin_sso_aal1",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, false, null)::text`,
			[]any{rlsNew()}, nil, ""},
		{"create_sso_connection by a lead", "a_lead",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, false, null)::text`,
			[]any{rlsNew()}, nil, ""},
		{"create_sso_connection allowing none", "a_admin",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, '{none}', null, null, false, null)::text`,
			[]any{rlsNew()}, nil, postgres.CodeCheckViolation},
		{"create_sso_connection making admins just in time", "a_admin",
			`select app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, true, 'admin')::text`,
			[]any{rlsNew()}, nil, postgres.CodeCheckViolation},
		{"create_sso_connection", "a_admin",
			`select (app.create_sso_connection($1, 'oidc', 'x', 'https://idp.example', 'c', null, null, null, null, false, null) is not null)::text`,
			[]any{rlsNew()}, []string{"true"}, ""},
		{"claim_sso_domain for another org's connection", "a_admin", `select app.claim_sso_domain('x.test', $1, null, sha256('x'))::text`,
			[]any{s.must("c.B")}, nil, postgres.CodeNoDataFound},
		{"claim_sso_domain of a domain another org verified", "a_admin", `select app.claim_sso_domain('b.test', $1, null, sha256('b'))::text`,
			[]any{s.must("c.A")}, []string{""}, ""},
		// 00128: a domain is claimed with its blind index, which the
		// database holds enforce_sso to.
		{"claim_sso_domain without the domain's blind index", "a_admin", `select app.claim_sso_domain('new.test', $1)::text`,
			[]any{s.must("c.A")}, nil, postgres.CodeInvalidParameter},
		{"note_email_domain anonymous", "anonymous", `select app.note_email_domain(sha256('n1'), sha256('d1'))::text`,
			nil, []string{""}, ""},
		{"note_email_domain again, same domain", "anonymous",
			`select app.note_email_domain(sha256('n2'), sha256('d1'))::text || app.note_email_domain(sha256('n2'), sha256('d1'))::text`,
			nil, []string{""}, ""},
		{"note_email_domain moving a noted address to another domain", "anonymous",
			`select app.note_email_domain(sha256('n3'), sha256('d1'))::text || app.note_email_domain(sha256('n3'), sha256('d2'))::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"note_email_domain with a short index", "a_admin", `select app.note_email_domain(sha256('n4'), '\x00')::text`,
			nil, nil, postgres.CodeInvalidParameter},
		{"email_domains read by an admin", "a_admin", `select encode(domain_bidx, 'hex') from app.email_domains`, nil, nil, ""},
		{"email_domains written by an admin", "a_admin",
			`insert into app.email_domains (email_bidx, domain_bidx) values (sha256('n5'), sha256('d1')) returning 'x'`, nil, nil, ""},
		{"email_domain_gaps from the server's pool", "a_admin", `select kind from app.email_domain_gaps(10)`, nil, nil, ""},
		{"fill_sso_domain_bidx from the server's pool", "a_admin", `select app.fill_sso_domain_bidx('a.test', sha256('x'))::text`,
			nil, nil, ""},
		// 00130: the server records a sign-in the sessions trigger refused;
		// the database writes it only for a member it finds bound.
		{"audit_sso_required for a member SSO does not bind", "anonymous",
			`select app.audit_sso_required($1, $2, 'passkey')::text`, []any{s.must("A"), s.must("a_prov1")}, []string{"false"}, ""},
		{"audit_sso_required with an unknown method", "anonymous",
			`select app.audit_sso_required($1, $2, 'telepathy')::text`, []any{s.must("A"), s.must("a_prov1")}, nil,
			postgres.CodeInvalidParameter},
		{"sso_end_unbound from the server's pool", "a_admin", `select (private.sso_end_unbound($1)).sessions::text`,
			[]any{s.must("A")}, nil, ""},
		{"sso_domain_gaps from the server's pool", "a_admin", `select private.sso_domain_gaps($1)::text`,
			[]any{s.must("A")}, nil, ""},
		{"email_domain_gaps with a cursor from the server's pool", "a_admin",
			`select kind from app.email_domain_gaps(10, $1)`, []any{rlsNew()}, nil, ""},
		{"delete_sso_connection of another org", "a_admin", `select app.delete_sso_connection($1)::text`,
			[]any{s.must("c.B")}, []string{"false"}, ""},
		{"set_sso_policy by a lead", "a_lead", `select app.set_sso_policy(true)::text`, nil, nil, ""},
		{"set_sso_policy from an SSO session of a provider", "a_sso", `select app.set_sso_policy(true)::text`, nil, nil, ""},
		{"sso client secrets", "a_admin", `select encode(client_secret_enc, 'hex') from app.sso_connections`, nil, nil, ""},
		{"sso subject hashes", "a_admin", `select encode(subject_hash, 'hex') from app.sso_identities`, nil, nil, ""},
		{"whoami of an SSO session", "a_sso", `select role || '/' || aal || '/' || array_to_string(amr, ',') from app.whoami()`,
			nil, []string{"provider/1/sso"}, ""},
		{"saml_config of an OIDC connection", "anonymous", `select org_id::text from app.saml_config($1)`,
			[]any{s.must("c.A")}, []string{}, ""},
		{"saml_idp_begin on an OIDC connection", "anonymous", `select app.saml_idp_begin($1, $2)::text`,
			[]any{s.must("c.A"), rlsRandom(32)}, []string{"false"}, ""},
		{"saml_idp_begin with a short hash", "anonymous", `select app.saml_idp_begin($1, '\x00')::text`,
			[]any{s.must("c.A")}, nil, postgres.CodeInvalidParameter},
		// (00296) the account a subject is linked to: none through a
		// connection that is no SAML one allowing IdP-initiated sign-ins.
		{"saml_idp_preview on an OIDC connection", "anonymous",
			`select coalesce(user_id::text, 'none') from app.saml_idp_preview($1, $2)`,
			[]any{s.must("c.A"), rlsRandom(32)}, []string{"none"}, ""},
		{"saml_idp_preview with a short hash", "anonymous", `select user_id::text from app.saml_idp_preview($1, '\x00')`,
			[]any{s.must("c.A")}, nil, postgres.CodeInvalidParameter},
		{"sso_assertion_once without a taken state", "anonymous", `select app.sso_assertion_once($1, $2, now())::text`,
			[]any{s.ssoStateHash, rlsRandom(32)}, []string{"false"}, ""},
		{"create_saml_connection by a lead", "a_lead", `select app.create_saml_connection($1, 'x', '<x/>', null, false, null, true)::text`,
			[]any{rlsNew()}, nil, ""},
		{"create_saml_connection from a SCIM token", "a_scim",
			`select app.create_saml_connection($1, 'x', '<x/>', null, false, null, true)::text`, []any{rlsNew()}, nil, ""},
		{"create_saml_connection without metadata", "a_admin",
			`select app.create_saml_connection($1, 'x', null, null, false, null, true)::text`, []any{rlsNew()}, nil, postgres.CodeCheckViolation},
		{"verify_sso_domain_dns by a lead", "a_lead", `select app.verify_sso_domain_dns('a-pending.test', 'x')::text`,
			nil, nil, ""},
		{"verify_sso_domain_dns with another token", "a_admin",
			`select app.verify_sso_domain_dns('a-pending.test', '00000000000000000000000000000000')::text`,
			nil, nil, postgres.CodeNoDataFound},
		{"verify_sso_domain_dns of a domain another org verified", "a_admin",
			`select app.verify_sso_domain_dns('b.test', (select verify_token from app.sso_domains where domain = 'b.test'))::text`,
			nil, nil, postgres.CodeNoDataFound},
		{"scim token hashes", "a_admin", `select encode(token_hash, 'hex') from app.scim_tokens`, nil, nil, ""},
		{"create_scim_token from a key", "a_key", `select app.create_scim_token($1, 'scim_abcd', 't', 'provider')::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"create_scim_token from a SCIM token", "a_scim", `select app.create_scim_token($1, 'scim_abcd', 't', 'provider')::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"create_scim_token from a pending session", "a_admin_aal1",
			`select app.create_scim_token($1, 'scim_abcd', 't', 'provider')::text`, []any{rlsRandom(32)}, nil, ""},
		{"create_scim_token by a lead", "a_lead", `select app.create_scim_token($1, 'scim_abcd', 't', 'provider')::text`,
			[]any{rlsRandom(32)}, nil, ""},
		{"create_scim_token for admins", "a_admin", `select app.create_scim_token($1, 'scim_abcd', 't', 'admin')::text`,
			[]any{rlsRandom(32)}, nil, postgres.CodeCheckViolation},
		{"create_scim_token", "a_admin",
			`select (app.create_scim_token($1, 'scim_abcd', 't', 'lead') is not null)::text`, []any{rlsRandom(32)}, []string{"true"}, ""},
		{"revoke_scim_token of another org", "b_admin", `select app.revoke_scim_token($1)::text`, []any{s.must("t.a")}, []string{"false"}, ""},
		{"revoke_scim_token by the token", "a_scim", `select app.revoke_scim_token($1)::text`, []any{s.must("t.a")}, nil, ""},
		{"revoke_scim_token", "a_admin", `select app.revoke_scim_token($1)::text`, []any{s.must("t.a")}, []string{"true"}, ""},
		{"keysets table", "a_admin", `select encode(wrapped, 'hex') from private.keysets`, nil, nil, ""},
		{"keysets table anonymous", "anonymous", `select org_id::text from private.keysets`, nil, nil, ""},
		// The keyings not yet recorded (00288): the keying's own, no actor's.
		{"patient_keyings table", "a_admin", `select patient_id::text from private.patient_keyings`, nil, nil, ""},
		{"patient_keyings table anonymous", "anonymous", `select org_id::text from private.patient_keyings`, nil, nil, ""},
		// The archive's retention as read back (00072): for the audit roles.
		{"archive objects", "a_admin", `select name from audit.archive_objects`, nil, nil, ""},
		// The principal cache (00070): its key and epoch are ward_rls's alone.
		{"principal key", "a_admin", `select encode(ipad, 'hex') from private.principal_key`, nil, nil, ""},
		{"principal epoch nextval", "a_admin", `select nextval('private.principal_epoch')::text`, nil, nil, ""},
		{"principal epoch setval", "a_admin", `select setval('private.principal_epoch', 1)::text`, nil, nil, ""},
		// The shared cache and its invalidation (00162): ward_rls writes
		// them; ward_app reads the entry of the credential it bound and the
		// change log (00164), no other entry.
		{"principal cache of another credential", "a_admin", `select cred from private.principal_cache where cred <> current_setting('ward.credential')`,
			nil, []string{}, ""},
		{"principal cache anonymous", "anonymous", `select cred from private.principal_cache`, nil, []string{}, ""},
		{"principal cache delete", "a_admin", `delete from private.principal_cache returning cred`, nil, nil, ""},
		{"principal changes delete", "a_admin", `delete from private.principal_changes returning xid::text`, nil, nil, ""},
		{"principal changes insert", "a_admin", `insert into private.principal_changes (xid) values (pg_current_xact_id()) returning xid::text`, nil, nil, ""},
		// A forged seal set with SET LOCAL is TestPrincipalAttackSplitSettings';
		// inside a statement ward_app can set nothing (00165).
		{"set_config inside a statement", "a_admin",
			`select private.get_my_org_id()::text from (select set_config('ward.principal', $1, true), set_config('ward.principal_mac', $2, true)) x`,
			[]any{"(session,," + s.must("b_admin") + "," + B + ",admin,,2,0,f,,,)", strings.Repeat("0", 64)},
			nil, postgres.CodeInsufficientPrivilege},
		{"set_config of the credential", "anonymous",
			`select set_config('ward.credential', $1, true)`, []any{strings.Repeat("0", 64)}, nil, postgres.CodeInsufficientPrivilege},
		{"app.bind inside a statement", "a_admin",
			`select count(*)::text from (select app.bind($1, '', '', '')) b, app.patients p`,
			[]any{rlsActorNamed(s, "b_admin").cred.Hash}, nil, postgres.CodeInsufficientPrivilege},
		{"app.bind beside another statement", "anonymous",
			`select app.bind($1, $2, $3, $4); `, []any{"", "", "", ""}, nil, postgres.CodeInsufficientPrivilege},
		{"app.bind with a client inside a statement", "a_admin",
			`select count(*)::text from (select app.bind($1, '', '', '', '10.0.0.1', 'x')) b, app.patients p`,
			[]any{rlsActorNamed(s, "b_admin").cred.Hash}, nil, postgres.CodeInsufficientPrivilege},
		{"app.bind with a client beside another statement", "anonymous",
			`select app.bind($1, $2, $3, $4, $5, $6); `, []any{"", "", "", "", "", ""}, nil, postgres.CodeInsufficientPrivilege},
		{"a function of ward_app's own", "a_admin",
			`create function pg_temp.f() returns void language sql as $$ set local ward.credential = '' $$`, nil, nil, postgres.CodeInsufficientPrivilege},
		{"a DO block", "a_admin", `do $$ begin perform 1; end $$`, nil, nil, postgres.CodeInsufficientPrivilege},
		{"session token hash", "a_admin", `select encode(token_hash, 'hex') from app.sessions`, nil, nil, ""},
		{"session token hash by id", "a_admin", `select encode(token_hash, 'hex') from app.sessions where id = $1`,
			[]any{s.must("s.a_admin")}, nil, ""},
		{"sessions star", "a_admin", `select id::text from (select * from app.sessions) x`, nil, nil, ""},
		{"magic link hash", "a_admin", `select encode(token_hash, 'hex') from app.magic_links`, nil, nil, ""},
		{"user email blind index", "a_admin", `select encode(email_bidx, 'hex') from app.users`, nil, nil, ""},
		{"sign-in attempts", "a_admin", `select encode(key_hash, 'hex') from app.auth_attempts`, nil, nil, ""},
		// A legal hold's clear texts (00280): those written before are
		// sealed by `ward migrate`; the server reads only the sealed ones.
		{"legal hold clear reason", "a_admin", `select reason from app.legal_holds`, nil, nil, ""},
		{"legal hold clear note", "a_admin", `select release_note from app.legal_holds`, nil, nil, ""},
		{"legal holds star", "a_admin", `select id::text from (select * from app.legal_holds) x`, nil, nil, ""},
	}
	// Two statements each: what audit.append stored for a denied probe of
	// an id that names no patient, and the credential it recorded.
	for _, c := range []struct {
		name, append, read string
		want               string
	}{
		{"audit.append of a denied probe keeps the id, names no patient",
			`select audit.append($1, 'patient.read', 'denied', 'patient', $2, $2)`,
			`select coalesce(patient_id::text, 'none') || '/' || (object_id = $2)::text from audit.log
			  where org_id = $1 and seq = $3`, "none/true"},
		{"audit.append records the credential",
			`select audit.append($1, 'audit.read', 'success', 'patient', $2)`,
			`select credential_kind || '/' || (credential_id = session_id)::text || '/' || v || '/' || break_glass
			   from audit.log where org_id = $1 and seq = $3 and $2::uuid is not null`, "session/true/2/false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			probe := rlsNew()
			var got string
			err := env.App.InTenantTx(ctx, rlsActorNamed(s, "a_admin").cred, func(ctx context.Context, tx pgx.Tx) error {
				var qid, seq int64
				if err := tx.QueryRow(ctx, c.append, A, probe).Scan(&qid); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `select audit.integrate($1)`, A); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, `select seq from audit.leaves where org_id = $1 and qid = $2`, A, qid).Scan(&seq); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, c.read, A, probe, seq).Scan(&got); err != nil {
					return err
				}
				return errRLSRollback
			})
			if !errors.Is(err, errRLSRollback) || got != c.want {
				t.Fatalf("got %q (%v), want %q", got, err, c.want)
			}
		})
	}

	runRLSProcedureCells(t, env, s, cases)
	testRLSShreddedPatientOtherOrg(t, env, s)
	testRLSShreddedOrgOtherOrg(t, env, s)
}

// testRLSShreddedPatientOtherOrg: a row naming another org's patient (or
// a case of theirs) is refused by its policy whether that patient was
// crypto-shredded or not (00301): the triggers that refuse a shredded
// patient's new rows run before the policy, and answered 55000
// (patient_shredded) for a shredded patient and 42501 for a live one, which
// told a caller of org B whether an id of org A's is a shredded patient.
// Org A's own admin is still refused for the shredded patient (55000).
// Run after the other cells: the seed gains a shredded patient of A (PS)
// and a case of theirs (CS), written as app.patient_shred leaves them.
func testRLSShreddedPatientOtherOrg(t *testing.T, env *pgtest.Env, s *rlsSeed) {
	ctx := context.Background()
	A, PS, CS := s.must("A"), s.name("PS"), s.name("CS")
	err := env.Super.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `set local session_replication_role = replica;
			insert into app.patients (org_id, id, name_enc, created_by, shredded_at)
			values ('`+A+`', '`+PS+`', '\x', '`+s.must("a_admin")+`', now());
			insert into app.cases (org_id, id, patient_id, title_enc, status, closed_at, created_by)
			values ('`+A+`', '`+CS+`', '`+PS+`', '\x', 'closed', now(), '`+s.must("a_admin")+`')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var cases []rlsProcedureCell
	for _, w := range []struct {
		what, sql string
		args      func(patient, kase, by string) []any
	}{
		{"an entry", `insert into app.clinical_entries (org_id, id, patient_id, kind, name, kcal, observed_at, note_enc, created_by)
			values ($1, gen_random_uuid(), $2, 'food', 'oats', 150, now(), '\x01', $3)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"an amendment request", `insert into app.record_amendments (org_id, id, patient_id, dsr_id, request_enc, requested_by)
			values ($1, gen_random_uuid(), $2, gen_random_uuid(), '\x01', $3)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"an access request", `insert into app.dsr_requests (org_id, id, kind, patient_id, requested_by, due_at)
			values ($1, gen_random_uuid(), 'access', $2, $3, now())`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"a case", `insert into app.cases (org_id, id, patient_id, title_enc, created_by)
			values ($1, gen_random_uuid(), $2, '\x01', $3)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"a care team place", `insert into app.care_team (org_id, provider_id, patient_id) values ($1, $3, $2)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"a patient link", `insert into app.patient_links (org_id, user_id, patient_id) values ($1, $3, $2)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"a legal hold on the patient", `insert into app.legal_holds (org_id, id, patient_id, reason_enc, created_by)
			values ($1, gen_random_uuid(), $2, '\x01', $3)`,
			func(p, _, by string) []any { return []any{A, p, by} }},
		{"a legal hold on the patient's case", `insert into app.legal_holds (org_id, id, case_id, reason_enc, created_by)
			values ($1, gen_random_uuid(), $2, '\x01', $3)`,
			func(_, k, by string) []any { return []any{A, k, by} }},
	} {
		cases = append(cases,
			rlsProcedureCell{name: w.what + " for another org's live patient", actor: "b_admin", sql: w.sql,
				args: w.args(s.must("P1"), s.must("C1"), s.must("b_admin"))},
			rlsProcedureCell{name: w.what + " for another org's shredded patient", actor: "b_admin", sql: w.sql,
				args: w.args(PS, CS, s.must("b_admin"))})
	}
	// The patient's own org is refused as before.
	cases = append(cases,
		rlsProcedureCell{name: "an entry for the org's shredded patient", actor: "a_admin",
			sql: `insert into app.clinical_entries (org_id, id, patient_id, kind, name, kcal, observed_at, note_enc, created_by)
				values ($1, gen_random_uuid(), $2, 'food', 'oats', 150, now(), '\x01', $3)`,
			args: []any{A, PS, s.must("a_admin")}, code: "55000"},
		rlsProcedureCell{name: "a hold on the org's shredded patient's case", actor: "a_admin",
			sql: `insert into app.legal_holds (org_id, id, case_id, reason_enc, created_by)
				values ($1, gen_random_uuid(), $2, '\x01', $3)`,
			args: []any{A, CS, s.must("a_admin")}, code: "55000"})
	// A member of the org who does not see the patient (a provider off
	// their care team, another patient) is refused by the policy alike for
	// the shredded patient and a live one (00321): the shred is named only
	// to whoever sees the patient.
	for _, w := range []struct {
		what, sql string
	}{
		{"an entry", `insert into app.clinical_entries (org_id, id, patient_id, kind, name, kcal, observed_at, note_enc, created_by)
			values ($1, gen_random_uuid(), $2, 'food', 'oats', 150, now(), '\x01', $3)`},
		{"an access request", `insert into app.dsr_requests (org_id, id, kind, patient_id, requested_by, due_at)
			values ($1, gen_random_uuid(), 'access', $2, $3, now())`},
		{"a case", `insert into app.cases (org_id, id, patient_id, title_enc, created_by)
			values ($1, gen_random_uuid(), $2, '\x01', $3)`},
	} {
		for _, actor := range []string{"a_prov0", "a_pat2"} {
			cases = append(cases,
				rlsProcedureCell{name: w.what + " by " + actor + " for the org's live patient they do not see", actor: actor,
					sql: w.sql, args: []any{A, s.must("P1"), s.must(actor)}},
				rlsProcedureCell{name: w.what + " by " + actor + " for the org's shredded patient", actor: actor,
					sql: w.sql, args: []any{A, PS, s.must(actor)}})
		}
	}
	runRLSProcedureCells(t, env, s, cases)
}

// testRLSShreddedOrgOtherOrg: a row naming another org is refused by its
// policy whether that org was crypto-shredded or not (00325), on the four
// tables ward_app inserts into itself. app.refuse_shredded_org ran before
// the policy and answered 55000 (org_shredded) for a shredded org and 42501
// for a live one, which told a caller of org B whether an id is a shredded
// org. The seed gains a shredded org (ZS), written as app.ops_org_shred
// leaves its row.
func testRLSShreddedOrgOtherOrg(t *testing.T, env *pgtest.Env, s *rlsSeed) {
	ctx := context.Background()
	ZS := s.name("ZS")
	if _, err := env.Super.Pool.Exec(ctx,
		`insert into app.orgs (id, name, shredded_at) values ($1, 'Shredded Practice', now())`, ZS); err != nil {
		t.Fatal(err)
	}
	by := s.must("b_admin")
	var cases []rlsProcedureCell
	for _, w := range []struct {
		what, sql string
		args      func(org string) []any
	}{
		{"an entry", `insert into app.clinical_entries (org_id, id, patient_id, kind, name, kcal, observed_at, note_enc, created_by)
			values ($1, gen_random_uuid(), gen_random_uuid(), 'food', 'oats', 150, now(), '\x01', $2)`,
			func(org string) []any { return []any{org, by} }},
		{"an access request", `insert into app.dsr_requests (org_id, id, kind, patient_id, requested_by, due_at)
			values ($1, gen_random_uuid(), 'access', gen_random_uuid(), $2, now())`,
			func(org string) []any { return []any{org, by} }},
		{"a legal hold", `insert into app.legal_holds (org_id, id, patient_id, reason_enc, created_by)
			values ($1, gen_random_uuid(), gen_random_uuid(), '\x01', $2)`,
			func(org string) []any { return []any{org, by} }},
		{"a case invitation", `insert into app.case_invites (org_id, case_id, email_bidx, email_enc, invitee_id, token_hash,
			kind, permissions, access_expires_at, expires_at, created_by)
			values ($1, gen_random_uuid(), $3, '\x01', gen_random_uuid(), $4, 'attorney', '{view}',
			now() + interval '1 day', now() + interval '1 day', $2)`,
			func(org string) []any { return []any{org, by, rlsRandom(32), rlsRandom(32)} }},
	} {
		cases = append(cases,
			rlsProcedureCell{name: w.what + " for another live org", actor: "b_admin", sql: w.sql, args: w.args(s.must("A"))},
			rlsProcedureCell{name: w.what + " for a shredded org", actor: "b_admin", sql: w.sql, args: w.args(ZS)})
	}
	runRLSProcedureCells(t, env, s, cases)
}

// runRLSProcedureCells runs each cell in a transaction of its actor, rolled
// back.
func runRLSProcedureCells(t *testing.T, env *pgtest.Env, s *rlsSeed, cases []rlsProcedureCell) {
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			regrace(t, env, s, c.actor)
			var got []string
			var opErr error
			err := env.App.InTenantTx(ctx, rlsActorNamed(s, c.actor).cred, func(ctx context.Context, tx pgx.Tx) error {
				rows, err := tx.Query(ctx, c.sql, c.args...)
				if err == nil {
					got, err = pgx.CollectRows(rows, pgx.RowTo[string])
				}
				opErr = err
				return errRLSRollback
			})
			if !errors.Is(err, errRLSRollback) {
				t.Fatalf("transaction: %v", err)
			}
			if c.want == nil {
				code := c.code
				if code == "" {
					code = postgres.CodeInsufficientPrivilege
				}
				if !postgres.IsCode(opErr, code) {
					t.Fatalf("want SQLSTATE %s, got rows %v, error %v", code, got, opErr)
				}
				return
			}
			if opErr != nil || !slices.Equal(got, c.want) {
				t.Fatalf("got %v (error %v), want %v", got, opErr, c.want)
			}
		})
	}
}

// The matrix must be able to fail: with policies broken in a scratch
// database, the cells they govern report a difference and a cell they do
// not govern still passes.
func TestRLSMatrixDetectsBrokenPolicy(t *testing.T) {
	env := pgtest.New(t)
	s := seedRLS(t, env)
	ctx := context.Background()
	if _, err := env.Super.Pool.Exec(ctx, `
		alter policy patients_select on app.patients using (true);
		alter policy clinical_entries_insert on app.clinical_entries with check (true);
		alter policy care_team_delete on app.care_team using (true);
		alter policy scim_users_select on app.scim_users using (true)`); err != nil {
		t.Fatal(err)
	}
	// And a break-glass helper that takes every live session for one.
	if _, err := env.Super.Pool.Exec(ctx, `create or replace function private.am_i_break_glass() returns boolean
		language plpgsql stable security definer set search_path = '' as $$
		begin return private.uid() is not null; end $$`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		actor, table, op string
		leaks            bool
	}{
		{"a_prov0", "app.patients", "select", true},
		{"b_admin", "app.patients", "select", true},
		{"anonymous", "app.patients", "select", true},
		{"a_pat2", "app.clinical_entries", "insert@A.P1", true},
		{"a_pat1", "app.clinical_entries", "insert_forged_author@B.Q1", true},
		{"a_prov1", "app.care_team", "delete", true},
		{"b_scim", "app.scim_users", "select", true},
		{"a_lead", "app.scim_users", "select", true},
		{"a_scim", "app.scim_tokens", "select", false},
		{"a_prov1", "app.clinical_entries", "select", true},
		{"a_pat1", "app.clinical_entries", "select", true},
		{"a_prov0_break_glass", "app.clinical_entries", "select", false},
		{"a_admin", "app.orgs", "select", false},
		{"a_pat1", "app.clinical_entries", "insert@A.P1", false},
	} {
		t.Run(c.actor+"/"+c.table+"/"+c.op, func(t *testing.T) {
			err := s.check(ctx, env.App, s.cell(c.actor, c.table, c.op))
			switch {
			case c.leaks && err == nil:
				t.Fatal("broken policy not reported")
			case !c.leaks && err != nil:
				t.Fatalf("unaffected cell reported: %v", err)
			}
			t.Log(err)
		})
	}
}

// regrace retires a rotated-in-grace actor's token 5 seconds before now:
// the grace is 30 seconds of the database's clock, and the matrix can take
// longer than that on a loaded machine.
func regrace(t *testing.T, env *pgtest.Env, s *rlsSeed, actor string) {
	t.Helper()
	if actor != "a_lead_rotated_in_grace" && actor != "a_lead_rotated_aal1_in_grace" {
		return
	}
	cred := rlsActorNamed(s, actor).cred
	tag, err := env.Super.Pool.Exec(context.Background(), `update app.session_tokens set retired_at = now() - interval '5 seconds'
		where token_hash = decode($1, 'hex')`, cred.Hash)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("retiring the token: %v (%d rows)", err, tag.RowsAffected())
	}
}

// rlsOtherAccount records a refused acceptance of inv.C1 (sent to
// a_attorney's address) in the session whose hash is $1 (hex).
const rlsOtherAccount = `select app.audit_case_invite_other_account(sha256('inv.C1'::bytea), decode($1, 'hex'))::text`

// rlsLanding is the state of seeded invitation C1 (sent to a_attorney's
// address) as app.case_invite_landing tells it: status, who the bound
// credential is to it, and whether it names the signed-in member's address.
const rlsLanding = `select status || '/' || signed_in || '/' || (signed_in_email_enc is not null)::text
	from app.case_invite_landing(sha256('inv.C1'::bytea))`

// testRLSClosedCases runs every insert cell of the case tables with their
// targets (C1 in A, D1 in B) closed: a closed case is read-only for
// everyone (migration 00185), so each is refused with 42501, and those
// the oracle allows on an open case with hint case_closed; a cell naming a
// case of another org than the actor's (or any cell of a credential that
// is nobody's) never with that hint (00339). Reopened, the
// same cells are what the oracle says again. (Changes of existing rows on
// a closed case: TestClosedCaseReadOnly.)
func testRLSClosedCases(t *testing.T, env *pgtest.Env, s *rlsSeed) {
	ctx := context.Background()
	targets := []string{s.must("C1"), s.must("D1")}
	setStatus := func(status string) {
		t.Helper()
		if _, err := env.Super.Pool.Exec(ctx, `update app.cases set status = $2,
		    closed_at = case when $2 = 'closed' then now() end where id = any ($1::uuid[])`, targets, status); err != nil {
			t.Fatal(err)
		}
	}
	tables := []string{"app.documents", "app.document_versions", "app.document_comments", "app.case_invites",
		"app.case_members"}
	allowed := 0 // cells the oracle allows on an open case
	run := func(t *testing.T, closed bool) {
		for _, a := range s.actors {
			t.Run(a.name, func(t *testing.T) {
				regrace(t, env, s, a.name)
				p := s.resolve(a.cred)
				for _, c := range s.cells(a) {
					if !c.insert || !slices.Contains(tables, c.table.name) {
						continue
					}
					if !closed {
						if err := s.check(ctx, env.App, c); err != nil {
							t.Errorf("reopened: %v", err)
						}
						continue
					}
					var opErr error
					err := env.App.InTenantTx(ctx, c.actor.cred, func(ctx context.Context, tx pgx.Tx) error {
						_, opErr = tx.Exec(ctx, c.sql, c.args...)
						return errRLSRollback
					})
					if !errors.Is(err, errRLSRollback) {
						t.Fatalf("%v: transaction: %v", c, err)
					}
					if c.mayDo {
						allowed++
					}
					var pe *pgconn.PgError
					switch {
					case !errors.As(opErr, &pe) || pe.Code != postgres.CodeInsufficientPrivilege:
						t.Errorf("%v on a closed case: want SQLSTATE 42501, got %v", c, opErr)
					case c.mayDo && pe.Hint != "case_closed":
						t.Errorf("%v on a closed case, allowed on an open one: want hint case_closed, got %q (%s)",
							c, pe.Hint, pe.Message)
					case pe.Hint == "case_closed" && (!p.live || c.target.org != p.org):
						// a case of another org than the bound one (or of
						// any org, to a credential that is nobody's): its
						// policy's refusal, whether the case is closed or
						// not (00339)
						t.Errorf("%v: %s is told that a case of %s is closed", c, s.describe(p), s.readable(c.target.org))
					}
				}
			})
		}
	}
	setStatus("closed")
	defer setStatus("open")
	t.Run("closed", func(t *testing.T) { run(t, true) })
	if allowed < 10 {
		t.Errorf("only %d of the closed-case cells are allowed on an open case", allowed)
	}
	setStatus("open")
	t.Run("reopened", func(t *testing.T) { run(t, false) })
}
