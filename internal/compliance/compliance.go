// Package compliance computes Ward's HIPAA control matrix from the running
// system (DESIGN §8, `ward compliance report`): each Security Rule
// safeguard Ward implements or supports, marked PASS, PARTIAL, GAP or N/A
// with the evidence the database, the audit log and the server produced at
// the time of the report. Nothing in it is a claim written ahead of time:
// a table whose row-level security is not forced, an org whose idle timeout
// is longer than the bound, a key never rotated, a log that does not
// verify, a provider enabled without a BAA or a server that still accepts
// TLS 1.2 changes its control's mark.
//
// The facts come from three places: pg_catalog (RLS on every table, roles,
// SECURITY DEFINER functions), app.ops_compliance_facts() (per-org counts
// and dates, migrations 00146 to 00240; only ward_ops may run it) and the audit log
// itself, verified event by event (audit.Verify) when the connection may
// read it. The TLS probe dials the server like a client would.
package compliance

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres"
)

// Status is a control's mark.
type Status string

// The marks: PASS (the running system meets the control), PARTIAL (it
// meets part, or meets it with a weakness an auditor would note), GAP (it
// does not) and N/A (the control is not Ward's to meet; the evidence says
// whose it is).
const (
	Pass    Status = "PASS"
	Partial Status = "PARTIAL"
	Gap     Status = "GAP"
	NA      Status = "N/A"
)

// rank orders marks from worst to best, for a control built from several
// checks: it takes the worst.
func rank(s Status) int {
	switch s {
	case Gap:
		return 0
	case Partial:
		return 1
	case Pass:
		return 2
	}
	return 3
}

func worst(a, b Status) Status {
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// Control is one row of the matrix.
type Control struct {
	// ID is the Security Rule citation, e.g. "164.312(a)(1)".
	ID        string `json:"id"`
	Safeguard string `json:"safeguard"`
	Title     string `json:"title"`
	Status    Status `json:"status"`
	// Evidence is what the running system showed, one fact per line.
	Evidence []string `json:"evidence"`
}

// Report is the matrix with when and where it was computed.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Database is the server's version (the operator's report only).
	Database string `json:"database,omitempty"`
	Orgs     int    `json:"orgs"`
	// OrgID and OrgName name the org of an org admin's report (GatherOrg).
	OrgID    *uuid.UUID     `json:"org_id,omitempty"`
	OrgName  string         `json:"org_name,omitempty"`
	Summary  map[Status]int `json:"summary"`
	Controls []Control      `json:"controls"`
}

// Count returns how many controls have status s.
func (r *Report) Count(s Status) int { return r.Summary[s] }

// Options are the report's bounds and what it may reach.
type Options struct {
	// MaxIdle is the longest session idle timeout an org may have for
	// automatic logoff to PASS (default 30 minutes).
	MaxIdle time.Duration
	// MaxKeyAge is the oldest an org's primary AEAD key may be for the
	// encryption control to PASS (default 365 days).
	MaxKeyAge time.Duration
	// MinRetentionDays is the shortest WORM retention an archived audit
	// object may have for documentation retention to PASS (default 2,190:
	// the six years of §164.316(b)(2)(i)).
	MinRetentionDays int
	// Server is the host:port of the running server to probe for TLS; ""
	// leaves transmission security unprobed (PARTIAL). ServerName is the
	// name to verify its certificate for (default: Server's host) and Roots
	// the pool to verify it against (nil: the system's).
	Server     string
	ServerName string
	Roots      *x509.CertPool
	// VerifierKey is the audit checkpoints' verifier key (`ward audit
	// checkpoint key`); when set, each org's log is also checked against its
	// signed checkpoints.
	VerifierKey string
}

func (o *Options) defaults() {
	if o.MaxIdle <= 0 {
		o.MaxIdle = 30 * time.Minute
	}
	if o.MaxKeyAge <= 0 {
		o.MaxKeyAge = 365 * 24 * time.Hour
	}
	if o.MinRetentionDays <= 0 {
		o.MinRetentionDays = 2190
	}
}

