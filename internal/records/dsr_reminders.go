package records

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/mail"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// DSRReminders mails an org's admins about data-subject requests falling
// due (docs/dsr.md): once when an open request is due within seven days,
// once when it is overdue, and again after an extension moves its due
// date. It runs through a ward_ops connection; the database claims and
// audits each reminder (app.dsr_due_reminders, dsr.remind), so every node
// may run it and none sends one twice.
type DSRReminders struct {
	ops    *postgres.DB
	keys   *keystore.Store
	mailer Mailer
	base   string
	log    *slog.Logger
}

// NewDSRReminders returns the reminder job over ops, a ward_ops connection;
// baseURL is the console the mail points to.
func NewDSRReminders(ops *postgres.DB, keys *keystore.Store, mailer Mailer, baseURL string, log *slog.Logger) *DSRReminders {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DSRReminders{ops: ops, keys: keys, mailer: mailer, base: baseURL, log: log}
}

// dsrKindNames are the requests' kinds as a reminder names them.
var dsrKindNames = map[string]string{
	"access": "access (HIPAA §164.524)", "amendment": "amendment (HIPAA §164.526)",
	"accounting": "accounting of disclosures (HIPAA §164.528)", "ccpa_know": "CCPA right to know",
	"ccpa_delete": "CCPA deletion", "ccpa_correct": "CCPA correction", "ccpa_limit": "CCPA limit on use",
}

// Remind claims and mails the reminders that are due, up to 100 a pass,
// and returns how many it sent. A mail that fails is logged (ids only) and
// not retried: its claim stands, as a document reminder's does. The mail
// names the request's kind, id and due date, never its subject.
func (j *DSRReminders) Remind(ctx context.Context) (int, error) {
	// The keys first: a claim is made only when its mail can be written.
	ikeys, err := j.keys.Instance(ctx, j.ops)
	if err != nil || ctx.Err() != nil {
		return 0, errors.Join(err, ctx.Err())
	}
	var due []dbsqlc.DSRDueRemindersRow
	err = j.ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		due, err = dbsqlc.New(tx).DSRDueReminders(ctx, 100)
		return err
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	// Claimed reminders are mailed even when the node is stopping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	sent := 0
	for _, r := range due {
		addr, err := ikeys.Open(r.EmailEnc, keystore.UserEmailAD(r.UserID))
		if err != nil {
			j.log.ErrorContext(ctx, "dsr reminder address unreadable", "org", r.OrgID, "dsr", r.DsrID, "err", err)
			continue
		}
		kind := dsrKindNames[r.DsrKind]
		if kind == "" {
			kind = r.DsrKind
		}
		on := r.DueAt.UTC().Format("Mon 2 Jan 2006 15:04 MST")
		subject, what := "A data-subject request falls due on "+r.DueAt.UTC().Format("2 Jan 2006"), "falls due on "+on
		if r.Kind == "overdue" {
			subject, what = "A data-subject request is overdue", "was due on "+on+" and is overdue"
		}
		msg := mail.Message{To: string(addr), Subject: subject,
			Text: "A data-subject request in your organisation on Ward (" + kind + ", request " + r.DsrID.String() + ") " +
				what + ".\n\nAnswer it, or extend it once with a reason while the law allows, before then: " +
				j.base + "/\n\nYou receive this because you are an admin of the organisation.\n"}
		if err := j.mailer.Send(ctx, msg); err != nil {
			j.log.ErrorContext(ctx, "dsr reminder not delivered", "org", r.OrgID, "dsr", r.DsrID, "err", err)
			continue
		}
		sent++
	}
	return sent, nil
}

// Run reminds every interval until ctx ends.
func (j *DSRReminders) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Remind(ctx); err != nil && ctx.Err() == nil {
			j.log.Warn("dsr reminders failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
