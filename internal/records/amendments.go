package records

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// DenialBases are the grounds on which HIPAA §164.526(a)(2) lets a practice
// deny an amendment: the record was not created here, is not part of the
// designated record set, is not open to access under §164.524, or is
// accurate and complete.
var DenialBases = []string{"not_created_here", "not_in_record_set", "not_open_to_access", "accurate_and_complete"}

// maxStatement bounds the text of a request, a decision, a statement of
// disagreement and a rebuttal (characters).
const maxStatement = 10000

// Amendment is one request to amend a patient's record (HIPAA §164.526)
// and what became of it, decrypted: kept beside the entry or record it is
// about, which is never rewritten.
type Amendment struct {
	ID        uuid.UUID `json:"id"`
	PatientID uuid.UUID `json:"patient_id"`
	// EntryID is the clinical entry the request is about; nil: the record.
	EntryID     *uuid.UUID `json:"entry_id"`
	Request     string     `json:"request"`
	RequestedBy uuid.UUID  `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	// Status is requested, accepted or denied.
	Status      string     `json:"status"`
	DenialBasis *string    `json:"denial_basis"`
	Decision    *string    `json:"decision"` // the amendment, or the denial's explanation
	DecidedBy   *uuid.UUID `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
	// Disagreement is the patient's statement of disagreement with a
	// denial; Rebuttal the practice's answer to it.
	Disagreement   *string    `json:"disagreement"`
	DisagreementAt *time.Time `json:"disagreement_at"`
	Rebuttal       *string    `json:"rebuttal"`
	RebuttalBy     *uuid.UUID `json:"rebuttal_by"`
	RebuttalAt     *time.Time `json:"rebuttal_at"`
	// DSRID is the request's entry in the data-subject queue (its
	// deadline); QueueStatus and DueAt are shown to whoever sees the
	// queue entry (the patient and admins).
	DSRID       uuid.UUID  `json:"dsr_id"`
	QueueStatus *string    `json:"queue_status,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
}

// LogValue keeps the texts out of logs.
func (a Amendment) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID.String()), slog.String("patient", a.PatientID.String()))
}

// AmendmentInput asks for an amendment of the record, or of one of its
// entries.
type AmendmentInput struct {
	EntryID *uuid.UUID `json:"entry_id"`
	Request string     `json:"request"`
}

// AmendmentDecision accepts a request (Statement is the amendment) or
// denies it (Basis, one of DenialBases, and Statement, the explanation the
// patient receives).
type AmendmentDecision struct {
	Outcome   string  `json:"outcome"`
	Basis     *string `json:"basis"`
	Statement string  `json:"statement"`
}

func amendmentAD(org, id uuid.UUID, column string) envelope.AD {
	return envelope.AD{Table: "record_amendments", Column: column, Org: org, Row: id}
}

// statement checks a text the patient or the practice writes; its errors
// name the field, never the value.
func statement(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > maxStatement || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", errkind.Visiblef(ErrInvalidInput, "%s is 1..%d characters of text", field, maxStatement)
	}
	return v, nil
}

func amendmentFromRow(r dbsqlc.AppRecordAmendment, k envelope.Sealer) (Amendment, error) {
	a := Amendment{ID: r.ID, PatientID: r.PatientID, EntryID: nullPtr(r.EntryID), RequestedBy: r.RequestedBy,
		RequestedAt: r.RequestedAt, Status: r.Status, DenialBasis: r.DenialBasis, DecidedBy: nullPtr(r.DecidedBy),
		DecidedAt: r.DecidedAt, DisagreementAt: r.DisagreementAt, RebuttalBy: nullPtr(r.RebuttalBy),
		RebuttalAt: r.RebuttalAt, DSRID: r.DsrID}
	open := func(ct []byte, column string) (*string, error) {
		if ct == nil {
			return nil, nil
		}
		pt, err := k.Open(ct, amendmentAD(r.OrgID, r.ID, column))
		if err != nil {
			return nil, err
		}
		s := string(pt)
		return &s, nil
	}
	req, err := open(r.RequestEnc, "request")
	if err != nil {
		return Amendment{}, err
	}
	a.Request = *req
	if a.Decision, err = open(r.DecisionEnc, "decision"); err != nil {
		return Amendment{}, err
	}
	if a.Disagreement, err = open(r.DisagreementEnc, "disagreement"); err != nil {
		return Amendment{}, err
	}
	if a.Rebuttal, err = open(r.RebuttalEnc, "rebuttal"); err != nil {
		return Amendment{}, err
	}
	return a, nil
}

// readAmendments reads and opens the amendment requests of patient's
// record that the transaction's credential sees, oldest first, with their
// queue entries' status and due date where it sees those; they open under
// the patient's keys (unwrapped with the org's keys ok) as the same
// statement saw them (rowsSealer), whatever an earlier statement of the
// transaction read.
func readAmendments(ctx context.Context, q *dbsqlc.Queries, ok *envelope.OrgKeys, org, patient uuid.UUID) ([]Amendment, error) {
	rows, err := q.ListAmendments(ctx, dbsqlc.ListAmendmentsParams{OrgID: org, PatientID: patient})
	if err != nil {
		return nil, err
	}
	out := make([]Amendment, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	k, err := rowsSealer(ok, patient, rows[0].PatientVisible, rows[0].PatientKeyset, rows[0].PatientShreddedAt)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if out[i], err = amendmentFromRow(r.AppRecordAmendment, k); err != nil {
			return nil, err
		}
		out[i].QueueStatus, out[i].DueAt = r.QueueStatus, r.QueueDueAt
	}
	return out, nil
}

// amendmentEvent is the audit event of one step of amendment a of patient.
func (c call) amendmentEvent(action string, patient, a uuid.UUID) audit.Event {
	e := c.event(action, "record_amendment", a)
	e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
	return e
}

// RequestAmendment files a request to amend patient's record (or one of
// its entries): the patient about their own record, or an admin on their
// behalf. The database files the request's entry in the data-subject
// queue (60 days) in the same statement. Audited as amendment.request and
// dsr.open. Errors: ErrInvalidInput, ErrForbidden, ErrNotFound (a patient
// or entry the caller cannot name).
func (s *Service) RequestAmendment(ctx context.Context, patient uuid.UUID, in AmendmentInput) (Amendment, error) {
	c, err := begin(ctx)
	if err != nil {
		return Amendment{}, err
	}
	const action = "amendment.request"
	if in.Request, err = statement("request", in.Request); err != nil {
		return Amendment{}, err
	}
	if c.p.Role != identity.RolePatient && c.p.Role != identity.RoleAdmin || c.p.Kind != identity.KindSession {
		return Amendment{}, s.denied(ctx, c, c.event(action, "patient", patient),
			errkind.Visible(ErrForbidden, "the patient, or an admin on their behalf, asks for an amendment"))
	}
	var out Amendment
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, ok *envelope.OrgKeys) error {
		q := dbsqlc.New(tx)
		k, err := writeSealer(ctx, q, ok, c.p.OrgID, patient)
		if err != nil {
			return err
		}
		id := uuid.New()
		ct, err := k.Seal([]byte(in.Request), amendmentAD(c.p.OrgID, id, "request"))
		if err != nil {
			return err
		}
		row, err := q.CreateAmendment(ctx, dbsqlc.CreateAmendmentParams{OrgID: c.p.OrgID, ID: id, PatientID: patient,
			EntryID: nullOf(in.EntryID), RequestEnc: ct, RequestedBy: c.p.UserID})
		if err != nil {
			return err
		}
		if out, err = amendmentFromRow(row, k); err != nil {
			return err
		}
		d, err := q.GetDSR(ctx, dbsqlc.GetDSRParams{OrgID: c.p.OrgID, ID: row.DsrID})
		if err != nil {
			return err
		}
		queue := dsrRow(d).dsr()
		out.QueueStatus, out.DueAt = &queue.Status, &queue.DueAt
		e := c.amendmentEvent(action, patient, id)
		e.Details = map[string]any{"entry": in.EntryID != nil, "dsr_request": row.DsrID.String()}
		if _, err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, c.dsrEvent("dsr.open", queue))
		return err
	})
	if err = mapDSRErr("request amendment", err); err != nil {
		if errors.Is(err, ErrNotFound) && in.EntryID != nil {
			err = errkind.Visible(ErrNotFound, "no such patient, or no such entry in their record")
		}
		return Amendment{}, s.denied(ctx, c, c.event(action, "patient", patient), err)
	}
	return out, nil
}

// ListAmendments returns the amendment requests of patient's record,
// oldest first, to whoever may read its entries, and audits the list with
// the ids returned. Errors: ErrNotFound (audited).
func (s *Service) ListAmendments(ctx context.Context, patient uuid.UUID) ([]Amendment, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	var out []Amendment
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, ok *envelope.OrgKeys) error {
		q := dbsqlc.New(tx)
		// Whether the caller sees the patient, and not shredded: the
		// texts open under the keyset their own statement reads.
		if _, err := recordSealer(ctx, q, ok, c.p.OrgID, patient); err != nil {
			return err
		}
		var err error
		if out, err = readAmendments(ctx, q, ok, c.p.OrgID, patient); err != nil {
			return err
		}
		ids := make([]uuid.UUID, len(out))
		for i, a := range out {
			ids[i] = a.ID
		}
		e := c.event("amendment.list", "patient", patient)
		e.Patient = uuid.NullUUID{UUID: patient, Valid: true}
		e.Results = ids
		e.Details = map[string]any{"count": len(ids)}
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapErr("list amendments", err); err != nil {
		return nil, s.denied(ctx, c, c.event("amendment.list", "patient", patient), err)
	}
	return out, nil
}

// DecideAmendment accepts or denies request id of patient's record
// (admins), which closes its queue entry (fulfilled or denied) in the same
// statement. Audited as amendment.decide and dsr.close. Errors:
// ErrInvalidInput, ErrForbidden, ErrNotFound, ErrConflict (decided before,
// or withdrawn in the queue).
func (s *Service) DecideAmendment(ctx context.Context, patient, id uuid.UUID, in AmendmentDecision) (Amendment, error) {
	var err error
	switch {
	case in.Outcome != "accepted" && in.Outcome != "denied":
		return Amendment{}, errkind.Visible(ErrInvalidInput, "outcome is accepted or denied")
	case in.Outcome == "denied" && (in.Basis == nil || !slices.Contains(DenialBases, *in.Basis)):
		return Amendment{}, errkind.Visible(ErrInvalidInput,
			"a denial gives its basis: not_created_here, not_in_record_set, not_open_to_access or accurate_and_complete")
	case in.Outcome == "accepted" && in.Basis != nil:
		return Amendment{}, errkind.Visible(ErrInvalidInput, "an acceptance gives no denial basis")
	}
	if in.Statement, err = statement("statement", in.Statement); err != nil {
		return Amendment{}, err
	}
	return s.amendmentStep(ctx, patient, id, "amendment.decide", true, "decision", in.Statement, decisionNotice,
		func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries, c call, ct []byte) (dbsqlc.AppRecordAmendment, map[string]any, error) {
			row, err := q.DecideAmendment(ctx, dbsqlc.DecideAmendmentParams{OrgID: c.p.OrgID, PatientID: patient, ID: id,
				Status: in.Outcome, DenialBasis: in.Basis, DecisionEnc: ct})
			if err != nil {
				return row, nil, err
			}
			d, err := q.GetDSR(ctx, dbsqlc.GetDSRParams{OrgID: c.p.OrgID, ID: row.DsrID})
			if err != nil {
				return row, nil, err
			}
			if _, err := audit.Record(ctx, tx, c.dsrEvent("dsr.close", dsrRow(d).dsr())); err != nil {
				return row, nil, err
			}
			details := map[string]any{"outcome": in.Outcome}
			if in.Basis != nil {
				details["basis"] = *in.Basis
			}
			return row, details, nil
		})
}

// DisagreeAmendment files the patient's one statement of disagreement with
// a denial (the patient of the record). Audited as amendment.disagree.
// Errors: ErrInvalidInput, ErrForbidden, ErrNotFound, ErrConflict (not
// denied, or stated before).
func (s *Service) DisagreeAmendment(ctx context.Context, patient, id uuid.UUID, text string) (Amendment, error) {
	text, err := statement("statement", text)
	if err != nil {
		return Amendment{}, err
	}
	return s.amendmentStep(ctx, patient, id, "amendment.disagree", false, "disagreement", text, nil,
		func(ctx context.Context, _ pgx.Tx, q *dbsqlc.Queries, c call, ct []byte) (dbsqlc.AppRecordAmendment, map[string]any, error) {
			row, err := q.DisagreeAmendment(ctx, dbsqlc.DisagreeAmendmentParams{OrgID: c.p.OrgID, PatientID: patient, ID: id,
				DisagreementEnc: ct})
			return row, nil, err
		})
}

// RebutAmendment files the practice's one rebuttal of a statement of
// disagreement (admins). Audited as amendment.rebut. Errors:
// ErrInvalidInput, ErrForbidden, ErrNotFound, ErrConflict.
func (s *Service) RebutAmendment(ctx context.Context, patient, id uuid.UUID, text string) (Amendment, error) {
	text, err := statement("statement", text)
	if err != nil {
		return Amendment{}, err
	}
	return s.amendmentStep(ctx, patient, id, "amendment.rebut", true, "rebuttal", text, rebuttalNotice,
		func(ctx context.Context, _ pgx.Tx, q *dbsqlc.Queries, c call, ct []byte) (dbsqlc.AppRecordAmendment, map[string]any, error) {
			row, err := q.RebutAmendment(ctx, dbsqlc.RebutAmendmentParams{OrgID: c.p.OrgID, PatientID: patient, ID: id,
				RebuttalEnc: ct})
			return row, nil, err
		})
}

// decisionNotice is the mail that tells the patient of a decision: that
// there is one and what they may do next (§164.526(c)(2), (d)(1)), never
// the request's or the decision's text, which they read signed in.
func decisionNotice(a Amendment, base string) mail.Message {
	if a.Status == "accepted" {
		return mail.Message{Subject: "Your request to amend your health record was accepted",
			Text: "Your practice accepted your request to amend your health record. The amendment is now kept with\n" +
				"your record. Sign in to read it: " + base + "/\n\n" +
				"You may tell the practice who should also receive the amendment (for example another provider\n" +
				"who has your record), and it will make reasonable efforts to send it to them.\n"}
	}
	return mail.Message{Subject: "Your request to amend your health record was denied",
		Text: "Your practice denied your request to amend your health record. Sign in to read the reason it gave:\n" +
			base + "/\n\n" +
			"You may file a written statement of disagreement with the denial in the app; the practice may answer\n" +
			"it, and both then go with that part of your record. If you do not file one, you may ask that your\n" +
			"request and the denial go with any future disclosure of that part of your record. You may also\n" +
			"complain to the practice, or to the Secretary of the U.S. Department of Health and Human Services.\n"}
}

// rebuttalNotice tells the patient that the practice answered their
// statement of disagreement.
func rebuttalNotice(_ Amendment, base string) mail.Message {
	return mail.Message{Subject: "Your practice answered your statement of disagreement",
		Text: "Your practice answered your statement of disagreement with the denial of your request to amend\n" +
			"your health record. Sign in to read it: " + base + "/\n"}
}

// amendmentStep seals text into column of amendment id, runs write and
// audits action in its transaction. An update that touches no row is
// explained: an amendment the caller cannot see is ErrNotFound, one they
// see but may not change ErrForbidden; the guard's refusals of the order
// of steps are ErrConflict with its words. With a notice and a mailer, the
// patient's live patient users are read in the transaction (their number
// goes into the event as notified) and mailed the notice after the
// commit; a mail that fails is logged with ids only and the step stands.
func (s *Service) amendmentStep(ctx context.Context, patient, id uuid.UUID, action string, admin bool, column, text string,
	notice func(a Amendment, base string) mail.Message,
	write func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries, c call, ct []byte) (dbsqlc.AppRecordAmendment, map[string]any, error)) (Amendment, error) {
	c, err := begin(ctx)
	if err != nil {
		return Amendment{}, err
	}
	if c.p.Kind != identity.KindSession || admin && c.p.Role != identity.RoleAdmin || !admin && c.p.Role != identity.RolePatient {
		who := "the patient"
		if admin {
			who = "an admin"
		}
		return Amendment{}, s.denied(ctx, c, c.amendmentEvent(action, patient, id),
			errkind.Visiblef(ErrForbidden, "only %s takes this step", who))
	}
	var out Amendment
	var tell []dbsqlc.PatientUserEmailsRow
	err = s.tx(ctx, c, func(ctx context.Context, tx pgx.Tx, ok *envelope.OrgKeys) error {
		q := dbsqlc.New(tx)
		k, err := writeSealer(ctx, q, ok, c.p.OrgID, patient)
		if err != nil {
			return err
		}
		ct, err := k.Seal([]byte(text), amendmentAD(c.p.OrgID, id, column))
		if err != nil {
			return err
		}
		row, details, err := write(ctx, tx, q, c, ct)
		if errors.Is(err, pgx.ErrNoRows) {
			visible, verr := q.AmendmentVisible(ctx, dbsqlc.AmendmentVisibleParams{OrgID: c.p.OrgID, PatientID: patient, ID: id})
			switch {
			case verr != nil:
				return verr
			case !visible:
				return ErrNotFound
			}
			return ErrForbidden
		}
		if err != nil {
			return err
		}
		if out, err = amendmentFromRow(row, k); err != nil {
			return err
		}
		if notice != nil && s.cfg.Mailer != nil {
			if tell, err = q.PatientUserEmails(ctx, dbsqlc.PatientUserEmailsParams{OrgID: c.p.OrgID, PatientID: patient}); err != nil {
				return err
			}
			if details == nil {
				details = map[string]any{}
			}
			details["notified"] = len(tell)
		}
		e := c.amendmentEvent(action, patient, id)
		e.Details = details
		_, err = audit.Record(ctx, tx, e)
		return err
	})
	if err = mapDSRErr(action, err); err != nil {
		return Amendment{}, s.denied(ctx, c, c.amendmentEvent(action, patient, id), err)
	}
	if len(tell) > 0 {
		// The step has committed: a client that goes away now does not
		// stop its notice (the SMTP sender bounds the exchange itself).
		s.notifyPatient(context.WithoutCancel(ctx), c.p.OrgID, id, tell, notice(out, strings.TrimSuffix(s.cfg.BaseURL, "/")))
	}
	return out, nil
}

// notifyPatient mails m to each of to (addresses sealed with the instance
// keys). Failures are logged with ids only: the step has committed.
func (s *Service) notifyPatient(ctx context.Context, org, about uuid.UUID, to []dbsqlc.PatientUserEmailsRow, m mail.Message) {
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		s.log.ErrorContext(ctx, "amendment notice not sent: instance keys", "org", org, "amendment", about, "err", err)
		return
	}
	for _, u := range to {
		addr, err := inst.Open(u.EmailEnc, keystore.UserEmailAD(u.ID))
		if err != nil {
			s.log.ErrorContext(ctx, "amendment notice not sent: address unreadable", "org", org, "amendment", about,
				"user", u.ID, "err", err)
			continue
		}
		m.To = string(addr)
		if err := s.cfg.Mailer.Send(ctx, m); err != nil {
			s.log.ErrorContext(ctx, "amendment notice not delivered", "org", org, "amendment", about, "user", u.ID, "err", err)
		}
	}
}
