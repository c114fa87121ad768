package compliance

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The controls, in the order of the Security Rule: administrative
// (§164.308), physical (§164.310), technical (§164.312), organizational
// (§164.314, with §164.308(b)) and documentation (§164.316).

const (
	administrative = "Administrative"
	physical       = "Physical"
	technical      = "Technical"
	documentation  = "Documentation"
)

func listed(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
}

// maxDeliveryLag is how long an audit sink may leave an event undelivered
// and still count as streaming the log.
const maxDeliveryLag = time.Hour

func activityReview(f facts) Control {
	c := Control{ID: "164.308(a)(1)(ii)(D)", Safeguard: administrative, Title: "Information system activity review", Status: Pass}
	live := liveOrgs(f)
	var without, failing []string
	for _, o := range live {
		// A sink counts while it delivers: not failing, and nothing it has
		// not delivered older than maxDeliveryLag.
		delivering := 0
		var last *time.Time
		for _, k := range o.Sinks {
			if k.LastSuccessAt != nil && (last == nil || k.LastSuccessAt.After(*last)) {
				last = k.LastSuccessAt
			}
			if !k.Failing && (k.UndeliveredSince == nil || f.Now.Sub(*k.UndeliveredSince) <= maxDeliveryLag) {
				delivering++
			}
		}
		switch {
		case len(o.Sinks) == 0:
			without = append(without, o.label())
		case delivering == 0:
			when := "never delivered"
			if last != nil {
				when = "last delivered " + last.UTC().Format(time.RFC3339)
			}
			failing = append(failing, fmt.Sprintf("%s (%s)", o.label(), when))
		}
	}
	c.Evidence = append(c.Evidence,
		"every access to PHI, sign-in and administrative change is an event in its org's audit log, written in the transaction that does it",
		"`ward audit export` produces any org's log as OCSF, FHIR AuditEvent, CSV or JSON lines for review on demand")
	switch {
	case len(live) == 0:
		c.Status = NA
		c.Evidence = append(c.Evidence, "no org has active members yet")
		return c
	case len(without) == 0 && len(failing) == 0:
		c.Evidence = append(c.Evidence, fmt.Sprintf("all %s stream their log to an audit sink that is delivering", plural(len(live), "org", "orgs")))
		return c
	}
	c.Status = Partial
	if len(without) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs stream their log to no enabled audit sink (SIEM): %s",
			len(without), len(live), listed(without, 5)))
	}
	if len(failing) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs have only audit sinks that fail or are more than %s behind: %s",
			len(failing), len(live), maxDeliveryLag, listed(failing, 5)))
	}
	return c
}

func accessAuthorization(cat catalog) Control {
	c := Control{ID: "164.308(a)(4)(ii)(B)", Safeguard: administrative, Title: "Access authorization (least-privilege database roles)", Status: Pass}
	switch {
	case !cat.AppRole.Exists:
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the server's role ward_app does not exist: the schema is not Ward's")
		return c
	case cat.AppRole.Super || cat.AppRole.BypassRLS:
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the server's role ward_app is a superuser or has BYPASSRLS: row-level security does not bind it")
	case len(cat.AppBypass) > 0:
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the server's role ward_app is a member of roles that bypass row-level security or create roles: "+listed(cat.AppBypass, 5))
	default:
		c.Evidence = append(c.Evidence, "the server's role ward_app is neither superuser nor BYPASSRLS, nor a member of a role that is")
	}
	if cat.AppRole.CreateRole {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the server's role ward_app has CREATEROLE: it may grant itself other roles")
	}
	if len(cat.AppOwns) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "ward_app owns tables, itself or through a role it is a member of (an owner may drop their policies): "+listed(cat.AppOwns, 5))
	} else {
		c.Evidence = append(c.Evidence, "ward_app owns no table, itself or through a role")
	}
	if len(cat.Bypass) > 0 {
		c.Evidence = append(c.Evidence, "login roles that bypass row-level security (operators; none is the server's): "+listed(cat.Bypass, 8))
	}
	return c
}

