package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/keystore"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// Paging limits: a page holds DefaultCount Users unless the client asks
// for another count, at most MaxCount.
const (
	DefaultCount = 100
	MaxCount     = 1000
)

// ListQuery is a list request: a filter, a 1-based startIndex and a count.
type ListQuery struct {
	Filter     string
	StartIndex int
	Count      *int
}

// page is the query's startIndex (1 when less; at most math.MaxInt32,
// which is past any org's Users and Groups and within the database's
// offsets) and count (DefaultCount when not given; 0 to MaxCount).
func (lq ListQuery) page() (start, count int) {
	start, count = min(max(lq.StartIndex, 1), math.MaxInt32), DefaultCount
	if lq.Count != nil {
		count = min(max(*lq.Count, 0), MaxCount)
	}
	return start, count
}

func attrsAD(org, user uuid.UUID) envelope.AD {
	return envelope.AD{Table: "scim_users", Column: "attrs", Org: org, Row: user}
}

// CreateUser provisions a person in the token's org with the token's
// default role, or brings back one the directory deleted (with the lower of
// their old role and the token's default role). Errors: ErrInvalidInput,
// ErrConflict (userName or externalId taken, or a patient member),
// ErrMutability (an admin revoked the person), ErrUnauthenticated.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	p, err := principal(ctx)
	if err != nil {
		return User{}, err
	}
	if err := in.validate(); err != nil {
		return User{}, s.failed(ctx, p, uuid.Nil, err)
	}
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return User{}, err
	}
	email := envelope.NormalizeEmail(in.UserName)
	fresh := uuid.New()
	emailEnc, err := inst.Seal([]byte(email), keystore.UserEmailAD(fresh))
	if err != nil {
		return User{}, err
	}
	bidx := inst.BlindIndex("users.email", email)
	var out User
	var uid uuid.UUID
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		var err error
		// The domain of the address, noted for enforce_sso (00128).
		if err := q.NoteEmailDomain(ctx, dbsqlc.NoteEmailDomainParams{EmailBidx: bidx,
			DomainBidx: inst.EmailDomainIndex(email)}); err != nil {
			return err
		}
		uid, err = q.SCIMCreateUser(ctx, dbsqlc.SCIMCreateUserParams{UserID: fresh, EmailBidx: bidx, EmailEnc: emailEnc,
			ExternalID: in.ExternalID, Request: nullText(requestID(ctx))})
		if err != nil {
			return err
		}
		u := User{ID: uid, UserName: email, ExternalID: in.ExternalID, Name: in.Name, DisplayName: in.DisplayName,
			NickName: in.NickName, Title: in.Title, Active: in.Active == nil || bool(*in.Active)}
		if err := s.write(ctx, tx, q, p.OrgID, u, bidx); err != nil {
			return err
		}
		out, err = s.read(ctx, tx, p.OrgID, uid)
		return err
	})
	if err != nil {
		return User{}, s.failed(ctx, p, uid, mapErr("create user", err))
	}
	return out, nil
}

// GetUser returns one User of the token's org. Errors: ErrNotFound.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	p, err := principal(ctx)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		out, err = s.read(ctx, tx, p.OrgID, id)
		return err
	})
	if err != nil {
		return User{}, s.failed(ctx, p, id, mapErr("get user", err))
	}
	return out, nil
}

// ReplaceUser replaces what Ward keeps of a User (PUT): externalId, the
// name attributes and active (true when absent). userName must stay the
// same. Errors: ErrNotFound, ErrMutability (also: active true for a person
// an admin revoked), ErrInvalidInput, ErrConflict (the org's last admin, an
// externalId taken).
func (s *Service) ReplaceUser(ctx context.Context, id uuid.UUID, in UserInput) (User, error) {
	p, err := principal(ctx)
	if err != nil {
		return User{}, err
	}
	if err := in.validate(); err != nil {
		return User{}, s.failed(ctx, p, id, err)
	}
	u := User{ID: id, UserName: envelope.NormalizeEmail(in.UserName), ExternalID: in.ExternalID, Name: in.Name,
		DisplayName: in.DisplayName, NickName: in.NickName, Title: in.Title, Active: in.Active == nil || bool(*in.Active)}
	return s.update(ctx, p, id, func(cur *User) error {
		if envelope.NormalizeEmail(cur.UserName) != u.UserName {
			return errkind.Visible(ErrMutability, "userName is the person's sign-in address and cannot change through SCIM")
		}
		*cur = u
		return nil
	})
}

