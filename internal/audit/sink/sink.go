package sink

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Kind is a sink's transport.
type Kind string

// The sink kinds.
const (
	Webhook Kind = "webhook"
	Syslog  Kind = "syslog"
	Splunk  Kind = "splunk"
)

// Errors of this package.
var (
	// ErrInvalid means a sink configuration Ward refuses; its text says why.
	ErrInvalid = errkind.New(errkind.Invalid, "invalid_input", "sink: invalid configuration")
	// ErrNotFound means no sink with that id in the caller's org.
	ErrNotFound = errkind.New(errkind.NotFound, "not_found", "sink: no such sink").WithPublic("no such sink")
	// ErrLimit means the org holds its 10 sinks already (the database
	// counts them: app.audit_sinks_limit).
	ErrLimit = errkind.New(errkind.Conflict, "sink_limit", "sink: the org holds its 10 sinks").
			WithPublic("an org holds at most 10 audit sinks: delete one first")
	// ErrForbidden means the caller is not an admin of the org.
	ErrForbidden = errkind.New(errkind.Forbidden, "forbidden", "sink: admins only").WithPublic("sinks are for admins")
	// ErrStanding means the database refused the caller as a sink's owner
	// (app.audit_sinks_standing): their admin membership ended meanwhile,
	// the session is an emergency (break-glass) one, or its second factor
	// is more than 10 minutes old (migration 00331).
	ErrStanding = errkind.New(errkind.Forbidden, "forbidden", "sink: the caller's standing does not allow it").
			WithPublic("only a live admin's own session configures a sink")
)

// Sink is one configured stream and its delivery state.
type Sink struct {
	ID       uuid.UUID `json:"id"`
	Org      uuid.UUID `json:"org_id"`
	Kind     Kind      `json:"kind"`
	Name     string    `json:"name"`
	Endpoint string    `json:"endpoint"`
	Format   string    `json:"format"`
	BatchMax int       `json:"batch_max"`
	Enabled  bool      `json:"enabled"`
	// OverlapSeconds is how long a rotated-out webhook secret still signs;
	// DisableAfterSeconds how long a sink may fail before it is disabled.
	OverlapSeconds      int `json:"overlap_seconds"`
	DisableAfterSeconds int `json:"disable_after_seconds"`
	// Cursor is the last seq the receiver acknowledged; Lag how many
	// sequenced events are past it.
	Cursor       int64      `json:"cursor"`
	Lag          int64      `json:"lag"`
	LastAttempt  *time.Time `json:"last_attempt_at"`
	LastSuccess  *time.Time `json:"last_success_at"`
	LastError    string     `json:"last_error,omitempty"`
	FailingSince *time.Time `json:"failing_since"`
	DisabledAt   *time.Time `json:"disabled_at"`
	CreatedAt    time.Time  `json:"created_at"`
	// PausedReason says why a sink was turned off with its admin's
	// standing: member_revoked or admin_role_removed (the admin who
	// created or last enabled it was revoked or is no longer an admin);
	// another admin enables it again. Empty otherwise.
	PausedReason string `json:"paused_reason,omitempty"`
}

// NewSink is what an admin asks for.
type NewSink struct {
	Kind     Kind   `json:"kind"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	// Format is ocsf (default), fhir or jsonl.
	Format   string `json:"format"`
	BatchMax int    `json:"batch_max"`
	// Token is a Splunk HEC token (required for splunk, refused otherwise).
	Token string `json:"token,omitempty"`
	// OverlapSeconds, DisableAfterSeconds: 0 means the defaults (a day,
	// three days).
	OverlapSeconds      int `json:"overlap_seconds"`
	DisableAfterSeconds int `json:"disable_after_seconds"`
	// FromSeq is where the stream starts: 0 delivers the whole log.
	FromSeq int64 `json:"from_seq"`
}

var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`) }) // compiled on first use, not at start-up

