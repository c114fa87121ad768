package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// SAML 2.0 (crewjam/saml): the SP of a connection is at
// BaseURL/v1/sso/saml/<connection>/{metadata,acs}; its entity id is the
// metadata URL. AuthnRequests go out with the HTTP-Redirect binding and
// responses come back with HTTP-POST. crewjam checks the XML signatures
// (of the response or the assertion, refusing the wrapping attacks of its
// XSW corpus), issuer, destination and recipient, audience, InResponseTo,
// and the times with its bounded skew; Ward also requires exactly one
// assertion, signed itself, and records its id (a replay is refused).
// Encrypted assertions are not accepted: the SP has no decryption key.

// SAMLConnectionInput is what an admin gives for a new SAML connection.
type SAMLConnectionInput struct {
	Name string `json:"name"`
	// IdPMetadata is the IdP's SAML metadata XML (its entity id, SSO URL and
	// signing certificates).
	IdPMetadata string `json:"idp_metadata"`
	// TrustedACR lists the AuthnContextClassRef values that make a session
	// AAL2.
	TrustedACR        []string      `json:"trusted_acr"`
	JIT               bool          `json:"jit"`
	JITRole           identity.Role `json:"jit_role"`
	AllowIdPInitiated bool          `json:"allow_idp_initiated"`
}

// SAMLConnection is a new SAML connection and what to register at the IdP.
type SAMLConnection struct {
	ID          uuid.UUID `json:"id"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	EntityID    string    `json:"entity_id"`
	ACSURL      string    `json:"acs_url"`
	MetadataURL string    `json:"metadata_url"`
}

func (s *Service) samlURL(conn uuid.UUID, leaf string) url.URL {
	u, _ := url.Parse(strings.TrimSuffix(s.cfg.BaseURL, "/") + "/v1/sso/saml/" + conn.String() + "/" + leaf)
	return *u
}

// serviceProvider is the crewjam SP of a connection.
func (s *Service) serviceProvider(conn uuid.UUID, idpMetadata string, idpInitiated bool) (*saml.ServiceProvider, error) {
	var md saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(idpMetadata), &md); err != nil {
		return nil, fmt.Errorf("sso: metadata of connection %s: %w", conn, err)
	}
	meta := s.samlURL(conn, "metadata")
	return &saml.ServiceProvider{EntityID: meta.String(), MetadataURL: meta, AcsURL: s.samlURL(conn, "acs"),
		IDPMetadata: &md, AllowIDPInitiated: idpInitiated, Clock: s.cfg.SAMLClock,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}}, nil
}

// CreateSAMLConnection adds a SAML connection to the caller's org (admins,
// step-up). Errors: ErrInvalidInput (the metadata names no SSO URL or
// signing certificate), ErrForbidden, ErrStepUpRequired.
func (s *Service) CreateSAMLConnection(ctx context.Context, in SAMLConnectionInput) (SAMLConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return SAMLConnection{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.JITRole == "" {
		in.JITRole = identity.RoleProvider
	}
	id := uuid.New()
	sp, err := s.serviceProvider(id, in.IdPMetadata, false)
	switch {
	case in.Name == "" || len(in.Name) > 100:
		return SAMLConnection{}, errkind.Visible(ErrInvalidInput, "name is 1..100 characters")
	case len(in.IdPMetadata) > 200000 || err != nil || sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" ||
		!hasSigningCert(sp.IDPMetadata):
		return SAMLConnection{}, errkind.Visible(ErrInvalidInput,
			"idp_metadata is the IdP's SAML metadata XML with an HTTP-Redirect SSO URL and a signing certificate")
	case !httpsURL(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)):
		return SAMLConnection{}, errkind.Visible(ErrInvalidInput,
			"the IdP's HTTP-Redirect SSO URL in idp_metadata must be https")
	case in.JITRole != identity.RolePatient && in.JITRole != identity.RoleProvider && in.JITRole != identity.RoleLead:
		return SAMLConnection{}, errkind.Visible(ErrInvalidInput, "jit_role is patient, provider or lead")
	case len(in.TrustedACR) > 20:
		return SAMLConnection{}, errkind.Visible(ErrInvalidInput, "at most 20 trusted acr values")
	}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		_, err := q.CreateSAMLConnection(ctx, dbsqlc.CreateSAMLConnectionParams{ID: id, Name: in.Name,
			IdpMetadata: in.IdPMetadata, TrustedAcr: nonNil(in.TrustedACR), Jit: in.JIT, JitRole: string(in.JITRole),
			AllowIdpInitiated: in.AllowIdPInitiated, Request: nullText(requestID(ctx))})
		return err
	})
	if err != nil {
		return SAMLConnection{}, mapErr("create SAML connection", err)
	}
	acs := s.samlURL(id, "acs")
	return SAMLConnection{ID: id, Kind: "saml", Name: in.Name, EntityID: sp.EntityID, ACSURL: acs.String(),
		MetadataURL: sp.EntityID}, nil
}

// httpsURL reports whether raw is an absolute https URL with a host. An
// IdP's sign-on URL is where /v1/sso/start, which anyone may call, sends a
// browser from Ward's origin with the AuthnRequest: an http one would make
// Ward's origin a redirect to a plain-text page an admin chose. (Ward
// makes no request to it, so it may be on a private network, unlike an
// OIDC issuer.)
func httpsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

func hasSigningCert(md *saml.EntityDescriptor) bool {
	for _, d := range md.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if (k.Use == "" || k.Use == "signing") && len(k.KeyInfo.X509Data.X509Certificates) > 0 {
				return true
			}
		}
	}
	return false
}

// samlConfig reads a SAML connection's public configuration.
func (s *Service) samlConfig(ctx context.Context, conn uuid.UUID) (org uuid.UUID, metadata string, idpInitiated bool, err error) {
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select org_id, idp_metadata, allow_idp_initiated from app.saml_config($1)`, conn).
			Scan(&org, &metadata, &idpInitiated)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	return org, metadata, idpInitiated, err
}

