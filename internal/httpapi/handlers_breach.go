package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/records"
)

// handleBreachScope answers what an incident touched (docs/breach.md):
// POST /v1/compliance/breach/scope with the window, the day it was
// discovered and what it involved.
func handleBreachScope(recs *records.Service, fail errorWriter) http.Handler {
	type request struct {
		From        time.Time   `json:"from"`
		To          time.Time   `json:"to"`
		Discovered  *time.Time  `json:"discovered"`
		All         bool        `json:"all"`
		Actors      []uuid.UUID `json:"actors"`
		Sessions    []uuid.UUID `json:"sessions"`
		Credentials []uuid.UUID `json:"credentials"`
		Networks    []string    `json:"networks"`
		Patients    []uuid.UUID `json:"patients"`
		Cases       []uuid.UUID `json:"cases"`
		Objects     []uuid.UUID `json:"objects"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var in records.Incident
		if err == nil {
			in = records.Incident{Incident: audit.Incident{From: req.From, To: req.To, All: req.All,
				Actors: req.Actors, Sessions: req.Sessions, Credentials: req.Credentials, Patients: req.Patients,
				Cases: req.Cases, Objects: req.Objects}}
			if req.Discovered != nil {
				in.Discovered = *req.Discovered
			}
			in.Networks, err = parseNetworks(req.Networks)
		}
		var scope records.BreachScope
		if err == nil {
			scope, err = recs.ScopeBreach(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, scope)
	})
}

// parseNetworks reads addresses and CIDR prefixes; an address stands for
// itself (a /32 or /128). records.Incident.Validate normalises them
// (masks them, and unmaps IPv4-mapped ones).
func parseNetworks(list []string) ([]netip.Prefix, error) {
	if len(list) > records.MaxIncidentIDs {
		return nil, badRequest("invalid_input", fmt.Sprintf("networks lists at most %d entries", records.MaxIncidentIDs))
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, badRequest("invalid_input", fmt.Sprintf("networks[%d] must be an IP address or a CIDR prefix", i))
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// handleBreachRevoke ends an incident's credentials in one transaction:
// POST /v1/compliance/breach/revoke.
func handleBreachRevoke(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req records.Revocation
		err := decode(r, &req)
		var out records.Revoked
		if err == nil {
			out, err = recs.RevokeBreach(r.Context(), req)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}
