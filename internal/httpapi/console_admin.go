package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/sso"
)

// The console's admin pages and forms (docs/console.md): the risk,
// device-binding, SSO and gateway policies on the policies page, the
// org's API keys, legal holds, and who may use emergency access. Each
// form calls the service the JSON API's route calls, under the cookie's
// session and with that route's need (the same role, the same step-up),
// so the database decides as it does for the API.

// consoleAdminPages are the templates of this file's own pages.
var consoleAdminPages = []string{"apikeys", "holds", "breach", "compliance"}

// consoleAdminRoutes mounts the admin pages and forms.
func (s *server) consoleAdminRoutes() {
	con := s.console
	admin := identity.RoleAdmin
	con.route("POST /policies/risk", stepUp(as(admin, "org.risk_policy.update")), s.consolePolicyRisk())
	con.route("POST /policies/device-binding", stepUp(as(admin, "org.device_binding_policy.update")), s.consolePolicyBinding())
	if ss := s.deps.SSO; ss != nil {
		con.route("POST /policies/sso", stepUp(as(admin, "sso.policy.update")), s.consolePolicySSO(ss))
	}
	if cs := s.deps.Cases; cs != nil {
		con.route("POST /policies/retention", stepUp(as(admin, "org.retention_policy.update")), s.consolePolicyRetention(cs))
	}
	if gw := s.deps.Gateway; gw != nil {
		con.route("POST /policies/gateway", stepUp(as(admin, "org.gateway_policy.update")), s.consolePolicyGateway(gw))
	}
	con.route("GET /api-keys", as(admin, "api_key.list"), s.consoleAPIKeys())
	con.route("POST /api-keys", stepUp(as(admin, "auth.api_key.create")), s.consoleAPIKeyCreate())
	con.route("POST /api-keys/{id}/revoke", stepUp(as(admin, "auth.api_key.revoke")), s.formAction("id",
		func(r *http.Request, id uuid.UUID) (string, error) {
			return "api-keys?done=revoked", s.deps.Auth.RevokeAPIKey(r.Context(), id)
		}))
	con.route("POST /break-glass/users/{user_id}/designate", stepUp(as(admin, "org.break_glass.designate")), s.consoleDesignate(true))
	con.route("POST /break-glass/users/{user_id}/stop", stepUp(as(admin, "org.break_glass.designate")), s.consoleDesignate(false))
	if cs := s.deps.Cases; cs != nil {
		con.route("GET /legal-holds", as(admin, "legal_hold.list"), s.consoleHolds(cs))
		con.route("POST /legal-holds", stepUp(as(admin, "legal_hold.place")), s.consoleHoldPlace(cs))
		con.route("POST /legal-holds/{id}/release", stepUp(as(admin, "legal_hold.release")), s.formAction("id",
			func(r *http.Request, id uuid.UUID) (string, error) {
				return "legal-holds?done=released", cs.ReleaseHold(r.Context(), id, r.PostForm.Get("note"))
			}))
	}
}

// bindableRoles are the roles the device-binding form offers.
var bindableRoles = []string{"patient", "provider", "lead", "admin", "stakeholder"}

// gatewayAllowKinds are the kinds of content the gateway form may let
// through unredacted.
var gatewayAllowKinds = []string{gateway.AllowImages, gateway.AllowDocuments, gateway.AllowServerTools, gateway.AllowMCP}

// policiesMore is what the policies page shows beyond the session and
// assurance policies: the risk threshold, the device-binding roles, and
// the SSO and gateway policies when those services run.
type policiesMore struct {
	Risk        string // the threshold, "" when scores are only recorded
	RiskWeights map[string]string
	Roles       []string
	Bound       map[string]bool
	SSO         *sso.Policy
	Gateway     *gatewayView
	Retention   *retentionView
}

// retentionView is the org's document retention policy as its form shows
// it: one "type days" line per type, sorted, with the days wanted (a
// pending shortening's, so saving the form again keeps its notice period
// running instead of cancelling it), and the pending shortenings: the
// rule in force until each takes effect.
type retentionView struct {
	Lines, Version string
	Pending        []retentionPendingView
	NoticeDays     int
}

// retentionPendingView is one pending shortening as the page shows it.
type retentionPendingView struct {
	Type        string
	InForce     string // the days in force until then, "" for none (kept for ever)
	Days        int
	EffectiveAt string
}

