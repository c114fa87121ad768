package scim

import (
	"bytes"
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/vault/envelope"
)

// PatchOp is one operation of a PATCH request (RFC 7644 §3.5.2).
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// PatchRequest is a PATCH body.
type PatchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []PatchOp `json:"Operations"`
}

// DecodePatch parses a PATCH body. Errors: ErrInvalidSyntax.
func DecodePatch(body []byte) (PatchRequest, error) {
	var p PatchRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&p); err != nil {
		return PatchRequest{}, errkind.Visible(ErrInvalidSyntax, "the body is not a SCIM PatchOp in JSON")
	}
	switch {
	case !hasSchema(p.Schemas, SchemaPatchOp):
		return PatchRequest{}, errkind.Visible(ErrInvalidSyntax, "schemas must include "+SchemaPatchOp)
	case len(p.Operations) == 0 || len(p.Operations) > 100:
		return PatchRequest{}, errkind.Visible(ErrInvalidSyntax, "Operations holds 1..100 operations")
	}
	return p, nil
}

// ignoredUserAttrs are core and extension attributes directories send that
// Ward accepts and does not keep.
var ignoredUserAttrs = map[string]bool{
	"emails": true, "phonenumbers": true, "addresses": true, "locale": true, "timezone": true,
	"preferredlanguage": true, "usertype": true, "profileurl": true, "photos": true, "ims": true,
	"x509certificates": true, "entitlements": true, "roles": true, "password": true,
}

// applyPatch applies ops to u in order, as Okta and Entra ID send them:
// op names in any case, replace or add with no path and an object value,
// paths with sub-attributes and value filters, booleans as strings.
// Errors: ErrInvalidSyntax, ErrInvalidPath, ErrNoTarget, ErrMutability,
// ErrInvalidInput.
func applyPatch(u *User, ops []PatchOp) error {
	for _, op := range ops {
		kind := strings.ToLower(op.Op)
		if kind != "add" && kind != "replace" && kind != "remove" {
			return errkind.Visible(ErrInvalidSyntax, "op is add, replace or remove")
		}
		if strings.TrimSpace(op.Path) == "" {
			if kind == "remove" {
				return errkind.Visible(ErrNoTarget, "remove needs a path")
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(op.Value, &obj); err != nil {
				return errkind.Visible(ErrInvalidSyntax, "an operation without a path needs an object value")
			}
			for k, v := range obj {
				if err := applyPath(u, kind, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(u, kind, op.Path, op.Value); err != nil {
			return err
		}
	}
	return nil
}

func applyPath(u *User, kind, raw string, v json.RawMessage) error {
	low := strings.ToLower(raw)
	if strings.HasPrefix(low, "urn:") && !strings.HasPrefix(low, strings.ToLower(SchemaUser)) {
		return nil // an extension (enterprise: department, manager…): not kept
	}
	if strings.EqualFold(raw, SchemaUser) { // the core schema as a key: its attributes
		if kind == "remove" {
			return errkind.Visible(ErrNoTarget, "remove needs an attribute path")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return errkind.Visible(ErrInvalidSyntax, "the core schema's value is an object")
		}
		for k, x := range obj {
			if err := applyPath(u, kind, k, x); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := filter.ParsePath([]byte(raw))
	if err != nil {
		return errkind.Visible(ErrInvalidPath, "the path does not parse (RFC 7644 §3.5.2)")
	}
	name := attrName(p.AttributePath)
	sub := strings.ToLower(p.AttributePath.SubAttributeName())
	if sub == "" {
		sub = strings.ToLower(p.SubAttributeName())
	}
	if ignoredUserAttrs[name] {
		return nil
	}
	if p.ValueExpression != nil {
		return errkind.Visible(ErrInvalidPath, "value filters apply only to multi-valued attributes")
	}
	remove := kind == "remove"
	switch {
	case name == "active" && sub == "":
		if remove {
			return errkind.Visible(ErrMutability, "active is required; replace it with false to deactivate")
		}
		var b flexBool
		if err := json.Unmarshal(v, &b); err != nil {
			return errkind.Visible(ErrInvalidInput, "active is a boolean (true or false)")
		}
		u.Active = bool(b)
	case name == "username" && sub == "":
		var s string
		if remove || json.Unmarshal(v, &s) != nil || envelope.NormalizeEmail(s) != envelope.NormalizeEmail(u.UserName) {
			return errkind.Visible(ErrMutability, "userName is the person's sign-in address and cannot change through SCIM")
		}
	case name == "externalid" && sub == "":
		if remove {
			u.ExternalID = nil
			return nil
		}
		s, err := str(v, "externalId")
		if err != nil {
			return err
		}
		u.ExternalID = &s
	case (name == "displayname" || name == "nickname" || name == "title") && sub == "":
		s := ""
		if !remove {
			if s, err = str(v, name); err != nil {
				return err
			}
		}
		switch name {
		case "displayname":
			u.DisplayName = s
		case "nickname":
			u.NickName = s
		default:
			u.Title = s
		}
	case name == "name":
		return patchName(u, kind, sub, v)
	case name == "id" || name == "meta" || name == "groups" || name == "schemas":
		return errkind.Visible(ErrMutability, "id, meta, groups and schemas are read-only")
	default:
		return errkind.Visible(ErrInvalidPath, "unknown attribute; Ward keeps userName, externalId, name, displayName, "+
			"nickName, title and active")
	}
	return nil
}

func patchName(u *User, kind, sub string, v json.RawMessage) error {
	if u.Name == nil {
		u.Name = &Name{}
	}
	if sub == "" {
		if kind == "remove" {
			u.Name = nil
			return nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return errkind.Visible(ErrInvalidInput, "name is an object")
		}
		for k, x := range obj {
			if err := patchName(u, kind, strings.ToLower(k), x); err != nil {
				return err
			}
		}
		return nil
	}
	// The sub-attribute is known before its value is read: an unknown one
	// is the directory's own text (an object's key), which no problem
	// repeats (it may be a phone or record number).
	if !nameSubs[sub] {
		return errkind.Visible(ErrInvalidPath, "unknown sub-attribute of name")
	}
	s := ""
	if kind != "remove" {
		var err error
		if s, err = str(v, "name."+sub); err != nil {
			return err
		}
	}
	switch sub {
	case "formatted":
		u.Name.Formatted = s
	case "familyname":
		u.Name.FamilyName = s
	case "givenname":
		u.Name.GivenName = s
	case "middlename":
		u.Name.MiddleName = s
	case "honorificprefix":
		u.Name.HonorificPrefix = s
	case "honorificsuffix":
		u.Name.HonorificSuffix = s
	default:
		return errkind.Visible(ErrInvalidPath, "unknown sub-attribute of name")
	}
	return nil
}

// nameSubs are the sub-attributes of name Ward keeps.
var nameSubs = map[string]bool{"formatted": true, "familyname": true, "givenname": true, "middlename": true,
	"honorificprefix": true, "honorificsuffix": true}

func str(v json.RawMessage, what string) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil || len(s) > 256 {
		return "", errkind.Visiblef(ErrInvalidInput, "%s is a string of at most 256 characters", what)
	}
	return s, nil
}