// facts is app.ops_compliance_facts()'s document.
type facts struct {
	Now         time.Time `json:"now"`
	AdminBar    *string   `json:"admin_bar"`
	AuthActions []string  `json:"auth_actions"`
	// BreachActions are which of breach.scope, breach.revoke and
	// document.purge the log registers (migration 00240).
	BreachActions  []string `json:"breach_actions"`
	InstancePolicy struct {
		LinkTTLMin        int `json:"link_ttl_min"`
		IdleMaxMin        int `json:"session_idle_max_min"`
		AbsoluteMaxMin    int `json:"session_absolute_max_min"`
		LinkMaxPerAddress int `json:"link_max_per_address"`
		LinkMaxPerSource  int `json:"link_max_per_source"`
	} `json:"instance_policy"`
	Providers []struct {
		Name          string     `json:"name"`
		BAASignedAt   *time.Time `json:"baa_signed_at"`
		BAARef        bool       `json:"baa_ref"`
		ZeroRetention bool       `json:"zero_retention"`
		Models        int        `json:"models"`
		Region        *string    `json:"region"`
		EnabledBy     int        `json:"enabled_by"`
	} `json:"providers"`
	Orgs []orgFacts `json:"orgs"`
}

type orgFacts struct {
	ID                  uuid.UUID   `json:"id"`
	Name                *string     `json:"name"`
	Exists              bool        `json:"exists"`
	IdleTimeoutMin      *int        `json:"idle_timeout_min"`
	AbsoluteMaxMin      *int        `json:"absolute_max_min"`
	RequireMFA          *bool       `json:"require_mfa"`
	RequirePasskey      *bool       `json:"require_passkey"`
	EnforceSSO          *bool       `json:"enforce_sso"`
	Members             int         `json:"members"`
	Admins              int         `json:"admins"`
	AdminsWithoutFactor int         `json:"admins_without_factor"`
	BreakGlassUsers     int         `json:"break_glass_users"`
	BreakGlassUsable    int         `json:"break_glass_usable"`
	KeysetCreatedAt     *time.Time  `json:"keyset_created_at"`
	KeysetRotatedAt     *time.Time  `json:"keyset_rotated_at"`
	HasPRF              bool        `json:"has_prf"`
	TreeSize            int64       `json:"tree_size"`
	CheckpointSize      *int64      `json:"checkpoint_size"`
	CheckpointAt        *time.Time  `json:"checkpoint_at"`
	ArchivedSize        int64       `json:"archived_size"`
	ArchiveObjects      int         `json:"archive_objects"`
	ArchiveModes        []string    `json:"archive_modes"`
	ArchiveMinDays      *int        `json:"archive_min_retention_days"`
	ArchiveUnlocked     int         `json:"archive_unlocked"`
	Sinks               []sinkFacts `json:"sinks"`
	// FirstUnsignedAt is when the oldest event no signed checkpoint covers
	// was written (nil when every event is covered).
	FirstUnsignedAt *time.Time `json:"first_unsigned_at"`

	// Document retention and its purge (migration 00240): how many types
	// the org's policy names; live documents past retention that no legal
	// hold keeps (and the oldest one's end of retention) and those a hold
	// keeps; deleted documents whose data keys survive; the newest
	// document.purge event and how many in the last 365 days.
	RetentionTypes        int        `json:"retention_types"`
	DocumentsOverdue      int        `json:"documents_overdue"`
	DocumentsOverdueSince *time.Time `json:"documents_overdue_since"`
	DocumentsHeld         int        `json:"documents_held"`
	// DocumentsKeptByDSR counts the live documents past retention that no
	// hold keeps but an open access or amendment request about their
	// patient does (migration 00257): kept, not overdue.
	DocumentsKeptByDSR int `json:"documents_kept_by_dsr"`
	// RetentionPending counts the types with a shortening still in its
	// notice period (migration 00256).
	RetentionPending    int        `json:"retention_pending"`
	DocumentsUnshredded int        `json:"documents_unshredded"`
	LastPurgeAt         *time.Time `json:"last_purge_at"`
	PurgedYear          int        `json:"purged_year"`
	// Breach response (migration 00240): successful breach.scope and
	// breach.revoke events in the last 365 days, and break-glass
	// activations awaiting review (the oldest one's activation).
	BreachScopesYear          int        `json:"breach_scopes_year"`
	BreachRevokesYear         int        `json:"breach_revokes_year"`
	BreakGlassUnreviewed      int        `json:"break_glass_unreviewed"`
	BreakGlassUnreviewedSince *time.Time `json:"break_glass_unreviewed_since"`

	// The per-patient key tier (migration 00275; counted by 00295): live
	// patients sealed under a keyset of their own, those still sealed
	// under the org's keys (created before 00275), those crypto-shredded
	// one by one, and the newest such shred.
	PatientsKeyed      int        `json:"patients_keyed"`
	PatientsOrgSealed  int        `json:"patients_org_sealed"`
	PatientsShredded   int        `json:"patients_shredded"`
	LastPatientShredAt *time.Time `json:"last_patient_shred_at"`

	// ShreddedAt is when `ward org shred` destroyed the org's keysets and
	// data keys (migration 00268; read with app.ops_org_state, 00285); nil
	// for a live org.
	ShreddedAt *time.Time `json:"-"`
}