// PatchUser applies PATCH operations to a User. Errors: ErrNotFound and
// those of applyPatch; ErrConflict for the org's last admin; ErrMutability
// for active true on a person an admin revoked.
func (s *Service) PatchUser(ctx context.Context, id uuid.UUID, ops []PatchOp) (User, error) {
	p, err := principal(ctx)
	if err != nil {
		return User{}, err
	}
	return s.update(ctx, p, id, func(cur *User) error { return applyPatch(cur, ops) })
}

// update reads a User, changes it with fn and writes it back, in one
// transaction.
func (s *Service) update(ctx context.Context, p identity.Principal, id uuid.UUID, fn func(*User) error) (User, error) {
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		cur, err := s.read(ctx, tx, p.OrgID, id)
		if err != nil {
			return err
		}
		if err := fn(&cur); err != nil {
			return err
		}
		if err := s.write(ctx, tx, q, p.OrgID, cur, inst.BlindIndex("users.email", envelope.NormalizeEmail(cur.UserName))); err != nil {
			return err
		}
		out, err = s.read(ctx, tx, p.OrgID, id)
		return err
	})
	if err != nil {
		return User{}, s.failed(ctx, p, id, mapErr("update user", err))
	}
	return out, nil
}

// DeleteUser ends a User's access to the token's org and hides it from
// SCIM. Errors: ErrNotFound, ErrConflict (the org's last admin).
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		return q.SCIMDeleteUser(ctx, dbsqlc.SCIMDeleteUserParams{UserID: id, Request: nullText(requestID(ctx))})
	})
	if err != nil {
		return s.failed(ctx, p, id, mapErr("delete user", err))
	}
	return nil
}

// ListUsers returns one page of the token's org's Users matching q.Filter.
// Errors: ErrInvalidFilter.
func (s *Service) ListUsers(ctx context.Context, lq ListQuery) (UserList, error) {
	p, err := principal(ctx)
	if err != nil {
		return UserList{}, err
	}
	conj, err := parseFilter(lq.Filter)
	if err != nil {
		return UserList{}, s.failed(ctx, p, uuid.Nil, err)
	}
	start, count := lq.page()
	out := UserList{Schemas: []string{SchemaListResponse}, StartIndex: start, Resources: []User{}}
	var inst *envelope.OrgKeys
	if len(conj) > 0 {
		if inst, err = s.keys.Instance(ctx, s.db); err != nil {
			return UserList{}, err
		}
	}
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		switch {
		case len(conj) == 0:
			return nil
		case len(conj) == 1 && conj[0].active == nil:
			// One conjunction the database narrows and pages itself.
			rows, total, err := scimUsers(ctx, tx, toQuery(conj[0], inst, start-1, count), requestID(ctx))
			if err != nil {
				return err
			}
			out.TotalResults = total
			out.Resources, err = s.users(ctx, tx, p.OrgID, rows)
			return err
		}
		// Several conjunctions, or active: gather each (a directory's
		// filters match a handful), merge, then page.
		var all []userRow
		for _, c := range conj {
			rows, total, err := scimUsers(ctx, tx, toQuery(c, inst, 0, MaxCount), requestID(ctx))
			if err != nil {
				return err
			}
			if total > MaxCount {
				return errkind.Visiblef(ErrInvalidFilter, "the filter matches more than %d Users; narrow it", MaxCount)
			}
			for _, r := range rows {
				if (c.active == nil || *c.active == r.Active) &&
					!slices.ContainsFunc(all, func(x userRow) bool { return x.UserID == r.UserID }) {
					all = append(all, r)
				}
			}
		}
		slices.SortFunc(all, func(a, b userRow) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.UserID.String(), b.UserID.String())
		})
		out.TotalResults = len(all)
		lo := min(start-1, len(all))
		hi := min(lo+count, len(all))
		var err error
		out.Resources, err = s.users(ctx, tx, p.OrgID, all[lo:hi])
		return err
	})
	if err != nil {
		return UserList{}, s.failed(ctx, p, uuid.Nil, mapErr("list users", err))
	}
	out.ItemsPerPage = len(out.Resources)
	return out, nil
}

