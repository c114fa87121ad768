package s3archive_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/audit/s3archive"
	"github.com/wardhq/ward/internal/audit/s3test"
	"github.com/wardhq/ward/internal/s3conn"
)

// archiveFixture is a small signed log of one org: three events and
// checkpoints at sizes 2 and 3.
type archiveFixture struct {
	org    uuid.UUID
	vkey   string
	events []audit.ArchivedEvent
	cps    []audit.Checkpoint
}

func newArchiveFixture(t *testing.T) archiveFixture {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "ward-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	f := archiveFixture{org: uuid.New(), vkey: vkey}
	tree := audit.NewTree()
	for i := int64(1); i <= 3; i++ {
		canon := fmt.Appendf(nil, `{"action":"patient.read","n":%d}`, i)
		leaf := audit.LeafHash(canon)
		tree.Append(leaf)
		f.events = append(f.events, audit.ArchivedEvent{Seq: i, LeafHash: leaf, Canonical: canon})
		if i >= 2 {
			cp, err := audit.SignCheckpoint(signer, audit.Origin(f.org), i, tree.Root())
			if err != nil {
				t.Fatal(err)
			}
			f.cps = append(f.cps, cp)
		}
	}
	return f
}

// write archives the fixture: segments 1–2 and 3, then both checkpoints.
func (f archiveFixture) write(t *testing.T, a audit.Archive) []audit.Stored {
	t.Helper()
	ctx := context.Background()
	var out []audit.Stored
	for _, seg := range [][]audit.ArchivedEvent{f.events[:2], f.events[2:]} {
		st, err := a.PutSegment(ctx, f.org, seg)
		if err != nil {
			t.Fatalf("PutSegment: %v", err)
		}
		out = append(out, st)
	}
	for _, cp := range f.cps {
		st, err := a.PutCheckpoint(ctx, f.org, cp)
		if err != nil {
			t.Fatalf("PutCheckpoint: %v", err)
		}
		out = append(out, st)
	}
	return out
}

func openS3(t *testing.T, s *s3test.Server, bucket, prefix string, create bool) (*s3archive.Archive, error) {
	t.Helper()
	return s3archive.Open(context.Background(), s3archive.Config{
		Endpoint: s.Endpoint(), Region: s3test.Region, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: bucket, Prefix: prefix, Create: create,
	})
}

// refused fails the test unless err is an S3 refusal: 403 AccessDenied (AWS,
// versitygw) or 400 InvalidRequest (MinIO).
func refused(t *testing.T, what string, err error) {
	t.Helper()
	status, code := s3conn.Status(err), s3conn.Code(err)
	if err == nil || !(status == http.StatusForbidden && code == "AccessDenied" ||
		status == http.StatusBadRequest && code == "InvalidRequest") {
		t.Errorf("%s: got %v (status %d, code %q), want 403 AccessDenied or 400 InvalidRequest", what, err, status, code)
	}
}