// sinkFacts is one enabled audit sink: failing, its newest delivery and
// when the oldest event it has not delivered was written (nil: caught up).
type sinkFacts struct {
	Failing          bool       `json:"failing"`
	LastSuccessAt    *time.Time `json:"last_success_at"`
	UndeliveredSince *time.Time `json:"undelivered_since"`
}

// label names an org in evidence: its id, and its name where it has one.
func (o orgFacts) label() string {
	if o.Name != nil {
		return fmt.Sprintf("%s (%q)", o.ID, *o.Name)
	}
	if !o.Exists {
		return o.ID.String() + " (instance)"
	}
	return o.ID.String()
}

// ErrNotOperator means the connection may not read the facts: it is
// neither a superuser nor ward_ops.
var ErrNotOperator = errors.New("compliance: the connection cannot read the compliance facts; connect as a superuser or a role granted ward_ops")

// Gather computes the report. ops must be a superuser or ward_ops
// connection; reader, when not nil, one that reads every org's audit log
// (a superuser, or ward_audit_reader): without it the audit controls say
// the log was not verified. Errors are database or probe failures that
// leave no report; everything the system merely lacks is a mark.
func Gather(ctx context.Context, ops, reader *postgres.DB, o Options) (*Report, error) {
	o.defaults()
	var raw []byte
	var version string
	err := ops.Pool.QueryRow(ctx, `select app.ops_compliance_facts(), current_setting('server_version')`).Scan(&raw, &version)
	if err != nil {
		if strings.Contains(err.Error(), "42501") {
			return nil, ErrNotOperator
		}
		return nil, fmt.Errorf("compliance: read facts: %w", err)
	}
	var f facts
	if raw == nil {
		return nil, errors.New("compliance: the instance policy row is missing (run ward migrate)")
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("compliance: decode facts: %w", err)
	}
	if err := markShredded(ctx, ops, f.Orgs); err != nil {
		return nil, err
	}
	cat, err := readCatalog(ctx, ops)
	if err != nil {
		return nil, err
	}
	logs, err := verifyLogs(ctx, reader, f.Orgs, o.VerifierKey)
	if err != nil {
		return nil, err
	}
	orgs := 0
	for _, org := range f.Orgs {
		if org.Exists {
			orgs++
		}
	}
	r := &Report{GeneratedAt: f.Now.UTC(), Database: "PostgreSQL " + version, Orgs: orgs, Summary: map[Status]int{}}
	r.Controls = []Control{
		activityReview(f),
		accessAuthorization(cat),
		loginMonitoring(f),
		passwordManagement(cat),
		incidentProcedures(f),
		backupPlan(f),
		businessAssociates(f),
		facilityAccess(),
		deviceMedia(),
		disposal(f),
		accessControl(cat),
		uniqueUsers(cat),
		emergencyAccess(f),
		automaticLogoff(f, o.MaxIdle),
		encryption(f, o.MaxKeyAge),
		auditControls(f, logs, reader != nil, o.VerifierKey != ""),
		integrity(f, logs, reader != nil, cat.AuditGuards),
		authentication(f),
		transmission(ctx, o),
		retention(f, o.MinRetentionDays, cat.AuditGuards),
	}
	for _, c := range r.Controls {
		r.Summary[c.Status]++
	}
	return r, nil
}