// SAMLMetadata returns the SP metadata XML of a SAML connection, to give
// the IdP. Errors: ErrNotFound.
func (s *Service) SAMLMetadata(ctx context.Context, conn uuid.UUID) ([]byte, error) {
	_, md, _, err := s.samlConfig(ctx, conn)
	if err != nil {
		return nil, err
	}
	sp, err := s.serviceProvider(conn, md, false)
	if err != nil {
		return nil, err
	}
	return xml.MarshalIndent(sp.Metadata(), "", "  ")
}

// samlRequestID is the AuthnRequest id of a sign-in: derived from the
// browser's binder and the state, so the ACS knows which id to expect.
func samlRequestID(binder, state string) string {
	sum := sha256.Sum256([]byte(derive(binder, state, "saml")))
	return "id-" + hex.EncodeToString(sum[:20])
}

// startSAML sends the browser to the IdP with an AuthnRequest.
func (s *Service) startSAML(ctx context.Context, conn uuid.UUID, state, binder string) (Started, error) {
	_, md, _, err := s.samlConfig(ctx, conn)
	if err != nil {
		return Started{}, err
	}
	sp, err := s.serviceProvider(conn, md, false)
	if err != nil {
		return Started{}, err
	}
	sp.Clock = nil // requests carry the real time; SAMLClock is for checking responses
	loc := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if !httpsURL(loc) {
		// A connection created before sign-on URLs had to be https.
		s.log.WarnContext(ctx, "sso: SAML sign-on URL is not https", "connection", conn)
		return Started{}, errkind.Visible(ErrIdPAddress,
			"this connection's identity provider sign-on URL is not https; ask your admin to create the connection again")
	}
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return Started{}, fmt.Errorf("sso: authn request of connection %s: %w", conn, err)
	}
	req.ID = samlRequestID(binder, state)
	u, err := req.Redirect(state, sp)
	if err != nil {
		return Started{}, fmt.Errorf("sso: authn request of connection %s: %w", conn, err)
	}
	return Started{RedirectURL: u.String(), Binder: binder}, nil
}

