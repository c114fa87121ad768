package export

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

// FHIR R4 AuditEvent following the IHE Basic Audit Log Patterns (BALP):
// docs/audit-exports.md has the mapping as a table.

// Code systems and profiles the mapping uses.
const (
	sysEventType    = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysDICOM        = "http://dicom.nema.org/resources/ontology/DCM"
	sysRestful      = "http://hl7.org/fhir/restful-interaction"
	sysParticipant  = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysEntityType   = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole   = "http://terminology.hl7.org/CodeSystem/object-role"
	sysSourceType   = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysBALPEntity   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	sysWardAction   = "urn:ward:audit-action"
	sysWardEntity   = "urn:ward:audit-entity"
	sysURI          = "urn:ietf:rfc:3986"
	balpProfileBase = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
)

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type network struct {
	Address string `json:"address,omitempty"`
	Type    string `json:"type,omitempty"`
}

type agent struct {
	Type         *concept   `json:"type,omitempty"`
	Who          *reference `json:"who,omitempty"`
	Requestor    bool       `json:"requestor"`
	Network      *network   `json:"network,omitempty"`
	PurposeOfUse []concept  `json:"purposeOfUse,omitempty"`
}

type source struct {
	Site     string    `json:"site,omitempty"`
	Observer reference `json:"observer"`
	Type     []coding  `json:"type,omitempty"`
}

type detail struct {
	Type              string `json:"type"`
	ValueString       string `json:"valueString,omitempty"`
	ValueBase64Binary string `json:"valueBase64Binary,omitempty"`
}

type entity struct {
	What        *reference `json:"what,omitempty"`
	Type        *coding    `json:"type,omitempty"`
	Role        *coding    `json:"role,omitempty"`
	Description string     `json:"description,omitempty"`
	Query       string     `json:"query,omitempty"`
	Detail      []detail   `json:"detail,omitempty"`
}

type meta struct {
	Profile []string `json:"profile,omitempty"`
}

// AuditEvent is the FHIR R4 resource.
type AuditEvent struct {
	ResourceType   string    `json:"resourceType"`
	ID             string    `json:"id"`
	Meta           *meta     `json:"meta,omitempty"`
	Type           coding    `json:"type"`
	Subtype        []coding  `json:"subtype,omitempty"`
	Action         string    `json:"action,omitempty"`
	Recorded       string    `json:"recorded"`
	Outcome        string    `json:"outcome"`
	OutcomeDesc    string    `json:"outcomeDesc,omitempty"`
	PurposeOfEvent []concept `json:"purposeOfEvent,omitempty"`
	Agent          []agent   `json:"agent"`
	Source         source    `json:"source"`
	Entity         []entity  `json:"entity,omitempty"`
}

// fhirKind is how an action maps onto AuditEvent.type, subtype, action
// and the BALP profile.
type fhirKind struct {
	typ     coding
	subtype *coding
	action  string // C R U D E
	profile string // BALP profile name without the prefix; "Patient" prefix added with a patient
}

var (
	typeRest     = coding{System: sysEventType, Code: "rest", Display: "Restful Operation"}
	typeExport   = coding{System: sysDICOM, Code: "110106", Display: "Export"}
	typeAuth     = coding{System: sysDICOM, Code: "110114", Display: "User Authentication"}
	typeSecurity = coding{System: sysDICOM, Code: "110113", Display: "Security Alert"}
)

func restful(code string) *coding { return &coding{System: sysRestful, Code: code} }

// kindOf maps an action to its FHIR shape.
func kindOf(action string) fhirKind {
	switch action {
	case "auth.signin":
		return fhirKind{typ: typeAuth, subtype: &coding{System: sysDICOM, Code: "110122", Display: "Login"}, action: "E"}
	case "session.revoke":
		return fhirKind{typ: typeAuth, subtype: &coding{System: sysDICOM, Code: "110123", Display: "Logout"}, action: "E"}
	case "membership.add", "membership.update", "membership.revoke":
		return fhirKind{typ: typeSecurity, subtype: &coding{System: sysDICOM, Code: "110136", Display: "Security Roles Changed"}, action: "U"}
	case "audit.export":
		return fhirKind{typ: typeExport, action: "R"}
	case "patient.read":
		return fhirKind{typ: typeRest, subtype: restful("read"), action: "R", profile: "Read"}
	case "patient.create", "entry.create":
		return fhirKind{typ: typeRest, subtype: restful("create"), action: "C", profile: "Create"}
	case "patient.update", "care_team.assign", "care_team.unassign", "patient_link.create":
		return fhirKind{typ: typeRest, subtype: restful("update"), action: "U", profile: "Update"}
	case "patient.list", "patient.search", "entry.list", "member.list", "session.list", "api_key.list",
		"passkey.list", "audit.read", "patient.access_report", "org.session_policy.read", "org.compliance.read":
		return fhirKind{typ: typeRest, subtype: restful("search-type"), action: "E", profile: "Query"}
	}
	if strings.HasPrefix(action, "auth.") || strings.HasPrefix(action, "org.") {
		return fhirKind{typ: typeSecurity, action: "E"}
	}
	return fhirKind{typ: typeRest, action: "E"}
}