// validate checks n and fills defaults. Errors: ErrInvalid.
func (n *NewSink) validate() error {
	if n.Format == "" {
		n.Format = "ocsf"
	}
	if n.BatchMax == 0 {
		n.BatchMax = 100
	}
	if n.OverlapSeconds == 0 {
		n.OverlapSeconds = 86400
	}
	if n.DisableAfterSeconds == 0 {
		n.DisableAfterSeconds = 3 * 86400
	}
	switch {
	case !nameRE().MatchString(n.Name):
		return errkind.Visible(ErrInvalid, "name must be 1-64 letters, digits, spaces, dots, dashes or underscores")
	case n.Format != "ocsf" && n.Format != "fhir" && n.Format != "jsonl":
		return errkind.Visible(ErrInvalid, "format must be ocsf, fhir or jsonl")
	case n.BatchMax < 1 || n.BatchMax > 1000:
		return errkind.Visible(ErrInvalid, "batch_max must be 1..1000")
	case n.OverlapSeconds < 0 || n.OverlapSeconds > 7*86400:
		return errkind.Visible(ErrInvalid, "overlap_seconds must be 0..604800")
	case n.DisableAfterSeconds < 60 || n.DisableAfterSeconds > 30*86400:
		return errkind.Visible(ErrInvalid, "disable_after_seconds must be 60..2592000")
	case n.FromSeq < 0:
		return errkind.Visible(ErrInvalid, "from_seq must not be negative")
	}
	switch n.Kind {
	case Webhook, Splunk:
		u, err := url.Parse(n.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || len(n.Endpoint) > 500 {
			return errkind.Visible(ErrInvalid, "endpoint must be an https URL without credentials")
		}
		// The token goes into a header: a character a header cannot carry
		// (a line break, a space, a control) would make every delivery
		// fail, never reach the receiver.
		if n.Kind == Splunk && (len(n.Token) < 8 || len(n.Token) > 128 ||
			strings.ContainsFunc(n.Token, func(r rune) bool { return r <= ' ' || r > '~' })) {
			return errkind.Visible(ErrInvalid, "a splunk sink needs its HEC token (8-128 printable ASCII characters, no spaces)")
		}
		if n.Kind == Webhook && n.Token != "" {
			return errkind.Visible(ErrInvalid, "a webhook's secret is generated by Ward; send no token")
		}
	case Syslog:
		host, port, err := net.SplitHostPort(n.Endpoint)
		p, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return errkind.Visible(ErrInvalid, "a syslog endpoint is host:port (TLS, RFC 5425; usually port 6514)")
		}
		if n.Token != "" {
			return errkind.Visible(ErrInvalid, "a syslog sink takes no token")
		}
	default:
		return errkind.Visible(ErrInvalid, "kind must be webhook, syslog or splunk")
	}
	return nil
}

// Service is an org admin's configuration of the org's sinks.
type Service struct {
	db   *postgres.DB
	inst *envelope.OrgKeys
	log  *slog.Logger
}

// NewService returns a Service; inst (the instance key set) seals the
// sinks' secrets.
func NewService(db *postgres.DB, inst *envelope.OrgKeys, log *slog.Logger) *Service {
	return &Service{db: db, inst: inst, log: log}
}

// secretAD binds a sink's sealed secret to the instance key set, the sink
// and its org (the instance keys' AD names their own org, so the sink's
// org is in the column part).
func secretAD(inst *envelope.OrgKeys, org, id uuid.UUID) envelope.AD {
	return envelope.AD{Table: "audit_sinks", Column: "secret/" + org.String(), Org: inst.OrgID(), Row: id}
}

// newWebhookSecret returns a Standard Webhooks secret: "whsec_" and the
// base64 of 32 random bytes.
func newWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// tx runs fn for an admin of the caller's org and records action about
// the sink fn names, in the same transaction.
func (s *Service) tx(ctx context.Context, action string, fn func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error)) error {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return audit.ErrUnauthenticated
	}
	req := identity.RequestFrom(ctx)
	cred := postgres.CredentialOf(p, req.ID)
	e := audit.Event{Org: p.OrgID, Action: action, Outcome: audit.OutcomeSuccess, Request: req.ID, IP: req.IPString(),
		UserAgent: req.UserAgent}
	if p.Role != identity.RoleAdmin {
		e.Outcome = audit.OutcomeDenied
		e.Details = map[string]any{"reason": "forbidden"}
		if err := audit.RecordDenied(ctx, s.db, cred, e); err != nil {
			s.log.ErrorContext(ctx, "audit of denied sink request failed", "org", p.OrgID, "err", err)
		}
		return ErrForbidden
	}
	return s.db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		id, details, err := fn(ctx, tx, p.OrgID)
		if err != nil {
			return err
		}
		if id != uuid.Nil {
			e.ObjectType, e.ObjectID = "audit_sink", uuid.NullUUID{UUID: id, Valid: true}
		}
		e.Details = details
		_, err = audit.Record(ctx, tx, e)
		return err
	})
}

