package postgres_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// riskScore is the "risk" object of an auth.signin event (migration 00061).
type riskScore struct {
	Score     int             `json:"score"`
	Reasons   []string        `json:"reasons"`
	Signals   map[string]any  `json:"signals"`
	Threshold *int            `json:"threshold"`
	StepUp    *string         `json:"step_up"`
	raw       json.RawMessage `json:"-"`
}

// riskWorld is one org whose members sign in through app.consume_magic_link
// as ward_app, exactly as the server calls it.
type riskWorld struct {
	t   *testing.T
	env *pgtest.Env
	org uuid.UUID
}

func (w *riskWorld) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.env.Super.Pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
}

// member adds a provider to the org.
func (w *riskWorld) member() uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.exec(`insert into app.users (id, email_bidx, email_enc) values ($1, $2, '\x00')`, id, rlsRandom(32))
	w.exec(`insert into app.memberships (org_id, user_id, role) values ($1, $2, 'provider')`, w.org, id)
	return id
}

// signIn spends a link requested from linkIP ("" for none) from ip with
// user agent ua, and returns the new session and the sign-in's risk.
func (w *riskWorld) signIn(user uuid.UUID, linkIP, ip, ua string) (string, uuid.UUID, riskScore) {
	w.t.Helper()
	return w.signInKey(user, linkIP, ip, ua, "")
}

// signInKey is signIn by a client whose DPoP proof of key jkt the server
// verified (ward.dpop), as auth.ConsumeLinkWithKey sets it.
func (w *riskWorld) signInKey(user uuid.UUID, linkIP, ip, ua, jkt string) (string, uuid.UUID, riskScore) {
	w.t.Helper()
	ctx := context.Background()
	link := rlsRandom(32)
	var lip *string
	if linkIP != "" {
		lip = &linkIP
	}
	verifier := rlsRandom(32)
	w.exec(`insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at, request_ip)
	        values ($1, $2, $3, $5, now() + interval '15 minutes', $4::inet)`, w.org, user, link, lip, verifier)
	token := uuid.NewString() + uuid.NewString()
	hash := hexSHA256(token)
	var status string
	var session uuid.UUID
	err := w.env.App.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `select app.bind($1, $2, $3, $4)`, "", "", "", jkt); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `select status, session_id from app.consume_magic_link($1, $5, decode($2, 'hex'), $3::inet, $4)`,
			link, hash, ip, ua, verifier).Scan(&status, &session)
	})
	if err != nil || status != "ok" {
		w.t.Fatalf("consume_magic_link: %q %v", status, err)
	}
	var raw []byte
	if err := w.env.Super.Pool.QueryRow(ctx, `select details->'risk' from audit.events
	    where org_id = $1 and action = 'auth.signin' and object_id = $2`, w.org, session).Scan(&raw); err != nil {
		w.t.Fatal(err)
	}
	var r riskScore
	if err := json.Unmarshal(raw, &r); err != nil {
		w.t.Fatalf("risk %s: %v", raw, err)
	}
	r.raw = raw
	return hash, session, r
}

// denied records a refused sign-in of actor (nil: nobody's) from ip.
func (w *riskWorld) denied(actor *uuid.UUID, ip string) {
	w.t.Helper()
	w.exec(`select audit.append_as($1, 'auth.signin', 'denied', p_ip => $2, p_actor => $3,
	          p_details => '{"method": "magic_link", "reason": "expired"}')`, w.org, ip, actor)
}

