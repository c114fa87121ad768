package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/export"
	"github.com/wardhq/ward/internal/audit/s3archive"
	"github.com/wardhq/ward/internal/audit/sink"
	"github.com/wardhq/ward/internal/auth"
	"github.com/wardhq/ward/internal/cases"
	"github.com/wardhq/ward/internal/connlimit"
	"github.com/wardhq/ward/internal/gateway"
	"github.com/wardhq/ward/internal/gateway/phi"
	"github.com/wardhq/ward/internal/httpapi"
	"github.com/wardhq/ward/internal/httpapi/wireproblem"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/records"
	"github.com/wardhq/ward/internal/scim"
	"github.com/wardhq/ward/internal/sso"
	"github.com/wardhq/ward/internal/vault/blob"
)

type serveConfig struct {
	common
	OTLPEndpoint string
	Addr         string
	BaseURL      string
	TLSCert      string
	TLSKey       string
	InsecureHTTP bool
	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string
	Policy       policyFlags
	Proxies      string
	MetricsFrom  string
	// MaxConns and MaxConnsPerAddr cap the client connections open at
	// once, in all and from one address (internal/connlimit); 0 is no cap
	// of its own, though the total is still held to the open file limit
	// (totalConnCap).
	MaxConns        string
	MaxConnsPerAddr string
	Archive         string
	S3              s3Flags
	// Documents is where case documents' ciphertext is kept: a directory
	// (default DATA_DIR/documents) or s3://bucket/prefix.
	Documents string
	OpsURL    string
	ReaderURL string
	// SinksAllowLoopback lets SIEM sinks reach loopback addresses;
	// SinksCA is a PEM file of CAs sink certificates may chain to.
	SinksAllowLoopback bool
	// SinksAllowNetworks are CIDRs SIEM sinks may reach although they are
	// private or this host's own.
	SinksAllowNetworks string
	SinksCA            string
	// SSOAllowNetworks are CIDRs identity providers may be reached at
	// although the SSO address guard refuses them (private, loopback);
	// SSOCA is a PEM file of CAs IdP certificates may chain to.
	SSOAllowNetworks string
	SSOCA            string
	// GatewayProvider is the registered provider the LLM gateway calls;
	// GatewayKeys are Ward's own keys by provider, from WARD_GATEWAY_KEYS
	// only (never a flag: argv is visible to other users).
	GatewayProvider string
	GatewayKeys     map[string]string
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := newFlagSet("serve", "serve [flags]", stdout)
	addCommon(fs, &cfg.common, getenv)
	fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "WARD_ADDR", "127.0.0.1:8443"), "listen address (env WARD_ADDR)")
	fs.StringVar(&cfg.BaseURL, "base-url", getenv("WARD_BASE_URL"),
		"public URL clients use: sign-in links; its host is the passkey RP ID (a domain name) and its origin the only passkey origin; https makes cookies Secure and __Host- and sends HSTS, also behind a TLS-terminating proxy (default derived from --addr; env WARD_BASE_URL)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", getenv("WARD_TLS_CERT"), "TLS certificate (default: a generated dev certificate; env WARD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", getenv("WARD_TLS_KEY"), "TLS private key (env WARD_TLS_KEY)")
	fs.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "serve plain HTTP (only behind a TLS-terminating proxy; give --base-url https://…)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", getenv("WARD_SMTP_ADDR"), "SMTP server host:port; unset prints mail to the console (env WARD_SMTP_ADDR)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", envOr(getenv, "WARD_SMTP_FROM", "ward@localhost"), "sender address (env WARD_SMTP_FROM)")
	fs.StringVar(&cfg.SMTPUser, "smtp-username", getenv("WARD_SMTP_USERNAME"), "SMTP username (env WARD_SMTP_USERNAME; password in WARD_SMTP_PASSWORD)")
	addPolicyFlags(fs, &cfg.Policy)
	fs.StringVar(&cfg.Archive, "audit-archive", getenv("WARD_AUDIT_ARCHIVE"),
		"where the audit log's segments and signed checkpoints are archived: s3://bucket/prefix, an S3 bucket with Object "+
			"Lock (WORM: COMPLIANCE retention on every object), or a directory (not WORM; default DATA_DIR/audit-archive "+
			"in embedded mode); \"off\" to disable (env WARD_AUDIT_ARCHIVE). See docs/operations.md")
	addS3Flags(fs, &cfg.S3, getenv, true)
	fs.StringVar(&cfg.Documents, "documents", getenv("WARD_DOCUMENTS"),
		"where case documents are stored, encrypted: a directory (default DATA_DIR/documents) or s3://bucket/prefix "+
			"with the --s3-* flags (env WARD_DOCUMENTS)")
	fs.StringVar(&cfg.OpsURL, "ops-url", getenv("WARD_OPS_URL"),
		"with --database-url: a login that is a member of ward_ops, for the document reminder, expiry and sweeper jobs (env WARD_OPS_URL)")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", getenv("WARD_OTLP_ENDPOINT"),
		"send a span per request (route pattern, method, status, request id; no URL, address or PHI) to this "+
			"OpenTelemetry collector's OTLP/HTTP traces URL, e.g. https://collector:4318/v1/traces; the standard "+
			"OTEL_EXPORTER_OTLP_* and OTEL_TRACES_SAMPLER variables apply (env WARD_OTLP_ENDPOINT; default: no spans)")
	fs.StringVar(&cfg.ReaderURL, "audit-reader-url", getenv("WARD_AUDIT_READER_URL"),
		"with --database-url: a login granted ward_audit_reader, for the archiver and the SIEM deliverer (env WARD_AUDIT_READER_URL)")
	fs.BoolVar(&cfg.SinksAllowLoopback, "audit-sinks-allow-loopback", getenv("WARD_AUDIT_SINKS_ALLOW_LOOPBACK") == "1",
		"let SIEM sinks reach loopback addresses, e.g. a collector on this host (refused by default, as are link-local "+
			"addresses; env WARD_AUDIT_SINKS_ALLOW_LOOPBACK=1)")
	fs.StringVar(&cfg.SinksAllowNetworks, "audit-sinks-allow-networks", getenv("WARD_AUDIT_SINKS_ALLOW_NETWORKS"),
		"comma-separated CIDRs where SIEM sinks may be although Ward refuses them by default, e.g. an on-premises "+
			"SIEM at 10.20.0.0/16 (refused by default: private addresses and this host's own, besides loopback, "+
			"link-local and metadata; env WARD_AUDIT_SINKS_ALLOW_NETWORKS). See docs/audit-exports.md")
	fs.StringVar(&cfg.SinksCA, "audit-sinks-ca", getenv("WARD_AUDIT_SINKS_CA"),
		"PEM file of the CAs SIEM sink certificates must chain to, e.g. an internal CA (default: the system roots; "+
			"env WARD_AUDIT_SINKS_CA)")
	fs.StringVar(&cfg.SSOAllowNetworks, "sso-allow-networks", getenv("WARD_SSO_ALLOW_NETWORKS"),
		"comma-separated CIDRs where SSO identity providers may be although Ward refuses them by default, e.g. an "+
			"on-premises IdP at 10.20.0.0/16 (refused by default: private, loopback, link-local and metadata addresses; "+
			"env WARD_SSO_ALLOW_NETWORKS). See docs/sso.md")
	fs.StringVar(&cfg.SSOCA, "sso-ca", getenv("WARD_SSO_CA"),
		"PEM file of the CAs SSO identity providers' certificates must chain to, e.g. an internal CA (default: the "+
			"system roots; env WARD_SSO_CA)")
	fs.StringVar(&cfg.Proxies, "trusted-proxies", getenv("WARD_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (env WARD_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.MaxConns, "max-connections", envOr(getenv, "WARD_MAX_CONNECTIONS", strconv.Itoa(defaultMaxConns)),
		"client connections open at once; more wait in the listen backlog; 0 for no cap of its own, but the total "+
			"is always held to the open file limit less 512 (ulimit -n; logged when it lowers the cap) "+
			"(env WARD_MAX_CONNECTIONS)")
	fs.StringVar(&cfg.MaxConnsPerAddr, "max-connections-per-address", envOr(getenv, "WARD_MAX_CONNECTIONS_PER_ADDRESS", strconv.Itoa(defaultMaxConnsPerAddr)),
		"client connections open at once from one address (trusted proxies exempt); more are closed at once; "+
			"0 for no cap (env WARD_MAX_CONNECTIONS_PER_ADDRESS)")
	fs.StringVar(&cfg.MetricsFrom, "metrics-from", getenv("WARD_METRICS_FROM"),
		"comma-separated CIDRs of the clients that may read /metrics besides loopback, e.g. the Prometheus "+
			"network (env WARD_METRICS_FROM)")
	fs.StringVar(&cfg.GatewayProvider, "gateway-provider", envOr(getenv, "WARD_GATEWAY_PROVIDER", "anthropic"),
		"the registered subprocessor the LLM gateway (/llm) calls; Ward's key for it is read from "+
			"WARD_GATEWAY_KEYS=name=key[,name=key] (env WARD_GATEWAY_PROVIDER)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Policy.validate(); err != nil {
		return err
	}
	cfg.SMTPPassword = getenv("WARD_SMTP_PASSWORD")
	keys, err := parseGatewayKeys(getenv("WARD_GATEWAY_KEYS"))
	if err != nil {
		return err
	}
	cfg.GatewayKeys = keys
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := parsePrefixes(cfg.Proxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if _, err := parsePrefixes(cfg.SinksAllowNetworks); err != nil {
		return fmt.Errorf("--audit-sinks-allow-networks: %w", err)
	}
	if _, err := parsePrefixes(cfg.SSOAllowNetworks); err != nil {
		return fmt.Errorf("--sso-allow-networks: %w", err)
	}
	if _, err := parsePrefixes(cfg.MetricsFrom); err != nil {
		return fmt.Errorf("--metrics-from: %w", err)
	}
	if err := checkOTLPEndpoint(cfg.OTLPEndpoint); err != nil {
		return err
	}
	if _, err := connCount(cfg.MaxConns); err != nil {
		return fmt.Errorf("--max-connections: %w", err)
	}
	if _, err := connCount(cfg.MaxConnsPerAddr); err != nil {
		return fmt.Errorf("--max-connections-per-address: %w", err)
	}
	if cfg.DatabaseURL != "" && cfg.Policy.set() {
		return errors.New("the instance policy flags (--session-*-max, --link-*) are stored in the database: " +
			"with --database-url, set them as an operator with `ward migrate --database-url OPERATOR_URL ...`")
	}
	return serve(ctx, cfg, stdout, stderr)
}

func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ring, err := cfg.keyring(log)
	if err != nil {
		return err
	}
	var tlsCfg *tls.Config
	if !cfg.InsecureHTTP {
		if tlsCfg, err = tlsConfig(cfg.TLSCert, cfg.TLSKey, filepath.Join(cfg.DataDir, "tls")); err != nil {
			return err
		}
	}

	keys := keystore.New(ring)
	dbase, err := cfg.openDatabase(ctx, stderr, "serve")
	if err != nil {
		return err
	}
	defer dbase.Close()
	if dbase.cluster != nil {
		// Embedded mode migrates itself; an external database is migrated
		// by the operator with `ward migrate`.
		if _, err := postgres.Migrate(ctx, dbase.superURL); err != nil {
			return err
		}
		if err := cfg.Policy.apply(ctx, dbase.superURL); err != nil {
			return err
		}
		if err := ensureInstanceKeys(ctx, keys, dbase.superURL); err != nil {
			return cfg.foreignRoot(err)
		}
		if n, err := sealHoldTexts(ctx, keys, dbase.superURL); err != nil {
			return err
		} else if n > 0 {
			log.Info("sealed legal-hold texts written in the clear", "holds", n)
		}
		if n, err := keyPatients(ctx, keys, dbase.superURL); err != nil {
			return err
		} else if n > 0 {
			log.Info("gave the patients created before the per-patient key tier a keyset of their own", "patients", n)
		}
		log.Info("embedded database ready", "psql", dbase.cluster.PsqlCommand(embeddedDB))
	}
	db, err := postgres.Open(ctx, dbase.appURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckAppRole(ctx); err != nil {
		return err
	}
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	inst, err := keys.Instance(ctx, db)
	if err != nil {
		return cfg.foreignRoot(err)
	}
	signer, auditKey, err := keys.Signer(ctx, db)
	if errors.Is(err, keystore.ErrNoSigner) {
		log.Warn("no audit signing key: checkpoints are not signed until `ward migrate` creates one")
	} else if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen: %s is in use by another process (another ward serve?): stop it, or pass --addr HOST:PORT", cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "https"
	if cfg.InsecureHTTP {
		scheme = "http"
	}
	if cfg.BaseURL == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cfg.BaseURL = scheme + "://localhost:" + port
	}

	var mailer auth.Mailer = mail.NewConsole(stdout)
	if cfg.SMTPAddr != "" {
		mailer = mail.NewSMTP(mail.SMTPConfig{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUser,
			Password: cfg.SMTPPassword})
	}
	authSvc := auth.NewService(db, keys, mailer, auth.Config{BaseURL: cfg.BaseURL}, log)
	// Operator commands on this data directory print links to this URL.
	if si, err := json.Marshal(serverInfo{BaseURL: cfg.BaseURL}); err == nil {
		if err := writeFileAtomic(cfg.serverInfoPath(), append(si, '\n'), 0o600); err != nil {
			log.Warn("cannot record the base URL for operator commands", "err", err)
		}
	}
	recSvc := records.NewService(db, keys, records.Config{Mailer: mailer, BaseURL: cfg.BaseURL}, log)
	store, err := openDocuments(ctx, cfg)
	if err != nil {
		return err
	}
	// Beside start-up, not before it: the walk reads every directory of
	// the store, which on a large one takes longer than serving should wait.
	go removeStaleTemp(ctx, store, log)
	caseSvc := cases.NewService(db, keys, store, mailer, cases.Config{BaseURL: cfg.BaseURL}, log)
	integrator := audit.NewIntegrator(db, log, 0)
	if signer != nil {
		integrator.SetSigner(signer, 0)
	}
	// Ready: the database answers and the audit log keeps up.
	ready := func(ctx context.Context) error {
		if err := db.Pool.Ping(ctx); err != nil {
			return err
		}
		if st := integrator.Stats(); st.Lag > maxIntegrationLag {
			return fmt.Errorf("audit integration lags %s behind (bound %s)", st.Lag.Round(time.Second), maxIntegrationLag)
		}
		return nil
	}
	proxies, _ := parsePrefixes(cfg.Proxies)           // checked in runServe
	metricsFrom, _ := parsePrefixes(cfg.MetricsFrom)   // checked in runServe
	ssoAllow, _ := parsePrefixes(cfg.SSOAllowNetworks) // checked in runServe
	ssoRoots, err := loadRoots("--sso-ca", cfg.SSOCA)
	if err != nil {
		return err
	}
	engine, err := phi.New(phi.Config{})
	if err != nil {
		return err
	}
	// The date-shift key comes from the instance keyset, so that every node
	// shifts a conversation's dates alike (docs/gateway.md).
	gw := gateway.NewService(db, engine, gateway.Config{Provider: cfg.GatewayProvider, Keys: cfg.GatewayKeys,
		DateShiftKey: inst.BlindIndex("gateway.date_shift_key", "v1")}, log)
	// Cookie security and HSTS follow the public base URL's scheme, not
	// whether this process terminates TLS.
	// The archiver, when it runs, adds its figures (set below, before the
	// server starts).
	var archiver *audit.Archiver
	var deliverer *sink.Deliverer
	capped := capConns(ln, cfg, proxies, log)
	// What net/http refuses itself, before the handler, is answered as a
	// problem too where the answer crosses the connection in the clear
	// (internal/httpapi/wireproblem).
	ln = wireproblem.New(capped)
	metrics := func(w io.Writer) {
		capped.WriteMetrics(w)
		integrator.WriteMetrics(w)
		authSvc.WriteMetrics(w)
		if archiver != nil {
			archiver.WriteMetrics(w)
		}
		if deliverer != nil {
			deliverer.WriteMetrics(w)
		}
	}
	apiCfg := httpapi.Config{BaseURL: cfg.BaseURL, TrustedProxies: proxies, MetricsFrom: metricsFrom}
	if cfg.OTLPEndpoint != "" {
		tp, stopTracing, err := startTracing(ctx, cfg.OTLPEndpoint)
		if err != nil {
			return err
		}
		defer stopTracing()
		apiCfg.Tracing = tp
	}
	handler := httpapi.NewServer(apiCfg,
		httpapi.Deps{Auth: authSvc, Records: recSvc, Cases: caseSvc, Audit: audit.NewService(db, log), Ready: ready, Log: log,
			Export:  export.NewService(db, signer, export.Options{Site: siteName(cfg.BaseURL), Version: version()}, log),
			Sinks:   sink.NewService(db, inst, log),
			Metrics: metrics, AuditKey: auditKey, Gateway: gw,
			SCIM: scim.NewService(db, keys, scim.Config{BaseURL: cfg.BaseURL}, log),
			SSO: sso.NewService(db, keys, sso.Config{BaseURL: cfg.BaseURL, AllowNetworks: ssoAllow, RootCAs: ssoRoots},
				log)})

	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// The handler answers headers over httpapi.MaxHeaderBytes with a
		// 431 problem; the server reads twice as much so that it is the
		// handler that answers, and refuses only what is further over.
		MaxHeaderBytes: 2 * httpapi.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// OPTIONS * reaches the handler, which answers it with the
		// security headers and logs it.
		DisableGeneralOptionsHandler: true,
	}
	go watchDatabase(ctx, db.Pool.Ping, log, 5*time.Second)
	// Every node drops an org's cached keys when the database announces a
	// change to them (a rotation, a root rewrap, a shred: migration 00268),
	// over one connection of its own beside the pool.
	keysCtx, stopKeys := context.WithCancel(context.WithoutCancel(ctx))
	keysDone := make(chan struct{})
	go func() {
		defer close(keysDone)
		keystore.ListenForget(keysCtx, db.Pool.Config().ConnConfig, ring, log, nil)
	}()
	defer func() {
		stopKeys()
		<-keysDone
	}()
	// The audit integrator: sequences pending events on this node (any
	// number of nodes may run one; the database serialises them per org).
	// A last pass at shutdown leaves nothing this node wrote unsequenced.
	integrateCtx, stopIntegrator := context.WithCancel(context.WithoutCancel(ctx))
	integratorDone := make(chan struct{})
	go func() { defer close(integratorDone); integrator.Run(integrateCtx) }()
	defer func() {
		stopIntegrator()
		<-integratorDone
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := integrator.Once(fctx); err != nil {
			log.Warn("final audit integration pass failed; the next start integrates the rest", "err", err)
		}
	}()
	// The DPoP jti memory's stale ring expires in a transaction of its
	// own (migration 00236), on every node: the database decides whether
	// a ring is due and truncates it at most once a slot, without waiting.
	rotateCtx, stopRotate := context.WithCancel(context.WithoutCancel(ctx))
	rotateDone := make(chan struct{})
	go func() { defer close(rotateDone); authSvc.RunDPoPJTIRotation(rotateCtx, auth.JTIRotateInterval) }()
	defer func() {
		stopRotate()
		<-rotateDone
	}()
	// The case jobs (reminders, access-expiry events, the orphan sweeper,
	// the retention purge)
	// run as ward_ops: through the cluster's superuser in embedded mode, or
	// the --ops-url login.
	if opsURL := cfg.OpsURL; opsURL != "" || dbase.cluster != nil {
		var ops *postgres.DB
		if opsURL == "" {
			ops, err = postgres.OpenAs(ctx, dbase.superURL, "ward_ops")
		} else {
			ops, err = postgres.OpenAs(ctx, opsURL, "ward_ops")
		}
		if err != nil {
			return fmt.Errorf("case jobs: %w", err)
		}
		// The domains of addresses written before migration 00128, which
		// enforce_sso holds sessions to (a no-op once done).
		// An address it cannot open is skipped and reported by user id:
		// that user's orgs cannot turn enforcement on until it is fixed.
		if ix, err := sso.IndexDomains(ctx, ops, keys); err != nil {
			log.Error("indexing email domains for enforce_sso failed; orgs with members not indexed cannot turn enforcement on (sso_domain_gaps)", "err", err)
		} else {
			if ix.Rows > 0 {
				log.Info("indexed email domains for enforce_sso", "rows", ix.Rows)
			}
			if ix.Unopened > 0 {
				log.Error("email domains: addresses that could not be opened were skipped; their orgs cannot turn enforcement on (sso_domain_gaps) until each is rewritten or the user removed (docs/sso.md)",
					"count", ix.Unopened, "users", ix.Skipped)
			}
		}
		jobs := cases.NewJobs(ops, keys, store, mailer, cfg.BaseURL, log)
		jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
		jobsDone := make(chan struct{})
		go func() { defer close(jobsDone); jobs.Run(jobsCtx, time.Minute) }()
		// Reminders of data-subject requests falling due (docs/dsr.md).
		dsrs := records.NewDSRReminders(ops, keys, mailer, cfg.BaseURL, log)
		dsrDone := make(chan struct{})
		go func() { defer close(dsrDone); dsrs.Run(jobsCtx, time.Minute) }()
		// The retention purge (docs/retention.md): every node runs one,
		// only the node holding its advisory lock purges.
		purger := cases.NewPurger(ops, store, log)
		purgeDone := make(chan struct{})
		go func() { defer close(purgeDone); purger.Run(jobsCtx, time.Minute) }()
		defer func() {
			stopJobs()
			<-jobsDone
			<-dsrDone
			<-purgeDone
			ops.Close()
		}()
	} else {
		log.Warn("case jobs off (document reminders, access-expiry events, orphan sweeper, retention purge), data-subject request reminders off, and the email domains of rows written before migration 00128 not indexed for enforce_sso: with --database-url, pass --ops-url")
	}
	// The archiver copies segments and checkpoints out of the database. It
	// reads every org's log, so it runs as the cluster's superuser
	// (embedded) or a ward_audit_reader login, never as ward_app.
	if dir, readerURL := cfg.archiveDir(), cfg.ReaderURL; dir != "" {
		if readerURL == "" && dbase.cluster != nil {
			readerURL = dbase.superURL
		}
		if readerURL == "" {
			log.Warn("audit archive off: with --database-url, pass --audit-reader-url (a ward_audit_reader login)")
		} else {
			arch, worm, err := openArchive(ctx, dir, cfg.S3, true)
			if err != nil {
				return fmt.Errorf("audit archive: %w", err)
			}
			rdb, err := postgres.Open(ctx, readerURL)
			if err != nil {
				return fmt.Errorf("audit archive: %w", err)
			}
			archiver = audit.NewArchiver(rdb, arch, log)
			archCtx, stopArchiver := context.WithCancel(context.WithoutCancel(ctx))
			archiverDone := make(chan struct{})
			go func() { defer close(archiverDone); archiver.Run(archCtx, 5*time.Second) }()
			defer func() {
				stopArchiver()
				<-archiverDone
				rdb.Close()
			}()
			if s3, ok := arch.(*s3archive.Archive); ok {
				log.Info("audit archive", "location", s3.Location(), "worm", worm, "mode", "COMPLIANCE",
					"retention_days", s3.RetentionDays())
			} else {
				log.Info("audit archive", "dir", dir, "worm", worm)
			}
		}
	}
	// The SIEM deliverer streams every org's log to its sinks; like the
	// archiver it reads every org's log, so it runs as the superuser
	// (embedded) or a ward_audit_reader login; one node delivers at a time.
	if readerURL := cfg.ReaderURL; readerURL != "" || dbase.cluster != nil {
		if readerURL == "" {
			readerURL = dbase.superURL
		}
		sdb, err := postgres.Open(ctx, readerURL)
		if err != nil {
			return fmt.Errorf("audit sinks: %w", err)
		}
		roots, err := loadRoots("--audit-sinks-ca", cfg.SinksCA)
		if err != nil {
			return err
		}
		sinksAllow, _ := parsePrefixes(cfg.SinksAllowNetworks) // checked in runServe
		deliverer = sink.NewDeliverer(sdb, inst, sink.Config{Site: siteName(cfg.BaseURL),
			AllowLoopback: cfg.SinksAllowLoopback, AllowNetworks: sinksAllow, RootCAs: roots}, log)
		sinkCtx, stopSinks := context.WithCancel(context.WithoutCancel(ctx))
		sinksDone := make(chan struct{})
		go func() { defer close(sinksDone); deliverer.Run(sinkCtx) }()
		defer func() {
			stopSinks()
			<-sinksDone
			sdb.Close()
		}()
	} else {
		log.Warn("audit sinks off: with --database-url, pass --audit-reader-url (a ward_audit_reader login)")
	}
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	fmt.Fprintf(stdout, "ward: listening on %s (%s://%s)\n", cfg.BaseURL, scheme, ln.Addr())
	printNextSteps(stdout, cfg, tlsCfg != nil && cfg.TLSCert == "")
	log.Info("listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "base_url", cfg.BaseURL)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// loadRoots reads the PEM file of CAs a flag names (nil, nil when unset).
func loadRoots(flag, path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", flag, path)
	}
	return roots, nil
}

