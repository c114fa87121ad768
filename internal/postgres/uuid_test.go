package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wardhq/ward/internal/postgres/pgtest"
)

// TestUUIDsTravelBinary: github.com/google/uuid values go to the server
// and back as the binary UUID (not through driver.Valuer and sql.Scanner,
// which format and parse text), and mean what they meant: NULL for an
// invalid NullUUID, NULL scanned into a NullUUID, and NULL scanned into a
// UUID as uuid.UUID's own Scan does it.
func TestUUIDsTravelBinary(t *testing.T) {
	env := pgtest.New(t)
	ctx := context.Background()
	conn, err := env.Super.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m := conn.Conn().TypeMap()
	for _, v := range []any{uuid.New(), uuid.NullUUID{UUID: uuid.New(), Valid: true}, uuid.NullUUID{}} {
		plan := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v)
		if plan == nil || fmt.Sprintf("%T", plan) == "*pgtype.encodePlanDriverValuer" {
			t.Errorf("%T encodes through %T, want the binary UUID codec", v, plan)
		}
	}
	for _, dst := range []any{new(uuid.UUID), new(uuid.NullUUID)} {
		plan := m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, dst)
		if s := fmt.Sprintf("%T", plan); s == "*pgtype.scanPlanSQLScanner" || s == "*pgtype.scanPlanBinaryBytesToBytesScanner" {
			t.Errorf("%T scans through %s, want the binary UUID codec", dst, s)
		}
	}

	a, b := uuid.New(), uuid.New()
	var (
		gotA     uuid.UUID
		gotB     uuid.NullUUID
		gotNull  uuid.NullUUID
		isNull   bool
		text     string
		arr      []uuid.UUID
		arrInput = []uuid.UUID{a, b}
	)
	if err := conn.QueryRow(ctx, `select $1::uuid, $2::uuid, $3::uuid, $3::uuid is null, $1::uuid::text, $4::uuid[]`,
		a, uuid.NullUUID{UUID: b, Valid: true}, uuid.NullUUID{}, arrInput).
		Scan(&gotA, &gotB, &gotNull, &isNull, &text, &arr); err != nil {
		t.Fatal(err)
	}
	if gotA != a || gotB != (uuid.NullUUID{UUID: b, Valid: true}) || gotNull.Valid || !isNull || text != a.String() ||
		len(arr) != 2 || arr[0] != a || arr[1] != b {
		t.Errorf("round trip: %v %v %v null=%v %q %v; want %v %v invalid true %q %v", gotA, gotB, gotNull, isNull, text,
			arr, a, b, a.String(), arrInput)
	}
	// NULL into a uuid.UUID does what it did through uuid's own Scan (on a
	// connection without the registration): the same value, the same error.
	plain, err := pgx.Connect(ctx, env.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(ctx)
	preset := uuid.New()
	before, after := preset, preset
	errBefore := plain.QueryRow(ctx, `select null::uuid`).Scan(&before)
	errAfter := conn.QueryRow(ctx, `select null::uuid`).Scan(&after)
	if before != after || (errBefore == nil) != (errAfter == nil) {
		t.Errorf("NULL into a uuid.UUID: %v, %v; without the registration %v, %v", after, errAfter, before, errBefore)
	}
}