// Each signal of private.signin_risk moves the score by its documented
// weight, alone, and a score at the org's threshold makes the session need
// a passkey, which the database enforces.
func TestSignInRisk(t *testing.T) {
	env := pgtest.New(t)
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	// No device binding (a new org's default binds staff): the probes are
	// about the risk bar, presented as a plain bearer session.
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Risk Org', '{}')`, w.org)
	const ua = "Mozilla/5.0 (Risk test)"

	// known signs a member in once from 10.0.0.5 with ua: later sign-ins
	// from there on that device carry no device or network signal.
	known := func() uuid.UUID {
		u := w.member()
		if _, _, r := w.signIn(u, "", "10.0.0.5", ua); r.Score != 40 ||
			!slices.Equal(r.Reasons, []string{"new_device", "new_network"}) {
			t.Fatalf("first sign-in: %s", r.raw)
		}
		return u
	}
	check := func(t *testing.T, r riskScore, score int, reasons ...string) {
		t.Helper()
		if reasons == nil {
			reasons = []string{}
		}
		if r.Score != score || !slices.Equal(r.Reasons, reasons) {
			t.Fatalf("risk %s, want score %d reasons %v", r.raw, score, reasons)
		}
	}

	t.Run("known device and network", func(t *testing.T) {
		u := known()
		_, _, r := w.signIn(u, "", "10.0.0.77", ua) // same /24
		check(t, r, 0)
	})
	t.Run("new device", func(t *testing.T) {
		u := known()
		_, _, r := w.signIn(u, "", "10.0.0.5", "curl/8.5")
		check(t, r, 20, "new_device")
	})
	t.Run("new device key", func(t *testing.T) {
		u := known()
		keyA, keyB := strings.Repeat("A", 43), strings.Repeat("B", 43)
		// A key never seen: a new device, whatever the user agent says.
		_, session, r := w.signInKey(u, "", "10.0.0.5", ua, keyA)
		check(t, r, 20, "new_device")
		w.exec(`update app.sessions set dpop_jkt = $2 where id = $1`, session, keyA)
		// The same key, from another app version: a known device.
		_, _, r = w.signInKey(u, "", "10.0.0.5", "MyApp/2.0", keyA)
		check(t, r, 0)
		_, _, r = w.signInKey(u, "", "10.0.0.5", ua, keyB)
		check(t, r, 20, "new_device")
	})
	t.Run("new network", func(t *testing.T) {
		u := known()
		_, _, r := w.signIn(u, "", "10.0.1.5", ua)
		check(t, r, 20, "new_network")
	})
	t.Run("new network, IPv6 by /48", func(t *testing.T) {
		u := w.member()
		w.signIn(u, "", "2001:db8:1:2::1", ua)
		_, _, r := w.signIn(u, "", "2001:db8:1:ffff::9", ua)
		check(t, r, 0)
		_, _, r = w.signIn(u, "", "2001:db8:2::1", ua)
		check(t, r, 20, "new_network")
	})
	t.Run("link requested from another network", func(t *testing.T) {
		u := known()
		_, _, r := w.signIn(u, "192.0.2.1", "10.0.0.5", ua)
		check(t, r, 25, "link_network_changed")
		_, _, r = w.signIn(u, "10.0.0.200", "10.0.0.5", ua) // same /24
		check(t, r, 0)
	})
	t.Run("failure velocity of the member", func(t *testing.T) {
		u := known()
		w.denied(&u, "198.51.100.1")
		w.denied(&u, "198.51.100.1")
		_, _, r := w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 20, "failure_velocity_user")
		for range 3 {
			w.denied(&u, "198.51.100.1")
		}
		_, _, r = w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 30, "failure_velocity_user") // capped
		// Older than an hour: forgotten.
		w.exec(`alter table audit.events disable trigger user`)
		w.exec(`update audit.events set at = clock_timestamp() - interval '61 minutes' where actor_id = $1 and outcome = 'denied'`, u)
		w.exec(`alter table audit.events enable trigger user`)
		_, _, r = w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 0)
	})
	t.Run("links asked for and not used", func(t *testing.T) {
		u := known()
		for range 2 {
			w.exec(`insert into app.magic_links (org_id, user_id, token_hash, verifier_hash, expires_at)
			        values ($1, $2, $3, $4, now() + interval '15 minutes')`, w.org, u, rlsRandom(32), rlsRandom(32))
		}
		_, _, r := w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 20, "failure_velocity_user")
	})
	t.Run("failure velocity of the address", func(t *testing.T) {
		u := known()
		w.denied(nil, "10.0.0.5")
		_, _, r := w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 5, "failure_velocity_ip")
		for range 6 {
			w.denied(nil, "10.0.0.5")
		}
		_, _, r = w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 20, "failure_velocity_ip") // capped
		w.exec(`alter table audit.events disable trigger user`)
		w.exec(`update audit.events set at = clock_timestamp() - interval '61 minutes' where ip = '10.0.0.5'`)
		w.exec(`alter table audit.events enable trigger user`)
	})
	t.Run("unusual hour", func(t *testing.T) {
		u := w.member()
		// Five sessions on earlier days, six hours away from now.
		for d := 1; d <= 5; d++ {
			w.exec(`with t as (select clock_timestamp() - make_interval(days => $3, hours => 6) as at)
			        insert into app.sessions (org_id, user_id, token_hash, created_at, last_seen_at, idle_timeout_min,
			          absolute_expires_at, user_agent, ip)
			        select $1, $2, $4, t.at, t.at, 30, t.at + interval '1 hour', $5, '10.0.0.5' from t`,
				w.org, u, d, rlsRandom(32), ua)
		}
		_, _, r := w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 15, "unusual_hour")
		// Now that one began at this hour, the hour is usual.
		_, _, r = w.signIn(u, "", "10.0.0.5", ua)
		check(t, r, 0)
	})
	t.Run("signals add up", func(t *testing.T) {
		u := known()
		w.denied(&u, "203.0.113.9")
		_, _, r := w.signIn(u, "192.0.2.1", "203.0.113.9", "curl/8.5")
		check(t, r, 20+20+10+5+25, "new_device", "new_network", "failure_velocity_user", "failure_velocity_ip",
			"link_network_changed")
		if r.StepUp != nil || r.Threshold != nil {
			t.Fatalf("no threshold set, yet %s", r.raw)
		}
	})

	t.Run("at the threshold a passkey is needed", func(t *testing.T) {
		w.exec(`update app.orgs set risk_threshold = 40 where id = $1`, w.org)
		defer w.exec(`update app.orgs set risk_threshold = null where id = $1`, w.org)
		u := w.member()
		w.exec(`insert into app.patients (org_id, id, name_enc, created_by, keyset) values ($1, gen_random_uuid(), '\x00', $2, '\x00')`, w.org, u)
		w.exec(`insert into app.care_team (org_id, provider_id, patient_id) select org_id, $2, id from app.patients where org_id = $1 and created_by = $2`, w.org, u)
		cred, session, r := w.signIn(u, "", "10.0.0.5", ua)
		if r.Score != 40 || r.StepUp == nil || *r.StepUp != "passkey" || r.Threshold == nil || *r.Threshold != 40 {
			t.Fatalf("risky sign-in: %s", r.raw)
		}
		probe := func() (pending string, patients int) {
			t.Helper()
			err := env.App.InTenantTx(context.Background(), postgres.Credential{Hash: cred, Org: w.org.String()},
				func(ctx context.Context, tx pgx.Tx) error {
					var p *string
					if err := tx.QueryRow(ctx, `select pending from app.whoami()`).Scan(&p); err != nil {
						return err
					}
					if p != nil {
						pending = *p
					}
					return tx.QueryRow(ctx, `select count(*) from app.patients`).Scan(&patients)
				})
			if err != nil {
				t.Fatal(err)
			}
			return pending, patients
		}
		if p, n := probe(); p != "passkey" || n != 0 {
			t.Fatalf("risky session: pending %q, %d patients", p, n)
		}
		// TOTP is not enough; a passkey is.
		w.exec(`update app.sessions set assurance = 2, amr = '{email,totp}' where id = $1`, session)
		if p, n := probe(); p != "passkey" || n != 0 {
			t.Fatalf("risky session after TOTP: pending %q, %d patients", p, n)
		}
		w.exec(`update app.sessions set amr = '{email,passkey}' where id = $1`, session)
		if p, n := probe(); p != "" || n != 1 {
			t.Fatalf("risky session after a passkey: pending %q, %d patients", p, n)
		}
		// Below the threshold: an ordinary session.
		_, _, r = w.signIn(u, "", "10.0.0.5", ua)
		if r.Score != 0 || r.StepUp != nil {
			t.Fatalf("familiar sign-in: %s", r.raw)
		}
	})
}

