package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// app.whoami records a DPoP proof's jti in the round trip that resolves
// the credential (migration 00100): with a key's thumbprint (ward.dpop) it
// needs the jti hash (ward.dpop_jti), records it only for a credential
// that resolved, refuses it the second time with nothing of the
// resolution kept. Since 00112 the ids live in an unlogged table
// (app.dpop_jtis), not in app.dpop_proofs; since 00227 it needs the
// proof's iat too (TestDPoPJTIRings: the rings and their expiry).
func TestWhoamiDPoPJTI(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'DPoP Org', '{}')`, w.org)
	key, other := strings.Repeat("K", 43), strings.Repeat("O", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.5", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2, last_seen_at = now() - interval '5 minutes' where id = $1`, session, key)

	// whoami resolves cred with binding dpop and jti hash jti, as the
	// server's batch does, and returns how many principals it saw.
	whoami := func(dpop, jti string) (int, error) {
		var n int
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred, DPoP: dpop}, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`,
				jti, strconv.FormatInt(time.Now().Unix(), 10)); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		})
		return n, err
	}
	recorded := func(jkt string) (n int) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from app.dpop_jtis where jkt = $1`, jkt).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	jti := hexSHA256(uuid.NewString())

	if _, err := whoami(key, ""); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("a thumbprint without a jti: %v, want SQLSTATE 22023", err)
	}
	if _, err := whoami(key, strings.ToUpper(jti)); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("a thumbprint with a jti not in lower-case hex: %v, want SQLSTATE 22023", err)
	}
	if n, err := whoami(other, jti); err != nil || n != 0 || recorded(other) != 0 {
		t.Fatalf("another key: %d principals (%v), %d jtis recorded; want none", n, err, recorded(other))
	}
	if n, err := whoami("", ""); err != nil || n != 0 {
		t.Fatalf("no key: %d principals (%v), want 0", n, err)
	}
	if n, err := whoami(postgres.BrowserBinding, ""); err != nil || n != 0 {
		t.Fatalf("the browser binding: %d principals (%v), want 0", n, err)
	}
	if n, err := whoami(key, jti); err != nil || n != 1 || recorded(key) != 1 {
		t.Fatalf("its key and a fresh jti: %d principals (%v), %d jtis recorded; want 1 and 1", n, err, recorded(key))
	}
	var touched bool
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at > now() - interval '1 minute' from app.sessions where id = $1`,
		session).Scan(&touched); err != nil || !touched {
		t.Fatalf("the resolution did not touch the session: %v", err)
	}
	w.exec(`update app.sessions set last_seen_at = now() - interval '5 minutes' where id = $1`, session)
	n, err := whoami(key, jti)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != postgres.CodeUniqueViolation || pe.ConstraintName != "dpop_proofs_pkey" {
		t.Fatalf("the jti replayed: %d principals (%v), want a unique violation on dpop_proofs_pkey", n, err)
	}
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at > now() - interval '1 minute' from app.sessions where id = $1`,
		session).Scan(&touched); err != nil || touched {
		t.Fatalf("a replayed proof touched the session (%v)", err)
	}

	// A key bound without the proof's iat is refused as one without its
	// jti is (00227: the iat chooses the jti's ring).
	err = env.App.InTenantTx(ctx, postgres.Credential{Hash: cred, DPoP: key}, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select app.bind_proof($1, '')`, hexSHA256(uuid.NewString())); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `select count(*) from app.whoami()`)
		return err
	})
	if !postgres.IsCode(err, postgres.CodeInvalidParameter) {
		t.Fatalf("a thumbprint without an iat: %v, want SQLSTATE 22023", err)
	}
}

// The jti memory is unlogged (migration 00112): crash recovery, a promoted
// standby or a restored base backup resets app.dpop_jtis and its epoch
// sequence app.dpop_jti_epoch to their init forks. Here the reset is
// simulated as it happens to both (TRUNCATE, and the sequence restarted,
// never set). A proof recorded before the reset is then refused as a
// replay, and so is any proof whose iat is not a minute past the restart
// (it may have been used before it); a proof made after that passes once.
// Neither a refused request nor a request with no iat bound sets the
// epoch back.
func TestWhoamiDPoPJTIMemoryReset(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'DPoP Org', '{}')`, w.org)
	key := strings.Repeat("K", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.5", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2 where id = $1`, session, key)

	// whoami resolves cred with a proof of jti (hex SHA-256) and iat
	// ("" binds none); it returns how many principals it saw.
	whoami := func(jti string, iat string) (int, error) {
		var n int
		err := env.App.InTenantTx(ctx, postgres.Credential{Hash: cred, DPoP: key}, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`,
				jti, iat); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		})
		return n, err
	}
	replay := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == postgres.CodeUniqueViolation && pe.ConstraintName == "dpop_proofs_pkey"
	}
	epoch := func() (v int64, called bool) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select last_value, is_called from app.dpop_jti_epoch`).Scan(&v, &called); err != nil {
			t.Fatal(err)
		}
		return v, called
	}
	unix := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }

	// The migration continued the logged memory: its epoch is 0, so a
	// proof of now passes; a replay does not.
	if v, called := epoch(); v != 0 || !called {
		t.Fatalf("epoch after the migration: %d (called %v), want 0", v, called)
	}
	used, usedIAT := hexSHA256(uuid.NewString()), unix(-2*time.Minute)
	if n, err := whoami(used, usedIAT); err != nil || n != 1 {
		t.Fatalf("a fresh proof: %d principals (%v)", n, err)
	}
	if _, err := whoami(used, usedIAT); !replay(err) {
		t.Fatalf("a replay before the reset: %v, want a unique violation on dpop_proofs_pkey", err)
	}

	// The reset, as crash recovery does it.
	w.exec(`truncate app.dpop_jtis`)
	w.exec(`alter sequence app.dpop_jti_epoch restart`)
	if _, called := epoch(); called {
		t.Fatal("the restarted epoch counts as set")
	}
	restart := time.Now()
	// The proof used before the reset, replayed: the memory forgot its
	// jti, but its iat precedes the restart.
	if _, err := whoami(used, usedIAT); !replay(err) {
		t.Fatalf("a replay after the reset: %v, want a unique violation on dpop_proofs_pkey", err)
	}
	v, called := epoch()
	if !called || v < restart.Unix()-1 || v > time.Now().Unix()+1 {
		t.Fatalf("the refused request did not restart the memory at now: epoch %d (called %v), now %d", v, called, restart.Unix())
	}
	// iat up to a minute ahead of the restart: a proof the server may
	// have accepted just before it (DPoPMaxSkew) is refused too.
	for _, iat := range []string{unix(0), strconv.FormatInt(v+60, 10)} {
		if _, err := whoami(hexSHA256(uuid.NewString()), iat); !replay(err) {
			t.Fatalf("a proof of iat %q, epoch %d: %v, want a unique violation on dpop_proofs_pkey", iat, v, err)
		}
	}
	if v2, _ := epoch(); v2 != v {
		t.Fatalf("refused requests moved the epoch from %d to %d", v, v2)
	}
	// A proof made more than a minute after the restart passes, once.
	fresh, freshIAT := hexSHA256(uuid.NewString()), strconv.FormatInt(v+61, 10)
	if n, err := whoami(fresh, freshIAT); err != nil || n != 1 {
		t.Fatalf("a proof after the restart: %d principals (%v)", n, err)
	}
	if _, err := whoami(fresh, freshIAT); !replay(err) {
		t.Fatalf("its replay: %v, want a unique violation on dpop_proofs_pkey", err)
	}
	// A missing or malformed iat is refused as a missing jti is (00227).
	for _, iat := range []string{"", "1e12"} {
		if _, err := whoami(hexSHA256(uuid.NewString()), iat); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Fatalf("iat %q: %v, want SQLSTATE 22023", iat, err)
		}
	}
}