// ACSRequest is a POST to a SAML connection's assertion consumer.
type ACSRequest struct {
	Connection   uuid.UUID
	SAMLResponse string
	RelayState   string
	Binder       string
}

// ACS checks a SAML response for a connection and signs its subject in.
// With a RelayState it answers the browser's own request (SP-initiated);
// without one it is IdP-initiated, accepted only when the connection allows
// it. Errors: ErrStateInvalid, ErrWrongBrowser, ErrRefused, ErrNoAccount,
// ErrNotFound; all audited but ErrNotFound.
func (s *Service) ACS(ctx context.Context, req ACSRequest) (auth.Session, error) {
	org, md, idpInitiated, err := s.samlConfig(ctx, req.Connection)
	if err != nil {
		return auth.Session{}, err
	}
	rq := identity.RequestFrom(ctx)
	var state string
	var requestIDs []string
	if req.RelayState != "" {
		state = req.RelayState
		if len(state) > 100 {
			return auth.Session{}, ErrStateInvalid
		}
		var t dbsqlc.SSOTakeRow
		err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var binderHash []byte
			if req.Binder != "" {
				binderHash = hashOf(req.Binder)
			}
			var err error
			t, err = dbsqlc.New(tx).SSOTake(ctx, dbsqlc.SSOTakeParams{StateHash: hashOf(state), BinderHash: binderHash,
				Request: nullText(rq.ID), Ip: nullText(rq.IPString()), Ua: nullText(rq.UserAgent)})
			return err
		})
		if err != nil {
			return auth.Session{}, fmt.Errorf("sso: take state: %w", err)
		}
		switch deref(t.Status) {
		case "ok":
		case "wrong_browser":
			return auth.Session{}, ErrWrongBrowser
		default:
			return auth.Session{}, ErrStateInvalid
		}
		if t.ConnectionID.UUID != req.Connection || t.OrgID.UUID != org {
			return s.samlRefuse(ctx, state, "wrong_connection")
		}
		requestIDs, idpInitiated = []string{samlRequestID(req.Binder, state)}, false
	} else {
		state = newSecret()
		var ok bool
		err := s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			ok, err = dbsqlc.New(tx).SAMLIdPBegin(ctx, dbsqlc.SAMLIdPBeginParams{ConnectionID: req.Connection,
				StateHash: hashOf(state), Request: nullText(rq.ID), Ip: nullText(rq.IPString()), Ua: nullText(rq.UserAgent)})
			return err
		})
		if err != nil {
			return auth.Session{}, fmt.Errorf("sso: IdP-initiated sign-in: %w", err)
		}
		if !ok {
			return auth.Session{}, ErrRefused
		}
	}
	sp, err := s.serviceProvider(req.Connection, md, idpInitiated)
	if err != nil {
		return s.samlRefuse(ctx, state, "metadata")
	}
	a, reason := s.verifySAML(ctx, sp, req.SAMLResponse, requestIDs, hashOf(state))
	if reason != "" {
		return s.samlRefuse(ctx, state, reason)
	}
	subject, email := a.Subject.NameID.Value, samlEmail(a)
	var acr string
	var authnInstant *time.Time
	if len(a.AuthnStatements) > 0 {
		st := a.AuthnStatements[0]
		if st.AuthnContext.AuthnContextClassRef != nil {
			acr = st.AuthnContext.AuthnContextClassRef.Value
		}
		// When the IdP authenticated the subject (it may answer from a
		// session of its own hours old): the session's authentication
		// time, never later than now (the database clamps it).
		if !st.AuthnInstant.IsZero() {
			t := st.AuthnInstant.UTC()
			authnInstant = &t
		}
	}
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return s.fail(ctx, hashOf(state), "internal", err)
	}
	// SAML has no email_verified: an address counts only on a domain the
	// org verified for this connection (the database checks).
	return s.complete(ctx, inst, hashOf(state), samlSubject(req.Connection, sp, subject),
		email, false, nil, acr, authnInstant, "")
}