func loginMonitoring(f facts) Control {
	p := f.InstancePolicy
	c := Control{ID: "164.308(a)(5)(ii)(C)", Safeguard: administrative, Title: "Log-in monitoring", Status: Pass}
	// The actions a sign-in records, as the database registers them: an
	// action it does not know cannot be written.
	for _, want := range []string{"auth.signin", "auth.mfa.verify", "auth.link.request"} {
		if !slices.Contains(f.AuthActions, want) {
			c.Status = Gap
			c.Evidence = append(c.Evidence, "the audit log has no action "+want+": those attempts are not recorded")
		}
	}
	if c.Status == Pass {
		c.Evidence = append(c.Evidence, fmt.Sprintf("sign-ins, failed sign-ins, link requests and second-factor checks are audit events of their org (%d auth.* actions registered)",
			len(f.AuthActions)))
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("sign-in links are limited in the database: %d per address per source and %d per source per window; a link lives %d minutes",
		p.LinkMaxPerAddress, p.LinkMaxPerSource, p.LinkTTLMin))
	return c
}

func passwordManagement(cat catalog) Control {
	c := Control{ID: "164.308(a)(5)(ii)(D)", Safeguard: administrative, Title: "Password management", Status: NA}
	if len(cat.Passwords) > 0 {
		c.Status = Partial
		c.Evidence = append(c.Evidence, "columns named like a password exist: "+listed(cat.Passwords, 5))
		return c
	}
	c.Evidence = append(c.Evidence, "Ward stores no passwords (no column of its schema holds one): members sign in with email links, "+
		"passkeys, TOTP and SSO")
	return c
}

// incidentProcedures is PARTIAL at best: Ward holds the record and the
// tools; the response procedure around them is the organization's. Its
// evidence is what the database shows of the tools' use: breach scopes and
// credential revocations in the last year, and break-glass activations no
// admin has reviewed. A log that does not register the breach actions has
// no tools to use (GAP).
func incidentProcedures(f facts) Control {
	c := Control{ID: "164.308(a)(6)(ii)", Safeguard: administrative, Title: "Security incident procedures (response and reporting)", Status: Partial,
		Evidence: []string{
			"the audit log (verifiable, signed checkpoints) and break-glass activations awaiting review are the record an investigation starts from",
		}}
	var missing []string
	for _, want := range []string{"breach.scope", "breach.revoke"} {
		if !slices.Contains(f.BreachActions, want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the audit log has no action "+strings.Join(missing, ", ")+": the breach tools are not installed (run ward migrate)")
		return c
	}
	c.Evidence = append(c.Evidence, "an org's admin scopes a breach from the log (POST /v1/compliance/breach/scope) and revokes its credentials in one call "+
		"(POST /v1/compliance/breach/revoke), each an audit event; the response procedure around them is the organization's")
	live := liveOrgs(f)
	if len(live) == 0 {
		c.Evidence = append(c.Evidence, "no org has active members yet")
		return c
	}
	var used, unreviewed []string
	for _, o := range live {
		if o.BreachScopesYear > 0 || o.BreachRevokesYear > 0 {
			used = append(used, fmt.Sprintf("%s: %s, %s", o.label(), plural(o.BreachScopesYear, "scope", "scopes"),
				plural(o.BreachRevokesYear, "revocation", "revocations")))
		}
		if o.BreakGlassUnreviewed > 0 {
			since := ""
			if o.BreakGlassUnreviewedSince != nil {
				since = ", the oldest activated " + o.BreakGlassUnreviewedSince.UTC().Format(time.RFC3339)
			}
			unreviewed = append(unreviewed, fmt.Sprintf("%s: %s%s", o.label(), plural(o.BreakGlassUnreviewed, "activation", "activations"), since))
		}
	}
	if len(used) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs used the breach tools in the last 365 days (breach.scope, breach.revoke events): %s",
			len(used), len(live), listed(used, 5)))
	} else {
		c.Evidence = append(c.Evidence, fmt.Sprintf("no org (of %d) scoped a breach or revoked its credentials in the last 365 days", len(live)))
	}
	if len(unreviewed) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs have break-glass activations awaiting review: %s",
			len(unreviewed), len(live), listed(unreviewed, 5)))
	} else {
		c.Evidence = append(c.Evidence, "no break-glass activation awaits review")
	}
	return c
}

