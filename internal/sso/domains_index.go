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

// IndexDomains gives the database what enforce_sso needs of the rows
// written before migration 00128: the blind index of the domain of every
// user's address (app.email_domains) and of every claimed domain
// (app.sso_domains.domain_bidx). Until a user's domain is noted, no
// enforcement holds them. It runs at start-up as ward_ops (ops), opens each
// address with the instance keys, and returns how many rows it indexed.
// A sealed address it cannot open is an error (nothing after it is
// indexed); running it again does only what is left.
func IndexDomains(ctx context.Context, ops *postgres.DB, keys *keystore.Store) (int, error) {
	inst, err := keys.Instance(ctx, ops)
	if err != nil {
		return 0, fmt.Errorf("sso: index domains: %w", err)
	}
	total := 0
	for {
		n := 0
		err := ops.InTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			type gap struct {
				kind      string
				user      *uuid.UUID
				bidx, enc []byte
				domain    *string
			}
			rows, err := tx.Query(ctx, `select kind, user_id, email_bidx, email_enc, domain from app.email_domain_gaps(500)`)
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
			q := dbsqlc.New(tx)
			for _, g := range gaps {
				switch {
				case g.kind == "user" && g.user != nil:
					email, err := inst.Open(g.enc, keystore.UserEmailAD(*g.user))
					if err != nil {
						return fmt.Errorf("user %s: %w", g.user, err)
					}
					if err := q.NoteEmailDomain(ctx, dbsqlc.NoteEmailDomainParams{EmailBidx: g.bidx,
						DomainBidx: inst.EmailDomainIndex(string(email))}); err != nil {
						return err
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
			return total, fmt.Errorf("sso: index domains: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
