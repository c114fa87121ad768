package records

import (
	"context"
	"errors"

	"github.com/wardhq/ward/internal/compliance"
)

// ComplianceReport is the HIPAA control matrix of the caller's org
// (compliance.GatherOrg, docs/compliance.md): an admin's session only, as
// the database decides from the bound credential. The read is recorded as
// org.compliance.read by the function that answers; a refusal the
// database makes (a break-glass session, a role changed since the route's
// check) is recorded here. Errors: ErrForbidden.
func (s *Service) ComplianceReport(ctx context.Context) (*compliance.Report, error) {
	c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	r, err := compliance.GatherOrg(ctx, s.db, c.cred(), c.req.ID, compliance.Options{})
	if errors.Is(err, compliance.ErrNotAdmin) {
		return nil, s.denied(ctx, c, c.event("org.compliance.read", "org", c.p.OrgID), ErrForbidden)
	}
	if err != nil {
		return nil, mapErr("compliance report", err)
	}
	return r, nil
}