func backupPlan(f facts) Control {
	c := Control{ID: "164.308(a)(7)(ii)(A)", Safeguard: administrative, Title: "Data backup plan", Status: NA,
		Evidence: []string{"the operator backs up PostgreSQL and the document store; Ward cannot observe those backups"}}
	var archived int64
	for _, o := range f.Orgs {
		archived += o.ArchivedSize
	}
	if archived > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("the audit log is also copied outside the database: %d events archived", archived))
	}
	return c
}

func businessAssociates(f facts) Control {
	c := Control{ID: "164.308(b)(1), 164.314(a)", Safeguard: administrative, Title: "Business associate contracts (LLM subprocessors)", Status: Pass}
	enabled := 0
	for _, p := range f.Providers {
		if p.EnabledBy == 0 {
			continue
		}
		enabled++
		switch {
		case p.BAASignedAt == nil || !p.BAARef:
			c.Status = worst(c.Status, Partial)
			c.Evidence = append(c.Evidence, fmt.Sprintf("provider %s is enabled by %s and has no executed BAA on file: the gateway refuses every call to it",
				p.Name, plural(p.EnabledBy, "org", "orgs")))
		case !p.ZeroRetention:
			c.Status = worst(c.Status, Partial)
			c.Evidence = append(c.Evidence, fmt.Sprintf("provider %s is enabled by %s without a zero-retention attestation: the gateway refuses every call to it",
				p.Name, plural(p.EnabledBy, "org", "orgs")))
		default:
			c.Evidence = append(c.Evidence, fmt.Sprintf("provider %s: BAA executed %s, zero retention attested, %s, enabled by %s",
				p.Name, p.BAASignedAt.UTC().Format(time.DateOnly), plural(p.Models, "model allowed", "models allowed"),
				plural(p.EnabledBy, "org", "orgs")))
		}
	}
	if enabled == 0 {
		c.Status = NA
		c.Evidence = append(c.Evidence, fmt.Sprintf("no org enables an LLM provider (%s registered): no PHI leaves through the gateway",
			plural(len(f.Providers), "provider", "providers")))
	}
	return c
}

func facilityAccess() Control {
	return Control{ID: "164.310(a)(1)", Safeguard: physical, Title: "Facility access controls", Status: NA,
		Evidence: []string{"physical safeguards are the hosting facility's"}}
}

func deviceMedia() Control {
	return Control{ID: "164.310(d)(1)", Safeguard: physical, Title: "Device and media controls", Status: NA,
		Evidence: []string{"media are the host's; PHI on them is encrypted under per-org keys (164.312(a)(2)(iv)), so a disposed disk holds ciphertext; " +
			"Ward's own disposal of documents is 164.310(d)(2)(i), (ii)"}}
}

// purgeGrace is how long a document may stay past its retention before the
// disposal control says the purge is not running: the job runs every
// minute, and skips a document only while another transaction holds it.
const purgeGrace = 24 * time.Hour