// gatewayView is the org's gateway policy as its form shows it.
type gatewayView struct {
	Providers, Models string
	Dates, ZIP        string
	Kinds             []string
	Allow             map[string]bool
	KeepOrganization  bool
	RPM, TPM          int
}

// addPolicies reads the policies the page shows beyond its own two.
func (s *server) addPolicies(r *http.Request, pg *policiesPage) error {
	m := &policiesMore{RiskWeights: auth.RiskWeights, Roles: bindableRoles, Bound: map[string]bool{}}
	risk, err := s.deps.Auth.GetRiskPolicy(r.Context())
	if err != nil {
		return err
	}
	if risk.Threshold != nil {
		m.Risk = strconv.Itoa(*risk.Threshold)
	}
	for _, role := range pg.Binding.RequiredFor {
		m.Bound[role] = true
	}
	if ss := s.deps.SSO; ss != nil {
		p, err := ss.GetPolicy(r.Context())
		if err != nil {
			return err
		}
		m.SSO = &p
	}
	if gw := s.deps.Gateway; gw != nil {
		p, err := gw.Policy(r.Context())
		if err != nil {
			return err
		}
		v := &gatewayView{Providers: strings.Join(p.Providers, ", "), Models: strings.Join(p.Models, ", "), Dates: p.Dates,
			ZIP: p.ZIP, Kinds: gatewayAllowKinds, Allow: map[string]bool{}, KeepOrganization: slices.Contains(p.Keep, "ORGANIZATION"),
			RPM: p.RequestsPerMinute, TPM: p.TokensPerMinute}
		for _, a := range p.Allow {
			v.Allow[a] = true
		}
		m.Gateway = v
	}
	if cs := s.deps.Cases; cs != nil {
		p, err := cs.GetRetentionPolicy(r.Context())
		if err != nil {
			return err
		}
		wanted := maps.Clone(p.DocumentTypes)
		v := &retentionView{Version: p.Version, NoticeDays: cases.RetentionNoticeDays}
		for _, t := range slices.Sorted(maps.Keys(p.Pending)) {
			pd := p.Pending[t]
			pv := retentionPendingView{Type: t, Days: pd.RetainDays, EffectiveAt: pd.EffectiveAt.UTC().Format(time.RFC3339)}
			if d, ok := p.DocumentTypes[t]; ok {
				pv.InForce = strconv.Itoa(d)
			}
			v.Pending = append(v.Pending, pv)
			wanted[t] = pd.RetainDays
		}
		types := slices.Sorted(maps.Keys(wanted))
		lines := make([]string, len(types))
		for i, t := range types {
			lines[i] = t + " " + strconv.Itoa(wanted[t])
		}
		v.Lines = strings.Join(lines, "\n")
		m.Retention = v
	}
	pg.More = m
	return nil
}

// consolePolicyRetention saves the document retention policy from the
// page's form (one "type days" line per type; the whole policy), as PUT
// /v1/org/retention-policy does; the database checks the bounds.
func (s *server) consolePolicyRetention(cs *cases.Service) http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		pol := cases.RetentionPolicy{DocumentTypes: map[string]int{}}
		for i, line := range strings.Split(r.PostForm.Get("document_types"), "\n") {
			f := strings.Fields(strings.NewReplacer(":", " ", "=", " ", ",", " ").Replace(line))
			if len(f) == 0 {
				continue
			}
			days, err := strconv.Atoi(f[len(f)-1])
			if len(f) != 2 || err != nil {
				return "", badRequest("invalid_input", fmt.Sprintf("line %d: a document type and its days, such as wage_statement 2555", i+1))
			}
			if _, dup := pol.DocumentTypes[f[0]]; dup {
				return "", badRequest("invalid_input", fmt.Sprintf("line %d names a type an earlier line names", i+1))
			}
			pol.DocumentTypes[f[0]] = days
		}
		// The version the form showed: another admin's save since then is
		// not overwritten (412).
		var ifMatch []string
		if v := r.PostForm.Get("version"); v != "" {
			ifMatch = []string{v}
		}
		return "policies?done=saved", cs.SetRetentionPolicy(r.Context(), pol, ifMatch)
	})
}

