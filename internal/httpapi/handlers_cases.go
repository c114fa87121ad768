package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/cases"
)

// The case repository's routes (docs/cases.md). Case references, titles,
// file names and comments are PHI: they travel in bodies and headers,
// never in URLs.

func handleCaseCreate(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in cases.CaseInput
		err := decode(r, &in)
		var c cases.Case
		if err == nil {
			c, err = svc.CreateCase(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

// handleCaseList lists cases; its query holds status, patient and paging
// (a reference is PHI: search by it with POST /v1/cases/search).
func handleCaseList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f cases.CaseFilter
		err := queryOnce(r)
		for name := range r.URL.Query() {
			switch name {
			case "status", "patient_id", "limit":
			case "reference":
				err = badRequest("invalid_query", "search by reference with POST /v1/cases/search and a JSON body")
			default:
				err = badRequest("invalid_query", "the query parameters are status, patient_id and limit")
			}
		}
		f.Status = r.URL.Query().Get("status")
		if err == nil {
			f.PatientID, _, err = queryID(r, "patient_id")
		}
		if err == nil {
			f.Limit, err = queryLimit(r, cases.MaxListPage)
		}
		var list []cases.Case
		if err == nil {
			list, err = svc.ListCases(r.Context(), f)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"cases": list})
	})
}

