package audit_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardhq/ward/internal/audit"
	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// A scope by network alone: the query hands on only the events whose
// address is in a network (IPv4, IPv4-mapped in three spellings, IPv6),
// and the few it cannot rule out cheaply (an IPv4 text that starts like a
// network's, an IPv6 spelling it does not cast), which the exact match
// then drops; a malformed address fails nothing (TestScanIncidentNetworks).
func TestScanIncidentNetworks(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	from := time.Now().Add(-time.Minute)
	seqOf := map[string]int64{}
	for _, ip := range []string{
		"10.1.2.3", "192.0.2.7", // in, out
		"::ffff:10.9.9.9", "::ffff:192.0.2.8", "::FFFF:a04:404", // mapped: in, out, in
		"2001:db8::5", "2001:db9::5", // in, out
		"", "not an address", "10.1.2.3/8", "010.1.2.3", // none, malformed, a prefix, leading zeros
		"1:2:3:4:5:6:7::",                         // seven groups and "::"
		"0:0:0:0:0:ffff:10.5.5.5", "fe80::1%eth0", // mapped, written in full: in; zoned: out
	} {
		e := rawEvent{Action: "patient.read", Outcome: "success", Patient: some(f.p1)}
		if ip != "" {
			e.IP = ptr(ip)
		}
		seqOf[ip] = appendSQL(t, env.Super.Pool, f.org, e)
	}
	in := audit.Incident{From: from, To: time.Now().Add(time.Minute),
		Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}
	seqs := func(ips ...string) []int64 {
		var out []int64
		for _, ip := range ips {
			out = append(out, seqOf[ip])
		}
		slices.Sort(out)
		return out
	}

	var scanned, batched, queried []int64
	var plan []string
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		if err := audit.ScanIncident(ctx, tx, f.org, in, func(e *audit.Entry) error {
			scanned = append(scanned, e.Seq)
			return nil
		}); err != nil {
			return err
		}
		if err := audit.ScanIncidentBatches(ctx, tx, f.org, in, func(batch []audit.Entry) error {
			for _, e := range batch {
				batched = append(batched, e.Seq)
			}
			return nil
		}); err != nil {
			return err
		}
		query, args := audit.IncidentQuery(f.org, in)
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return err
			}
			queried = append(queried, v[0].(int64))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "explain "+query, args...)
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := seqs("10.1.2.3", "::ffff:10.9.9.9", "::FFFF:a04:404", "2001:db8::5", "0:0:0:0:0:ffff:10.5.5.5"); !slices.Equal(scanned, want) ||
		!slices.Equal(batched, want) {
		t.Errorf("scanned %v, in batches %v, want %v (%v)", scanned, batched, want, seqOf)
	}
	// What the query hands on: the matches, an IPv4 text like a network's
	// and the IPv6 spellings it does not cast; not the addresses outside
	// the networks, nor those that are no address.
	want := seqs("10.1.2.3", "::ffff:10.9.9.9", "::FFFF:a04:404", "2001:db8::5",
		"10.1.2.3/8", "1:2:3:4:5:6:7::", "0:0:0:0:0:ffff:10.5.5.5", "fe80::1%eth0")
	if !slices.Equal(queried, want) {
		t.Errorf("the query returned %v, want %v (%v)", queried, want, seqOf)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "<<=") {
		t.Errorf("the plan does not match the networks:\n%s", p)
	}
	t.Logf("plan:\n%s", strings.Join(plan, "\n"))
}

// A scope larger than a batch: every event once, in log order, in batches;
// fn may query the transaction between them (TestScanIncidentBatches).
func TestScanIncidentBatches(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	from := time.Now().Add(-time.Minute)
	fill(t, env.Super, f.org, 2500)
	var sizes []int
	var last int64
	err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
		return audit.ScanIncidentBatches(ctx, tx, f.org, audit.Incident{From: from, To: time.Now().Add(time.Minute), All: true},
			func(batch []audit.Entry) error {
				sizes = append(sizes, len(batch))
				for _, e := range batch {
					if e.Seq <= last {
						t.Errorf("seq %d after %d", e.Seq, last)
					}
					last = e.Seq
				}
				var n int
				return tx.QueryRow(ctx, `select count(*) from app.patients where org_id = $1`, f.org).Scan(&n)
			})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{1000, 1000, 500}) {
		t.Errorf("batches %v", sizes)
	}
}

