package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/records"
)

// Amendments of a patient record (HIPAA §164.526, docs/dsr.md): the
// patient asks, an admin accepts or denies, the patient may disagree with a
// denial and the practice may rebut.

func handleAmendmentList(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var list []records.Amendment
		if err == nil {
			list, err = recs.ListAmendments(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"amendments": list})
	})
}

func handleAmendmentRequest(recs *records.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in records.AmendmentInput
		if err == nil {
			err = decode(r, &in)
		}
		var a records.Amendment
		if err == nil {
			a, err = recs.RequestAmendment(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, a)
	})
}

// amendmentStep handles the routes that add one step to an amendment
// request: a JSON body decoded into in, then do.
func amendmentStep[T any](fail errorWriter, do func(r *http.Request, patient, id uuid.UUID, in T) (records.Amendment, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		patient, err := pathID(r, "id")
		var id uuid.UUID
		if err == nil {
			id, err = pathID(r, "amendment_id")
		}
		var in T
		if err == nil {
			err = decode(r, &in)
		}
		var a records.Amendment
		if err == nil {
			a, err = do(r, patient, id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, a)
	})
}

// statementBody is the body of a statement of disagreement or a rebuttal.
type statementBody struct {
	Statement string `json:"statement"`
}

func handleAmendmentDecide(recs *records.Service, fail errorWriter) http.Handler {
	return amendmentStep(fail, func(r *http.Request, patient, id uuid.UUID, in records.AmendmentDecision) (records.Amendment, error) {
		return recs.DecideAmendment(r.Context(), patient, id, in)
	})
}

func handleAmendmentDisagree(recs *records.Service, fail errorWriter) http.Handler {
	return amendmentStep(fail, func(r *http.Request, patient, id uuid.UUID, in statementBody) (records.Amendment, error) {
		return recs.DisagreeAmendment(r.Context(), patient, id, in.Statement)
	})
}

func handleAmendmentRebut(recs *records.Service, fail errorWriter) http.Handler {
	return amendmentStep(fail, func(r *http.Request, patient, id uuid.UUID, in statementBody) (records.Amendment, error) {
		return recs.RebutAmendment(r.Context(), patient, id, in.Statement)
	})
}
