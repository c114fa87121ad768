package cases

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// MaxComments is the most comments a document holds (migration 00183
// enforces it in the database, under a per-document lock).
const MaxComments = 1000

// MaxCommentPage is the largest page ListComments returns; a page size of
// 0 means DefaultCommentPage.
const (
	MaxCommentPage     = 200
	DefaultCommentPage = 50
)

// Comment is a comment on a document.
type Comment struct {
	ID        uuid.UUID `json:"id"`
	Body      string    `json:"body"`
	AuthorID  uuid.UUID `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
}

// LogValue reports ids only.
func (cm Comment) LogValue() slog.Value { return slog.StringValue(cm.ID.String()) }

// CommentCursor is where a page of comments starts: after the comment it
// names (the zero value: at the first comment). It travels as an opaque
// string (String, ParseCommentCursor) that holds the last comment's id and
// time, nothing a caller did not already read.
type CommentCursor struct {
	createdAt time.Time
	id        uuid.UUID
}

// errBadCursor is ParseCommentCursor's refusal.
var errBadCursor = errors.New("cases: malformed comment cursor")

// ParseCommentCursor reads a cursor String returned; "" is the first page.
// Errors: a malformed cursor.
func ParseCommentCursor(s string) (CommentCursor, error) {
	if s == "" {
		return CommentCursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return CommentCursor{}, errBadCursor
	}
	id, err := uuid.FromBytes(b[8:])
	if err != nil || id == uuid.Nil {
		return CommentCursor{}, errBadCursor
	}
	// A comment's time is the server's (years 0001-9999): anything else is
	// no cursor of this API, and far enough out it overflows on its way to
	// PostgreSQL.
	at := time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC()
	if at.Year() < 1 || at.Year() > 9999 {
		return CommentCursor{}, errBadCursor
	}
	return CommentCursor{createdAt: at, id: id}, nil
}

// String is the cursor's opaque form ("" for the first page).
func (k CommentCursor) String() string {
	if k.id == uuid.Nil {
		return ""
	}
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(k.createdAt.UnixMicro()))
	copy(b[8:], k.id[:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// CommentPage is a page of a document's comments, oldest first. Next is
// where the following page starts; "" when this page is the last.
type CommentPage struct {
	Comments []Comment `json:"comments"`
	Next     string    `json:"next_cursor,omitempty"`
}

// AddComment comments on a document (a member with the comment permission,
// or staff of the case). Errors: ErrInvalidInput, ErrNotFound, ErrForbidden,
// ErrCaseClosed, ErrCommentLimit (the document holds MaxComments already;
// nothing is written). Each refusal but ErrInvalidInput is audited, as a
// denied document.comment with the refusal's code as its reason.
func (s *Service) AddComment(ctx context.Context, doc uuid.UUID, body string) (Comment, error) {
	c, err := begin(ctx)
	if err != nil {
		return Comment{}, err
	}
	if body, err = text("body", body, 4000, true); err != nil {
		return Comment{}, err
	}
	var out Comment
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		r, err := getDoc(ctx, t, c, doc)
		if err != nil {
			return err
		}
		if ok, err := allowed(ctx, t.q, c, r.CaseID, PermComment); err != nil || !ok {
			if err == nil {
				err = ErrForbidden
			}
			return err
		}
		id := uuid.New()
		enc, err := sealField(t.keys, "document_comments", "body", c.p.OrgID, id, body)
		if err != nil {
			return err
		}
		row, err := t.q.CreateComment(ctx, dbsqlc.CreateCommentParams{OrgID: c.p.OrgID, ID: id, CaseID: r.CaseID,
			DocumentID: doc, BodyEnc: enc, AuthorID: c.p.UserID})
		if err != nil {
			return err
		}
		out = Comment{ID: id, Body: body, AuthorID: row.AuthorID, CreatedAt: row.CreatedAt}
		e := c.event("document.comment", "document", doc, r.CaseID)
		e.Details = map[string]any{"comment": id.String()}
		return t.record(ctx, e)
	})
	if err = mapErr("add comment", err); err != nil {
		return Comment{}, s.denied(ctx, c, c.event("document.comment", "document", doc, uuid.Nil), err)
	}
	return out, nil
}

// ListComments returns a page of a document's comments, oldest first: up
// to limit (1..MaxCommentPage; 0 means DefaultCommentPage) after the
// cursor. It audits the read, naming the comments returned. Errors:
// ErrInvalidInput (the limit), ErrNotFound, ErrForbidden.
func (s *Service) ListComments(ctx context.Context, doc uuid.UUID, limit int, after CommentCursor) (CommentPage, error) {
	c, err := begin(ctx)
	if err != nil {
		return CommentPage{}, err
	}
	if limit == 0 {
		limit = DefaultCommentPage
	}
	if limit < 1 || limit > MaxCommentPage {
		return CommentPage{}, errkind.Visiblef(ErrInvalidInput, "limit must be 1..%d", MaxCommentPage)
	}
	out := CommentPage{Comments: []Comment{}}
	err = s.tx(ctx, c, func(ctx context.Context, t txn) error {
		r, err := getDoc(ctx, t, c, doc)
		if err != nil {
			return err
		}
		p := dbsqlc.ListCommentsParams{OrgID: c.p.OrgID, DocumentID: doc, MaxRows: int32(limit + 1)}
		if after.id != uuid.Nil {
			p.AfterCreatedAt, p.AfterID = &after.createdAt, uuid.NullUUID{UUID: after.id, Valid: true}
		}
		rows, err := t.q.ListComments(ctx, p)
		if err != nil {
			return err
		}
		if len(rows) > limit {
			// One more than asked for: there is a next page.
			rows = rows[:limit]
			last := rows[limit-1]
			out.Next = CommentCursor{createdAt: last.CreatedAt, id: last.ID}.String()
		}
		ids := make([]uuid.UUID, 0, len(rows))
		for _, row := range rows {
			body, err := openField(t.keys, "document_comments", "body", row.OrgID, row.ID, row.BodyEnc)
			if err != nil {
				return err
			}
			out.Comments = append(out.Comments, Comment{ID: row.ID, Body: body, AuthorID: row.AuthorID,
				CreatedAt: row.CreatedAt})
			ids = append(ids, row.ID)
		}
		e := c.event("document.comment.list", "document", doc, r.CaseID)
		e.Results = ids
		return t.record(ctx, e)
	})
	if err = mapErr("list comments", err); err != nil {
		return CommentPage{}, s.denied(ctx, c, c.event("document.comment.list", "document", doc, uuid.Nil), err)
	}
	return out, nil
}