// app.dpop_jti_keep (00135) takes nothing from its caller but the binding:
// a missing or malformed key or jti is refused, a key the credential is not
// bound to (or no credential) records nothing, and only the bound key with
// its resolving credential records the jti, once, writing nothing else.
func TestDPoPJTIKeepHostile(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Keep Org', '{}')`, w.org)
	key, other := strings.Repeat("K", 43), strings.Repeat("O", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.6", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2 where id = $1`, session, key)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	keepAt := func(hash, dpop, jti, iat string) error {
		return env.App.InTenantTx(ctx, postgres.Credential{Hash: hash, DPoP: dpop}, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`, jti, iat); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `select app.dpop_jti_keep()`)
			return err
		})
	}
	keep := func(hash, dpop, jti string) error { return keepAt(hash, dpop, jti, now) }
	recorded := func() (n int) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select count(*) from app.dpop_jtis`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var lastSeen time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at from app.sessions where id = $1`, session).Scan(&lastSeen); err != nil {
		t.Fatal(err)
	}
	jti := hexSHA256(uuid.NewString())
	for name, c := range map[string]struct{ dpop, jti string }{
		"no key":              {"", jti},
		"the browser binding": {postgres.BrowserBinding, jti},
		"no jti":              {key, ""},
		"a jti in upper case": {key, strings.ToUpper(jti)},
		"a jti too short":     {key, jti[:63]},
	} {
		if err := keep(cred, c.dpop, c.jti); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Errorf("%s: %v, want SQLSTATE 22023", name, err)
		}
	}
	for _, iat := range []string{"", "1e12", "-5", "1234567890123"} { // 00227: the iat chooses the ring
		if err := keepAt(cred, key, jti, iat); !postgres.IsCode(err, postgres.CodeInvalidParameter) {
			t.Errorf("iat %q: %v, want SQLSTATE 22023", iat, err)
		}
	}
	// A proof outside the database's window is accepted nowhere any more:
	// nothing to keep.
	if err := keepAt(cred, key, jti, strconv.FormatInt(time.Now().Add(-7*time.Minute).Unix(), 10)); err != nil || recorded() != 0 {
		t.Errorf("a proof seven minutes old: %v, %d recorded; want nothing", err, recorded())
	}
	if err := keep(cred, other, jti); err != nil || recorded() != 0 {
		t.Errorf("another key: %v, %d recorded; want nothing", err, recorded())
	}
	if err := keep(hexSHA256("no such token"), key, jti); err != nil || recorded() != 0 {
		t.Errorf("no credential: %v, %d recorded; want nothing", err, recorded())
	}
	for range 2 {
		if err := keep(cred, key, jti); err != nil {
			t.Fatal(err)
		}
	}
	if n := recorded(); n != 1 {
		t.Errorf("the bound key's jti recorded %d times, want once", n)
	}
	var after time.Time
	if err := env.Super.Pool.QueryRow(ctx, `select last_seen_at from app.sessions where id = $1`, session).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if !after.Equal(lastSeen) {
		t.Error("dpop_jti_keep touched the session")
	}
}

// The jti memory's rings (migration 00227): a jti goes to the ring of its
// proof's iat ((iat / 600) % 3), and the rotation (00227's
// app.dpop_jti_rotate, private.dpop_jti_rotate_at since 00236, which the
// tests drive at any time) truncates, in a slot's first two minutes, only
// the ring no acceptable proof can be in.
// Here a proof's jti is recorded through app.whoami, then the rotation is
// run at every ten seconds of the time its proof stays acceptable (the
// database's window: 6 minutes after its iat), each time as the first call
// of its slot: the replay is refused after each. Rows stand in for proofs
// whose iat is the first and the last second of a slot: theirs survive
// every rotation while their proof is acceptable (and the next two
// minutes) and go at the first rotation after that; no other ring is
// touched then. A ring another transaction holds is not waited for. The
// database's own window refuses an iat more than six minutes old or two
// ahead, as a replay.
func TestDPoPJTIRings(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Ring Org', '{}')`, w.org)
	key := strings.Repeat("R", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.7", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2 where id = $1`, session, key)
	t.Cleanup(func() { w.exec(`select setval('app.dpop_jti_cleared', 0, true)`) })

	whoami := func(jti string, iat int64) error {
		return env.App.InTenantTx(ctx, postgres.Credential{Hash: cred, DPoP: key}, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`, jti, strconv.FormatInt(iat, 10)); err != nil {
				return err
			}
			var n int
			return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
		})
	}
	replay := func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == postgres.CodeUniqueViolation && pe.ConstraintName == "dpop_proofs_pkey"
	}
	// rotate runs the rotation at at (seconds since 1970) as the first call
	// of its slot.
	rotate := func(at int64) {
		t.Helper()
		w.exec(`select setval('app.dpop_jti_cleared', 0, true)`)
		w.exec(`select private.dpop_jti_rotate_at($1)`, at)
	}
	has := func(ring int, jti string) bool {
		t.Helper()
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx, `select exists (select from app.dpop_jtis
			where ring = $1 and jkt = $2 and jti_hash = decode($3, 'hex'))`, ring, key, jti).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}

	now := time.Now().Unix()
	jti := hexSHA256(uuid.NewString())
	if err := whoami(jti, now); err != nil {
		t.Fatalf("a fresh proof: %v", err)
	}
	ring := int(now / 600 % 3)
	if !has(ring, jti) {
		t.Fatalf("the jti is not in ring %d, its iat's", ring)
	}
	for at := now; at <= now+360; at += 10 {
		rotate(at)
		if err := whoami(jti, now); !replay(err) {
			t.Fatalf("the replay after a rotation at iat+%ds: %v, want a unique violation on dpop_proofs_pkey", at-now, err)
		}
	}

	// Proofs of the first and the last second of a slot s.
	s := now/600 + 10
	for _, iat := range []int64{s * 600, s*600 + 599} {
		r := int(iat / 600 % 3)
		mark := hexSHA256(uuid.NewString())
		others := [2]string{hexSHA256(uuid.NewString()), hexSHA256(uuid.NewString())}
		w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex'))`, r, key, mark)
		for i, o := range others {
			w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex'))`, (r+1+i)%3, key, o)
		}
		// Acceptable from 2 minutes before its iat to 6 after it; kept
		// until its slot is two slots old.
		for at := iat - 120; at < (s+2)*600; at += 10 {
			rotate(at)
			if !has(r, mark) {
				t.Fatalf("iat %d (ring %d): its jti went at a rotation at iat%+ds", iat, r, at-iat)
			}
			w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex')) on conflict do nothing`,
				r, key, mark)
		}
		for i, o := range others { // put back what earlier rotations took
			w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex')) on conflict do nothing`,
				(r+1+i)%3, key, o)
		}
		rotate((s + 2) * 600)
		if has(r, mark) {
			t.Fatalf("iat %d (ring %d): its jti stayed after its slot was two slots old", iat, r)
		}
		for i, o := range others {
			if !has((r+1+i)%3, o) {
				t.Fatalf("iat %d: the rotation that cleared ring %d cleared ring %d too", iat, r, (r+1+i)%3)
			}
		}
	}

	// Once a slot: a second call in the same slot leaves the ring alone.
	at := (s+5)*600 + 1
	rotate(at)
	stale := int((at/600 + 1) % 3)
	late := hexSHA256(uuid.NewString())
	w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex'))`, stale, key, late)
	w.exec(`select private.dpop_jti_rotate_at($1)`, at+30)
	if !has(stale, late) {
		t.Fatal("a second rotation in one slot truncated the ring again")
	}

	// A transaction that holds the stale ring (none should) is not waited
	// for: the rotation leaves the ring to a later call, and its slot
	// uncleared.
	at = (s+8)*600 + 1
	stale = int((at/600 + 1) % 3)
	w.exec(`insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex')) on conflict do nothing`,
		stale, key, late)
	hold, err := env.Super.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }() // ended below; again on a failure
	if _, err := hold.Exec(ctx, `lock table app.dpop_jtis_`+strconv.Itoa(stale)+` in access share mode`); err != nil {
		t.Fatal(err)
	}
	w.exec(`select setval('app.dpop_jti_cleared', 0, true)`)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = env.Super.Pool.Exec(tctx, `select private.dpop_jti_rotate_at($1)`, at)
	cancel()
	if err != nil {
		t.Fatalf("a rotation while another transaction holds the ring: %v, want no wait and no error", err)
	}
	_ = hold.Rollback(ctx)
	var cleared int64
	if err := env.Super.Pool.QueryRow(ctx, `select last_value from app.dpop_jti_cleared`).Scan(&cleared); err != nil {
		t.Fatal(err)
	}
	if !has(stale, late) || cleared == at/600 {
		t.Fatalf("the held ring: kept %v, slot %d marked cleared (%d); want kept, not marked", has(stale, late), at/600, cleared)
	}
	w.exec(`select private.dpop_jti_rotate_at($1)`, at+30)
	if has(stale, late) {
		t.Fatal("the ring a transaction held was not truncated by the next call once it was free")
	}

	// The database's window: more than six minutes old, or two ahead.
	for _, iat := range []int64{time.Now().Unix() - 400, time.Now().Unix() + 200} {
		if err := whoami(hexSHA256(uuid.NewString()), iat); !replay(err) {
			t.Fatalf("iat %+ds from now: %v, want a unique violation on dpop_proofs_pkey", iat-time.Now().Unix(), err)
		}
	}
}