// parsePrefixes parses a comma-separated list of CIDRs.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// The default connection caps: far more than a node serves at once, and
// more than the busiest single client (an integration's pool, or a
// browser's six) holds, while a flood from one address stops at its cap.
const (
	defaultMaxConns        = 10000
	defaultMaxConnsPerAddr = 256
)

// connCount reads a connection cap: a whole number, 0 for none.
func connCount(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of connections (0 for no cap of its own)", v)
	}
	return n, nil
}

// capConns wraps ln with the connection caps (checked in runServe).
func capConns(ln net.Listener, cfg serveConfig, proxies []netip.Prefix, log *slog.Logger) *connlimit.Listener {
	asked, _ := connCount(cfg.MaxConns)
	perAddr, _ := connCount(cfg.MaxConnsPerAddr)
	fds, known := openFileLimit()
	total := totalConnCap(asked, fds, known)
	if total != asked {
		log.Warn("connection cap lowered to fit the open file limit (raise `ulimit -n` for more)",
			"asked", asked, "cap", total, "open_file_limit", fds)
	}
	return connlimit.New(ln, connlimit.Config{Max: total, PerAddr: perAddr, Exempt: proxies})
}

// fdReserve is the file descriptors kept from client connections for the
// database pools, the documents and the archive.
const fdReserve = 512

