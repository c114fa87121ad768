package scim

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// The SCIM schema URNs Ward speaks.
const (
	SchemaUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// Name is a User's name (RFC 7643 §4.1.1).
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

func (n *Name) empty() bool { return n == nil || *n == Name{} }

// Email is one of a User's addresses: Ward holds one, the userName.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// RoleValue is a User's Ward role, read-only over SCIM.
type RoleValue struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary,omitempty"`
}

// Meta is a resource's metadata (RFC 7643 §3.1).
type Meta struct {
	ResourceType string    `json:"resourceType"`
	Created      time.Time `json:"created"`
	LastModified time.Time `json:"lastModified"`
	Location     string    `json:"location,omitempty"`
	Version      string    `json:"version,omitempty"`
}

// User is a SCIM User as Ward serves it: one staff member of the token's
// org. It holds names (PHI-adjacent): LogValue keeps them out of logs.
type User struct {
	Schemas     []string    `json:"schemas"`
	ID          uuid.UUID   `json:"id"`
	ExternalID  *string     `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	Name        *Name       `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	NickName    string      `json:"nickName,omitempty"`
	Title       string      `json:"title,omitempty"`
	Emails      []Email     `json:"emails"`
	Active      bool        `json:"active"`
	Roles       []RoleValue `json:"roles"`
	Meta        Meta        `json:"meta"`
}

// LogValue keeps names and addresses out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("id", u.ID), slog.Bool("active", u.Active))
}

// Role is the User's Ward role.
func (u User) Role() identity.Role {
	if len(u.Roles) == 0 {
		return ""
	}
	return identity.Role(u.Roles[0].Value)
}

// attrs is what Ward seals of a User: the attributes beyond the address.
type attrs struct {
	Name        *Name  `json:"name,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	NickName    string `json:"nickName,omitempty"`
	Title       string `json:"title,omitempty"`
}

func (u *User) attrs() attrs {
	a := attrs{DisplayName: u.DisplayName, NickName: u.NickName, Title: u.Title}
	if !u.Name.empty() {
		a.Name = u.Name
	}
	return a
}

func (a attrs) empty() bool {
	return a.Name.empty() && a.DisplayName == "" && a.NickName == "" && a.Title == ""
}

// flexBool is a SCIM boolean as directories send it: true, or "True"
// (Entra ID sends active as a string in PATCH).
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v bool
	if err := json.Unmarshal(data, &v); err == nil {
		*b = flexBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			*b = true
			return nil
		case "false":
			*b = false
			return nil
		}
	}
	return errkind.Visible(ErrInvalidInput, "active is a boolean (true or false)")
}

// UserInput is a User as a directory sends it in POST and PUT. Attributes
// Ward does not keep (phone numbers, addresses, the enterprise extension…)
// are accepted and not stored; emails mirror userName.
type UserInput struct {
	Schemas     []string  `json:"schemas"`
	ExternalID  *string   `json:"externalId"`
	UserName    string    `json:"userName"`
	Name        *Name     `json:"name"`
	DisplayName string    `json:"displayName"`
	NickName    string    `json:"nickName"`
	Title       string    `json:"title"`
	Active      *flexBool `json:"active"`
}

// DecodeUser parses a POST or PUT body. Errors: ErrInvalidSyntax,
// ErrInvalidInput.
func DecodeUser(body []byte) (UserInput, error) {
	var in UserInput
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		if errkind.Of(err) != errkind.Internal {
			return UserInput{}, err
		}
		return UserInput{}, errkind.Visible(ErrInvalidSyntax, "the body is not a SCIM User in JSON")
	}
	if !hasSchema(in.Schemas, SchemaUser) {
		return UserInput{}, errkind.Visible(ErrInvalidSyntax, "schemas must include "+SchemaUser)
	}
	if err := in.validate(); err != nil {
		return UserInput{}, err
	}
	return in, nil
}

func (in *UserInput) validate() error {
	in.UserName = strings.TrimSpace(in.UserName)
	switch {
	case !identity.ValidEmail(in.UserName):
		return errkind.Visible(ErrInvalidInput, "userName is required and must be the person's email address")
	case in.ExternalID != nil && (len(*in.ExternalID) == 0 || len(*in.ExternalID) > 256):
		return errkind.Visible(ErrInvalidInput, "externalId is 1..256 characters")
	case len(in.DisplayName) > 256 || len(in.NickName) > 256 || len(in.Title) > 256:
		return errkind.Visible(ErrInvalidInput, "displayName, nickName and title are at most 256 characters")
	}
	return nil
}

func hasSchema(schemas []string, want string) bool {
	for _, s := range schemas {
		if strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

// UserList is a page of Users (RFC 7644 §3.4.2).
type UserList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []User   `json:"Resources"`
}