// IdPInitiated is what an IdP-initiated response says, shown to the
// browser before Ward signs it in: the account and the IdP.
type IdPInitiated struct {
	Email string
	IdP   string
}

// PreviewIdPInitiated checks an IdP-initiated response for conn as ACS
// does, but records nothing: no state, no assertion id, no audit event. It
// answers false when the connection does not allow IdP-initiated sign-ins
// or the response does not verify; ACS then refuses it (audited). A true
// answer means nothing yet: ACS checks it again, once, after the browser's
// user confirmed on a page of Ward's own (login CSRF: an IdP-initiated
// response is bound to no browser).
func (s *Service) PreviewIdPInitiated(ctx context.Context, conn uuid.UUID, response string) (IdPInitiated, bool) {
	_, md, idpInitiated, err := s.samlConfig(ctx, conn)
	if err != nil || !idpInitiated {
		return IdPInitiated{}, false
	}
	sp, err := s.serviceProvider(conn, md, true)
	if err != nil {
		return IdPInitiated{}, false
	}
	a, reason := s.verifySAML(ctx, sp, response, nil, nil) // no replay cache: nothing recorded
	if reason != "" {
		return IdPInitiated{}, false
	}
	// The account named is the one the session would be for: a subject
	// linked already signs in its user, whatever address the response
	// carries (an IdP's admin, or a user who may edit their address, puts
	// the visitor's there: naming it would have them confirm a sign-in to
	// the attacker's account). A subject linked to no one signs in (or
	// links) by the address, so that is named.
	email := samlEmail(a)
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return IdPInitiated{}, false
	}
	subject := samlSubject(conn, sp, a.Subject.NameID.Value)
	var linked dbsqlc.SAMLIdPPreviewRow
	err = s.db.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		linked, err = dbsqlc.New(tx).SAMLIdPPreview(ctx, dbsqlc.SAMLIdPPreviewParams{ConnectionID: conn,
			SubjectHash: inst.BlindIndex("sso_identities.subject", subject)})
		return err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "sso: IdP-initiated preview", "connection", conn, "err", err)
		return IdPInitiated{}, false
	}
	if linked.UserID.Valid {
		addr, err := inst.Open(linked.EmailEnc, keystore.UserEmailAD(linked.UserID.UUID))
		if err != nil {
			s.log.ErrorContext(ctx, "sso: IdP-initiated preview: the linked account's address", "connection", conn, "err", err)
			return IdPInitiated{}, false
		}
		email = string(addr)
	}
	return IdPInitiated{Email: email, IdP: sp.IDPMetadata.EntityID}, true
}

// samlSubject is the identity a SAML subject is linked under (hashed with
// the instance PRF): the connection, the IdP's entity id and the NameID.
// ACS signs in by it and PreviewIdPInitiated names the account it links.
func samlSubject(conn uuid.UUID, sp *saml.ServiceProvider, nameID string) string {
	return conn.String() + "|" + sp.IDPMetadata.EntityID + "|" + nameID
}

func (s *Service) samlRefuse(ctx context.Context, state, reason string) (auth.Session, error) {
	return s.fail(ctx, hashOf(state), reason, nil)
}