func toQuery(c constraint, inst *envelope.OrgKeys, offset, limit int) userQuery {
	q := userQuery{id: c.id, externalID: c.externalID, offset: offset, limit: limit}
	if c.email != nil {
		q.emailBidx = inst.BlindIndex("users.email", *c.email)
	}
	return q
}

// read returns one User of org (ErrNotFound when SCIM cannot see it).
func (s *Service) read(ctx context.Context, tx pgx.Tx, org, id uuid.UUID) (User, error) {
	rows, _, err := scimUsers(ctx, tx, userQuery{id: &id, limit: 1}, requestID(ctx))
	if err != nil {
		return User{}, err
	}
	if len(rows) == 0 {
		return User{}, ErrNotFound
	}
	us, err := s.users(ctx, tx, org, rows)
	if err != nil {
		return User{}, err
	}
	return us[0], nil
}

// users opens rows into Users.
func (s *Service) users(ctx context.Context, tx pgx.Tx, org uuid.UUID, rows []userRow) ([]User, error) {
	out := make([]User, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	inst, err := s.keys.Instance(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var orgKeys *envelope.OrgKeys
	for _, r := range rows {
		email, err := inst.Open(r.EmailEnc, keystore.UserEmailAD(r.UserID))
		if err != nil {
			return nil, fmt.Errorf("scim: open address of user %s: %w", r.UserID, err)
		}
		u := User{Schemas: []string{SchemaUser}, ID: r.UserID, ExternalID: r.ExternalID, UserName: string(email),
			Emails: []Email{{Value: string(email), Type: "work", Primary: true}}, Active: r.Active,
			Roles: []RoleValue{{Value: r.Role, Primary: true}},
			Meta: Meta{ResourceType: "User", Created: r.CreatedAt.UTC().Truncate(time.Millisecond),
				LastModified: r.UpdatedAt.UTC().Truncate(time.Millisecond), Location: s.location("Users", r.UserID),
				Version: `W/"` + strconv.Itoa(int(r.Version)) + `"`}}
		if len(r.AttrsEnc) > 0 {
			if orgKeys == nil {
				if orgKeys, err = s.keys.Org(ctx, tx, org); err != nil {
					return nil, err
				}
			}
			pt, err := orgKeys.Open(r.AttrsEnc, attrsAD(org, r.UserID))
			if err != nil {
				return nil, fmt.Errorf("scim: open attributes of user %s: %w", r.UserID, err)
			}
			var a attrs
			if err := json.Unmarshal(pt, &a); err != nil {
				return nil, fmt.Errorf("scim: attributes of user %s: %w", r.UserID, err)
			}
			u.Name, u.DisplayName, u.NickName, u.Title = a.Name, a.DisplayName, a.NickName, a.Title
		}
		out = append(out, u)
	}
	return out, nil
}

// write stores u's externalId, sealed attributes and active state.
func (s *Service) write(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries, org uuid.UUID, u User, bidx []byte) error {
	var enc []byte
	if a := u.attrs(); !a.empty() {
		orgKeys, err := s.keys.Org(ctx, tx, org)
		if err != nil {
			return err
		}
		pt, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if enc, err = orgKeys.Seal(pt, attrsAD(org, u.ID)); err != nil {
			return err
		}
	}
	_, err := q.SCIMUpdateUser(ctx, dbsqlc.SCIMUpdateUserParams{UserID: u.ID, EmailBidx: bidx, ExternalID: u.ExternalID,
		AttrsEnc: enc, Active: u.Active, Request: nullText(requestID(ctx))})
	return err
}

// location is a resource's URL.
func (s *Service) location(kind string, id uuid.UUID) string {
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/scim/v2/" + kind + "/" + id.String()
}