// disposal reads what the database shows of document disposal: each org's
// retention policy, documents past it that the purge has not taken (held
// by a legal hold, or overdue), the newest purge, and deleted documents
// whose data keys survive.
func disposal(f facts) Control {
	c := Control{ID: "164.310(d)(2)(i), (ii)", Safeguard: physical, Title: "Disposal and media re-use (document retention purge, crypto-shredding)", Status: Pass}
	if !slices.Contains(f.BreachActions, "document.purge") {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the audit log has no action document.purge: the retention purge is not installed (run ward migrate)")
		return c
	}
	c.Evidence = append(c.Evidence, "a deleted or purged document's data keys are destroyed in the deleting transaction (crypto-shredding): "+
		"its stored object, on any medium, can no longer be decrypted")
	var shredded []string
	for _, o := range f.Orgs {
		if o.ShreddedAt != nil {
			shredded = append(shredded, fmt.Sprintf("%s on %s", o.label(), o.ShreddedAt.UTC().Format(time.DateOnly)))
		}
	}
	if len(shredded) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s that left the instance crypto-shredded, every keyset and data key destroyed (`ward org shred`): %s",
			plural(len(shredded), "org", "orgs"), listed(shredded, 5)))
	}
	live := liveOrgs(f)
	if len(live) == 0 {
		c.Status = NA
		c.Evidence = append(c.Evidence, "no org has active members yet")
		return c
	}
	var noPolicy, overdue, late, held, dsr, pending, unshredded, purges, patients []string
	for _, o := range live {
		if o.PatientsShredded > 0 && o.LastPatientShredAt != nil {
			patients = append(patients, fmt.Sprintf("%s: %d, the newest on %s", o.label(), o.PatientsShredded,
				o.LastPatientShredAt.UTC().Format(time.DateOnly)))
		}
		if o.DocumentsUnshredded > 0 {
			unshredded = append(unshredded, fmt.Sprintf("%s: %d", o.label(), o.DocumentsUnshredded))
		}
		if o.RetentionTypes == 0 {
			noPolicy = append(noPolicy, o.label())
		}
		if o.DocumentsHeld > 0 {
			held = append(held, fmt.Sprintf("%s: %d", o.label(), o.DocumentsHeld))
		}
		if o.RetentionPending > 0 {
			pending = append(pending, fmt.Sprintf("%s: %s", o.label(), plural(o.RetentionPending, "document type", "document types")))
		}
		if o.DocumentsKeptByDSR > 0 {
			dsr = append(dsr, fmt.Sprintf("%s: %d", o.label(), o.DocumentsKeptByDSR))
		}
		if o.DocumentsOverdue > 0 && o.DocumentsOverdueSince != nil {
			d := fmt.Sprintf("%s: %s, the oldest past retention since %s", o.label(),
				plural(o.DocumentsOverdue, "document", "documents"), o.DocumentsOverdueSince.UTC().Format(time.RFC3339))
			if f.Now.Sub(*o.DocumentsOverdueSince) > purgeGrace {
				overdue = append(overdue, d)
			} else {
				late = append(late, d)
			}
		}
		if o.RetentionTypes > 0 {
			last := "no document purged yet"
			if o.LastPurgeAt != nil {
				last = fmt.Sprintf("last document.purge %s, %d in the last 365 days", o.LastPurgeAt.UTC().Format(time.RFC3339), o.PurgedYear)
			}
			purges = append(purges, fmt.Sprintf("%s: %s (%s)", o.label(), plural(o.RetentionTypes, "document type", "document types"), last))
		}
	}
	if len(purges) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs have a document retention policy: %s", len(purges), len(live), listed(purges, 5)))
	}
	if len(noPolicy) > 0 {
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs have no document retention policy: their documents are kept for ever and disposed of only when deleted: %s",
			len(noPolicy), len(live), listed(noPolicy, 5)))
	}
	if len(pending) > 0 {
		c.Evidence = append(c.Evidence, "shorter retention pending its 30-day notice (the purge applies the days in force until then): "+listed(pending, 5))
	}
	if len(held) > 0 {
		c.Evidence = append(c.Evidence, "documents past retention kept by an active legal hold (not purged, as the hold requires): "+listed(held, 5))
	}
	if len(dsr) > 0 {
		c.Evidence = append(c.Evidence, "documents past retention kept for an open access or amendment request about their patient (HIPAA §164.524, §164.526): "+listed(dsr, 5))
	}
	if len(late) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("documents past retention for less than %s, due at the purge's next pass: %s", purgeGrace, listed(late, 5)))
	}
	if len(overdue) > 0 {
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("documents past retention for more than %s that no legal hold keeps: the purge job is not running (ward serve, its ward_ops connection): %s",
			purgeGrace, listed(overdue, 5)))
	} else if len(purges) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("no document is more than %s past its retention unless a legal hold keeps it", purgeGrace))
	}
	if len(patients) > 0 {
		c.Evidence = append(c.Evidence, "patients crypto-shredded one by one, their keysets destroyed (POST /v1/patients/{id}/shred): "+listed(patients, 5))
	}
	if len(unshredded) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "deleted documents whose data keys survive (not crypto-shredded): "+listed(unshredded, 5))
	}
	return c
}

