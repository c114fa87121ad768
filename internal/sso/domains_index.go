package sso

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Indexed is what IndexDomains did: the rows it indexed, and the users
// whose sealed address it could not open (ids only), which stay gaps:
// an org with such a member cannot turn enforcement on (sso_domain_gaps),
// and one already enforcing holds them as bound (migration 00130).
type Indexed struct {
	Rows     int
	Unopened int         // users whose address could not be opened
	Skipped  []uuid.UUID // the first maxSkipped of them
}

// maxSkipped bounds the ids Indexed keeps (the count goes on).
const maxSkipped = 100

// IndexDomains gives the database what enforce_sso needs of the rows
// written before migration 00128: the blind index of the domain of every
// user's address (app.email_domains) and of every claimed domain
// (app.sso_domains.domain_bidx). Until a user's domain is noted, no org
// with them as a member can turn enforcement on. It runs at start-up as
// ward_ops (ops), opens each address with the instance keys, and reports
// how many rows it indexed. A sealed address it cannot open is skipped
// (its user's id reported, never the address) and the rest indexed;
// running it again does only what is left.
func IndexDomains(ctx context.Context, ops *postgres.DB, keys *keystore.Store) (Indexed, error) {
	var out Indexed
	inst, err := keys.Instance(ctx, ops)
	if err != nil {
		return out, fmt.Errorf("sso: index domains: %w", err)
	}
	var after *uuid.UUID // the last user id a page looked at
	for {
		n, seen := 0, 0
		var last *uuid.UUID
		var skippedHere []uuid.UUID
		err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			type gap struct {
				kind      string
				user      *uuid.UUID
				bidx, enc []byte
				domain    *string
			}
			n, seen, last, skippedHere = 0, 0, nil, nil
			rows, err := tx.Query(ctx, `select kind, user_id, email_bidx, email_enc, domain from app.email_domain_gaps(500, $1)`, after)
			if err != nil {
				return err
			}
			gaps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (gap, error) {
				var g gap
				return g, r.Scan(&g.kind, &g.user, &g.bidx, &g.enc, &g.domain)
			})
			if err != nil {
				return err
			}
			seen = len(gaps)
			q := dbsqlc.New(tx)
			for _, g := range gaps {
				switch {
				case g.kind == "user" && g.user != nil:
					last = g.user
					email, err := inst.Open(g.enc, keystore.UserEmailAD(*g.user))
					if err != nil {
						// Not the address, nor the error's text beyond its kind.
						skippedHere = append(skippedHere, *g.user)
						continue
					}
					if err := q.NoteEmailDomain(ctx, dbsqlc.NoteEmailDomainParams{EmailBidx: g.bidx,
						DomainBidx: inst.EmailDomainIndex(string(email))}); err != nil {
						return fmt.Errorf("user %s: %w", g.user, err)
					}
				case g.kind == "domain" && g.domain != nil:
					if err := q.FillSSODomainBidx(ctx, dbsqlc.FillSSODomainBidxParams{Domain: *g.domain,
						DomainBidx: inst.BlindIndex(envelope.EmailDomainField, *g.domain)}); err != nil {
						return err
					}
				default:
					continue
				}
				n++
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("sso: index domains: %w", err)
		}
		out.Rows += n
		out.Unopened += len(skippedHere)
		for _, id := range skippedHere {
			if len(out.Skipped) < maxSkipped {
				out.Skipped = append(out.Skipped, id)
			}
		}
		if last != nil {
			after = last
		}
		if seen == 0 || (n == 0 && last == nil) {
			return out, nil
		}
	}
}
