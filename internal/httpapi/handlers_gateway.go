package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/records"
)

// handleGateway serves one gateway endpoint (POST /llm/v1/messages and
// /llm/v1/messages/count_tokens): the body is read whole (the surface caps
// it at 32 MB: 413 above), the patient the Ward-Patient header names is
// loaded under the caller's credential (an audited read; RLS decides), and
// the gateway de-identifies, forwards and re-identifies. The body counts
// against the node's budget of gateway bodies (bodyBudget) until the
// handler returns. A kept principal
// (need.ahead) is confirmed in the record's round trip, or, without a
// record, concurrently with the de-identification; the read's event
// commits concurrently with it too; nothing goes upstream before both
// have. Errors are in the Anthropic shape (the surface's encoder).
func handleGateway(gw *gateway.Service, recs *records.Service, ep gateway.Endpoint, budget *bodyBudget, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, release, err := budget.read(r)
		defer release()
		if err != nil {
			fail(w, r, err)
			return
		}
		keepBody(r, body)
		c := gateway.Call{Body: body, Header: r.Header, Query: r.URL.RawQuery}
		switch vals := r.Header.Values("Ward-Patient"); len(vals) {
		case 0:
		case 1:
			id, perr := uuid.Parse(strings.TrimSpace(vals[0]))
			if perr != nil || id == uuid.Nil {
				fail(w, r, invalidHeader("Ward-Patient must be a patient id (a UUID)"))
				return
			}
			// One round trip for the record, which confirms a kept
			// principal (need.ahead) first: a stale one reads nothing and
			// leaves no refusal behind from this first pass. The read's
			// patient.read event commits while the gateway de-identifies,
			// and Forward waits for it before anything goes upstream
			// (Call.Audited).
			p, audited, err := recs.OpenPatient(r.Context(), id)
			if err != nil {
				fail(w, r, err)
				return
			}
			defer audited() // on every path, the handler returns after the read's transaction ended
			c.Patient, c.Audited = uuid.NullUUID{UUID: id, Valid: true}, audited
			c.Record = phiRecord(p)
		default:
			fail(w, r, invalidHeader("send one Ward-Patient header"))
			return
		}
		// A kept principal no read confirmed is confirmed while the
		// gateway de-identifies; Forward waits for it before anything goes
		// upstream (Call.Confirmed).
		c.Confirmed = confirmAhead(r)
		if err := gw.Forward(r.Context(), ep, c, w); err != nil {
			fail(w, r, err)
		}
	})
}

// phiRecord is what the engine looks for of a patient: every identity
// field of the record.
func phiRecord(p records.Patient) *phi.Record {
	rec := &phi.Record{Names: []string{p.Name}, BirthDate: p.DOB, MRN: p.MRN}
	if p.Phone != "" {
		rec.Phones = []string{p.Phone}
	}
	if p.Email != "" {
		rec.Emails = []string{p.Email}
	}
	if p.Address != "" {
		rec.Addresses = []string{p.Address}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Identifiers)) {
		rec.IDs = append(rec.IDs, p.Identifiers[k])
	}
	return rec
}

func handleGatewayPolicyGet(gw *gateway.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := gw.Policy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

// gatewayPolicyRequired are the fields a PUT of the gateway policy must
// send: the limits have no default (the others default to the strictest).
var gatewayPolicyRequired = []string{"requests_per_minute", "tokens_per_minute"}

// handleGatewayPolicyPut sets the org's whole gateway policy.
func handleGatewayPolicyPut(gw *gateway.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var raw map[string]json.RawMessage
		err := decode(r, &raw)
		for _, f := range gatewayPolicyRequired {
			if _, ok := raw[f]; !ok && err == nil {
				err = badRequest("missing_field", fmt.Sprintf("PUT sets the whole policy (GET it, change it, send it "+
					"back): %q is missing", f))
			}
		}
		var pol gateway.Policy
		if err == nil {
			err = strictUnmarshal(raw, &pol)
		}
		if err == nil {
			err = gw.SetPolicy(r.Context(), pol)
		}
		if err == nil {
			pol, err = gw.Policy(r.Context())
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, pol)
	})
}

// handleModelList serves GET /llm/v1/models (client.Models.List): the
// upstream's entries of the models the caller's org may call now
// (gateway.Service.ListModels). The only query parameters are the API's
// own: limit, after_id, before_id and the SDKs' beta=true.
func handleModelList(gw *gateway.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err == nil {
			for k, v := range q {
				switch {
				case len(v) != 1:
					err = gateway.BadRequest("give each query parameter once")
				case k == "beta" && v[0] == "true", k == "limit", k == "after_id", k == "before_id":
				default:
					err = gateway.BadRequest("the query parameters accepted are limit, after_id, before_id and beta=true")
				}
			}
		} else {
			err = gateway.BadRequest("the query string is not well formed")
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		out, err := gw.ListModels(r.Context(), q, r.Header)
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}

// handleModelGet serves GET /llm/v1/models/{model_id} (client.Models.Get):
// the upstream's entry of a model the caller's org may call; the gate's
// refusal (403) for one it may not, as a Messages call naming it gets.
func handleModelGet(gw *gateway.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.RawQuery; q != "" && q != "beta=true" {
			fail(w, r, gateway.BadRequest("the only query parameter accepted is beta=true"))
			return
		}
		out, err := gw.GetModel(r.Context(), r.PathValue("model_id"), r.Header)
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}