// An IPv6 network shorter than /96 that holds every IPv4-mapped address
// (::/0, ::ffff:0:0/80) holds every IPv4 address too, as the events
// record them (dotted, or IPv4-mapped), in the query and in the exact
// match; its IPv6 addresses as before, and not one outside it.
func TestScanIncidentWideIPv6Networks(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	from := time.Now().Add(-time.Minute)
	seqOf := map[string]int64{}
	for _, ip := range []string{"10.1.2.3", "::ffff:192.0.2.8", "::5", "2001:db8::5", "not an address"} {
		seqOf[ip] = appendSQL(t, env.Super.Pool, f.org, rawEvent{Action: "patient.read", Outcome: "success",
			Patient: some(f.p1), IP: ptr(ip)})
	}
	for network, ips := range map[string][]string{
		"::/0":           {"10.1.2.3", "::ffff:192.0.2.8", "::5", "2001:db8::5"},
		"::ffff:0:0/80":  {"10.1.2.3", "::ffff:192.0.2.8", "::5"},
		"::ffff:0:0/96":  {"10.1.2.3", "::ffff:192.0.2.8"},
		"2001:db8::/32":  {"2001:db8::5"},
		"0.0.0.0/0":      {"10.1.2.3", "::ffff:192.0.2.8"},
		"::ffff:0:0/112": {},
	} {
		var want []int64
		for _, ip := range ips {
			want = append(want, seqOf[ip])
		}
		slices.Sort(want)
		in := audit.Incident{From: from, To: time.Now().Add(time.Minute),
			Networks: []netip.Prefix{audit.NormalizeNetwork(netip.MustParsePrefix(network))}}
		var scanned []int64
		if err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
			return audit.ScanIncident(ctx, tx, f.org, in, func(e *audit.Entry) error {
				scanned = append(scanned, e.Seq)
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(scanned, want) {
			t.Errorf("%s: scanned %v, want %v (%v)", network, scanned, want, seqOf)
		}
	}
}

// An IPv6 address recorded with its zone (a client that reached the
// server over a link-local address: fe80::1%eth0, the zone the server's
// interface) is in the networks that hold the address: a scope by
// fe80::/10 or by the address itself finds it, as it finds the same
// address recorded without a zone. Before, netip's Contains, which is
// false for any zoned address, left every such event out of the scope.
func TestScanIncidentZonedAddress(t *testing.T) {
	env := pgtest.New(t)
	ctx := ctxTimeout(t)
	f := newFixture(t, env)
	from := time.Now().Add(-time.Minute)
	seqOf := map[string]int64{}
	for _, ip := range []string{"fe80::1%eth0", "fe80::1", "fe80::2%25en0", "2001:db8::1"} {
		seqOf[ip] = appendSQL(t, env.Super.Pool, f.org, rawEvent{Action: "patient.read", Outcome: "success",
			Patient: some(f.p1), IP: ptr(ip)})
	}
	for network, ips := range map[string][]string{
		"fe80::/10":     {"fe80::1%eth0", "fe80::1", "fe80::2%25en0"},
		"fe80::1/128":   {"fe80::1%eth0", "fe80::1"},
		"2001:db8::/32": {"2001:db8::1"},
	} {
		var want []int64
		for _, ip := range ips {
			want = append(want, seqOf[ip])
		}
		slices.Sort(want)
		in := audit.Incident{From: from, To: time.Now().Add(time.Minute),
			Networks: []netip.Prefix{audit.NormalizeNetwork(netip.MustParsePrefix(network))}}
		var scanned []int64
		if err := env.App.InTenantTx(ctx, f.adminCred, func(ctx context.Context, tx pgx.Tx) error {
			return audit.ScanIncident(ctx, tx, f.org, in, func(e *audit.Entry) error {
				scanned = append(scanned, e.Seq)
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(scanned, want) {
			t.Errorf("%s: scanned %v, want %v (%v)", network, scanned, want, seqOf)
		}
	}
}