// The rotation is the server's job (migration 00236): app.whoami no longer
// truncates a ring, so a request's transaction that recorded a jti and
// stays open (a long one) holds no lock on the memory that another DPoP
// request or the job waits for. Here a transaction records 256 proofs'
// jtis through app.whoami (00227 truncated the stale ring one time in 32
// in a slot's first two minutes, in the request's transaction: run then,
// against 00227, this transaction held that ring exclusively) and stays
// open while: app.whoami holds no call to the rotation; the transaction
// holds nothing on the rings above ROW EXCLUSIVE (an insert's); another
// request's proof of the same ring is recorded without waiting, and its
// replay refused; and the job's call returns at once.
func TestDPoPJTIRotateOutsideRequestTx(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Long Tx Org', '{}')`, w.org)
	key := strings.Repeat("L", 43)
	cred, session, _ := w.signInKey(w.member(), "", "10.0.0.8", "MyApp/1.0", key)
	w.exec(`update app.sessions set dpop_jkt = $2 where id = $1`, session, key)

	var def string
	if err := env.Super.Pool.QueryRow(ctx, `select pg_get_functiondef('app.whoami'::regproc)`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(def, "dpop_jti_rotate") {
		t.Error("app.whoami still rotates the jti memory in the request's transaction")
	}

	whoami := func(ctx context.Context, tx pgx.Tx, jti string, iat int64) error {
		if _, err := tx.Exec(ctx, `select app.bind_proof($1, $2)`, jti, strconv.FormatInt(iat, 10)); err != nil {
			return err
		}
		var n int
		return tx.QueryRow(ctx, `select count(*) from app.whoami() where user_id is not null`).Scan(&n)
	}
	c := postgres.Credential{Hash: cred, DPoP: key}
	held := make(chan int32)
	release := make(chan struct{})
	longDone := make(chan error, 1)
	go func() {
		longDone <- env.App.InTenantTx(ctx, c, func(ctx context.Context, tx pgx.Tx) error {
			// Enough resolutions that, before 00236, one of them rotated
			// in a slot's first two minutes (eight on average), each a
			// proof of its own.
			if _, err := tx.Exec(ctx, `select setseed(0.25)`); err != nil {
				return err
			}
			for range 256 {
				if err := whoami(ctx, tx, hexSHA256(uuid.NewString()), time.Now().Unix()); err != nil {
					return err
				}
			}
			var pid int32
			if err := tx.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			held <- pid
			<-release
			return nil
		})
	}()
	var pid int32
	select {
	case pid = <-held:
	case err := <-longDone:
		t.Fatalf("the long transaction: %v", err)
	}
	defer func() {
		close(release)
		if err := <-longDone; err != nil {
			t.Errorf("the long transaction: %v", err)
		}
	}()

	var strong []string
	rows, err := env.Super.Pool.Query(ctx, `select c.relname || ' ' || l.mode from pg_locks l join pg_class c on c.oid = l.relation
		where l.pid = $1 and c.relname like 'dpop_jtis%' and l.mode not in ('AccessShareLock', 'RowExclusiveLock')`, pid)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		strong = append(strong, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(strong) > 0 {
		t.Errorf("the long transaction holds %v on the jti memory", strong)
	}

	// Another request, a proof of the same ring: recorded without waiting
	// for the long transaction, and its replay refused.
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	jti, iat := hexSHA256(uuid.NewString()), time.Now().Unix()
	for i, want := range []bool{false, true} {
		err := env.App.InTenantTx(tctx, c, func(ctx context.Context, tx pgx.Tx) error { return whoami(ctx, tx, jti, iat) })
		var pe *pgconn.PgError
		replayed := errors.As(err, &pe) && pe.Code == postgres.CodeUniqueViolation && pe.ConstraintName == "dpop_proofs_pkey"
		if replayed != want || err != nil && !replayed {
			t.Fatalf("request %d beside the long transaction: %v (replay refused: %v, want %v)", i+1, err, replayed, want)
		}
	}
	// The job, as the server runs it, with the slot not marked cleared:
	// it does not wait for the long transaction's insert lock either.
	w.exec(`select setval('app.dpop_jti_cleared', 0, true)`)
	if _, err := env.App.Pool.Exec(tctx, `select app.dpop_jti_rotate()`); err != nil {
		t.Fatalf("the job beside the long transaction: %v", err)
	}
}

// The job's call (app.dpop_jti_rotate(), 00236) decides from the
// database's clock alone: ward_app may call it, with no time to pass, and
// may not call the rotation that takes one. Called at once after a jti was
// put in each ring, it keeps the two rings an acceptable proof can be in
// (the slot's and the one before) and truncates the third (the slot of
// twenty minutes ago) exactly when the call fell in the slot's first two
// minutes (TestDPoPJTIRings drives the same rotation at every time of the
// window). A second call in the same slot truncates nothing.
func TestDPoPJTIRotateJob(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	for _, q := range []string{`select private.dpop_jti_rotate_at(0)`, `select app.dpop_jti_rotate(0)`} {
		_, err := env.App.Pool.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" && pe.Code != "42883" {
			t.Errorf("ward_app: %s: %v, want refused", q, err)
		}
	}

	key := strings.Repeat("J", 43)
	marks := [3]string{}
	put := func() {
		t.Helper()
		for r := range marks {
			marks[r] = hexSHA256(uuid.NewString())
			if _, err := env.Super.Pool.Exec(ctx, `insert into app.dpop_jtis (ring, jkt, jti_hash) values ($1, $2, decode($3, 'hex'))`,
				r, key, marks[r]); err != nil {
				t.Fatal(err)
			}
		}
	}
	kept := func(r int) bool {
		t.Helper()
		var ok bool
		if err := env.Super.Pool.QueryRow(ctx, `select exists (select from app.dpop_jtis where ring = $1 and jkt = $2
			and jti_hash = decode($3, 'hex'))`, r, key, marks[r]).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	clock := func() int64 {
		t.Helper()
		var now int64
		if err := env.Super.Pool.QueryRow(ctx, `select floor(extract(epoch from clock_timestamp()))::bigint`).Scan(&now); err != nil {
			t.Fatal(err)
		}
		return now
	}

	for {
		put()
		if _, err := env.Super.Pool.Exec(ctx, `select setval('app.dpop_jti_cleared', 0, true)`); err != nil {
			t.Fatal(err)
		}
		before := clock()
		var rotated bool
		if err := env.App.Pool.QueryRow(ctx, `select app.dpop_jti_rotate()`).Scan(&rotated); err != nil {
			t.Fatalf("ward_app: the job's call: %v", err)
		}
		after := clock()
		slot := before / 600
		if after/600 != slot || before%600 < 120 && after%600 >= 120 {
			continue // the call straddled a boundary: again
		}
		for _, live := range []int64{slot % 3, (slot + 2) % 3} {
			if !kept(int(live)) {
				t.Fatalf("at %d s into slot %d the job truncated ring %d, which takes jtis", before%600, slot, live)
			}
		}
		stale := int((slot + 1) % 3)
		due := before%600 < 120
		if rotated != due || kept(stale) == due {
			t.Fatalf("at %d s into slot %d: rotated %v, ring %d kept %v; want the stale ring truncated %v",
				before%600, slot, rotated, stale, kept(stale), due)
		}
		if due {
			put()
			if err := env.App.Pool.QueryRow(ctx, `select app.dpop_jti_rotate()`).Scan(&rotated); err != nil {
				t.Fatal(err)
			}
			if rotated || !kept(stale) {
				t.Fatal("a second call in the slot truncated the stale ring again")
			}
		}
		return
	}
}
