package scim

import (
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// A constraint is one conjunction of a filter in disjunctive normal form:
// every set field must hold. The filters directories send (userName eq,
// emails.value eq, externalId eq, id eq, active eq, joined by and/or) are
// all of this shape; anything else is ErrInvalidFilter.
type constraint struct {
	id         *uuid.UUID
	email      *string // normalised
	externalID *string
	active     *bool
}

// maxDisjuncts bounds how many conjunctions a filter may expand to.
const maxDisjuncts = 16

// parseFilter turns a SCIM filter into its conjunctions; an empty filter is
// one empty conjunction (everyone), a filter nobody can match is none.
func parseFilter(raw string) ([]constraint, error) {
	if strings.TrimSpace(raw) == "" {
		return []constraint{{}}, nil
	}
	if !filterText(raw) {
		return nil, errkind.Visible(ErrInvalidFilter, "the filter must be UTF-8 without NUL")
	}
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return nil, errkind.Visible(ErrInvalidFilter, "the filter does not parse (RFC 7644 §3.4.2.2)")
	}
	return compile(expr)
}

// filterText reports whether a filter's text can reach the database: valid
// UTF-8 without NUL (PostgreSQL text holds neither, and refuses the query).
func filterText(raw string) bool {
	return utf8.ValidString(raw) && !strings.ContainsRune(raw, 0)
}

func unsupported() error {
	return errkind.Visible(ErrInvalidFilter, "Ward filters Users by userName, emails.value, externalId, id and active "+
		"with eq, joined by and/or")
}

func compile(e filter.Expression) ([]constraint, error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		c, ok, err := atom(x.AttributePath, x.Operator, x.CompareValue)
		if err != nil || !ok {
			return nil, err
		}
		return []constraint{c}, nil
	case *filter.ValuePath:
		if attrName(x.AttributePath) != "emails" || x.AttributePath.SubAttribute != nil {
			return nil, unsupported()
		}
		return compileEmails(x.ValueFilter)
	case *filter.LogicalExpression:
		l, err := compile(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := compile(x.Right)
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(string(x.Operator)) {
		case "or":
			out := append(l, r...)
			if len(out) > maxDisjuncts {
				return nil, errkind.Visible(ErrInvalidFilter, "the filter is too complex")
			}
			return out, nil
		case "and":
			var out []constraint
			for _, a := range l {
				for _, b := range r {
					if m, ok := merge(a, b); ok {
						out = append(out, m)
					}
				}
			}
			if len(out) > maxDisjuncts {
				return nil, errkind.Visible(ErrInvalidFilter, "the filter is too complex")
			}
			return out, nil
		}
	}
	return nil, unsupported()
}

// compileEmails compiles the filter inside emails[…]: value eq, type eq
// "work" and primary eq true hold for the one address Ward keeps.
func compileEmails(e filter.Expression) ([]constraint, error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if !strings.EqualFold(string(x.Operator), "eq") {
			return nil, unsupported()
		}
		switch strings.ToLower(x.AttributePath.AttributeName) {
		case "value":
			s, ok := x.CompareValue.(string)
			if !ok {
				return nil, unsupported()
			}
			v := envelope.NormalizeEmail(s)
			return []constraint{{email: &v}}, nil
		case "type":
			if s, ok := x.CompareValue.(string); ok && strings.EqualFold(s, "work") {
				return []constraint{{}}, nil
			}
			return nil, nil
		case "primary":
			if b, ok := x.CompareValue.(bool); ok && b {
				return []constraint{{}}, nil
			}
			return nil, nil
		}
	case *filter.LogicalExpression:
		return compile(&filter.LogicalExpression{Left: &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: "emails"},
			ValueFilter: x.Left}, Right: &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: "emails"},
			ValueFilter: x.Right}, Operator: x.Operator})
	}
	return nil, unsupported()
}

// attrName is a path's attribute, lower-cased, with the core User URN
// allowed as a prefix.
func attrName(p filter.AttributePath) string {
	if p.URIPrefix != nil && !strings.EqualFold(*p.URIPrefix, SchemaUser) {
		return "?" + strings.ToLower(p.AttributeName)
	}
	return strings.ToLower(p.AttributeName)
}

// atom compiles one comparison; ok is false when nobody can match it (an
// id that is no UUID).
func atom(p filter.AttributePath, op filter.CompareOperator, v any) (constraint, bool, error) {
	if !strings.EqualFold(string(op), "eq") {
		return constraint{}, false, unsupported()
	}
	s, isString := v.(string)
	name, sub := attrName(p), strings.ToLower(p.SubAttributeName())
	switch {
	case name == "username" && sub == "" && isString:
		e := envelope.NormalizeEmail(s)
		return constraint{email: &e}, true, nil
	case name == "emails" && (sub == "value" || sub == "") && isString:
		e := envelope.NormalizeEmail(s)
		return constraint{email: &e}, true, nil
	case name == "externalid" && sub == "" && isString:
		return constraint{externalID: &s}, true, nil
	case name == "id" && sub == "" && isString:
		id, err := uuid.Parse(s)
		if err != nil {
			return constraint{}, false, nil
		}
		return constraint{id: &id}, true, nil
	case name == "active" && sub == "":
		b, ok := v.(bool)
		if !ok {
			return constraint{}, false, unsupported()
		}
		return constraint{active: &b}, true, nil
	}
	return constraint{}, false, unsupported()
}

// merge is the conjunction of a and b; false when they contradict.
func merge(a, b constraint) (constraint, bool) {
	out := a
	if b.id != nil {
		if a.id != nil && *a.id != *b.id {
			return constraint{}, false
		}
		out.id = b.id
	}
	if b.email != nil {
		if a.email != nil && *a.email != *b.email {
			return constraint{}, false
		}
		out.email = b.email
	}
	if b.externalID != nil {
		if a.externalID != nil && *a.externalID != *b.externalID {
			return constraint{}, false
		}
		out.externalID = b.externalID
	}
	if b.active != nil {
		if a.active != nil && *a.active != *b.active {
			return constraint{}, false
		}
		out.active = b.active
	}
	return out, true
}