// markShredded sets ShreddedAt on the orgs `ward org shred` destroyed
// (their keysets are gone by design, not missing).
func markShredded(ctx context.Context, ops *postgres.DB, orgs []orgFacts) error {
	rows, err := ops.Pool.Query(ctx, `select id, shredded_at from app.ops_org_state(null) where shredded_at is not null`)
	if err != nil {
		return fmt.Errorf("compliance: read shredded orgs: %w", err)
	}
	shredded, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (orgFacts, error) {
		var o orgFacts
		return o, r.Scan(&o.ID, &o.ShreddedAt)
	})
	if err != nil {
		return fmt.Errorf("compliance: read shredded orgs: %w", err)
	}
	for _, s := range shredded {
		for i := range orgs {
			if orgs[i].ID == s.ID {
				orgs[i].ShreddedAt = s.ShreddedAt
			}
		}
	}
	return nil
}

// catalog is what pg_catalog shows of the schema's safeguards.
type catalog struct {
	Tables      int
	Unprotected []string // tables without RLS enabled and forced
	AppRole     struct{ Exists, Super, BypassRLS, CreateRole bool }
	AppOwns     []string // tables the server's role owns, or a role it is a member of
	AppBypass   []string // superuser, BYPASSRLS or CREATEROLE roles the server's role is a member of
	Bypass      []string // other login roles that bypass RLS (superusers included)
	Definers    int
	Unpinned    []string // SECURITY DEFINER functions without a fixed search_path
	// OpenPolicies are permissive row-level security policies whose USING
	// or WITH CHECK condition names no credential-bound helper
	// (boundCondition), so they admit rows whoever is bound, to the
	// server's role, to PUBLIC or to a role ward_app is a member of, on a
	// table not in openTables.
	OpenPolicies []string
	// PublicDefiners are SECURITY DEFINER functions any role may execute
	// (EXECUTE granted to PUBLIC, or never revoked from it): each runs with
	// its owner's rights for whoever connects.
	PublicDefiners []string
	Passwords      []string // columns named like a password
	UsersUnique    bool     // a unique index on app.users (email_bidx)
	// AuditGuards are the audit tables' guard triggers (auditGuards) that
	// are missing, disabled, firing only as a replica, or defined otherwise.
	AuditGuards []string
}

// openTables are the tables every server may read whole: instance-wide
// settings and registries, the archive's positions (a count per org) and
// the credential-change ring (transaction ids), no org's PHI or secrets.
// A policy admitting rows whoever is bound (true, 1 = 1) for the server's
// role on any other table lifts row-level security there, forced or not;
// a migration that opens one more table on purpose names it here.
var openTables = map[string]bool{"app.gateway_providers": true, "app.instance_policy": true, "audit.actions": true,
	"audit.archive_state": true, "private.principal_changes": true}

// boundCondition is what a policy's condition names when it decides from
// the bound credential: a private.* helper (private.get_my_org_id(),
// private.me(), ...) or the ward.credential setting itself. A condition
// naming neither (true, 1 = 1, org_id = org_id) admits rows whoever asks.
const boundCondition = `private\.|ward\.credential`