// fhirOutcome maps an outcome to AuditEvent.outcome: 0 success, 4 minor
// failure (a refusal), 8 serious failure.
func fhirOutcome(o string) string {
	switch o {
	case audit.OutcomeSuccess:
		return "0"
	case audit.OutcomeDenied:
		return "4"
	}
	return "8"
}

func urnUUID(id uuid.UUID) *identifier {
	return &identifier{System: sysURI, Value: "urn:uuid:" + id.String()}
}

// ToAuditEvent maps one event to a FHIR R4 AuditEvent.
func ToAuditEvent(org uuid.UUID, r *audit.Row, o Options) AuditEvent {
	k := kindOf(r.Action)
	e := AuditEvent{
		ResourceType: "AuditEvent",
		ID:           org.String() + "-" + strconv.FormatInt(r.Seq, 10),
		Type:         k.typ,
		Action:       k.action,
		Recorded:     r.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Outcome:      fhirOutcome(r.Outcome),
	}
	if k.subtype != nil {
		e.Subtype = append(e.Subtype, *k.subtype)
	}
	e.Subtype = append(e.Subtype, coding{System: sysWardAction, Code: r.Action})
	if k.profile != "" {
		p := k.profile
		if r.Patient.Valid || (k.profile == "Query" && len(r.Results) > 0 && patientResults(r.Action)) {
			p = "Patient" + p
		}
		e.Meta = &meta{Profile: []string{balpProfileBase + p}}
	}
	if r.Outcome != audit.OutcomeSuccess {
		e.OutcomeDesc = r.Outcome
		var d struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(r.Details, &d) == nil && d.Reason != "" {
			e.OutcomeDesc += ": " + d.Reason
		}
	}
	// The user: who asked (BALP: information recipient, the requestor).
	disc := disclosureOf(r)
	if r.Actor.Valid {
		a := agent{Type: &concept{Coding: []coding{{System: sysParticipant, Code: "IRCP", Display: "information recipient"}}},
			Who: &reference{Identifier: urnUUID(r.Actor.UUID), Display: r.ActorKind}, Requestor: true}
		if disc.Purpose != "" {
			a.PurposeOfUse = []concept{{Text: disc.Purpose}}
		}
		e.Agent = append(e.Agent, a)
	}
	// The client (the data's destination) and this server (its source).
	client := agent{Type: &concept{Coding: []coding{{System: sysDICOM, Code: "110152", Display: "Destination Role ID"}}},
		Requestor: !r.Actor.Valid}
	if r.IP != nil && *r.IP != "" {
		client.Network = &network{Address: *r.IP, Type: "2"}
	}
	if r.UserAgent != nil && *r.UserAgent != "" {
		client.Who = &reference{Display: *r.UserAgent}
	}
	e.Agent = append(e.Agent, client,
		agent{Type: &concept{Coding: []coding{{System: sysDICOM, Code: "110153", Display: "Source Role ID"}}},
			Who: &reference{Display: o.site()}})
	if disc.Recipient != "" {
		e.Agent = append(e.Agent, agent{Type: &concept{Coding: []coding{{System: sysDICOM, Code: "110152",
			Display: "Destination Role ID"}}, Text: "disclosure recipient"}, Who: &reference{Display: disc.Recipient}})
		e.PurposeOfEvent = []concept{{Text: disc.Purpose}}
	}
	e.Source = source{Site: o.site(), Observer: reference{Display: o.site()},
		Type: []coding{{System: sysSourceType, Code: "4", Display: "Application Server"}}}

	if r.Patient.Valid {
		e.Entity = append(e.Entity, entity{What: &reference{Reference: "Patient/" + r.Patient.UUID.String()},
			Type: &coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: &coding{System: sysObjectRole, Code: "1", Display: "Patient"}})
	}
	if r.ObjectID.Valid {
		e.Entity = append(e.Entity, entity{What: &reference{Type: fhirType(deref(r.ObjectType)), Identifier: urnUUID(r.ObjectID.UUID)},
			Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role: &coding{System: sysObjectRole, Code: "4", Display: "Domain Resource"}, Description: deref(r.ObjectType)})
	}
	if k.profile == "Query" || len(r.Results) > 0 {
		// The query as BALP records it: its parameters, base64. Ward's
		// details hold the list's non-PHI parameters, never search text.
		details := r.Details
		if len(details) == 0 {
			details = []byte("{}")
		}
		e.Entity = append(e.Entity, entity{Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:  &coding{System: sysObjectRole, Code: "24", Display: "Query"},
			Query: base64.StdEncoding.EncodeToString(details)})
		for _, id := range r.Results {
			if patientResults(r.Action) {
				e.Entity = append(e.Entity, entity{What: &reference{Reference: "Patient/" + id.String()},
					Type: &coding{System: sysEntityType, Code: "1", Display: "Person"},
					Role: &coding{System: sysObjectRole, Code: "1", Display: "Patient"}})
			} else {
				e.Entity = append(e.Entity, entity{What: &reference{Identifier: urnUUID(id)},
					Type: &coding{System: sysEntityType, Code: "2", Display: "System Object"},
					Role: &coding{System: sysObjectRole, Code: "4", Display: "Domain Resource"}})
			}
		}
	}
	if r.Request != nil && *r.Request != "" {
		e.Entity = append(e.Entity, entity{What: &reference{Identifier: &identifier{Value: *r.Request}},
			Type: &coding{System: sysBALPEntity, Code: "XrequestId", Display: "request id"}})
	}
	// The event's place in the log: what a checker recomputes.
	e.Entity = append(e.Entity, entity{Type: &coding{System: sysWardEntity, Code: "log-position", Display: "audit log position"},
		Description: audit.Origin(org),
		Detail: []detail{{Type: "seq", ValueString: strconv.FormatInt(r.Seq, 10)},
			{Type: "leafHash", ValueBase64Binary: base64.StdEncoding.EncodeToString(r.LeafHash)},
			{Type: "chainHash", ValueBase64Binary: base64.StdEncoding.EncodeToString(r.ChainHash)},
			{Type: "canonical", ValueBase64Binary: base64.StdEncoding.EncodeToString(r.Canonical)}}})
	return e
}