// consolePolicyRisk saves the risk threshold from the page's form, as PUT
// /v1/org/risk-policy does: empty records scores only; a form without the
// field is refused.
func (s *server) consolePolicyRisk() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		var pol auth.RiskPolicy
		if _, ok := r.PostForm["risk_threshold"]; !ok {
			// Not the page's form: a form without the field is no request
			// to record scores only.
			return "", badRequest("invalid_input", "the risk threshold is a whole number from 1 to 200, or empty to record scores only")
		}
		if v := strings.TrimSpace(r.PostForm.Get("risk_threshold")); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", badRequest("invalid_input", "the risk threshold is a whole number from 1 to 200, or empty to record scores only")
			}
			pol.Threshold = &n
		}
		return "policies?done=saved", s.deps.Auth.SetRiskPolicy(r.Context(), pol)
	})
}

// consolePolicyBinding saves the roles whose non-browser sessions must be
// bound to a device key, as PUT /v1/org/device-binding-policy does (no
// role checked: none).
func (s *server) consolePolicyBinding() http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		roles := append([]string{}, r.PostForm["role"]...)
		return "policies?done=saved", s.deps.Auth.SetDeviceBindingPolicy(r.Context(), auth.DeviceBindingPolicy{RequiredFor: roles})
	})
}

// consolePolicySSO saves the SSO policy, as PUT /v1/org/sso-policy does:
// turning enforcement on ends, in the same transaction, the sessions and
// unspent links of the members it binds that did not come from the IdP.
func (s *server) consolePolicySSO(ss *sso.Service) http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		return "policies?done=saved", ss.SetPolicy(r.Context(), sso.Policy{EnforceSSO: r.PostForm.Get("enforce_sso") == "yes"})
	})
}

// formList splits a form's comma- or space-separated list.
func formList(v string) []string {
	return strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

// consolePolicyGateway saves the whole gateway policy from the page's
// form, as PUT /v1/org/gateway-policy does; the database checks every
// value.
func (s *server) consolePolicyGateway(gw *gateway.Service) http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		f := r.PostForm
		rpm, err1 := strconv.Atoi(strings.TrimSpace(f.Get("requests_per_minute")))
		tpm, err2 := strconv.Atoi(strings.TrimSpace(f.Get("tokens_per_minute")))
		if err1 != nil || err2 != nil {
			return "", badRequest("invalid_input", "the requests and tokens per minute are whole numbers")
		}
		pol := gateway.Policy{Providers: formList(f.Get("providers")), Models: formList(f.Get("models")), Dates: f.Get("dates"),
			ZIP: f.Get("zip"), Allow: append([]string{}, f["allow"]...), Keep: []string{}, RequestsPerMinute: rpm, TokensPerMinute: tpm}
		if f.Get("keep_organization") == "yes" {
			pol.Keep = []string{"ORGANIZATION"}
		}
		return "policies?done=saved", gw.SetPolicy(r.Context(), pol)
	})
}

// apiKeysPage is the org's API keys, with the secret of the key just made
// (on the create form's answer only).
type apiKeysPage struct {
	Keys    []auth.APIKey
	Scopes  []string
	Created *auth.CreatedAPIKey
	Notice  string
	Now     time.Time
}

// consoleAPIKeys lists the org's API keys (admins), as GET /v1/api-keys.
func (s *server) consoleAPIKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var notice string
		if r.URL.Query().Get("done") == "revoked" {
			notice = "The key was revoked: it no longer works."
		}
		s.writeAPIKeys(w, r, http.StatusOK, nil, notice)
	})
}

func (s *server) writeAPIKeys(w http.ResponseWriter, r *http.Request, status int, created *auth.CreatedAPIKey, notice string) {
	keys, err := s.deps.Auth.ListAPIKeys(r.Context())
	if err != nil {
		s.console.writeError(w, r, err)
		return
	}
	s.render(w, r, status, "apikeys", consolePage{Title: "API keys",
		Data: apiKeysPage{Keys: keys, Scopes: auth.APIKeyScopes, Created: created, Notice: notice, Now: time.Now()}})
}