// readOpenPolicies returns the permissive policies that admit every row
// to ward_app (directly, through PUBLIC or a role it is a member of) on a
// table of app, audit or private not in openTables, each as
// schema.table.policy.
func readOpenPolicies(ctx context.Context, db *postgres.DB) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `
		select n.nspname || '.' || c.relname, p.polname
		  from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
		 where n.nspname in ('app', 'audit', 'private') and p.polpermissive
		   and (pg_get_expr(p.polqual, p.polrelid) !~ $1 or pg_get_expr(p.polwithcheck, p.polrelid) !~ $1)
		   and exists (select from unnest(p.polroles) r
		                where r = 0 or (exists (select from pg_roles where rolname = 'ward_app')
		                                and pg_has_role('ward_app', r, 'MEMBER')))
		 order by 1, 2`, boundCondition)
	if err != nil {
		return nil, fmt.Errorf("compliance: read policies: %w", err)
	}
	var out []string
	var table, policy string
	if _, err := pgx.ForEachRow(rows, []any{&table, &policy}, func() error {
		if !openTables[table] {
			out = append(out, table+"."+policy)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("compliance: read policies: %w", err)
	}
	return out, nil
}

// auditGuards are the triggers that make the audit tables append-only, as
// pg_get_triggerdef shows them: without one, the database no longer
// refuses what its control claims (an event, leaf, queued event, head or
// checkpoint altered or deleted, a table truncated).
var auditGuards = map[string]string{
	"checkpoints_immutable": "CREATE TRIGGER checkpoints_immutable BEFORE DELETE OR UPDATE ON audit.checkpoints FOR EACH ROW EXECUTE FUNCTION audit.reject_change_any()",
	"events_immutable":      "CREATE TRIGGER events_immutable BEFORE DELETE OR UPDATE ON audit.events FOR EACH ROW EXECUTE FUNCTION audit.reject_change()",
	"events_no_truncate":    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON audit.events FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate()",
	"heads_guard":           "CREATE TRIGGER heads_guard BEFORE DELETE OR UPDATE ON audit.heads FOR EACH ROW EXECUTE FUNCTION audit.guard_head()",
	"heads_no_truncate":     "CREATE TRIGGER heads_no_truncate BEFORE TRUNCATE ON audit.heads FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate()",
	"leaves_immutable":      "CREATE TRIGGER leaves_immutable BEFORE INSERT OR DELETE OR UPDATE ON audit.leaves FOR EACH ROW EXECUTE FUNCTION audit.reject_leaf_change()",
	"leaves_no_truncate":    "CREATE TRIGGER leaves_no_truncate BEFORE TRUNCATE ON audit.leaves FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate()",
	"queue_immutable":       "CREATE TRIGGER queue_immutable BEFORE DELETE OR UPDATE ON audit.queue FOR EACH ROW EXECUTE FUNCTION audit.reject_queue_change()",
	"queue_no_truncate":     "CREATE TRIGGER queue_no_truncate BEFORE TRUNCATE ON audit.queue FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_truncate()",
}

// auditGuardBodies are the MD5s of the bodies (pg_proc.prosrc) of the
// functions the auditGuards run: a trigger defined as it was runs
// whatever its function now says, and a body restated to return the row
// lets every change through. A migration that restates one names its new
// body's MD5 here (TestComplianceSeesAuditGuards fails until it does).
var auditGuardBodies = map[string]string{
	"guard_head":          "039c675f4cfcd75717fe7df168485372",
	"reject_change":       "a7757613fd592f73738c8a1af9f4aee7",
	"reject_change_any":   "8dde39fae64a3c20622fc223299dd06f",
	"reject_leaf_change":  "49c0ab9d53434198c227fabc68e5ad34",
	"reject_queue_change": "b06ff9df99a949b7c67e809eaf4fc7bb",
	"reject_truncate":     "eca5b7fabe331cc6bf98f290ecaffb14",
}

// readAuditGuards returns the auditGuards that are not in force as
// defined, in name order, each with what is wrong: missing, disabled,
// replica-only (session_replication_role = replica skips an ordinary
// trigger, not one of these) or changed.
func readAuditGuards(ctx context.Context, db *postgres.DB) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `
		select t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text
		  from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
		 where n.nspname = 'audit' and not t.tgisinternal`)
	if err != nil {
		return nil, fmt.Errorf("compliance: read audit triggers: %w", err)
	}
	type trig struct{ def, enabled string }
	found := map[string]trig{}
	var name string
	var t trig
	if _, err := pgx.ForEachRow(rows, []any{&name, &t.def, &t.enabled}, func() error {
		found[name] = t
		return nil
	}); err != nil {
		return nil, fmt.Errorf("compliance: read audit triggers: %w", err)
	}
	rows, err = db.Pool.Query(ctx, `
		select p.proname, md5(p.prosrc)
		  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		 where n.nspname = 'audit' and p.pronargs = 0 and p.prorettype = 'trigger'::regtype`)
	if err != nil {
		return nil, fmt.Errorf("compliance: read audit trigger functions: %w", err)
	}
	bodies := map[string]string{}
	var fn, sum string
	if _, err := pgx.ForEachRow(rows, []any{&fn, &sum}, func() error {
		bodies[fn] = sum
		return nil
	}); err != nil {
		return nil, fmt.Errorf("compliance: read audit trigger functions: %w", err)
	}
	var weak []string
	for name, def := range auditGuards {
		got, ok := found[name]
		fn := def[strings.LastIndex(def, "audit.")+len("audit.") : len(def)-len("()")]
		switch {
		case !ok:
			weak = append(weak, name+" (missing)")
		case got.def != def:
			weak = append(weak, name+" (defined otherwise)")
		case got.enabled == "D":
			weak = append(weak, name+" (disabled)")
		case got.enabled == "R":
			weak = append(weak, name+" (fires only as a replica)")
		case bodies[fn] != auditGuardBodies[fn]:
			weak = append(weak, name+" (its function audit."+fn+" restated)")
		}
	}
	slices.Sort(weak)
	return weak, nil
}