// totalConnCap is the total connection cap `ward serve` enforces when asked
// for asked (0: no cap of its own) under an open file limit of fds (known
// false: none reported): never more than fds less fdReserve, so that 0 too
// is capped there. Only a limit too small to keep the reserve leaves the
// asked cap alone.
func totalConnCap(asked int, fds uint64, known bool) int {
	if known && fds > fdReserve && (asked == 0 || uint64(asked) > fds-fdReserve) {
		return int(fds - fdReserve)
	}
	return asked
}

// maxIntegrationLag is how far behind the audit integrator may fall before
// /readyz answers 503.
const maxIntegrationLag = time.Minute

// watchDatabase pings the database every interval and logs when it becomes
// unreachable and when it is back (the pool reconnects by itself; /readyz
// answers 503 meanwhile). It returns when ctx ends.
func watchDatabase(ctx context.Context, ping func(context.Context) error, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	down := false
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := ping(pctx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !down:
			down, since = true, time.Now()
			log.Error("database unreachable: requests fail and /readyz answers 503 until it returns", "err", err)
		case err == nil && down:
			down = false
			log.Info("database reachable again", "down_for_s", int(time.Since(since).Seconds()))
		}
	}
}

// printNextSteps tells a new operator what to do after `ward serve` starts:
// create an org, get a sign-in link, trust the development certificate, and
// back up the root key.
func printNextSteps(w io.Writer, cfg serveConfig, devCert bool) {
	ward := "./ward"
	flags := ""
	if cfg.DataDir != "./var" && cfg.DatabaseURL == "" {
		flags = " --data-dir " + cfg.DataDir
	}
	fmt.Fprintf(w, "\nNext steps, in another terminal:\n")
	fmt.Fprintf(w, "  1. create an org and its first admin:\n       %s org create%s --name \"My Practice\" --admin-email you@example.com\n", ward, flags)
	fmt.Fprintf(w, "  2. get a one-time sign-in link (printed here, not mailed, until --smtp-addr is set):\n       %s login-link%s --email you@example.com\n", ward, flags)
	if devCert {
		fmt.Fprintf(w, "  3. the certificate is a development one: trust it in API clients with\n       curl --cacert %s %s/healthz\n",
			filepath.Join(cfg.DataDir, "tls", "dev-cert.pem"), cfg.BaseURL)
	}
	fmt.Fprintf(w, "  The root key %s encrypts every org's keys: back it up, apart from the database;\n  without it no PHI can be read.\n\n",
		cfg.rootKeyPath())
}