func accessControl(cat catalog) Control {
	c := Control{ID: "164.312(a)(1)", Safeguard: technical, Title: "Access control (row-level security in the database)", Status: Pass}
	if len(cat.Unprotected) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s of %d without row-level security enabled and forced: %s",
			plural(len(cat.Unprotected), "table", "tables"), cat.Tables, listed(cat.Unprotected, 8)))
	} else {
		c.Evidence = append(c.Evidence, fmt.Sprintf("row-level security enabled and forced on all %d tables of app, audit and private", cat.Tables))
	}
	if len(cat.OpenPolicies) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s admit rows to the server's role whoever is bound (a permissive policy whose condition names no credential-bound helper): %s",
			plural(len(cat.OpenPolicies), "row-level security policy", "row-level security policies"), listed(cat.OpenPolicies, 8)))
	}
	if len(cat.Unpinned) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s without a fixed search_path: %s",
			plural(len(cat.Unpinned), "SECURITY DEFINER function", "SECURITY DEFINER functions"), listed(cat.Unpinned, 8)))
	} else {
		c.Evidence = append(c.Evidence, fmt.Sprintf("all %d SECURITY DEFINER functions fix their search_path", cat.Definers))
	}
	if len(cat.PublicDefiners) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s any role may execute (EXECUTE granted to PUBLIC): %s",
			plural(len(cat.PublicDefiners), "SECURITY DEFINER function", "SECURITY DEFINER functions"), listed(cat.PublicDefiners, 8)))
	} else {
		c.Evidence = append(c.Evidence, "no SECURITY DEFINER function is executable by PUBLIC: each is granted to the roles that call it")
	}
	return c
}

func uniqueUsers(cat catalog) Control {
	c := Control{ID: "164.312(a)(2)(i)", Safeguard: technical, Title: "Unique user identification", Status: Pass}
	if !cat.UsersUnique {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "no unique index on app.users (email_bidx): two users could share an address")
		return c
	}
	c.Evidence = append(c.Evidence, "each user is one row with a unique id and a unique address (a unique index on its blind index); "+
		"every session, API key and audit event names its user")
	return c
}

func emergencyAccess(f facts) Control {
	c := Control{ID: "164.312(a)(2)(ii)", Safeguard: technical, Title: "Emergency access procedure (break-glass)", Status: Pass}
	live := liveOrgs(f)
	// Only a designation that could be used now counts: break-glass needs
	// a live provider, lead or admin membership and two passkeys.
	var without []string
	for _, o := range live {
		if o.BreakGlassUsable == 0 {
			if o.BreakGlassUsers > 0 {
				without = append(without, fmt.Sprintf("%s (%s, none with a live clinical or admin membership and two passkeys)",
					o.label(), plural(o.BreakGlassUsers, "designation", "designations")))
			} else {
				without = append(without, o.label())
			}
		}
	}
	switch {
	case len(live) == 0:
		c.Status = NA
		c.Evidence = append(c.Evidence, "no org has active members yet")
	case len(without) == len(live):
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("no org (of %d) has a break-glass user who could activate now: %s", len(live), listed(without, 5)))
	case len(without) > 0:
		c.Status = Partial
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs have no break-glass user who could activate now: %s",
			len(without), len(live), listed(without, 5)))
	default:
		c.Evidence = append(c.Evidence, fmt.Sprintf("all %s have at least one break-glass user who could activate now (a live membership and two passkeys)",
			plural(len(live), "org", "orgs")))
	}
	if len(live) > 0 {
		c.Evidence = append(c.Evidence, "a break-glass session needs a passkey, lasts at most 60 minutes, notifies the org's admins and is audited")
	}
	return c
}

func automaticLogoff(f facts, bound time.Duration) Control {
	c := Control{ID: "164.312(a)(2)(iii)", Safeguard: technical, Title: "Automatic logoff", Status: Pass}
	c.Evidence = append(c.Evidence, fmt.Sprintf("instance caps: idle %d minutes, session lifetime %d minutes; the sign-in functions apply the lesser of these and the org's",
		f.InstancePolicy.IdleMaxMin, f.InstancePolicy.AbsoluteMaxMin))
	live := liveOrgs(f)
	var over []string
	longest := 0
	for _, o := range live {
		if o.IdleTimeoutMin == nil {
			continue
		}
		longest = max(longest, *o.IdleTimeoutMin)
		if time.Duration(*o.IdleTimeoutMin)*time.Minute > bound {
			over = append(over, fmt.Sprintf("%s: %d min", o.label(), *o.IdleTimeoutMin))
		}
	}
	switch {
	case len(live) == 0:
		c.Status = NA
		c.Evidence = append(c.Evidence, "no org has active members yet")
	case len(over) > 0:
		c.Status = Partial
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d of %d orgs log idle sessions off later than %d minutes: %s",
			len(over), len(live), int(bound/time.Minute), listed(over, 5)))
	default:
		c.Evidence = append(c.Evidence, fmt.Sprintf("every org logs idle sessions off within %d minutes (longest: %d)", int(bound/time.Minute), longest))
	}
	return c
}