// An S3 archive writes the directory layout under its prefix, each object
// under COMPLIANCE retention that it reads back, writes each object once,
// and answers Archived, Orgs and Checkpoints as the directory archive does.
func TestS3Archive(t *testing.T) {
	ctx := context.Background()
	s := s3test.Start(t)
	f := newArchiveFixture(t)
	a, err := openS3(t, s, "ward-archive", "/instance-a/", true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Location() != "s3://ward-archive/instance-a" || a.RetentionDays() != s3archive.DefaultRetentionDays {
		t.Fatalf("Location %q, RetentionDays %d", a.Location(), a.RetentionDays())
	}
	before := time.Now().UTC()
	stored := f.write(t, a)
	after := time.Now().UTC()

	wantNames := []string{
		"instance-a/" + f.org.String() + "/segments/00000000000000000001-00000000000000000002.jsonl",
		"instance-a/" + f.org.String() + "/segments/00000000000000000003-00000000000000000003.jsonl",
		"instance-a/" + f.org.String() + "/checkpoints/00000000000000000002.note",
		"instance-a/" + f.org.String() + "/checkpoints/00000000000000000003.note",
	}
	c := s.Client()
	days := time.Duration(s3archive.DefaultRetentionDays) * 24 * time.Hour
	for i, st := range stored {
		if st.Name != wantNames[i] || st.VersionID == "" || st.Existed || !st.WORM() {
			t.Errorf("stored[%d] = %+v, want %s, a version, COMPLIANCE", i, st, wantNames[i])
		}
		if st.RetainUntil.Before(before.Add(days).Truncate(time.Second)) || st.RetainUntil.After(after.Add(days)) {
			t.Errorf("%s: retained until %s, want now + %d days", st.Name, st.RetainUntil, s3archive.DefaultRetentionDays)
		}
		// What the archive reports is what the server says.
		if got, err := a.Retention(ctx, st.Name, st.VersionID); err != nil || got != st {
			t.Errorf("%s: Retention = %+v, %v; archive reported %+v", st.Name, got, err, st)
		}
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ward-archive"), Key: &wantNames[2]})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(obj.Body); string(b) != f.cps[0].Note {
		t.Errorf("checkpoint object holds %q, want the note", b)
	}

	// The same answers as a directory holding the same log.
	dir := audit.DirArchive{Dir: t.TempDir()}
	f.write(t, dir)
	for name, arch := range map[string]audit.Archive{"s3": a, "dir": dir} {
		pos, err := arch.Archived(ctx, f.org)
		if err != nil || pos != (audit.Position{Seq: 3, Checkpoint: 3}) {
			t.Errorf("%s: Archived = %+v, %v", name, pos, err)
		}
		orgs, err := arch.Orgs(ctx)
		if err != nil || !cmp.Equal(orgs, []uuid.UUID{f.org}) {
			t.Errorf("%s: Orgs = %v, %v", name, orgs, err)
		}
		cps, err := audit.ArchivedCheckpoints(ctx, arch, f.org, f.vkey)
		if err != nil || !cmp.Equal(cps, f.cps) {
			t.Errorf("%s: ArchivedCheckpoints = %v, %v\nwant %v", name, cps, err, f.cps)
		}
	}

	// Written once: a second put finds the object and writes no version; a
	// different note under an archived name is an error, not a new version.
	again, err := a.PutCheckpoint(ctx, f.org, f.cps[1])
	if err != nil || !again.Existed || again.VersionID != stored[3].VersionID || !again.WORM() {
		t.Errorf("second PutCheckpoint = %+v, %v; want the existing version", again, err)
	}
	forged := f.cps[1]
	forged.Note = strings.Replace(forged.Note, "\n3\n", "\n3 \n", 1)
	if _, err := a.PutCheckpoint(ctx, f.org, forged); err == nil || !strings.Contains(err.Error(), "other bytes") {
		t.Errorf("PutCheckpoint of other bytes under an archived name: %v", err)
	}
	versions := 0
	for p := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: aws.String("ward-archive"),
		Prefix: aws.String("instance-a/")}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		versions += len(page.Versions) + len(page.DeleteMarkers)
	}
	if versions != 4 {
		t.Errorf("%d object versions in the bucket, want 4 (each object once)", versions)
	}

	// A fresh archive (another process) sees the same position.
	b, err := openS3(t, s, "ward-archive", "instance-a", false)
	if err != nil {
		t.Fatal(err)
	}
	if pos, err := b.Archived(ctx, f.org); err != nil || pos != (audit.Position{Seq: 3, Checkpoint: 3}) {
		t.Errorf("Archived from a new client = %+v, %v", pos, err)
	}
	// Another instance's prefix is separate.
	other, err := openS3(t, s, "ward-archive", "instance-b", false)
	if err != nil {
		t.Fatal(err)
	}
	if orgs, err := other.Orgs(ctx); err != nil || len(orgs) != 0 {
		t.Errorf("instance-b Orgs = %v, %v", orgs, err)
	}
}

