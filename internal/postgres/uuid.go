package postgres

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes a connection's type map encode and scan
// github.com/google/uuid's UUID and NullUUID as the binary [16]byte that
// pgtype.UUID is. Without it pgx reaches them through driver.Valuer and
// sql.Scanner: a NullUUID parameter was formatted to text, refused by the
// binary UUID codec (an error built with fmt and dropped), parsed back and
// encoded again — 7% of the server's CPU on an audited read, which passes
// four of them. The bytes sent and read are the same.
func registerUUID(m *pgtype.Map) {
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUIDEncode}, m.TryWrapEncodePlanFuncs...)
	m.TryWrapScanPlanFuncs = append([]pgtype.TryWrapScanPlanFunc{tryWrapUUIDScan}, m.TryWrapScanPlanFuncs...)
}

// pgUUID is uuid.NullUUID as pgtype's UUIDValuer and UUIDScanner.
type pgUUID uuid.NullUUID

func (u pgUUID) UUIDValue() (pgtype.UUID, error) {
	return pgtype.UUID{Bytes: u.UUID, Valid: u.Valid}, nil
}

func (u *pgUUID) ScanUUID(v pgtype.UUID) error {
	*u = pgUUID{UUID: v.Bytes, Valid: v.Valid}
	return nil
}

// pgUUIDNotNull is uuid.UUID as a UUIDValuer and UUIDScanner. NULL leaves
// it as it was, as uuid.UUID's own Scan does.
type pgUUIDNotNull uuid.UUID

func (u pgUUIDNotNull) UUIDValue() (pgtype.UUID, error) {
	return pgtype.UUID{Bytes: u, Valid: true}, nil
}

func (u *pgUUIDNotNull) ScanUUID(v pgtype.UUID) error {
	if v.Valid {
		*u = v.Bytes
	}
	return nil
}

func tryWrapUUIDEncode(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	switch v := value.(type) {
	case uuid.UUID:
		return &uuidEncode{}, pgUUIDNotNull(v), true
	case uuid.NullUUID:
		return &nullUUIDEncode{}, pgUUID(v), true
	}
	return nil, nil, false
}

type uuidEncode struct{ next pgtype.EncodePlan }

func (p *uuidEncode) SetNext(next pgtype.EncodePlan) { p.next = next }
func (p *uuidEncode) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgUUIDNotNull(value.(uuid.UUID)), buf)
}

type nullUUIDEncode struct{ next pgtype.EncodePlan }

func (p *nullUUIDEncode) SetNext(next pgtype.EncodePlan) { p.next = next }
func (p *nullUUIDEncode) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgUUID(value.(uuid.NullUUID)), buf)
}

func tryWrapUUIDScan(target any) (pgtype.WrappedScanPlanNextSetter, any, bool) {
	switch t := target.(type) {
	case *uuid.UUID:
		return &uuidScan{}, (*pgUUIDNotNull)(t), true
	case *uuid.NullUUID:
		return &nullUUIDScan{}, (*pgUUID)(t), true
	}
	return nil, nil, false
}

type uuidScan struct{ next pgtype.ScanPlan }

func (p *uuidScan) SetNext(next pgtype.ScanPlan) { p.next = next }
func (p *uuidScan) Scan(src []byte, dst any) error {
	return p.next.Scan(src, (*pgUUIDNotNull)(dst.(*uuid.UUID)))
}

type nullUUIDScan struct{ next pgtype.ScanPlan }

func (p *nullUUIDScan) SetNext(next pgtype.ScanPlan) { p.next = next }
func (p *nullUUIDScan) Scan(src []byte, dst any) error {
	return p.next.Scan(src, (*pgUUID)(dst.(*uuid.NullUUID)))
}