// Create adds a sink to the caller's org and returns it with, for a
// webhook, its signing secret (shown only now). Errors: ErrForbidden,
// ErrInvalid (also for a name already in use, and for a FromSeq past the
// org's newest sequenced event).
func (s *Service) Create(ctx context.Context, n NewSink) (Sink, string, error) {
	if err := n.validate(); err != nil {
		return Sink{}, "", err
	}
	var out Sink
	secret := n.Token
	if n.Kind == Webhook {
		secret = newWebhookSecret()
	}
	err := s.tx(ctx, "audit.sink.create", func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error) {
		id := uuid.New()
		var sealed []byte
		if secret != "" {
			var err error
			if sealed, err = s.inst.Seal([]byte(secret), secretAD(s.inst, org, id)); err != nil {
				return uuid.Nil, nil, err
			}
		}
		p, _ := identity.PrincipalFrom(ctx)
		err := dbsqlc.New(tx).CreateSink(ctx, dbsqlc.CreateSinkParams{OrgID: org, ID: id, Kind: string(n.Kind), Name: n.Name,
			Endpoint: n.Endpoint, Format: n.Format, BatchMax: int32(n.BatchMax), SecretEnc: sealed,
			OverlapS: int32(n.OverlapSeconds), DisableAfterS: int32(n.DisableAfterSeconds), CursorSeq: n.FromSeq,
			CreatedBy: uuid.NullUUID{UUID: p.UserID, Valid: p.UserID != uuid.Nil}})
		if postgres.IsCode(err, "23505") {
			return uuid.Nil, nil, errkind.Visible(ErrInvalid, "a sink of this org already has that name")
		}
		if postgres.IsCode(err, "54000") {
			return uuid.Nil, nil, ErrLimit
		}
		if postgres.Hint(err, "22023") == "sink_from_seq" {
			return uuid.Nil, nil, errkind.Visible(ErrInvalid, "from_seq is past the newest event of the org's log: a sink starts at most there")
		}
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return uuid.Nil, nil, ErrStanding
		}
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: create in org %s: %w", org, err)
		}
		out, err = get(ctx, tx, org, id)
		// Where the log will go, for whoever investigates later: the
		// endpoint without its query (an intake's key may be in it).
		return id, map[string]any{"kind": string(n.Kind), "format": n.Format, "endpoint": destination(n),
			"from_seq": n.FromSeq}, err
	})
	if n.Kind != Webhook {
		secret = ""
	}
	return out, secret, err
}

// List returns the caller's org's sinks with their lag and last error.
// Errors: ErrForbidden.
func (s *Service) List(ctx context.Context) ([]Sink, error) {
	var out []Sink
	err := s.tx(ctx, "audit.sink.list", func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error) {
		q := dbsqlc.New(tx)
		rows, err := q.ListSinks(ctx, dbsqlc.ListSinksParams{OrgID: org})
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: list org %s: %w", org, err)
		}
		out = make([]Sink, len(rows))
		for i, r := range rows {
			out[i] = fromRow(r)
		}
		head, err := q.OrgLogSize(ctx, org)
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: head of org %s: %w", org, err)
		}
		for i := range out {
			out[i].Lag = max(head-out[i].Cursor, 0)
		}
		return uuid.Nil, map[string]any{"count": len(out)}, nil
	})
	if out == nil {
		out = []Sink{}
	}
	return out, err
}

// SetEnabled enables or disables a sink; enabling clears a disabled
// sink's failure state so delivery resumes at its cursor, and makes the
// caller the admin the sink answers to (the database sets it: a sink
// pauses when that admin is revoked or loses the role, migration 00202).
// Errors: ErrForbidden, ErrStanding, ErrNotFound.
func (s *Service) SetEnabled(ctx context.Context, id uuid.UUID, enabled bool) (Sink, error) {
	var out Sink
	err := s.tx(ctx, "audit.sink.update", func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error) {
		n, err := dbsqlc.New(tx).SetSinkEnabled(ctx, dbsqlc.SetSinkEnabledParams{OrgID: org, ID: id, Enabled: enabled})
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return uuid.Nil, nil, ErrStanding
		}
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: update %s: %w", id, err)
		}
		if n == 0 {
			return uuid.Nil, nil, ErrNotFound
		}
		out, err = get(ctx, tx, org, id)
		return id, map[string]any{"enabled": enabled}, err
	})
	return out, err
}

// Delete removes a sink of the caller's org; what it delivered stays in
// the log, and the deletion is an audit.sink.delete event naming its kind
// and name. The database checks the caller (migration 00208: an admin's
// session, stepped up, not break-glass). Errors: ErrForbidden,
// ErrStanding, ErrNotFound.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	return s.tx(ctx, "audit.sink.delete", func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error) {
		row, err := dbsqlc.New(tx).DeleteSink(ctx, dbsqlc.DeleteSinkParams{OrgID: org, ID: id})
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return uuid.Nil, nil, ErrNotFound
		case postgres.IsCode(err, postgres.CodeInsufficientPrivilege):
			return uuid.Nil, nil, ErrStanding
		case err != nil:
			return uuid.Nil, nil, fmt.Errorf("sink: delete %s: %w", id, err)
		}
		return id, map[string]any{"kind": row.Kind, "name": row.Name}, nil
	})
}

