package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/records"
)

// The console's breach page (docs/breach.md): an admin scopes an incident
// from the audit log and revokes its credentials, with the services and
// needs of POST /v1/compliance/breach/{scope,revoke} (an admin who
// stepped up; the database decides what the log and the records show).

// consoleBreachRoutes mounts the breach page and its two forms.
func (s *server) consoleBreachRoutes() {
	con := s.console
	admin := identity.RoleAdmin
	con.route("GET /breach", as(admin, "breach.scope"), s.consoleBreach())
	con.route("POST /breach", stepUp(as(admin, "breach.scope")), s.consoleBreachScope())
	con.route("POST /breach/revoke", stepUp(as(admin, "breach.revoke")), s.consoleBreachRevoke())
}

// breachForm is the scope form's fields, as sent (shown again with the
// answer).
type breachForm struct {
	From, To, Discovered                                              string
	All                                                               bool
	Actors, Sessions, Credentials, Networks, Patients, Cases, Objects string
}

// breachPage is the form, and the scope or the revocation it answered.
type breachPage struct {
	Form    breachForm
	Scope   *records.BreachScope
	Revoked *records.Revoked
	// RevokeKeys and RevokeTokens fill the revoke form with the API keys
	// and SCIM tokens the scope's changes created: what an intruder
	// leaves behind, whoever they are named as.
	RevokeKeys, RevokeTokens string
}

// breachTime is the form's date-time format (UTC), as the entry form's.
const breachTime = "2006-01-02T15:04"

// defaultBreachForm is the empty form: the last seven days, discovered now.
func defaultBreachForm() breachForm {
	now := time.Now().UTC()
	return breachForm{From: now.AddDate(0, 0, -7).Format(breachTime), To: now.Add(time.Minute).Format(breachTime),
		Discovered: now.Format(breachTime)}
}

// consoleBreach shows the empty form.
func (s *server) consoleBreach() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, "breach", consolePage{Title: "Breach response",
			Data: breachPage{Form: defaultBreachForm()}})
	})
}

// formIDs reads a form field's list of ids (separated by commas, spaces or
// lines).
func formIDs(field, v string) ([]uuid.UUID, error) {
	list := formList(v)
	if len(list) > records.MaxIncidentIDs {
		return nil, badRequest("invalid_input", fmt.Sprintf("%s lists at most %d ids", field, records.MaxIncidentIDs))
	}
	out := make([]uuid.UUID, 0, len(list))
	for i, s := range list {
		id, err := uuid.Parse(s)
		if err != nil || len(s) != 36 {
			return nil, badRequest("invalid_input", fmt.Sprintf("%s: entry %d is not an id", field, i+1))
		}
		out = append(out, id)
	}
	return out, nil
}

// idLines writes ids one a line, as formIDs reads them.
func idLines(ids []uuid.UUID) string {
	lines := make([]string, len(ids))
	for i, id := range ids {
		lines[i] = id.String()
	}
	return strings.Join(lines, "\n")
}

// consoleBreachScope answers the scope form with the scope.
func (s *server) consoleBreachScope() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form could not be read")
			return
		}
		f := r.PostForm
		form := breachForm{From: f.Get("from"), To: f.Get("to"), Discovered: f.Get("discovered"), All: f.Get("all") == "yes",
			Actors: f.Get("actors"), Sessions: f.Get("sessions"), Credentials: f.Get("credentials"), Networks: f.Get("networks"),
			Patients: f.Get("patients"), Cases: f.Get("cases"), Objects: f.Get("objects")}
		in, err := form.incident()
		var scope records.BreachScope
		if err == nil {
			scope, err = s.deps.Records.ScopeBreach(r.Context(), in)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "breach", consolePage{Title: "Breach response",
			Data: breachPage{Form: form, Scope: &scope, RevokeKeys: idLines(scope.Changes.Created("auth.api_key.create")),
				RevokeTokens: idLines(scope.Changes.Created("scim.token.create"))}})
	})
}

// incident reads the form as the scope's question.
func (f breachForm) incident() (records.Incident, error) {
	var in records.Incident
	times := []struct {
		name, v string
		to      *time.Time
	}{{"from", f.From, &in.From}, {"to", f.To, &in.To}, {"discovered", f.Discovered, &in.Discovered}}
	for _, t := range times {
		if t.v == "" && t.name == "discovered" {
			continue
		}
		at, err := time.Parse(breachTime, strings.TrimSpace(t.v))
		if err != nil {
			return in, badRequest("invalid_input", t.name+" is a date and time, YYYY-MM-DDTHH:MM (UTC)")
		}
		*t.to = at
	}
	in.All = f.All
	lists := []struct {
		name, v string
		to      *[]uuid.UUID
	}{{"actors", f.Actors, &in.Actors}, {"sessions", f.Sessions, &in.Sessions}, {"credentials", f.Credentials, &in.Credentials},
		{"patients", f.Patients, &in.Patients}, {"cases", f.Cases, &in.Cases}, {"objects", f.Objects, &in.Objects}}
	for _, l := range lists {
		ids, err := formIDs(l.name, l.v)
		if err != nil {
			return in, err
		}
		*l.to = ids
	}
	nets, err := parseNetworks(formList(f.Networks))
	in.Networks = nets
	return in, err
}

// consoleBreachRevoke ends the credentials the revoke form names.
func (s *server) consoleBreachRevoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeHTMLError(w, r, http.StatusBadRequest, "bad_form", "the form could not be read")
			return
		}
		f := r.PostForm
		var rv records.Revocation
		var err error
		for _, l := range []struct {
			name string
			to   *[]uuid.UUID
		}{{"sessions", &rv.Sessions}, {"users", &rv.Users}, {"api_keys", &rv.APIKeys}, {"scim_tokens", &rv.SCIMTokens}} {
			if err == nil {
				*l.to, err = formIDs(l.name, f.Get(l.name))
			}
		}
		var out records.Revoked
		if err == nil {
			out, err = s.deps.Records.RevokeBreach(r.Context(), rv)
		}
		if err != nil {
			s.console.writeError(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "breach", consolePage{Title: "Breach response",
			Data: breachPage{Revoked: &out, Form: defaultBreachForm()}})
	})
}