func encryption(f facts, maxAge time.Duration) Control {
	c := Control{ID: "164.312(a)(2)(iv)", Safeguard: technical, Title: "Encryption and decryption (PHI at rest)", Status: Pass}
	c.Evidence = append(c.Evidence, "PHI columns and documents are AES-256-GCM ciphertext under the org's keyset, itself wrapped by the root key; "+
		"each document has its own data key; a patient's record is sealed under a keyset of their own, wrapped by the org's")
	var missing, old, shredded, orgSealed []string
	keyed, oldest, patientKeysets := 0, time.Duration(0), 0
	for _, o := range f.Orgs {
		if o.ShreddedAt != nil {
			shredded = append(shredded, o.label())
			continue
		}
		patientKeysets += o.PatientsKeyed
		if o.PatientsOrgSealed > 0 {
			orgSealed = append(orgSealed, fmt.Sprintf("%s: %d", o.label(), o.PatientsOrgSealed))
		}
		if o.Exists && (o.KeysetCreatedAt == nil || !o.HasPRF) {
			missing = append(missing, o.label())
			continue
		}
		if o.KeysetCreatedAt == nil {
			continue
		}
		keyed++
		since := *o.KeysetCreatedAt
		if o.KeysetRotatedAt != nil {
			since = *o.KeysetRotatedAt
		}
		age := f.Now.Sub(since)
		oldest = max(oldest, age)
		if age > maxAge {
			old = append(old, fmt.Sprintf("%s: %d days", o.label(), days(age)))
		}
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("%s; the oldest primary key is %d days old (bound %d days)",
		plural(keyed, "keyset", "keysets"), days(oldest), days(maxAge)))
	c.Evidence = append(c.Evidence, fmt.Sprintf("%s of their own", plural(patientKeysets, "patient's record sealed under a keyset", "patients' records sealed under keysets")))
	if len(orgSealed) > 0 {
		c.Evidence = append(c.Evidence, "patients whose record is still sealed under their org's keys (created before the per-patient tier, migration 00275): "+
			"they are crypto-shredded with their org, not alone, until `ward patient key` gives them keysets of their own: "+listed(orgSealed, 5))
	}
	if len(shredded) > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s crypto-shredded, keysets destroyed (`ward org shred`): %s",
			plural(len(shredded), "org", "orgs"), listed(shredded, 5)))
	}
	if len(old) > 0 {
		c.Status = Partial
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s not rotated within %d days (`ward keys rotate`): %s",
			plural(len(old), "keyset", "keysets"), days(maxAge), listed(old, 5)))
	}
	if len(missing) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s without a complete keyset: %s", plural(len(missing), "org", "orgs"), listed(missing, 5)))
	}
	return c
}

// maxCheckpointLag is how old an event no signed checkpoint covers may be
// before the audit controls are PARTIAL: a server's signer signs each
// changed log within seconds.
const maxCheckpointLag = time.Hour

func auditControls(f facts, logs []logResult, read, signed bool) Control {
	c := Control{ID: "164.312(b)", Safeguard: technical, Title: "Audit controls (a verifiable log)", Status: Pass}
	if !read {
		c.Status = Partial
		c.Evidence = append(c.Evidence, "the logs were not verified: this connection cannot read every org's log (connect as a superuser or a role granted ward_audit_reader)")
		return c
	}
	var events int64
	var failed, unsigned, behind []string
	for _, l := range logs {
		if l.Err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", l.Org.label(), l.Err))
			continue
		}
		events += l.Report.Size
		u, b := checkpointFindings(f, l.Org, l.Report.Size)
		unsigned, behind = append(unsigned, u...), append(behind, b...)
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("%s verified event by event (leaf hashes, hash chain, Merkle root against the stored head): %d events",
		plural(len(logs)-len(failed), "log", "logs"), events))
	if signed {
		n := 0
		for _, l := range logs {
			n += l.Signed
		}
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s checked against the log (signatures verified with the given key)",
			plural(n, "signed checkpoint", "signed checkpoints")))
	} else {
		c.Evidence = append(c.Evidence, "signed checkpoints not checked against the log (give the checkpoint verifier key)")
	}
	for _, l := range logs {
		if l.Err == nil && l.Org.CheckpointSize != nil {
			c.Evidence = append(c.Evidence, fmt.Sprintf("%s: %d events, newest signed checkpoint at %d, %s",
				l.Org.label(), l.Report.Size, *l.Org.CheckpointSize, l.Org.CheckpointAt.UTC().Format(time.RFC3339)))
		}
	}
	checkpointMarks(&c, unsigned, behind)
	if len(failed) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "logs that do not verify: "+listed(failed, 5))
	}
	return c
}