func handleCaseSearch(svc *cases.Service, fail errorWriter) http.Handler {
	type request struct {
		Reference string `json:"reference"`
		Limit     int    `json:"limit"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		if err == nil && strings.TrimSpace(req.Reference) == "" {
			err = badRequest("invalid_input", "give reference, or list with GET /v1/cases")
		}
		var list []cases.Case
		if err == nil {
			list, err = svc.ListCases(r.Context(), cases.CaseFilter{Reference: req.Reference, Limit: req.Limit})
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"cases": list})
	})
}

func handleCaseGet(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var c cases.Case
		if err == nil {
			c, err = svc.GetCase(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func handleCasePatch(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var u cases.CaseUpdate
		if err == nil {
			err = decode(r, &u)
		}
		var c cases.Case
		if err == nil {
			c, err = svc.UpdateCase(r.Context(), id, u)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
}

func handleCaseMemberList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var list []cases.Member
		if err == nil {
			list, err = svc.ListMembers(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"members": list})
	})
}

func handleCaseMemberSet(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var user uuid.UUID
		if err == nil {
			user, err = pathID(r, "user_id")
		}
		var in cases.MemberInput
		if err == nil {
			err = decode(r, &in)
		}
		var m cases.Member
		if err == nil {
			m, err = svc.SetMember(r.Context(), id, user, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
}

func handleCaseMemberRevoke(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var user uuid.UUID
		if err == nil {
			user, err = pathID(r, "user_id")
		}
		if err == nil {
			err = svc.RevokeMember(r.Context(), id, user)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleCaseInviteCreate(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in cases.InviteInput
		if err == nil {
			err = decode(r, &in)
		}
		var inv cases.Invite
		if err == nil {
			inv, err = svc.CreateInvite(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, inv)
	})
}

func handleCaseInviteList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var list []cases.Invite
		if err == nil {
			list, err = svc.ListInvites(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"invites": list})
	})
}

func handleCaseInviteRevoke(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var inv uuid.UUID
		if err == nil {
			inv, err = pathID(r, "invite_id")
		}
		if err == nil {
			err = svc.RevokeInvite(r.Context(), id, inv)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleDocumentRequest(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in cases.RequestInput
		if err == nil {
			err = decode(r, &in)
		}
		var d cases.Document
		if err == nil {
			d, err = svc.RequestDocument(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, d)
	})
}

func handleDocumentList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = queryOnce(r)
		}
		for name := range r.URL.Query() {
			if name != "status" && name != "limit" && err == nil {
				err = badRequest("invalid_query", "the query parameters are status and limit")
			}
		}
		var limit int
		if err == nil {
			limit, err = queryLimit(r, cases.MaxListPage)
		}
		var list cases.DocumentList
		if err == nil {
			list, err = svc.ListDocuments(r.Context(), id, r.URL.Query().Get("status"), limit)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
}

func handleDocumentGet(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var d cases.Document
		if err == nil {
			d, err = svc.GetDocument(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
}

// uploadName reads the file name from Content-Disposition (filename* in
// RFC 8187 form, or filename): the name is PHI and never goes in a URL.
func uploadName(r *http.Request) (string, error) {
	cd := r.Header.Get("Content-Disposition")
	if cd == "" {
		return "", badRequest("missing_file_name", `send the file name in Content-Disposition: attachment; filename*=UTF-8''…`)
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil || params["filename"] == "" {
		return "", badRequest("invalid_file_name", "Content-Disposition must carry a filename parameter")
	}
	return params["filename"], nil
}

// handleUpload stores the raw request body as a new version of a document
// (PUT /v1/documents/{id}/content), or as a new document of the type in
// Ward-Document-Type (POST /v1/cases/{id}/files).
func handleUpload(svc *cases.Service, fail errorWriter, newDocument bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var in cases.UploadInput
		if err == nil {
			err = contentCoding(r)
		}
		if err == nil {
			in.FileName, err = uploadName(r)
		}
		var kase, doc uuid.UUID
		if err == nil {
			if newDocument {
				kase = id
				in.Type = r.Header.Get("Ward-Document-Type")
			} else {
				doc = id
				in.IfMatch = etags(r, "If-Match")
				var d cases.Document
				// The case comes from the document the caller can see.
				if d, err = svc.GetDocument(r.Context(), doc); err == nil {
					kase = d.CaseID
				}
			}
		}
		in.Length = r.ContentLength
		var d cases.Document
		var v cases.Version
		if err == nil {
			d, v, err = svc.Upload(r.Context(), kase, doc, in, r.Body)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = cases.ErrTooLarge
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", `"`+v.SHA256+`"`)
		writeJSON(w, http.StatusCreated, d)
	})
}

// handleDownload streams a version's plaintext out of decryption, with
// Range (single and multiple ranges, If-Range) and ETag handled by
// http.ServeContent over a reader that seeks by segment.
func handleDownload(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		version := 0
		if err == nil {
			err = queryOnce(r)
		}
		for name := range r.URL.Query() {
			if name != "version" && err == nil {
				err = badRequest("invalid_query", "the query parameter is version")
			}
		}
		if v := r.URL.Query().Get("version"); v != "" && err == nil {
			if version, err = strconv.Atoi(v); err != nil || version < 1 {
				err = badRequest("invalid_query", "version is a positive integer")
			}
		}
		var d *cases.Download
		var v verdict
		if err == nil {
			// A HEAD, a copy the client holds already, a precondition that
			// fails or a Range beyond the content sends no content: it is
			// opened for its headers only, and recorded as a read of the
			// document, not as a download (nor a disclosure of one).
			d, err = svc.OpenDownload(r.Context(), id, version, r.Header.Get("Ward-Purpose"),
				cases.Conditional{Head: r.Method == http.MethodHead, Withhold: func(ver cases.Version) bool {
					v = judge(r, ver.ETag(), ver.CreatedAt, ver.Size)
					return v != serve
				}})
		}
		switch {
		case err != nil:
		case v == preconditionFailed:
			err = cases.ErrPreconditionFailed
		case v == rangeNotSatisfiable:
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(d.Size, 10))
			err = &publicError{status: http.StatusRequestedRangeNotSatisfiable, code: "range_not_satisfiable",
				msg: fmt.Sprintf("no range asked for starts within the content's %d bytes", d.Size)}
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("ETag", d.ETag())
		h.Set("Cache-Control", "private, no-store")
		if v == notModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", d.ContentType)
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+rfc8187(d.FileName))
		h.Set("Content-Security-Policy", "sandbox")
		if d.Meta {
			// HEAD: a GET's headers for the whole body
			h.Set("Accept-Ranges", "bytes")
			h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
			w.WriteHeader(http.StatusOK)
			return
		}
		// http.ServeContent sees only ranges that start within the content
		// (it would answer others in plain text), none at all for a Range
		// to ignore (another unit, a malformed set, an If-Range that does
		// not hold), and none past maxRanges: each range costs a segment
		// read and decrypted however short it is, and many one-byte ranges
		// would make one request decrypt gigabytes. Then it serves the
		// whole body (RFC 9110 §14.2 lets a server ignore Range).
		if ranges, n, ok := byteRanges(r, d.ETag(), d.CreatedAt, d.Size); ok && n <= maxRanges {
			r.Header.Set("Range", ranges)
		} else {
			r.Header.Del("Range")
		}
		rs := &rangeSeeker{d: d, r: r}
		defer rs.Close()
		http.ServeContent(w, r, "", d.CreatedAt, rs)
		if rs.err != nil {
			// Headers are gone; end the connection so the client sees a
			// truncated body, never altered bytes.
			panic(http.ErrAbortHandler)
		}
	})
}

// maxRanges is the most ranges one download request may ask for.
const maxRanges = 8

// rfc8187 percent-encodes a file name for filename*.
func rfc8187(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// rangeSeeker is an io.ReadSeeker over a download: Seek only moves the
// offset; the next Read opens a decrypting reader at it (reading only the
// segments that cover the rest).
type rangeSeeker struct {
	d   *cases.Download
	r   *http.Request
	off int64
	cur io.ReadCloser
	err error
}

func (s *rangeSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.off + offset
	case io.SeekEnd:
		abs = s.d.Size + offset
	}
	if abs < 0 {
		return 0, errors.New("negative offset")
	}
	if abs != s.off && s.cur != nil {
		s.cur.Close()
		s.cur = nil
	}
	s.off = abs
	return abs, nil
}

func (s *rangeSeeker) Read(p []byte) (int, error) {
	if s.off >= s.d.Size {
		return 0, io.EOF
	}
	if s.cur == nil {
		rc, err := s.d.Range(s.r.Context(), s.off, -1)
		if err != nil {
			s.err = err
			return 0, err
		}
		s.cur = rc
	}
	n, err := s.cur.Read(p)
	s.off += int64(n)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

func (s *rangeSeeker) Close() {
	if s.cur != nil {
		s.cur.Close()
	}
}

// etags reads an If-Match or If-None-Match header (RFC 9110 §13.1): a list
// of entity tags, or *.
func etags(r *http.Request, name string) cases.Precondition {
	var p cases.Precondition
	for _, h := range r.Header.Values(name) {
		for _, t := range strings.Split(h, ",") {
			switch t = strings.TrimSpace(t); t {
			case "":
			case "*":
				p.Any = true
			default:
				p.ETags = append(p.ETags, t)
			}
		}
	}
	return p
}

// errPreconditionRequired answers an acceptance that names no version.
var errPreconditionRequired = &publicError{status: http.StatusPreconditionRequired, code: "precondition_required",
	msg: `name the version you reviewed: If-Match with its ETag, or the body {"version": n}`}

// handleDocumentAccept accepts the version the manager reviewed: If-Match
// with its ETag (the plaintext's SHA-256, as the download sent it) and/or
// a JSON body {"version": n}; one that is not the latest is 412.
func handleDocumentAccept(svc *cases.Service, fail errorWriter) http.Handler {
	type request struct {
		Version int `json:"version"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		want := etags(r, "If-Match")
		if err == nil && (r.ContentLength != 0 || r.Header.Get("Content-Type") != "") {
			var req request
			if err = decode(r, &req); err == nil && req.Version < 1 {
				err = badRequest("invalid_input", "version is a positive integer")
			}
			want.Version = req.Version
		}
		if err == nil && !want.Named() {
			err = errPreconditionRequired
		}
		if err == nil {
			err = svc.AcceptDocument(r.Context(), id, want)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleDocumentDelete(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.DeleteDocument(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleCommentAdd(svc *cases.Service, fail errorWriter) http.Handler {
	type request struct {
		Body string `json:"body"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		var c cases.Comment
		if err == nil {
			c, err = svc.AddComment(r.Context(), id, req.Body)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, c)
	})
}

// handleCommentList returns a page of a document's comments, oldest
// first: limit (1..200, default 50) and cursor (a previous page's
// next_cursor, opaque) are its only query parameters.
func handleCommentList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = queryOnce(r)
		}
		for name := range r.URL.Query() {
			if name != "limit" && name != "cursor" && err == nil {
				err = badRequest("invalid_query", "the query parameters are limit and cursor")
			}
		}
		var limit int
		if err == nil {
			limit, err = queryLimit(r, cases.MaxCommentPage)
		}
		var after cases.CommentCursor
		if err == nil {
			if after, err = cases.ParseCommentCursor(r.URL.Query().Get("cursor")); err != nil {
				err = badRequest("invalid_query", "cursor must be a next_cursor this API returned")
			}
		}
		var page cases.CommentPage
		if err == nil {
			page, err = svc.ListComments(r.Context(), id, limit, after)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, page)
	})
}

func handleHoldPlace(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in cases.HoldInput
		err := decode(r, &in)
		var h cases.Hold
		if err == nil {
			h, err = svc.PlaceHold(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, h)
	})
}

func handleHoldList(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		active := false
		for name, v := range r.URL.Query() {
			switch {
			case name == "active" && len(v) == 1 && (v[0] == "true" || v[0] == "false"):
				active = v[0] == "true"
			default:
				err = badRequest("invalid_query", "the query parameter is active=true|false")
			}
		}
		var list []cases.Hold
		if err == nil {
			list, err = svc.ListHolds(r.Context(), active)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"holds": list})
	})
}

func handleHoldRelease(svc *cases.Service, fail errorWriter) http.Handler {
	type request struct {
		Note string `json:"note"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil {
			err = svc.ReleaseHold(r.Context(), id, req.Note)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRetentionGet returns the org's retention policy, its version as
// the ETag (a PUT's If-Match).
func handleRetentionGet(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pol, err := svc.GetRetentionPolicy(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", `"`+pol.Version+`"`)
		writeJSON(w, http.StatusOK, pol)
	})
}

// retentionIfMatch reads a PUT's If-Match as the policy versions it names:
// nil for none or *, which any version meets (the policy always exists,
// empty at first). A weak tag never matches (strong comparison).
func retentionIfMatch(r *http.Request) []string {
	im := etags(r, "If-Match")
	if im.Any || len(im.ETags) == 0 {
		return nil
	}
	out := make([]string, 0, len(im.ETags))
	for _, t := range im.ETags {
		if len(t) >= 2 && strings.HasPrefix(t, `"`) && strings.HasSuffix(t, `"`) {
			t = t[1 : len(t)-1]
		}
		out = append(out, t)
	}
	return out
}

// handleRetentionPreview reports what the next purge would delete, per
// document type, without deleting (org admins; audited as a list read).
func handleRetentionPreview(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := svc.PreviewPurge(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleRetentionPut replaces the org's retention policy: with If-Match,
// only if its version is still the one named (412 otherwise); without, as
// the org's other policies are replaced, whatever the version.
func handleRetentionPut(svc *cases.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pol cases.RetentionPolicy
		err := decode(r, &pol)
		if err == nil {
			err = svc.SetRetentionPolicy(r.Context(), pol, retentionIfMatch(r))
		}
		if err == nil {
			pol, err = svc.GetRetentionPolicy(r.Context())
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", `"`+pol.Version+`"`)
		writeJSON(w, http.StatusOK, pol)
	})
}