// patientResults reports whether action's results are patient ids.
func patientResults(action string) bool {
	return action == "patient.list" || action == "patient.search"
}

// fhirType is the FHIR resource type of a Ward object type, if one fits.
func fhirType(objectType string) string {
	switch objectType {
	case "patient":
		return "Patient"
	case "user", "member":
		return "Practitioner"
	case "org":
		return "Organization"
	case "document":
		return "DocumentReference"
	}
	return ""
}

type fhirEncoder struct {
	org    uuid.UUID
	opts   Options
	bundle bool
	n      int64
}

func (e *fhirEncoder) begin(w *bufio.Writer) error {
	if !e.bundle {
		return nil
	}
	now := e.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	_, err := w.WriteString(`{"resourceType":"Bundle","id":"` + e.org.String() + `-export","type":"collection","timestamp":"` +
		now.UTC().Format("2006-01-02T15:04:05.000Z") + `","entry":[`)
	return err
}

func (e *fhirEncoder) event(w *bufio.Writer, r *audit.Row) error {
	ae := ToAuditEvent(e.org, r, e.opts)
	if e.bundle {
		if e.n > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n")
		e.n++
		b, err := json.Marshal(struct {
			FullURL  string     `json:"fullUrl"`
			Resource AuditEvent `json:"resource"`
		}{"urn:ward:audit-event:" + ae.ID, ae})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	b, err := json.Marshal(ae)
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}

func (e *fhirEncoder) end(w *bufio.Writer) error {
	if !e.bundle {
		return nil
	}
	_, err := w.WriteString("\n]}\n")
	return err
}

// disclosure is an event's recipient and purpose (§164.528).
type disclosure struct {
	Recipient string `json:"recipient"`
	Purpose   string `json:"purpose"`
}

func disclosureOf(r *audit.Row) disclosure {
	var d disclosure
	if len(r.Disclosure) > 0 {
		_ = json.Unmarshal(r.Disclosure, &d) // audit.append checked its shape
	}
	return d
}