// Migration 00155: a member forgets the device of one of their sessions
// (app.forget_session_device, as ward_app with their credential). Every
// session of theirs naming that device (its key, or its user agent) stops
// vouching for a device, network or hour; only the named session ends;
// another member's session, an API key and another device are untouched.
func TestForgetSessionDevice(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	w := &riskWorld{t: t, env: env, org: uuid.New()}
	w.exec(`insert into app.orgs (id, name, device_binding_required_for) values ($1, 'Forget Org', '{}')`, w.org)
	const ua, other = "Mozilla/5.0 (Lost phone)", "Mozilla/5.0 (Desk)"
	u, stranger := w.member(), w.member()
	_, lost, _ := w.signIn(u, "", "10.0.0.5", ua)
	_, desk, _ := w.signIn(u, "", "192.0.2.7", other)
	hash, current, r := w.signIn(u, "", "10.0.0.9", ua)
	if r.Score != 0 {
		t.Fatalf("a known device and network: %s", r.raw)
	}
	_, theirs, _ := w.signIn(stranger, "", "10.0.0.5", ua)
	var others int
	forget := func(session uuid.UUID) (n int, ended bool, err error) {
		err = env.App.InTenantTx(ctx, postgres.Credential{Hash: hash, Org: w.org.String()}, func(ctx context.Context, tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select forgotten, ended, others_ended from app.forget_session_device($1, 'req-forget')`,
				session).Scan(&n, &ended, &others)
		})
		return n, ended, err
	}
	if _, _, err := forget(theirs); !postgres.IsCode(err, postgres.CodeNoDataFound) {
		t.Fatalf("another member's session: %v, want P0002", err)
	}
	n, ended, err := forget(lost)
	if err != nil || n != 2 || !ended {
		t.Fatalf("forget the lost phone: %d sessions, ended %v, %v (want the two with its user agent, the named one ended)", n, ended, err)
	}
	state := func(id uuid.UUID) (forgotten bool, reason *string) {
		t.Helper()
		if err := env.Super.Pool.QueryRow(ctx, `select device_forgotten_at is not null, revoked_reason from app.sessions where id = $1`,
			id).Scan(&forgotten, &reason); err != nil {
			t.Fatal(err)
		}
		return forgotten, reason
	}
	for _, c := range []struct {
		id        uuid.UUID
		forgotten bool
		reason    string
	}{{lost, true, "device_forgotten"}, {current, true, ""}, {desk, false, ""}, {theirs, false, ""}} {
		f, reason := state(c.id)
		if f != c.forgotten || (reason == nil) != (c.reason == "") || (reason != nil && *reason != c.reason) {
			t.Errorf("session %s: forgotten %v, revoked %v; want %v, %q", c.id, f, reason, c.forgotten, c.reason)
		}
	}
	var events int
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'session.revoke'
	    and object_id = $2 and actor_id = $3 and details->>'reason' = 'device_forgotten' and request_id = 'req-forget'
	    and (details->>'sessions_forgotten')::int = 2`, w.org, lost, u).Scan(&events); err != nil || events != 1 {
		t.Fatalf("audited %d times (%v)", events, err)
	}
	// The phone and its networks vouch for nothing now; the desk still does.
	_, _, r = w.signIn(u, "", "10.0.0.5", ua)
	if r.Score != 40 || !slices.Equal(r.Reasons, []string{"new_device", "new_network"}) {
		t.Fatalf("a sign-in on the forgotten phone: %s", r.raw)
	}
	_, _, r = w.signIn(u, "", "192.0.2.8", other)
	if r.Score != 0 {
		t.Fatalf("a sign-in at the desk: %s", r.raw)
	}
	// A device key is one device: forgetting one of its sessions ends every
	// other live session bound to it, whatever their user agents (00156).
	key := strings.Repeat("k", 43)
	_, app1, _ := w.signInKey(u, "", "10.0.0.7", "WardApp/1.0", key)
	_, app2, _ := w.signInKey(u, "", "10.0.0.7", "WardApp/1.1", key)
	// As app.dpop_bind binds each after its sign-in.
	w.exec(`update app.sessions set dpop_jkt = $2 where id = any ($1)`, []uuid.UUID{app1, app2}, key)
	if n, ended, err := forget(app1); err != nil || n != 2 || !ended || others != 1 {
		t.Fatalf("forget a bound device: %d sessions, ended %v, %d others ended, %v", n, ended, others, err)
	}
	for _, id := range []uuid.UUID{app1, app2} {
		if f, reason := state(id); !f || reason == nil || *reason != "device_forgotten" {
			t.Errorf("bound session %s: forgotten %v, revoked %v", id, f, reason)
		}
	}
	if err := env.Super.Pool.QueryRow(ctx, `select count(*) from audit.events where org_id = $1 and action = 'session.revoke'
	    and object_id = $2 and (details->>'other_sessions_ended')::int = 1`, w.org, app1).Scan(&events); err != nil || events != 1 {
		t.Fatalf("the bound device's forgetting audited %d times (%v)", events, err)
	}
	// A session past its idle timeout is not live: nothing is ended.
	_, idle, _ := w.signIn(u, "", "10.0.0.8", "Idle/1.0")
	w.exec(`update app.sessions set last_seen_at = now() - interval '2 days' where id = $1`, idle)
	if n, ended, err := forget(idle); err != nil || n != 1 || ended || others != 0 {
		t.Fatalf("forget an idle session: %d %v %d %v", n, ended, others, err)
	}
	if _, reason := state(idle); reason != nil {
		t.Fatalf("an idle session was revoked: %v", *reason)
	}
	// An ended session can be forgotten too (nothing more ends); the
	// current one is still live and forgets itself last.
	if n, ended, err := forget(lost); err != nil || n != 1 || ended {
		t.Fatalf("forget again: %d %v %v", n, ended, err)
	}
	if _, _, err := forget(current); err != nil {
		t.Fatal(err)
	}
	if _, _, err := forget(desk); !postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
		t.Fatalf("a credential that ended: %v, want 42501", err)
	}
}