// verifySAML checks a base64 SAMLResponse against sp: crewjam's checks,
// then exactly one assertion (plain: encrypted ones are refused), signed
// itself, seen once. It returns the assertion or a reason code.
func (s *Service) verifySAML(ctx context.Context, sp *saml.ServiceProvider, form string, requestIDs []string, stateHash []byte) (*saml.Assertion, string) {
	raw, err := base64.StdEncoding.DecodeString(form)
	if err != nil || len(raw) > 1<<20 {
		return nil, "malformed"
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return nil, "malformed"
	}
	if n := countElements(doc.Root(), "Assertion") + countElements(doc.Root(), "EncryptedAssertion"); n != 1 {
		return nil, "assertion_count"
	}
	if countElements(doc.Root(), "EncryptedAssertion") != 0 {
		return nil, "encrypted_assertion"
	}
	if sp.ReplayCache == nil && stateHash != nil {
		sp.ReplayCache = &replayCache{ctx: ctx, s: s, stateHash: stateHash}
	}
	r := &http.Request{Method: http.MethodPost, URL: &sp.AcsURL, PostForm: url.Values{"SAMLResponse": {form}}}
	a, err := sp.ParseResponse(r, requestIDs)
	if err != nil {
		var ire *saml.InvalidResponseError
		if errors.As(err, &ire) && errors.Is(ire.PrivateErr, saml.ErrAssertionReplayed) {
			return nil, "replayed"
		}
		return nil, samlReason(err)
	}
	// The assertion must be covered by a signature crewjam verified: its
	// own, or the Response's that encloses it.
	if a.Signature == nil && doc.Root().SelectElement("Signature") == nil {
		return nil, "assertion_unsigned"
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return nil, "no_subject"
	}
	return a, ""
}

// samlReason names why crewjam refused a response, for the audit log.
func samlReason(err error) string {
	var ire *saml.InvalidResponseError
	msg := err.Error()
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		msg = ire.PrivateErr.Error()
	}
	msg = strings.ToLower(msg)
	switch {
	case strings.Contains(msg, "replay") || strings.Contains(msg, "already been used"):
		return "replayed"
	case strings.Contains(msg, "signature"):
		return "bad_signature"
	case strings.Contains(msg, "audience"):
		return "wrong_audience"
	case strings.Contains(msg, "destination") || strings.Contains(msg, "recipient"):
		return "wrong_recipient"
	case strings.Contains(msg, "inresponseto") || strings.Contains(msg, "request id") || strings.Contains(msg, "unsolicited"):
		return "wrong_in_response_to"
	case strings.Contains(msg, "expired") || strings.Contains(msg, "notonorafter") || strings.Contains(msg, "notbefore") ||
		strings.Contains(msg, "issueinstant") || strings.Contains(msg, "in the future"):
		return "outside_validity"
	case strings.Contains(msg, "issuer"):
		return "wrong_issuer"
	}
	return "invalid_response"
}

func countElements(e *etree.Element, local string) int {
	n := 0
	if e.Tag == local {
		n++
	}
	for _, c := range e.ChildElements() {
		n += countElements(c, local)
	}
	return n
}

// samlEmail is the subject's address: the NameID when it is one, else an
// email attribute.
func samlEmail(a *saml.Assertion) string {
	if v := a.Subject.NameID.Value; identity.ValidEmail(v) {
		return v
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			switch strings.ToLower(at.Name) {
			case "email", "mail", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3",
				"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":
				if len(at.Values) > 0 {
					return at.Values[0].Value
				}
			}
		}
	}
	return ""
}

// replayCache records accepted assertion ids in the database, for the
// state's connection.
type replayCache struct {
	ctx       context.Context
	s         *Service
	stateHash []byte
}

// Consume records id until expires; saml.ErrAssertionReplayed when it was
// seen before.
func (c *replayCache) Consume(id string, expires time.Time) error {
	var ok bool
	err := c.s.db.InTx(c.ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		ok, err = dbsqlc.New(tx).SSOAssertionOnce(ctx, dbsqlc.SSOAssertionOnceParams{StateHash: c.stateHash,
			IDHash: hashOf(id), ExpiresAt: expires})
		return err
	})
	switch {
	case err != nil:
		return err
	case !ok:
		return saml.ErrAssertionReplayed
	}
	return nil
}
