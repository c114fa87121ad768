package cases

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// holdSealPage is how many holds one round trip of SealHoldTexts reads.
const holdSealPage = 500

// SealHoldTexts seals the legal-hold reasons and release notes written in
// the clear before migration 00280 under their orgs' keys (the
// associated data PlaceHold and ReleaseHold use) and clears the clear
// text, through ops: ward_ops or a superuser, as `ward migrate` connects
// (app.ops_legal_hold_clear_texts, app.ops_seal_legal_hold; ward_app can
// neither read nor write the clear columns). A text changed or
// overwritten by a shred between the read and the write keeps its own
// value; an org shredded has no keys and its texts were overwritten by
// the migration or the shred. It returns how many holds it sealed a text
// of. Running it again seals nothing more. Errors: the database's, or one
// wrapping keystore.ErrNoKeys naming an org (not shredded) whose keys the
// key store lacks; the texts are never in an error.
func SealHoldTexts(ctx context.Context, ops *postgres.DB, keys *keystore.Store) (int, error) {
	q := dbsqlc.New(ops.Pool)
	orgKeys := map[uuid.UUID]*envelope.OrgKeys{}
	var afterOrg, afterID uuid.NullUUID
	n := 0
	for {
		rows, err := q.OpsLegalHoldClearTexts(ctx, dbsqlc.OpsLegalHoldClearTextsParams{
			AfterOrg: afterOrg, AfterID: afterID, Lim: holdSealPage})
		if err != nil {
			return n, fmt.Errorf("cases: read clear hold texts: %w", err)
		}
		for _, r := range rows {
			k, ok := orgKeys[r.OrgID]
			if !ok {
				if k, err = keys.OpsOrg(ctx, ops, r.OrgID); err != nil {
					return n, fmt.Errorf("cases: seal the hold texts of org %s: %w", r.OrgID, err)
				}
				orgKeys[r.OrgID] = k
			}
			p := dbsqlc.OpsSealLegalHoldParams{OrgID: r.OrgID, ID: r.ID, Reason: r.Reason, Note: r.ReleaseNote}
			if r.Reason != nil {
				if p.ReasonEnc, err = sealField(k, "legal_holds", "reason", r.OrgID, r.ID, *r.Reason); err != nil {
					return n, err
				}
			}
			if r.ReleaseNote != nil {
				if p.NoteEnc, err = sealField(k, "legal_holds", "release_note", r.OrgID, r.ID, *r.ReleaseNote); err != nil {
					return n, err
				}
			}
			sealed, err := q.OpsSealLegalHold(ctx, p)
			if err != nil {
				return n, fmt.Errorf("cases: seal the texts of hold %s: %w", r.ID, err)
			}
			if sealed {
				n++
			}
		}
		if len(rows) < holdSealPage {
			return n, nil
		}
		last := rows[len(rows)-1]
		afterOrg, afterID = uuid.NullUUID{UUID: last.OrgID, Valid: true}, uuid.NullUUID{UUID: last.ID, Valid: true}
	}
}