// archiveDir is the audit archive directory, "" when off.
// openDocuments opens the case documents' blob store.
func openDocuments(ctx context.Context, cfg serveConfig) (blob.Store, error) {
	loc := cfg.Documents
	if loc == "" {
		loc = filepath.Join(cfg.DataDir, "documents")
	}
	if !isS3(loc) {
		return blob.NewDir(loc)
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(loc, "s3://"), "/")
	if bucket == "" {
		return nil, fmt.Errorf("--documents %q: want s3://bucket/prefix", loc)
	}
	if cfg.S3.AccessKey == "" || cfg.S3.SecretKey == "" {
		return nil, errors.New("--documents " + loc + ": set --s3-access-key (or WARD_S3_ACCESS_KEY) and WARD_S3_SECRET_KEY")
	}
	return blob.NewS3(ctx, blob.S3Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: bucket, Prefix: prefix,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, Create: true})
}

// staleTempAge is how old a directory store's temporary file must be for
// the start-up sweep to take it: as old as the case sweeper's grace, so
// that no upload in flight on the directory (another node's included)
// loses its file.
const staleTempAge = time.Hour

// removeStaleTemp removes, at start-up, the temporary files that uploads
// interrupted by a crash left in a directory store, so that they go even
// where the case jobs (whose sweeper also takes them) do not run. serve
// runs it beside start-up; a failure is logged.
func removeStaleTemp(ctx context.Context, store blob.Store, log *slog.Logger) {
	d, ok := store.(*blob.Dir)
	if !ok {
		return
	}
	n, err := d.RemoveTemp(ctx, time.Now().Add(-staleTempAge))
	if err != nil && ctx.Err() != nil {
		return // shut down before the walk ended: the next start or the sweeper goes on
	}
	if err != nil {
		log.Warn("removing the temporary files of interrupted uploads failed; the case sweeper retries", "removed", n,
			"err", err)
		return
	}
	if n > 0 {
		log.Info("removed the temporary files of uploads interrupted by a crash", "removed", n)
	}
}

func (c serveConfig) archiveDir() string {
	switch {
	case c.Archive == "off":
		return ""
	case c.Archive != "":
		return c.Archive
	case c.DatabaseURL == "":
		return filepath.Join(c.DataDir, "audit-archive")
	}
	return ""
}

// siteName is the deployment's name in exports (FHIR source.site, OCSF
// log_provider): the public base URL's host.
func siteName(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "ward"
}
