package export

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/audit"
)

// OCSFVersion is the OCSF release the ocsf format follows (pinned: the
// tests validate against a schema generated from exactly this release).
const OCSFVersion = "1.8.0"

// OCSF class uids Ward maps to.
const (
	ocsfAuthentication   = 3002 // IAM
	ocsfEntityManagement = 3004 // IAM
	ocsfAPIActivity      = 6003 // Application Activity
)

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

type ocsfMetadata struct {
	Product        ocsfProduct `json:"product"`
	Version        string      `json:"version"`
	UID            string      `json:"uid"`
	TenantUID      string      `json:"tenant_uid"`
	Sequence       int64       `json:"sequence"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LogName        string      `json:"log_name"`
	LogProvider    string      `json:"log_provider,omitempty"`
}

type ocsfUser struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type,omitempty"`
}

type ocsfSession struct {
	UID    string `json:"uid,omitempty"`
	Issuer string `json:"issuer,omitempty"`
}

type ocsfActor struct {
	User    *ocsfUser    `json:"user,omitempty"`
	Session *ocsfSession `json:"session,omitempty"`
	AppName string       `json:"app_name,omitempty"`
}

type ocsfEndpoint struct {
	IP      string `json:"ip,omitempty"`
	Name    string `json:"name,omitempty"`
	SvcName string `json:"svc_name,omitempty"`
}

type ocsfAPI struct {
	Operation string            `json:"operation"`
	Request   *ocsfAPIRequest   `json:"request,omitempty"`
	Service   *ocsfNamedService `json:"service,omitempty"`
}

type ocsfAPIRequest struct {
	UID string `json:"uid"`
}

type ocsfNamedService struct {
	Name string `json:"name"`
}

type ocsfResource struct {
	UID  string `json:"uid"`
	Type string `json:"type,omitempty"`
}

