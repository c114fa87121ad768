package export

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

// CSVColumns are the columns of a CSV export, in order (docs/audit-exports.md
// describes each).
var CSVColumns = []string{"seq", "at", "action", "outcome", "actor_id", "actor_kind", "session_id",
	"credential_kind", "credential_id", "device", "object_type", "object_id", "patient_id", "case_id",
	"result_ids", "request_id", "ip", "user_agent", "break_glass", "disclosure_recipient", "disclosure_purpose",
	"details", "leaf_hash", "chain_hash"}

type csvEncoder struct {
	rec []string
}

func newCSVEncoder() *csvEncoder { return &csvEncoder{rec: make([]string, len(CSVColumns))} }

func (e *csvEncoder) begin(w *bufio.Writer) error { return writeCSV(w, CSVColumns) }
func (e *csvEncoder) end(*bufio.Writer) error     { return nil }

func (e *csvEncoder) event(w *bufio.Writer, r *audit.Row) error {
	rec := e.rec
	rec[0] = strconv.FormatInt(r.Seq, 10)
	rec[1] = r.At.UTC().Format(time.RFC3339Nano)
	rec[2], rec[3] = r.Action, r.Outcome
	rec[4], rec[5], rec[6] = nullID(r.Actor), r.ActorKind, nullID(r.Session)
	rec[7], rec[8], rec[9] = deref(r.CredentialKind), nullID(r.Credential), deref(r.Device)
	rec[10], rec[11], rec[12], rec[13] = deref(r.ObjectType), nullID(r.ObjectID), nullID(r.Patient), nullID(r.Case)
	ids := make([]string, len(r.Results))
	for i, id := range r.Results {
		ids[i] = id.String()
	}
	rec[14] = strings.Join(ids, " ")
	rec[15], rec[16], rec[17] = deref(r.Request), deref(r.IP), deref(r.UserAgent)
	rec[18] = strconv.FormatBool(r.BreakGlass)
	d := disclosureOf(r)
	rec[19], rec[20] = d.Recipient, d.Purpose
	rec[21] = string(r.Details)
	if rec[21] == "" {
		rec[21] = "{}"
	}
	rec[22], rec[23] = hex.EncodeToString(r.LeafHash), hex.EncodeToString(r.ChainHash)
	for i := range rec {
		rec[i] = SafeCell(rec[i])
	}
	return writeCSV(w, rec)
}

// writeCSV writes one RFC 4180 record (CRLF line ends).
func writeCSV(w *bufio.Writer, rec []string) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(rec); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell returns s as a spreadsheet shows it without running it: a cell
// that starts with =, +, -, @, a tab or a carriage return (what Excel,
// LibreOffice and Google Sheets read as a formula or strip before one) is
// prefixed with an apostrophe, as OWASP's CSV injection guidance advises.
// Other cells are unchanged.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func nullID(id uuid.NullUUID) string {
	if !id.Valid {
		return ""
	}
	return id.UUID.String()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
