package compliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/postgres"
)

// Instance marks a control whose evidence is the instance's, not the
// org's (the database catalog, the server's TLS): an org admin's report
// (GatherOrg) does not compute it and points to the operator's report.
// It ranks with N/A: it is neither met nor missed in the org's report.
const Instance Status = "INSTANCE"

// instanceNote is the evidence of an instance control in an org's report.
const instanceNote = "instance control — see your operator's report (`ward compliance report`): its evidence is the instance's " +
	"(the database catalog, the server's TLS), not this org's"

// ErrNotAdmin means the bound credential may not read its org's
// compliance facts: only an admin's session (not an API key, a pending or a
// break-glass session) may.
var ErrNotAdmin = errors.New("compliance: only an org admin's session reads the org's compliance report")

// GatherOrg computes the control matrix of one org, the bound credential's
// (an admin's session), from app.org_compliance_facts (migration 00263):
// the controls whose evidence is per org, over the same control functions
// as Gather with the facts of that one org and of the providers it
// enables. The instance's controls (roles and row-level security in the
// catalog, password columns, unique users, TLS) are marked Instance. The
// audit controls read the org's tree, checkpoints and archive from the
// facts; the log is not re-verified event by event here (the operator's
// report does). The read is recorded as org.compliance.read in the same
// transaction, by the function that answers. request is the request id
// for that event.
func GatherOrg(ctx context.Context, db *postgres.DB, cred postgres.Credential, request string, o Options) (*Report, error) {
	o.defaults()
	var raw []byte
	err := db.InTenantTx(ctx, cred, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select app.org_compliance_facts($1)`, request).Scan(&raw)
	})
	if err != nil {
		if postgres.IsCode(err, postgres.CodeInsufficientPrivilege) {
			return nil, fmt.Errorf("%w: %w", ErrNotAdmin, err)
		}
		return nil, fmt.Errorf("compliance: read the org's facts: %w", err)
	}
	var f facts
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("compliance: decode the org's facts: %w", err)
	}
	if len(f.Orgs) != 1 {
		return nil, fmt.Errorf("compliance: the org's facts name %d orgs, want 1", len(f.Orgs))
	}
	return orgReport(f, o), nil
}

// orgReport is the matrix of f's one org.
func orgReport(f facts, o Options) *Report {
	org := f.Orgs[0]
	r := &Report{GeneratedAt: f.Now.UTC(), Orgs: 1, OrgID: &org.ID, Summary: map[Status]int{}}
	if org.Name != nil {
		r.OrgName = *org.Name
	}
	r.Controls = []Control{
		activityReview(f),
		instanceOnly(accessAuthorization(catalog{})),
		loginMonitoring(f),
		instanceOnly(passwordManagement(catalog{})),
		incidentProcedures(f),
		backupPlan(f),
		businessAssociates(f),
		facilityAccess(),
		deviceMedia(),
		disposal(f),
		instanceOnly(accessControl(catalog{})),
		instanceOnly(uniqueUsers(catalog{})),
		emergencyAccess(f),
		automaticLogoff(f, o.MaxIdle),
		encryption(f, o.MaxKeyAge),
		orgAuditControls(f),
		orgIntegrity(f),
		authentication(f),
		instanceOnly(transmission(context.Background(), Options{})),
		retention(f, o.MinRetentionDays, nil),
	}
	for _, c := range r.Controls {
		r.Summary[c.Status]++
	}
	return r
}

// instanceOnly keeps c's citation and title and marks it Instance: its
// evidence is the operator's to show.
func instanceOnly(c Control) Control {
	return Control{ID: c.ID, Safeguard: c.Safeguard, Title: c.Title, Status: Instance, Evidence: []string{instanceNote}}
}

// notVerified says what an org's report does not do.
const notVerified = "this report reads the log's size, signed checkpoints and archive from the database and does not re-verify the log " +
	"event by event (the operator's report does; GET /v1/audit/proof/consistency proves a checkpoint you kept against the log)"

// orgAuditControls is auditControls from the org's facts alone: its log's
// size, newest signed checkpoint and the oldest event no checkpoint
// covers.
func orgAuditControls(f facts) Control {
	c := Control{ID: "164.312(b)", Safeguard: technical, Title: "Audit controls (a verifiable log)", Status: Pass,
		Evidence: []string{"every event is a leaf of the org's hash chain and Merkle tree, written in the transaction that does what it records", notVerified}}
	var unsigned, behind []string
	for _, org := range f.Orgs {
		if org.CheckpointSize != nil && org.CheckpointAt != nil {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %d events, newest signed checkpoint at %d, %s",
				org.label(), org.TreeSize, *org.CheckpointSize, org.CheckpointAt.UTC().Format(time.RFC3339)))
		} else {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %d events, no signed checkpoint", org.label(), org.TreeSize))
		}
		u, b := checkpointFindings(f, org, org.TreeSize)
		unsigned, behind = append(unsigned, u...), append(behind, b...)
	}
	checkpointMarks(&c, unsigned, behind)
	return c
}

// orgIntegrity is integrity from the org's archive facts; the log itself
// is not re-verified.
func orgIntegrity(f facts) Control {
	c := integrity(f, nil, true, nil)
	c.Evidence = append(c.Evidence, notVerified)
	return c
}