type ocsfManagedEntity struct {
	UID  string `json:"uid,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

type ocsfHTTPRequest struct {
	UserAgent string `json:"user_agent,omitempty"`
	UID       string `json:"uid,omitempty"`
}

// OCSFEvent is one event in OCSF: the base attributes and those of the
// three classes Ward maps to (unused ones are omitted).
type OCSFEvent struct {
	ActivityID   int          `json:"activity_id"`
	ActivityName string       `json:"activity_name,omitempty"`
	CategoryUID  int          `json:"category_uid"`
	ClassUID     int          `json:"class_uid"`
	TypeUID      int          `json:"type_uid"`
	SeverityID   int          `json:"severity_id"`
	Time         int64        `json:"time"`
	Metadata     ocsfMetadata `json:"metadata"`
	StatusID     int          `json:"status_id"`
	Status       string       `json:"status"`
	StatusDetail string       `json:"status_detail,omitempty"`
	Message      string       `json:"message,omitempty"`
	// Authentication
	User    *ocsfUser         `json:"user,omitempty"`
	IsMFA   *bool             `json:"is_mfa,omitempty"`
	Session *ocsfSession      `json:"session,omitempty"`
	Service *ocsfNamedService `json:"service,omitempty"`
	// Entity Management
	Entity *ocsfManagedEntity `json:"entity,omitempty"`
	// API Activity (and the actor of the others)
	Actor       *ocsfActor       `json:"actor,omitempty"`
	API         *ocsfAPI         `json:"api,omitempty"`
	SrcEndpoint *ocsfEndpoint    `json:"src_endpoint,omitempty"`
	HTTPRequest *ocsfHTTPRequest `json:"http_request,omitempty"`
	Resources   []ocsfResource   `json:"resources,omitempty"`
	Unmapped    map[string]any   `json:"unmapped"`
}

// ocsfClass maps an action to its class and activity.
func ocsfClass(action string) (class, activity int, name string) {
	switch action {
	case "auth.signin", "auth.mfa.verify", "auth.recovery_code.use":
		return ocsfAuthentication, 1, "Logon"
	case "session.revoke":
		return ocsfAuthentication, 2, "Logoff"
	case "auth.link.request", "auth.token_reuse", "auth.passkey.sign_count_regression":
		return ocsfAuthentication, 99, action
	case "org.create", "membership.add", "auth.api_key.create", "auth.passkey.register", "auth.mfa.enrol",
		"auth.recovery_codes.generate", "patient_link.create", "care_team.assign":
		return ocsfEntityManagement, 1, "Create"
	case "org.session_policy.read", "org.compliance.read":
		return ocsfEntityManagement, 2, "Read"
	case "org.session_policy.update", "org.assurance_policy.update", "membership.update", "auth.passkey.rename",
		"patient.key":
		return ocsfEntityManagement, 3, "Update"
	case "membership.revoke", "auth.api_key.revoke", "auth.passkey.delete", "care_team.unassign", "org.shred", "org.shred_erase",
		"patient.shred":
		return ocsfEntityManagement, 4, "Delete"
	case "patient.create", "entry.create":
		return ocsfAPIActivity, 1, "Create"
	case "patient.update":
		return ocsfAPIActivity, 3, "Update"
	case "patient.read", "patient.list", "patient.search", "entry.list", "member.list", "session.list",
		"api_key.list", "passkey.list", "audit.read", "audit.export", "patient.access_report":
		return ocsfAPIActivity, 2, "Read"
	}
	return ocsfAPIActivity, 99, action
}

// ToOCSF maps one event to OCSF.
func ToOCSF(org uuid.UUID, r *audit.Row, o Options) OCSFEvent {
	class, activity, name := ocsfClass(r.Action)
	e := OCSFEvent{
		ActivityID: activity, ActivityName: name, CategoryUID: class / 1000, ClassUID: class,
		TypeUID: class*100 + activity, SeverityID: 1, Time: r.At.UnixMilli(),
		Metadata: ocsfMetadata{Product: ocsfProduct{Name: "Ward", VendorName: "Ward", Version: o.Version},
			Version: OCSFVersion, UID: org.String() + ":" + itoa(r.Seq), TenantUID: org.String(), Sequence: r.Seq,
			CorrelationUID: deref(r.Request), LogName: "audit", LogProvider: o.site()},
		Unmapped: map[string]any{"action": r.Action, "outcome": r.Outcome, "actor_kind": r.ActorKind,
			"leaf_hash": hex.EncodeToString(r.LeafHash), "chain_hash": hex.EncodeToString(r.ChainHash),
			"origin": audit.Origin(org), "break_glass": r.BreakGlass},
	}
	if r.Outcome == audit.OutcomeSuccess {
		e.StatusID, e.Status = 1, "Success"
	} else {
		e.StatusID, e.Status, e.StatusDetail = 2, "Failure", r.Outcome
	}
	if len(r.Details) > 0 && string(r.Details) != "{}" {
		e.Unmapped["details"] = json.RawMessage(r.Details)
	}
	if d := disclosureOf(r); d.Recipient != "" {
		e.Unmapped["disclosure"] = d
	}
	var user *ocsfUser
	if r.Actor.Valid {
		user = &ocsfUser{UID: r.Actor.UUID.String(), TypeID: 1, Type: "User"}
		if r.ActorKind == "system" {
			user.TypeID, user.Type = 3, "System"
		}
	}
	var sess *ocsfSession
	if r.Session.Valid {
		sess = &ocsfSession{UID: r.Session.UUID.String(), Issuer: o.site()}
	}
	actor := &ocsfActor{User: user, Session: sess}
	if user == nil && sess == nil {
		actor.AppName = o.site()
	}
	src := &ocsfEndpoint{IP: deref(r.IP)}
	if src.IP == "" {
		src = &ocsfEndpoint{Name: "unknown"}
	}
	switch class {
	case ocsfAuthentication:
		e.User = user
		if e.User == nil {
			e.User = &ocsfUser{UID: "anonymous", TypeID: 0, Type: "Unknown"}
		}
		e.Session, e.Service, e.Actor, e.SrcEndpoint = sess, &ocsfNamedService{Name: o.site()}, actor, src
		if r.Action == "auth.mfa.verify" || r.Action == "auth.recovery_code.use" {
			t := true
			e.IsMFA = &t
		}
	case ocsfEntityManagement:
		e.Entity = &ocsfManagedEntity{UID: nullID(r.ObjectID), Type: deref(r.ObjectType)}
		if e.Entity.UID == "" {
			e.Entity = &ocsfManagedEntity{Name: strings.SplitN(r.Action, ".", 2)[0], UID: org.String()}
		}
		e.Actor, e.SrcEndpoint = actor, src
	default:
		e.Actor, e.SrcEndpoint = actor, src
		e.API = &ocsfAPI{Operation: r.Action, Service: &ocsfNamedService{Name: o.site()}}
		if r.Request != nil && *r.Request != "" {
			e.API.Request = &ocsfAPIRequest{UID: *r.Request}
		}
		if r.Patient.Valid {
			e.Resources = append(e.Resources, ocsfResource{UID: "Patient/" + r.Patient.UUID.String(), Type: "Patient"})
		}
		if r.ObjectID.Valid && deref(r.ObjectType) != "patient" {
			e.Resources = append(e.Resources, ocsfResource{UID: r.ObjectID.UUID.String(), Type: deref(r.ObjectType)})
		}
		for _, id := range r.Results {
			res := ocsfResource{UID: id.String()}
			if patientResults(r.Action) {
				res = ocsfResource{UID: "Patient/" + id.String(), Type: "Patient"}
			}
			e.Resources = append(e.Resources, res)
		}
	}
	if r.UserAgent != nil && *r.UserAgent != "" && class == ocsfAPIActivity {
		e.HTTPRequest = &ocsfHTTPRequest{UserAgent: *r.UserAgent, UID: deref(r.Request)}
	}
	return e
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type ocsfEncoder struct {
	org  uuid.UUID
	opts Options
}

func (e *ocsfEncoder) begin(*bufio.Writer) error { return nil }
func (e *ocsfEncoder) end(*bufio.Writer) error   { return nil }

func (e *ocsfEncoder) event(w *bufio.Writer, r *audit.Row) error {
	b, err := json.Marshal(ToOCSF(e.org, r, e.opts))
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}