// checkpointFindings says whether org's log of size events has no signed
// checkpoint, or events more than maxCheckpointLag old that no signed
// checkpoint covers (a running signer signs within seconds of a change).
// Such an event may be sequenced after the checkpoint or still queued for
// the integrator, with no place in the tree yet (migration 00311): a
// stopped integrator leaves the tree at the checkpoint's size while events
// wait, so the tree's size alone does not say the log is covered.
func checkpointFindings(f facts, org orgFacts, size int64) (unsigned, behind []string) {
	late := org.FirstUnsignedAt != nil && f.Now.Sub(*org.FirstUnsignedAt) > maxCheckpointLag
	switch cp := org.CheckpointSize; {
	case cp == nil && (size > 0 || late):
		unsigned = append(unsigned, org.label())
	case cp != nil && late && org.TreeSize > *cp:
		behind = append(behind, fmt.Sprintf("%s: %d events after it, the oldest written %s", org.label(),
			org.TreeSize-*cp, org.FirstUnsignedAt.UTC().Format(time.RFC3339)))
	case cp != nil && late:
		behind = append(behind, fmt.Sprintf("%s: events not yet sequenced into the log (is its integrator running?), the oldest written %s",
			org.label(), org.FirstUnsignedAt.UTC().Format(time.RFC3339)))
	}
	return unsigned, behind
}

// checkpointMarks marks c PARTIAL for logs with no signed checkpoint or
// with events left outside the newest.
func checkpointMarks(c *Control, unsigned, behind []string) {
	if len(unsigned) > 0 {
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, "logs with no signed checkpoint yet (is a server running its signer?): "+listed(unsigned, 5))
	}
	if len(behind) > 0 {
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("logs with events more than %s old that no signed checkpoint covers (is a server running its signer?): %s",
			maxCheckpointLag, listed(behind, 5)))
	}
}

// auditGuardsGap marks c GAP when guards (the audit tables' append-only
// triggers not in force, catalog.AuditGuards) is not empty.
func auditGuardsGap(c *Control, guards []string) {
	if len(guards) > 0 {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the audit tables' append-only triggers are not all in force, so the database no longer refuses "+
			"an audit row altered or deleted: "+listed(guards, 9))
	}
}

// integrity is the tamper evidence: logs that verify, the audit tables'
// append-only triggers in force (guards lists those that are not) and a
// WORM archive.
func integrity(f facts, logs []logResult, read bool, guards []string) Control {
	c := Control{ID: "164.312(c)(1)", Safeguard: technical, Title: "Integrity (tamper evidence and a WORM archive)", Status: Pass}
	c.Evidence = append(c.Evidence, "each PHI ciphertext is bound by associated data to its table, column, org and row: moved or altered, it does not open")
	auditGuardsGap(&c, guards)
	for _, l := range logs {
		if l.Err != nil {
			c.Status = Gap
			c.Evidence = append(c.Evidence, "an audit log does not verify (164.312(b))")
			break
		}
	}
	if !read {
		c.Status = worst(c.Status, Partial)
	}
	var objects, unlocked int
	modes := map[string]bool{}
	for _, o := range f.Orgs {
		objects += o.ArchiveObjects
		unlocked += o.ArchiveUnlocked
		for _, m := range o.ArchiveModes {
			modes[m] = true
		}
	}
	switch {
	case objects == 0:
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, "no audit segment has been archived outside the database yet (`--audit-archive`)")
	case unlocked > 0 || modes["GOVERNANCE"]:
		c.Status = worst(c.Status, Partial)
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d archived objects, %d without an object lock read back%s: not WORM",
			objects, unlocked, map[bool]string{true: ", some in GOVERNANCE mode", false: ""}[modes["GOVERNANCE"]]))
	default:
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d archived objects, each read back under S3 Object Lock in COMPLIANCE mode", objects))
	}
	return c
}