func readCatalog(ctx context.Context, db *postgres.DB) (catalog, error) {
	var c catalog
	rows, err := db.Pool.Query(ctx, `
		select n.nspname || '.' || c.relname, c.relrowsecurity and c.relforcerowsecurity,
		       coalesce(pg_has_role(a.oid, c.relowner, 'MEMBER'), false)
		  from pg_class c join pg_namespace n on n.oid = c.relnamespace
		  left join pg_roles a on a.rolname = 'ward_app'
		 where c.relkind in ('r', 'p') and n.nspname in ('app', 'audit', 'private')
		 order by 1`)
	if err != nil {
		return c, fmt.Errorf("compliance: read tables: %w", err)
	}
	for rows.Next() {
		var name string
		var forced, owns bool
		if err := rows.Scan(&name, &forced, &owns); err != nil {
			rows.Close()
			return c, fmt.Errorf("compliance: read tables: %w", err)
		}
		c.Tables++
		if !forced {
			c.Unprotected = append(c.Unprotected, name)
		}
		if owns {
			c.AppOwns = append(c.AppOwns, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("compliance: read tables: %w", err)
	}
	err = db.Pool.QueryRow(ctx, `select count(*) > 0, coalesce(bool_or(rolsuper), false), coalesce(bool_or(rolbypassrls), false),
		       coalesce(bool_or(rolcreaterole), false)
		from pg_roles where rolname = 'ward_app'`).Scan(&c.AppRole.Exists, &c.AppRole.Super, &c.AppRole.BypassRLS, &c.AppRole.CreateRole)
	if err != nil {
		return c, fmt.Errorf("compliance: read roles: %w", err)
	}
	if c.AppRole.Exists {
		// A role ward_app is a member of lends it its powers by SET ROLE (or
		// its privileges directly, when it inherits).
		err = db.Pool.QueryRow(ctx, `
			select coalesce(array_agg(r.rolname || case when r.rolsuper then ' (superuser)'
			                                            when r.rolbypassrls then ' (BYPASSRLS)' else ' (CREATEROLE)' end
			                          order by r.rolname), '{}')
			  from pg_roles r
			 where (r.rolsuper or r.rolbypassrls or r.rolcreaterole) and r.rolname <> 'ward_app'
			   and pg_has_role('ward_app', r.oid, 'MEMBER')`).Scan(&c.AppBypass)
		if err != nil {
			return c, fmt.Errorf("compliance: read roles: %w", err)
		}
	}
	err = db.Pool.QueryRow(ctx, `
		select coalesce(array_agg(rolname || case when rolsuper then ' (superuser)' else ' (BYPASSRLS)' end order by rolname), '{}')
		  from pg_roles where rolcanlogin and (rolsuper or rolbypassrls) and rolname <> 'ward_app'`).Scan(&c.Bypass)
	if err != nil {
		return c, fmt.Errorf("compliance: read roles: %w", err)
	}
	err = db.Pool.QueryRow(ctx, `
		select count(*),
		       coalesce(array_agg(n.nspname || '.' || p.proname order by 1) filter (where not exists (
		         select from unnest(coalesce(p.proconfig, '{}')) s where s like 'search_path=%')), '{}'),
		       coalesce(array_agg(distinct n.nspname || '.' || p.proname) filter (where exists (
		         select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
		          where a.grantee = 0 and a.privilege_type = 'EXECUTE')), '{}')
		  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		 where p.prosecdef and n.nspname in ('app', 'audit', 'private')`).Scan(&c.Definers, &c.Unpinned, &c.PublicDefiners)
	if err != nil {
		return c, fmt.Errorf("compliance: read functions: %w", err)
	}
	err = db.Pool.QueryRow(ctx, `
		select coalesce(array_agg(table_schema || '.' || table_name || '.' || column_name order by 1), '{}')
		  from information_schema.columns
		 where table_schema in ('app', 'audit', 'private') and column_name ilike '%passw%'`).Scan(&c.Passwords)
	if err != nil {
		return c, fmt.Errorf("compliance: read columns: %w", err)
	}
	err = db.Pool.QueryRow(ctx, `
		select exists (select from pg_index i
		                where i.indrelid = 'app.users'::regclass and i.indisunique and i.indnatts = 1
		                  and i.indkey[0] = (select attnum from pg_attribute
		                                      where attrelid = 'app.users'::regclass and attname = 'email_bidx'))`).
		Scan(&c.UsersUnique)
	if err != nil {
		return c, fmt.Errorf("compliance: read indexes: %w", err)
	}
	if c.AuditGuards, err = readAuditGuards(ctx, db); err != nil {
		return c, err
	}
	if c.OpenPolicies, err = readOpenPolicies(ctx, db); err != nil {
		return c, err
	}
	return c, nil
}

// logResult is one org's verification.
type logResult struct {
	Org    orgFacts
	Report audit.Report
	Err    error // ErrTampered or a checkpoint failure
	Signed int   // signed checkpoints checked
}

func verifyLogs(ctx context.Context, reader *postgres.DB, orgs []orgFacts, vkey string) ([]logResult, error) {
	if reader == nil {
		return nil, nil
	}
	var out []logResult
	for _, org := range orgs {
		if org.TreeSize == 0 && org.CheckpointSize == nil {
			continue
		}
		res := logResult{Org: org}
		var opts audit.VerifyOptions
		if vkey != "" {
			cps, err := audit.DatabaseCheckpoints(ctx, reader.Pool, org.ID, vkey)
			if err != nil {
				// A checkpoint that does not open under the key is a finding,
				// not a failure to report.
				res.Err = err
				out = append(out, res)
				continue
			}
			opts.Checkpoints, res.Signed = cps, len(cps)
		}
		rep, err := audit.Verify(ctx, reader.Pool, org.ID, opts)
		if err != nil && !errors.Is(err, audit.ErrTampered) {
			return nil, fmt.Errorf("compliance: verify the log of org %s: %w", org.ID, err)
		}
		res.Report, res.Err = rep, err
		out = append(out, res)
	}
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// liveOrgs are the orgs with at least one active member: the ones whose
// settings protect anyone.
func liveOrgs(f facts) []orgFacts {
	var out []orgFacts
	for _, o := range f.Orgs {
		if o.Exists && o.Members > 0 {
			out = append(out, o)
		}
	}
	return out
}
