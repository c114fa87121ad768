package sso

import (
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dsig "github.com/russellhaering/goxmldsig"
)

// crewjamTestdata is the testdata directory of the crewjam/saml module
// Ward builds with (the module zip holds it).
func crewjamTestdata(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/crewjam/saml").Output()
	if err != nil {
		t.Fatalf("go list crewjam/saml: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "testdata")
}

// TestSAMLCorpus feeds crewjam/saml's attack corpus (the XML signature
// wrapping permutations, a response with two assertions (CVE-2022-41912)
// and a comment injected into the NameID (CVE-2017-11427 class)) to Ward's
// SAML verification (what the ACS endpoint calls), each with the IdP
// metadata, the clock and the SP URLs it was made for: every one is
// refused (a comment inside the NameID may pass only if the NameID stays
// whole). The untouched responses they derive from are accepted, so a
// refusal is the attack's, not the harness's. (The corpus names its own
// ACS URLs, so it cannot go through Ward's HTTP endpoint, whose URL is
// Ward's.)
func TestSAMLCorpus(t *testing.T) {
	dir := crewjamTestdata(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	at := func(layout, v string) time.Time {
		tm, err := time.Parse(layout, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	onelogin := struct{ md, acs, meta, id string }{"TestSPCanHandleOneloginResponse_IDPMetadata",
		"https://29ee6d2e.ngrok.io/saml/acs", "https://29ee6d2e.ngrok.io/saml/metadata", "id-d40c15c104b52691eccf0a2a5c8a15595be75423"}
	signed := struct{ md, acs, meta, id string }{"TestServiceProviderCanHandleSignedAssertionsResponse_IDPMetadata",
		"http://sp.example.com/demo1/index.php?acs", "http://sp.example.com/demo1/metadata.php",
		"ONELOGIN_4fee3b046395c4e751011e97f8900b5273d56685"}
	google := struct{ md, acs, meta, id string }{"TestSPRejectsInjectedComment_IDPMetadata",
		"https://29ee6d2e.ngrok.io/saml/acs", "https://29ee6d2e.ngrok.io/saml/metadata", "id-fd419a5ab0472645427f8e07d87a3a5dd0b2e9a6"}
	t2016 := at("Mon Jan 2 15:04:05 UTC 2006", "Tue Jan 5 17:53:12 UTC 2016")
	t2014 := at(time.RFC3339, "2014-07-17T01:02:59Z")
	tGoogle := at("Mon Jan 2 15:04:05 UTC 2006", "Tue Jan 5 16:55:39 UTC 2016")

	googleResp := read("TestSPRejectsInjectedComment_response")
	x, _ := base64.StdEncoding.DecodeString(googleResp)
	injected := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(x), "ross@octolabs.io",
		"ross@<!-- and a comment -->octolabs.io", 1)))
	// CVE-2018-7340: a comment that would end the NameID early, or hide a
	// suffix from the signature.
	appended := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(x), "ross@octolabs.io",
		"ross@octolabs.io<!-- and a comment -->.example.com", 1)))
	multi := base64.StdEncoding.EncodeToString([]byte(read("TestSPMultipleAssertions")))

	type source = struct{ md, acs, meta, id string }
	cases := []struct {
		name   string
		src    source
		form   string
		now    time.Time
		accept bool
		// nameID, for a response that may pass: the subject it must name
		// (a comment must not cut it short).
		nameID string
	}{
		{"signed assertions (control)", signed, read("TestServiceProviderCanHandleSignedAssertionsResponse_response"), t2014, true, ""},
		{"google (control)", google, googleResp, tGoogle, true, ""},
		{"xsw 1", onelogin, read("TestXswPermutationOneIsRejected_response"), t2016, false, ""},
		{"xsw 2", onelogin, read("TestXswPermutationTwoIsRejected_response"), t2016, false, ""},
		{"xsw 3", signed, read("TestXswPermutationThreeIsRejected_response"), t2014, false, ""},
		{"xsw 4", signed, read("TestXswPermutationFourIsRejected_response"), t2014, false, ""},
		{"xsw 5", signed, read("TestXswPermutationFiveIsRejected_response"), t2014, false, ""},
		{"xsw 6", signed, read("TestXswPermutationSixIsRejected_response"), t2014, false, ""},
		{"xsw 7", signed, read("TestXswPermutationSevenIsRejected_response"), t2014, false, ""},
		{"xsw 8", signed, read("TestXswPermutationEightIsRejected_response"), t2014, false, ""},
		{"xsw 9", signed, read("TestXswPermutationNineIsRejected_response"), t2014, false, ""},
		{"comment injected into the NameID", google, injected, tGoogle, false, "ross@octolabs.io"},
		{"comment hiding a suffix of the NameID", google, appended, tGoogle, false, ""},
		{"two assertions", source{"TestSPRealWorldKeyInfoHasRSAPublicKeyNotX509Cert_idp_metadata",
			"https://preview.docrocket-ross.test.octolabs.io/saml/acs", "https://preview.docrocket-ross.test.octolabs.io/saml/metadata",
			"id-3992f74e652d89c3cf1efd6c7e472abaac9bc917"}, multi,
			at("Mon Jan 2 15:04:05 MST 2006", "Fri Apr 21 13:12:51 UTC 2017"), false, ""},
		{"no issuer", onelogin, read("TestSPResponseWithNoIssuer_response"), t2016, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each response is checked at the time it was made for, on the
			// service provider's own clock (Config.SAMLClock, as Ward's
			// tests of the ACS endpoint do).
			s := &Service{cfg: Config{BaseURL: "https://ward.example", SAMLClock: dsig.NewFakeClockAt(c.now)}}
			sp, err := s.serviceProvider(uuid.New(), read(c.src.md), false)
			if err != nil {
				t.Fatal(err)
			}
			sp.AcsURL, sp.MetadataURL = mustURL(t, c.src.acs), mustURL(t, c.src.meta)
			sp.EntityID = c.src.meta
			// The recorded 2014 responses were signed with a certificate
			// issued after their IssueInstant (upstream checks them with
			// a later clock for the signature than for the assertion):
			// its validity period is set aside, its key still must sign.
			sp.IgnoreCertificateExpiry = c.now.Equal(t2014)
			a, reason := s.verifySAML(context.Background(), sp, c.form, []string{c.src.id}, nil)
			switch {
			case c.accept && reason != "":
				t.Fatalf("a valid response was refused: %s", reason)
			case c.accept && a == nil:
				t.Fatal("no assertion")
			case !c.accept && reason == "" && (c.nameID == "" || a.Subject.NameID.Value != c.nameID):
				t.Fatalf("accepted, for %q", a.Subject.NameID.Value)
			}
			t.Logf("reason %q", reason)
		})
	}
}

func mustURL(t *testing.T, s string) (u url.URL) {
	p, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *p
}