// Rotate gives a webhook sink a new signing secret, returned only now; the
// old one keeps signing beside it for the sink's overlap window. Errors:
// ErrForbidden, ErrStanding, ErrNotFound, ErrInvalid (not a webhook).
func (s *Service) Rotate(ctx context.Context, id uuid.UUID) (string, error) {
	secret := newWebhookSecret()
	err := s.tx(ctx, "audit.sink.rotate", func(ctx context.Context, tx pgx.Tx, org uuid.UUID) (uuid.UUID, map[string]any, error) {
		q := dbsqlc.New(tx)
		kind, err := q.LockSinkKind(ctx, dbsqlc.LockSinkKindParams{OrgID: org, ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, nil, ErrNotFound
		}
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: rotate %s: %w", id, err)
		}
		if Kind(kind) != Webhook {
			return uuid.Nil, nil, errkind.Visible(ErrInvalid, "only a webhook's secret rotates here; give a splunk sink a new token by recreating it")
		}
		sealed, err := s.inst.Seal([]byte(secret), secretAD(s.inst, org, id))
		if err != nil {
			return uuid.Nil, nil, err
		}
		err = q.RotateSinkSecret(ctx, dbsqlc.RotateSinkSecretParams{OrgID: org, ID: id, SecretEnc: sealed})
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			// The database's own check of the caller (migrations 00209, 00331).
			return uuid.Nil, nil, ErrStanding
		}
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("sink: rotate %s: %w", id, err)
		}
		return id, map[string]any{}, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// destination is n's endpoint as an audit event names it: a syslog
// host:port, or a URL's scheme, host and path (no query: a SIEM intake's
// key may be in it; no user information: validate refuses it).
func destination(n NewSink) string {
	if n.Kind == Syslog {
		return n.Endpoint
	}
	u, err := url.Parse(n.Endpoint)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// shownEndpoint is a sink's endpoint as the API answers it: a syslog
// host:port as it is; a URL with the value of each query parameter
// replaced by "redacted". A SIEM intake's key is often a query parameter
// (?api_key=…), a credential to write into the org's SIEM: like a Splunk
// token (never answered) and a webhook's secret (answered once), it is
// not shown again to every admin who lists the sinks, while the scheme,
// host, path and parameter names say where the log goes.
func shownEndpoint(kind, endpoint string) string {
	if Kind(kind) == Syslog {
		return endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	if u.RawQuery == "" && !u.ForceQuery {
		return endpoint
	}
	params := strings.Split(u.RawQuery, "&")
	for i, kv := range params {
		if k, _, ok := strings.Cut(kv, "="); ok {
			params[i] = k + "=redacted"
		} else if kv != "" {
			params[i] = "redacted" // a bare value may be the key itself
		}
	}
	u.RawQuery, u.ForceQuery = strings.Join(params, "&"), false
	return u.String()
}

func fromRow(r dbsqlc.ListSinksRow) Sink {
	return Sink{ID: r.ID, Org: r.OrgID, Kind: Kind(r.Kind), Name: r.Name, Endpoint: shownEndpoint(r.Kind, r.Endpoint), Format: r.Format,
		BatchMax: int(r.BatchMax), Enabled: r.Enabled, OverlapSeconds: int(r.OverlapS),
		DisableAfterSeconds: int(r.DisableAfterS), Cursor: r.CursorSeq, LastAttempt: r.LastAttemptAt,
		LastSuccess: r.LastSuccessAt, LastError: r.LastError, FailingSince: r.FailingSince, DisabledAt: r.DisabledAt,
		CreatedAt: r.CreatedAt, PausedReason: r.PausedReason}
}

func get(ctx context.Context, tx pgx.Tx, org, id uuid.UUID) (Sink, error) {
	rows, err := dbsqlc.New(tx).ListSinks(ctx, dbsqlc.ListSinksParams{OrgID: org, ID: uuid.NullUUID{UUID: id, Valid: true}})
	if err != nil {
		return Sink{}, fmt.Errorf("sink: read %s: %w", id, err)
	}
	if len(rows) != 1 {
		return Sink{}, ErrNotFound
	}
	return fromRow(rows[0]), nil
}