// Object Lock holds: no one can delete an archived object version, shorten
// its retention or switch it to GOVERNANCE, and an overwrite or a delete
// marker neither changes nor hides the archived version.
func TestS3ArchiveObjectLock(t *testing.T) {
	ctx := context.Background()
	s := s3test.Start(t)
	f := newArchiveFixture(t)
	a, err := openS3(t, s, "ward-worm", "ward", true)
	if err != nil {
		t.Fatal(err)
	}
	stored := f.write(t, a)
	c := s.Client()
	cp := stored[2] // the checkpoint at size 2
	seg := stored[0]

	bucket := aws.String("ward-worm")
	deleteVersion := func(st audit.Stored, bypass bool) error {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: &st.Name, VersionId: &st.VersionID,
			BypassGovernanceRetention: aws.Bool(bypass)})
		return err
	}
	putRetention := func(st audit.Stored, mode types.ObjectLockRetentionMode, until time.Time, bypass bool) error {
		_, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: bucket, Key: &st.Name, VersionId: &st.VersionID,
			Retention: &types.ObjectLockRetention{Mode: mode, RetainUntilDate: &until}, BypassGovernanceRetention: aws.Bool(bypass)})
		return err
	}
	for _, st := range []audit.Stored{seg, cp} {
		refused(t, "delete version "+st.Name, deleteVersion(st, false))
		refused(t, "delete version with governance bypass "+st.Name, deleteVersion(st, true))
		shorter := st.RetainUntil.Add(-24 * time.Hour)
		compliance, governance := types.ObjectLockRetentionModeCompliance, types.ObjectLockRetentionModeGovernance
		refused(t, "shorten retention "+st.Name, putRetention(st, compliance, shorter, false))
		refused(t, "switch to GOVERNANCE "+st.Name, putRetention(st, governance, st.RetainUntil, false))
		refused(t, "switch to GOVERNANCE with bypass "+st.Name, putRetention(st, governance, st.RetainUntil, true))
		if got, err := a.Retention(ctx, st.Name, st.VersionID); err != nil || got != st {
			t.Errorf("%s: after the attempts, retention %+v, %v; want %+v", st.Name, got, err, st)
		}
	}

	// Overwriting the name stores a new version (S3 has no way to replace a
	// version's bytes); the archived version keeps its bytes and lock, and
	// the forged note fails verification rather than replacing the real one.
	forged := strings.Replace(f.cps[0].Note, "\n2\n", "\n1\n", 1)
	sum := md5.Sum([]byte(forged))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &cp.Name, Body: strings.NewReader(forged),
		ContentLength: aws.Int64(int64(len(forged))), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}); err != nil {
		t.Logf("overwrite refused outright: %v", err)
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: &cp.Name, VersionId: &cp.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(obj.Body); err != nil || !bytes.Equal(b, []byte(f.cps[0].Note)) {
		t.Errorf("archived version after an overwrite: %q, %v", b, err)
	}
	if _, err := audit.ArchivedCheckpoints(ctx, a, f.org, f.vkey); !errors.Is(err, audit.ErrBadCheckpoint) {
		t.Errorf("ArchivedCheckpoints with a forged version: %v, want ErrBadCheckpoint", err)
	}

	// A delete marker (a plain DELETE, allowed) hides the segment from a
	// listing but not the checkpoint versions from verification.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: &stored[3].Name}); err != nil {
		t.Fatalf("plain DELETE (a delete marker): %v", err)
	}
	notes, err := a.Checkpoints(ctx, f.org)
	if err != nil || len(notes) != 3 || !strings.Contains(strings.Join(notes, ""), f.cps[1].Note) {
		t.Errorf("Checkpoints after a delete marker: %d notes, %v; want both real notes and the forged one", len(notes), err)
	}
	if got, err := a.Retention(ctx, stored[3].Name, stored[3].VersionID); err != nil || got != stored[3] {
		t.Errorf("delete-marked version's retention: %+v, %v; want %+v", got, err, stored[3])
	}
}

