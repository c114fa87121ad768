package postgres_test

import (
	"context"
	"testing"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestCanonicalEventMatchesJCS: the fast fixed-key renderer on the append
// path produces exactly the generic RFC 8785 rendering of the event object.
func TestCanonicalEventMatchesJCS(t *testing.T) {
	env := pgtest.New(t)
	texts := []any{nil, "", "plain", `quo"te and back\slash`, "tab\tnew\nline\r\x01\x1f", "emoji 🩺 and ünïcödé", "\u2028\u2029", "</script>"}
	details := []string{`{}`, `{"count": 3, "by_mrn": true}`, `{"b": [1, "x", null, {"z": false, "a": -9007199254740992}], "a": {"k": "\u0007"}}`}
	results := []string{`{}`, `{7d3f1c2e-0000-4000-8000-000000000002}`, `{7d3f1c2e-0000-4000-8000-000000000009,7d3f1c2e-0000-4000-8000-000000000002}`}
	n := 0
	for i, txt := range texts {
		for j, d := range details {
			for k, r := range results {
				var fast, generic string
				var uuidOrNull any
				if (i+j+k)%2 == 0 {
					uuidOrNull = "7d3f1c2e-0000-4000-8000-00000000000a"
				}
				err := env.Super.Pool.QueryRow(context.Background(), `
					select audit.canonical_event($1, '2026-11-24 07:15:45.123456+00', $2, 'success', $3::uuid, 'user', $3::uuid,
					         $2, $3::uuid, $3::uuid, $4::uuid[], $2, $2, $2, $5::jsonb),
					       audit.jcs(audit.event_json($1, '2026-11-24 07:15:45.123456+00', $2, 'success', $3::uuid, 'user', $3::uuid,
					         $2, $3::uuid, $3::uuid, $4::uuid[], $2, $2, $2, $5::jsonb))`,
					"7d3f1c2e-0000-4000-8000-000000000001", txt, uuidOrNull, r, d).Scan(&fast, &generic)
				if err != nil {
					t.Fatal(err)
				}
				if fast != generic {
					t.Fatalf("text %q details %s results %s:\nfast    %s\ngeneric %s", txt, d, r, fast, generic)
				}
				n++
			}
		}
	}
	if n != len(texts)*len(details)*len(results) {
		t.Fatalf("compared %d", n)
	}
}

// TestCanonicalEventV2MatchesJCS: the same for the v2 event object, with
// and without a credential, device, case, disclosure and break-glass flag.
func TestCanonicalEventV2MatchesJCS(t *testing.T) {
	env := pgtest.New(t)
	texts := []any{nil, "", "plain", `quo"te and back\slash`, "tab\tnew\nline", "emoji 🩺 and ünïcödé", "</script>"}
	disclosures := []any{nil, `{"recipient": "Acme \"Claims\"", "purpose": "adjudication ✓"}`}
	// Result ids: none, one, several out of order (audit.append_as refuses
	// NULL elements before rendering).
	results := []any{`{}`, `{7d3f1c2e-0000-4000-8000-000000000002}`,
		`{7d3f1c2e-0000-4000-8000-000000000009,7d3f1c2e-0000-4000-8000-000000000002,7d3f1c2e-0000-4000-8000-000000000005}`}
	n := 0
	for i, txt := range texts {
		for j, d := range disclosures {
			for k, breakGlass := range []bool{false, true} {
				r := results[(i+j+k)%len(results)]
				var id any
				if (i+j)%2 == 0 {
					id = "7d3f1c2e-0000-4000-8000-00000000000a"
				}
				var fast, generic string
				err := env.Super.Pool.QueryRow(context.Background(), `
					select audit.canonical_event_v2($1, '2026-11-24 07:15:45.123456+00', $2, 'denied', $3::uuid, 'user', $3::uuid,
					         $2, $3::uuid, $3::uuid, $6::uuid[], $2, $2, $2, '{"n": 1}', $2, $3::uuid, $2, $3::uuid, $4::jsonb, $5),
					       audit.jcs(audit.event_json_v2($1, '2026-11-24 07:15:45.123456+00', $2, 'denied', $3::uuid, 'user', $3::uuid,
					         $2, $3::uuid, $3::uuid, $6::uuid[], $2, $2, $2, '{"n": 1}', $2, $3::uuid, $2, $3::uuid, $4::jsonb, $5))`,
					"7d3f1c2e-0000-4000-8000-000000000001", txt, id, d, breakGlass, r).Scan(&fast, &generic)
				if err != nil {
					t.Fatal(err)
				}
				if fast != generic {
					t.Fatalf("text %q disclosure %v results %v:\nfast    %s\ngeneric %s", txt, d, r, fast, generic)
				}
				n++
			}
		}
	}
	if n != len(texts)*len(disclosures)*2 {
		t.Fatalf("compared %d", n)
	}
}

// TestTouchDueEveryIdleValue: for every idle timeout an org may set (1 to
// 1440 minutes), a session is touched once a tenth of it (at most a minute)
// has passed and not before, so requests up to 0.9 × the idle timeout apart
// keep it alive.
func TestTouchDueEveryIdleValue(t *testing.T) {
	env := pgtest.New(t)
	var bad []int32
	rows, err := env.Super.Pool.Query(context.Background(), `
		select i from generate_series(1, 1440) i,
		  lateral (select least(interval '1 minute', make_interval(secs => i * 6)) as d) x
		 where not private.touch_due(now() - x.d, i)
		    or private.touch_due(now() - x.d + interval '1 second', i)
		    or x.d + make_interval(secs => i * 54) > make_interval(mins => i)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var i int32
		if err := rows.Scan(&i); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, i)
	}
	if rows.Err() != nil || len(bad) > 0 {
		t.Fatalf("idle timeouts whose touch rule fails: %v (%v)", bad, rows.Err())
	}
}
