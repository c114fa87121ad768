package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// A download's conditions and Range (RFC 9110 §13.2.2, §14): what sends
// no content is a problem document (412, 416) or a 304, recorded as a view
// of the document, not as a download; a Range to ignore (another unit, a
// malformed set, an If-Range that does not hold) serves the whole content;
// a last position past the end, however long, is the end.
func TestDownloadConditions(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Conditions Org")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "Claim"}, http.StatusCreated, &c)
	content := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
	resp, b := w.upload("POST", "/v1/cases/"+c.ID.String()+"/files", o.Admin.Token, "scan.bin", content,
		"Ward-Document-Type", "report")
	var d docJSON
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &d) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	path := "/v1/documents/" + d.ID.String() + "/content"
	etag := `"` + d.Versions[0].SHA256 + `"`
	resp, _, _ = w.download(path, o.Admin.Token)
	lastMod := resp.Header.Get("Last-Modified")
	past := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)
	count := func(action string) int { return w.auditCount(o.ID, action, "success") }
	downloads, views := count("document.download"), count("document.view")

	for _, c := range []struct {
		name   string
		hdr    []string
		status int
		code   string
	}{
		{"If-Match another tag", []string{"If-Match", `"abc"`}, 412, "precondition_failed"},
		{"If-Match a weak tag", []string{"If-Match", "W/" + etag}, 412, "precondition_failed"},
		{"If-Unmodified-Since before", []string{"If-Unmodified-Since", past}, 412, "precondition_failed"},
		{"If-Match before If-None-Match", []string{"If-Match", `"abc"`, "If-None-Match", etag}, 412, "precondition_failed"},
		{"If-Modified-Since after", []string{"If-Modified-Since", future}, 304, ""},
		{"If-None-Match", []string{"If-None-Match", `"x", W/` + etag}, 304, ""},
		{"past the end", []string{"Range", "bytes=1000-"}, 416, "range_not_satisfiable"},
		{"far past the end", []string{"Range", "bytes=99999999999999999999999-"}, 416, "range_not_satisfiable"},
		{"zero-length suffix", []string{"Range", "bytes=-0"}, 416, "range_not_satisfiable"},
		{"conditions that hold, range past the end", []string{"If-Match", etag, "Range", "bytes=2000-3000"}, 416, "range_not_satisfiable"},
	} {
		resp, got, _ := w.download(path, o.Admin.Token, c.hdr...)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, got, c.status)
			continue
		}
		if c.code != "" {
			if code, _ := problemOf(t, got); code != c.code || resp.Header.Get("Content-Type") != "application/problem+json" ||
				resp.Header.Get("Content-Disposition") != "" {
				t.Errorf("%s: %s %q %s, want a problem %s", c.name, resp.Header.Get("Content-Type"),
					resp.Header.Get("Content-Disposition"), got, c.code)
			}
		} else if len(got) != 0 || resp.Header.Get("ETag") != etag {
			t.Errorf("%s: %d bytes, ETag %q", c.name, len(got), resp.Header.Get("ETag"))
		}
		if c.status == 416 && resp.Header.Get("Content-Range") != "bytes */1000" {
			t.Errorf("%s: Content-Range %q", c.name, resp.Header.Get("Content-Range"))
		}
	}
	if n := count("document.download") - downloads; n != 0 {
		t.Errorf("%d downloads recorded for answers without content", n)
	}
	if n := count("document.view") - views; n != 10 {
		t.Errorf("%d views recorded, want 10", n)
	}

	for _, c := range []struct {
		name, rng string
		hdr       []string
		status    int
		want      []byte
	}{
		{"another unit", "items=0-1", nil, 200, content},
		{"malformed", "bytes=abc", nil, 200, content},
		{"last before first", "bytes=5-1", nil, 200, content},
		{"no range", "bytes=", nil, 200, content},
		{"If-Range another tag", "bytes=0-1", []string{"If-Range", `"abc"`}, 200, content},
		{"If-Range the tag", "bytes=0-1", []string{"If-Range", etag}, 206, content[:2]},
		{"If-Range the date", "bytes=0-1", []string{"If-Range", lastMod}, 206, content[:2]},
		{"last past the end, many digits", "bytes=990-99999999999999999999999", nil, 206, content[990:]},
		{"suffix longer than the content", "bytes=-99999999999999999999", nil, 206, content},
		{"one range past the end among others", "bytes=2000-,0-1", nil, 206, content[:2]},
		{"If-Modified-Since before", "", []string{"If-Modified-Since", past}, 200, content},
	} {
		hdr := c.hdr
		if c.rng != "" {
			hdr = append([]string{"Range", c.rng}, hdr...)
		}
		resp, got, err := w.download(path, o.Admin.Token, hdr...)
		if err != nil || resp.StatusCode != c.status || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %v %d, %d bytes %.40q, want %d with %d bytes", c.name, err, resp.StatusCode, len(got), got,
				c.status, len(c.want))
		}
	}
	if n := count("document.download") - downloads; n != 11 {
		t.Errorf("%d downloads recorded, want 11", n)
	}
	// A HEAD takes no Range.
	req, _ := http.NewRequest("HEAD", w.srv.URL+path, nil)
	w.authorize(req, o.Admin.Token)
	req.Header.Set("Range", "bytes=5000-")
	if resp, err := w.srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(content)) {
		t.Errorf("HEAD with a Range past the end: %v %+v", err, resp)
	}
	var n int
	if err := w.env.Super.Pool.QueryRow(context.Background(), `select count(*) from audit.events where org_id = $1
	   and action = 'document.download' and outcome <> 'success'`, o.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d refused downloads (%v)", n, err)
	}
}

// A version number past 32 bits names no version: it must not wrap around
// onto version 1 (4294967297 is 1 in int32).
func TestDownloadVersionQuery(t *testing.T) {
	w := newWorld(t)
	o := w.createOrg("Version Org")
	var c caseJSON
	w.do("POST", "/v1/cases", o.Admin.Token, map[string]any{"title": "Claim"}, http.StatusCreated, &c)
	resp, b := w.upload("POST", "/v1/cases/"+c.ID.String()+"/files", o.Admin.Token, "one.bin", []byte("version one"),
		"Ward-Document-Type", "report")
	var d docJSON
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &d) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	path := "/v1/documents/" + d.ID.String() + "/content?version="
	if resp, got, _ := w.download(path+"1", o.Admin.Token); resp.StatusCode != http.StatusOK || string(got) != "version one" {
		t.Fatalf("version 1: %d %q", resp.StatusCode, got)
	}
	for v, want := range map[string]int{"4294967297": 404, "2147483648": 404, "-4294967295": 400, "0": 400} {
		resp, got, _ := w.download(path+v, o.Admin.Token)
		if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("version=%s: %d %q, want %d", v, resp.StatusCode, got, want)
		}
	}
}