// A bucket without Object Lock is refused, clearly; a missing bucket is
// created with Object Lock only when asked.
func TestS3ArchiveBucket(t *testing.T) {
	ctx := context.Background()
	s := s3test.Start(t)
	c := s.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := openS3(t, s, "plain", "", true); !errors.Is(err, s3archive.ErrNoObjectLock) || !strings.Contains(err.Error(), "plain") {
		t.Errorf("a bucket without Object Lock: %v, want ErrNoObjectLock naming it", err)
	}
	if _, err := openS3(t, s, "missing", "", false); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing bucket without Create: %v", err)
	}
	if _, err := openS3(t, s, "made", "", true); err != nil {
		t.Fatalf("create: %v", err)
	}
	if lock, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("made")}); err != nil ||
		lock.ObjectLockConfiguration == nil || lock.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		t.Errorf("created bucket's Object Lock: %+v, %v", lock, err)
	}
	_, err := s3archive.Open(ctx, s3archive.Config{Endpoint: s.Endpoint(), AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey,
		Bucket: "made", RetentionDays: 40000})
	if err == nil {
		t.Error("a retention of 40000 days was accepted")
	}
}

// Every upload carries what AWS requires of an Object Lock PUT and what
// the archive promises, seen on the wire: versitygw accepts a retention
// PUT without Content-MD5 (AWS refuses one), so the server alone would
// not catch a client that stopped sending it.
func TestS3ArchivePutHeaders(t *testing.T) {
	s := s3test.Start(t)
	target, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	type put struct {
		path   string
		header http.Header
		body   []byte
	}
	var (
		mu   sync.Mutex
		puts []put
	)
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps the signed Host
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Object uploads: PUTs of a key, not of a subresource (the SDK adds
		// ?x-id=PutObject, a no-op for the server).
		q := r.URL.Query()
		q.Del("x-id")
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.Method == http.MethodPut && len(q) == 0 && key != "" {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			puts = append(puts, put{r.URL.Path, r.Header.Clone(), body})
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	a, err := s3archive.Open(context.Background(), s3archive.Config{Endpoint: front.URL, Region: s3test.Region,
		AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey, Bucket: "ward-wire", Prefix: "p", Create: true})
	if err != nil {
		t.Fatal(err)
	}
	f := newArchiveFixture(t)
	stored := f.write(t, a)
	mu.Lock()
	defer mu.Unlock()
	objects := puts
	if len(objects) != len(stored) {
		t.Fatalf("%d object PUTs, want %d", len(objects), len(stored))
	}
	for i, p := range objects {
		sum := md5.Sum(p.body)
		if want := "/ward-wire/" + stored[i].Name; p.path != want {
			t.Errorf("PUT %s, want %s", p.path, want)
		}
		if got := p.header.Get("Content-Md5"); got != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: Content-MD5 %q, want the body's", p.path, got)
		}
		if got := p.header.Get("X-Amz-Object-Lock-Mode"); got != "COMPLIANCE" {
			t.Errorf("%s: x-amz-object-lock-mode %q", p.path, got)
		}
		until, err := time.Parse(time.RFC3339Nano, p.header.Get("X-Amz-Object-Lock-Retain-Until-Date"))
		if err != nil || !until.Equal(stored[i].RetainUntil) {
			t.Errorf("%s: x-amz-object-lock-retain-until-date %q (%v), want %s", p.path,
				p.header.Get("X-Amz-Object-Lock-Retain-Until-Date"), err, stored[i].RetainUntil)
		}
		if got := p.header.Get("If-None-Match"); got != "*" {
			t.Errorf("%s: If-None-Match %q, want *", p.path, got)
		}
	}
}
