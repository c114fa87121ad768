package sink

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
)

// eventJSON renders one event in the sink's format: OCSF, a FHIR
// AuditEvent, or the JSON Lines record (canonical event, seq, hashes).
func eventJSON(org uuid.UUID, format string, r *audit.Row, opts export.Options) (json.RawMessage, error) {
	switch format {
	case "fhir":
		return json.Marshal(export.ToAuditEvent(org, r, opts))
	case "jsonl":
		return export.JSONLine(r), nil
	}
	return json.Marshal(export.ToOCSF(org, r, opts))
}