func authentication(f facts) Control {
	c := Control{ID: "164.312(d)", Safeguard: technical, Title: "Person or entity authentication (MFA for admins)", Status: Pass}
	if f.AdminBar == nil || *f.AdminBar == "" {
		c.Status = Gap
		c.Evidence = append(c.Evidence, "the database's assurance bar lets an admin act with a single factor")
		return c
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("the database's assurance bar for the admin role is %q in every org, whatever its own policy", *f.AdminBar))
	var mfa, passkey, sso, waiting int
	live := liveOrgs(f)
	for _, o := range live {
		if o.RequireMFA != nil && *o.RequireMFA {
			mfa++
		}
		if o.RequirePasskey != nil && *o.RequirePasskey {
			passkey++
		}
		if o.EnforceSSO != nil && *o.EnforceSSO {
			sso++
		}
		waiting += o.AdminsWithoutFactor
	}
	c.Evidence = append(c.Evidence, fmt.Sprintf("of %s: %d require a second factor of every member, %d a passkey, %d enforce SSO",
		plural(len(live), "org", "orgs"), mfa, passkey, sso))
	if waiting > 0 {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s enrolled no second factor yet: until they do, the database holds their sessions at a pending step that may only enrol one",
			plural(waiting, "admin has", "admins have")))
	}
	return c
}

// retention is the audit record's retention: the database's refusal to
// delete it early (its append-only triggers in force: guards lists those
// that are not) and the archive's locks.
func retention(f facts, minDays int, guards []string) Control {
	c := Control{ID: "164.316(b)(2)(i)", Safeguard: documentation, Title: "Retention of the audit record (six years)", Status: Pass}
	if len(guards) == 0 {
		c.Evidence = append(c.Evidence, "the database refuses to delete an audit event younger than 2,555 days, not archived, not covered by a signed checkpoint or under a legal hold")
	}
	purged := 0
	for _, o := range f.Orgs {
		purged += o.PurgedYear
	}
	if purged > 0 {
		// A purge disposes of the document, not of its record.
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s purged under retention policies in the last 365 days each left a document.purge event in this record",
			plural(purged, "document", "documents")))
	}
	shortest, objects, unlocked, governance := -1, 0, 0, false
	for _, o := range f.Orgs {
		objects += o.ArchiveObjects
		unlocked += o.ArchiveUnlocked
		governance = governance || slices.Contains(o.ArchiveModes, "GOVERNANCE")
		if o.ArchiveMinDays != nil && (shortest < 0 || *o.ArchiveMinDays < shortest) {
			shortest = *o.ArchiveMinDays
		}
	}
	// A retention date binds only in COMPLIANCE mode: an unlocked object may
	// be deleted at any time and a GOVERNANCE one by a privileged user.
	switch {
	case objects == 0:
		c.Status = Partial
		c.Evidence = append(c.Evidence, "no archive outside the database yet: retention rests on the database alone")
	case shortest < 0:
		c.Status = Partial
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d archived objects, none under a retention lock (a directory archive)", objects))
	case shortest < minDays:
		c.Status = Gap
		c.Evidence = append(c.Evidence, fmt.Sprintf("the shortest archive retention read back is %d days, under %d", shortest, minDays))
	case unlocked > 0 || governance:
		c.Status = Partial
		var weak []string
		if unlocked > 0 {
			weak = append(weak, fmt.Sprintf("%d without a lock (deletable at any time)", unlocked))
		}
		if governance {
			weak = append(weak, "some in GOVERNANCE mode (a privileged user may delete them)")
		}
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d archived objects, the shortest retention read back %d days, but %s: their retention does not bind",
			objects, shortest, strings.Join(weak, " and ")))
	default:
		c.Evidence = append(c.Evidence, fmt.Sprintf("%d archived objects under COMPLIANCE-mode locks; the shortest retention read back is %d days (at least %d)", objects, shortest, minDays))
	}
	auditGuardsGap(&c, guards)
	return c
}