// consoleAPIKeyCreate makes an API key from the page's form, as POST
// /v1/api-keys does (a step-up within 10 minutes), and shows its secret
// once, on the answer's page: never in a URL, a redirect or a log.
func (s *server) consoleAPIKeyCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form could not be read")
			return
		}
		f := r.PostForm
		in := auth.APIKeyInput{Name: strings.TrimSpace(f.Get("name")), Scopes: f["scope"]}
		if v := f.Get("expires_on"); v != "" {
			// The key ends at the end of the chosen day (UTC).
			day, err := time.Parse(time.DateOnly, v)
			if err != nil {
				s.console.writeError(w, r, badRequest("invalid_input", "expires on is a date (YYYY-MM-DD), or empty for a key that does not expire"))
				return
			}
			end := day.AddDate(0, 0, 1).Add(-time.Second).UTC()
			in.ExpiresAt = &end
		}
		k, err := s.deps.Auth.CreateAPIKey(r.Context(), in)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.writeAPIKeys(w, r, http.StatusCreated, &k, "The key was made. Copy it now: it is shown only on this page.")
	})
}

// designation is a staff member as the emergency-access page shows them:
// designated or not.
type designation struct {
	UserID     uuid.UUID
	Email      string
	Role       identity.Role
	Designated bool
	Since      time.Time
}

// designationNotices are what the emergency-access page says after the
// designation forms.
var designationNotices = map[string]string{
	"designated": "The member may now use emergency access.",
	"stopped":    "The member may no longer use emergency access.",
}

// addDesignations reads the org's staff and which of them may use
// emergency access, for the emergency-access page's forms.
func (s *server) addDesignations(r *http.Request, pg *breakGlassPage) error {
	users, err := s.deps.Auth.ListBreakGlassUsers(r.Context())
	if err != nil {
		return err
	}
	members, err := s.deps.Auth.ListMembers(r.Context())
	if err != nil {
		return err
	}
	since := map[uuid.UUID]time.Time{}
	for _, u := range users {
		since[u.UserID] = u.DesignatedAt
	}
	list := []designation{}
	for _, m := range members {
		if m.RevokedAt != nil || !m.Role.AtLeast(identity.RoleProvider) {
			continue
		}
		at, ok := since[m.UserID]
		list = append(list, designation{UserID: m.UserID, Email: m.Email, Role: m.Role, Designated: ok, Since: at})
	}
	pg.Staff = list
	if n := designationNotices[r.URL.Query().Get("done")]; n != "" {
		pg.Notice = n
	}
	return nil
}

// consoleDesignate lets a staff member use emergency access (on) or
// stops it, as PUT and DELETE /v1/org/break-glass/users/{user_id} do (a
// step-up; the member needs two passkeys).
func (s *server) consoleDesignate(on bool) http.Handler {
	done := "stopped"
	if on {
		done = "designated"
	}
	return s.formAction("user_id", func(r *http.Request, id uuid.UUID) (string, error) {
		_, err := s.deps.Auth.DesignateBreakGlass(r.Context(), id, on)
		return "break-glass?done=" + done, err
	})
}

// holdsPage is the org's legal holds.
type holdsPage struct {
	Holds  []cases.Hold
	Notice string
}

var holdNotices = map[string]string{
	"placed":   "The hold was placed: what it covers is kept until it is released.",
	"released": "The hold was released.",
}

// consoleHolds lists the org's legal holds, newest first, as GET
// /v1/legal-holds (admins).
func (s *server) consoleHolds(cs *cases.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := cs.ListHolds(r.Context(), false)
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "holds", consolePage{Title: "Legal holds",
			Data: holdsPage{Holds: list, Notice: holdNotices[r.URL.Query().Get("done")]}})
	})
}

// consoleHoldPlace places a hold from the page's form, as POST
// /v1/legal-holds does: on the whole org, one patient or one case.
func (s *server) consoleHoldPlace(cs *cases.Service) http.Handler {
	return s.formAction("", func(r *http.Request, _ uuid.UUID) (string, error) {
		f := r.PostForm
		in := cases.HoldInput{Reason: f.Get("reason")}
		covers := f.Get("covers")
		if covers == "patient" || covers == "case" {
			id, err := uuid.Parse(strings.TrimSpace(f.Get("target")))
			if err != nil {
				return "", badRequest("invalid_input", "the "+covers+" is its id (the last part of its page's address)")
			}
			if covers == "patient" {
				in.PatientID = &id
			} else {
				in.CaseID = &id
			}
		} else if covers != "org" {
			return "", badRequest("invalid_input", "a hold covers the org, a patient or a case")
		}
		_, err := cs.PlaceHold(r.Context(), in)
		return "legal-holds?done=placed", err
	})
}
