package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/postgres/dbsqlc"
)

// Member is one member of a Group: a User's id.
type Member struct {
	Value string `json:"value"`
	Ref   string `json:"$ref,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Group is a SCIM Group of the token's org: a set of its Users. An admin
// may map it to a Ward role (SetGroupRole); the directory decides who is in
// it.
type Group struct {
	Schemas     []string  `json:"schemas"`
	ID          uuid.UUID `json:"id"`
	ExternalID  *string   `json:"externalId,omitempty"`
	DisplayName string    `json:"displayName"`
	Members     []Member  `json:"members"`
	Meta        Meta      `json:"meta"`
}

// GroupInput is a Group as a directory sends it in POST and PUT.
type GroupInput struct {
	Schemas     []string `json:"schemas"`
	ExternalID  *string  `json:"externalId"`
	DisplayName string   `json:"displayName"`
	Members     []Member `json:"members"`
}

// GroupList is a page of Groups.
type GroupList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []Group  `json:"Resources"`
}

// DecodeGroup parses a POST or PUT body. Errors: ErrInvalidSyntax,
// ErrInvalidInput.
func DecodeGroup(body []byte) (GroupInput, error) {
	var in GroupInput
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
		return GroupInput{}, errkind.Visible(ErrInvalidSyntax, "the body is not a SCIM Group in JSON")
	}
	if !hasSchema(in.Schemas, SchemaGroup) {
		return GroupInput{}, errkind.Visible(ErrInvalidSyntax, "schemas must include "+SchemaGroup)
	}
	return in, nil
}

// groupState is what Ward keeps of a Group and writes back whole.
type groupState struct {
	id          uuid.UUID
	displayName string
	externalID  *string
	members     []uuid.UUID
}

func (in GroupInput) state() (groupState, error) {
	g := groupState{displayName: strings.TrimSpace(in.DisplayName), externalID: in.ExternalID}
	for _, m := range in.Members {
		id, err := uuid.Parse(m.Value)
		if err != nil {
			return groupState{}, errkind.Visible(ErrInvalidInput, "members[].value is the id of a User")
		}
		g.members = append(g.members, id)
	}
	return g, g.validate()
}

func (g groupState) validate() error {
	switch {
	case g.displayName == "" || len(g.displayName) > 256:
		return errkind.Visible(ErrInvalidInput, "displayName is required, at most 256 characters")
	case g.externalID != nil && (*g.externalID == "" || len(*g.externalID) > 256):
		return errkind.Visible(ErrInvalidInput, "externalId is 1..256 characters")
	case len(g.members) > 10000:
		return errkind.Visible(ErrInvalidInput, "a group holds at most 10000 members")
	}
	return nil
}

// CreateGroup creates a Group of the token's org. Errors: ErrInvalidInput
// (a member that is no User here), ErrConflict (the name or externalId
// taken).
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (Group, error) {
	p, err := principal(ctx)
	if err != nil {
		return Group{}, err
	}
	st, err := in.state()
	if err != nil {
		return Group{}, s.failed(ctx, p, uuid.Nil, err)
	}
	return s.putGroup(ctx, p, nil, func(g *groupState) error { *g = st; return nil })
}

// ReplaceGroup replaces a Group's displayName, externalId and members
// (PUT). Errors: ErrNotFound and those of CreateGroup; ErrConflict for the
// org's last admin losing the role.
func (s *Service) ReplaceGroup(ctx context.Context, id uuid.UUID, in GroupInput) (Group, error) {
	p, err := principal(ctx)
	if err != nil {
		return Group{}, err
	}
	st, err := in.state()
	if err != nil {
		return Group{}, s.failed(ctx, p, id, err)
	}
	return s.putGroup(ctx, p, &id, func(g *groupState) error { st.id = g.id; *g = st; return nil })
}

// PatchGroup applies PATCH operations to a Group, as Okta and Entra ID
// send them (members added and removed by value, displayName replaced).
func (s *Service) PatchGroup(ctx context.Context, id uuid.UUID, ops []PatchOp) (Group, error) {
	p, err := principal(ctx)
	if err != nil {
		return Group{}, err
	}
	return s.putGroup(ctx, p, &id, func(g *groupState) error { return applyGroupPatch(g, ops) })
}

// putGroup reads the group (when id is set), changes it with fn, and writes
// it back whole, in one transaction.
func (s *Service) putGroup(ctx context.Context, p identity.Principal, id *uuid.UUID, fn func(*groupState) error) (Group, error) {
	var out Group
	var gid uuid.UUID
	if id != nil {
		gid = *id
	}
	err := s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		var cur groupState
		if id != nil {
			rows, _, err := scimGroups(ctx, tx, groupQuery{id: id, limit: 1}, requestID(ctx))
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return ErrNotFound
			}
			cur = groupState{id: rows[0].ID, displayName: rows[0].DisplayName, externalID: rows[0].ExternalID,
				members: rows[0].Members}
		}
		if err := fn(&cur); err != nil {
			return err
		}
		if err := cur.validate(); err != nil {
			return err
		}
		var err error
		gid, err = q.SCIMPutGroup(ctx, dbsqlc.SCIMPutGroupParams{ID: uuid.NullUUID{UUID: gid, Valid: id != nil},
			DisplayName: cur.displayName, ExternalID: cur.externalID, Members: nonNil(cur.members),
			Request: nullText(requestID(ctx))})
		if err != nil {
			return err
		}
		rows, _, err := scimGroups(ctx, tx, groupQuery{id: &gid, limit: 1}, requestID(ctx))
		if err != nil || len(rows) == 0 {
			return err
		}
		out = s.group(rows[0])
		return nil
	})
	if err != nil {
		return Group{}, s.failed(ctx, p, gid, mapErr("put group", err))
	}
	return out, nil
}

func nonNil(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

// GetGroup returns one Group of the token's org. Errors: ErrNotFound.
func (s *Service) GetGroup(ctx context.Context, id uuid.UUID) (Group, error) {
	p, err := principal(ctx)
	if err != nil {
		return Group{}, err
	}
	var out Group
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		rows, _, err := scimGroups(ctx, tx, groupQuery{id: &id, limit: 1}, requestID(ctx))
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return ErrNotFound
		}
		out = s.group(rows[0])
		return nil
	})
	if err != nil {
		return Group{}, s.failed(ctx, p, id, mapErr("get group", err))
	}
	return out, nil
}

// DeleteGroup deletes a Group; its members get their roles again when it
// mapped one. Errors: ErrNotFound, ErrConflict (the org's last admin).
func (s *Service) DeleteGroup(ctx context.Context, id uuid.UUID) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		return q.SCIMDeleteGroup(ctx, dbsqlc.SCIMDeleteGroupParams{ID: id, Request: nullText(requestID(ctx))})
	})
	if err != nil {
		return s.failed(ctx, p, id, mapErr("delete group", err))
	}
	return nil
}

// ListGroups returns one page of the token's org's Groups. The filter is
// eq on displayName, externalId or id, joined by and. Errors:
// ErrInvalidFilter.
func (s *Service) ListGroups(ctx context.Context, lq ListQuery) (GroupList, error) {
	p, err := principal(ctx)
	if err != nil {
		return GroupList{}, err
	}
	gq, none, err := parseGroupFilter(lq.Filter)
	if err != nil {
		return GroupList{}, s.failed(ctx, p, uuid.Nil, err)
	}
	start, count := lq.page()
	gq.offset, gq.limit = start-1, count
	out := GroupList{Schemas: []string{SchemaListResponse}, StartIndex: start, Resources: []Group{}}
	if none {
		return out, nil
	}
	err = s.tokenTx(ctx, p, func(ctx context.Context, tx pgx.Tx, q *dbsqlc.Queries) error {
		rows, total, err := scimGroups(ctx, tx, gq, requestID(ctx))
		for _, r := range rows {
			out.Resources = append(out.Resources, s.group(r))
		}
		out.TotalResults = total
		return err
	})
	if err != nil {
		return GroupList{}, s.failed(ctx, p, uuid.Nil, mapErr("list groups", err))
	}
	out.ItemsPerPage = len(out.Resources)
	return out, nil
}

func (s *Service) group(r groupRow) Group {
	g := Group{Schemas: []string{SchemaGroup}, ID: r.ID, ExternalID: r.ExternalID, DisplayName: r.DisplayName,
		Members: []Member{}, Meta: Meta{ResourceType: "Group", Created: r.CreatedAt.UTC().Truncate(time.Millisecond),
			LastModified: r.UpdatedAt.UTC().Truncate(time.Millisecond), Location: s.location("Groups", r.ID),
			Version: `W/"` + strconv.Itoa(int(r.Version)) + `"`}}
	for _, m := range r.Members {
		g.Members = append(g.Members, Member{Value: m.String(), Ref: s.location("Users", m), Type: "User"})
	}
	return g
}

// parseGroupFilter turns a Group filter into a query; none is true when
// nobody can match it.
func parseGroupFilter(raw string) (q groupQuery, none bool, err error) {
	if strings.TrimSpace(raw) == "" {
		return q, false, nil
	}
	if !filterText(raw) {
		return q, false, errkind.Visible(ErrInvalidFilter, "the filter must be UTF-8 without NUL")
	}
	expr, perr := filter.ParseFilter([]byte(raw))
	if perr != nil {
		return q, false, errkind.Visible(ErrInvalidFilter, "the filter does not parse (RFC 7644 §3.4.2.2)")
	}
	bad := errkind.Visible(ErrInvalidFilter, "Ward filters Groups by displayName, externalId and id with eq, joined by and")
	var walk func(e filter.Expression) error
	walk = func(e filter.Expression) error {
		switch x := e.(type) {
		case *filter.LogicalExpression:
			if !strings.EqualFold(string(x.Operator), "and") {
				return bad
			}
			if err := walk(x.Left); err != nil {
				return err
			}
			return walk(x.Right)
		case *filter.AttributeExpression:
			v, ok := x.CompareValue.(string)
			if !ok || !strings.EqualFold(string(x.Operator), "eq") || x.AttributePath.SubAttribute != nil ||
				(x.AttributePath.URIPrefix != nil && !strings.EqualFold(*x.AttributePath.URIPrefix, SchemaGroup)) {
				return bad
			}
			set := func(p **string) {
				if *p != nil && **p != v {
					none = true
				}
				*p = &v
			}
			switch strings.ToLower(x.AttributePath.AttributeName) {
			case "displayname":
				set(&q.displayName)
			case "externalid":
				set(&q.externalID)
			case "id":
				id, err := uuid.Parse(v)
				if err != nil || (q.id != nil && *q.id != id) {
					none = true
				}
				q.id = &id
			default:
				return bad
			}
			return nil
		}
		return bad
	}
	return q, none, walk(expr)
}

// applyGroupPatch applies PATCH operations to a group.
func applyGroupPatch(g *groupState, ops []PatchOp) error {
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
				if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta") {
					continue // Okta repeats the id it addresses
				}
				if err := groupPath(g, kind, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := groupPath(g, kind, op.Path, op.Value); err != nil {
			return err
		}
	}
	return nil
}

func groupPath(g *groupState, kind, raw string, v json.RawMessage) error {
	p, err := filter.ParsePath([]byte(raw))
	if err != nil {
		return errkind.Visible(ErrInvalidPath, "the path does not parse (RFC 7644 §3.5.2)")
	}
	name := strings.ToLower(p.AttributePath.AttributeName)
	if p.AttributePath.URIPrefix != nil && !strings.EqualFold(*p.AttributePath.URIPrefix, SchemaGroup) {
		return nil // an extension: not kept
	}
	switch {
	case name == "displayname":
		if kind == "remove" {
			return errkind.Visible(ErrMutability, "displayName is required")
		}
		s, err := str(v, "displayName")
		if err != nil {
			return err
		}
		g.displayName = strings.TrimSpace(s)
	case name == "externalid":
		if kind == "remove" {
			g.externalID = nil
			return nil
		}
		s, err := str(v, "externalId")
		if err != nil {
			return err
		}
		g.externalID = &s
	case name == "members":
		return patchMembers(g, kind, p, v)
	default:
		return errkind.Visible(ErrInvalidPath, "unknown attribute; Ward keeps displayName, externalId and members")
	}
	return nil
}

func patchMembers(g *groupState, kind string, p filter.Path, v json.RawMessage) error {
	if p.ValueExpression != nil {
		// members[value eq "…"] (Okta's remove).
		x, ok := p.ValueExpression.(*filter.AttributeExpression)
		s, isString := any(nil), false
		if ok {
			s = x.CompareValue
			_, isString = s.(string)
		}
		if !ok || kind != "remove" || !isString || !strings.EqualFold(x.AttributePath.AttributeName, "value") ||
			!strings.EqualFold(string(x.Operator), "eq") {
			return errkind.Visible(ErrInvalidPath, `the one member filter Ward takes is remove members[value eq "<id>"]`)
		}
		id, err := uuid.Parse(s.(string))
		if err == nil {
			g.members = slices.DeleteFunc(g.members, func(m uuid.UUID) bool { return m == id })
		}
		return nil
	}
	var ms []Member
	if len(v) > 0 && string(v) != "null" {
		if err := json.Unmarshal(v, &ms); err != nil {
			var one Member
			if err := json.Unmarshal(v, &one); err != nil {
				return errkind.Visible(ErrInvalidInput, "members is a list of {\"value\": \"<user id>\"}")
			}
			ms = []Member{one}
		}
	}
	ids := make([]uuid.UUID, 0, len(ms))
	for _, m := range ms {
		id, err := uuid.Parse(m.Value)
		if err != nil {
			return errkind.Visible(ErrInvalidInput, "members[].value is the id of a User")
		}
		ids = append(ids, id)
	}
	switch kind {
	case "replace":
		g.members = ids
	case "add":
		for _, id := range ids {
			if !slices.Contains(g.members, id) {
				g.members = append(g.members, id)
			}
		}
	case "remove":
		if len(ms) == 0 {
			g.members = nil // remove every member
			return nil
		}
		g.members = slices.DeleteFunc(g.members, func(m uuid.UUID) bool { return slices.Contains(ids, m) })
	}
	return nil
}

// GroupMapping is a Group and the Ward role it grants, for admins.
type GroupMapping struct {
	ID          uuid.UUID     `json:"id"`
	DisplayName string        `json:"display_name"`
	ExternalID  *string       `json:"external_id,omitempty"`
	Role        identity.Role `json:"role,omitempty"`
	Members     int64         `json:"members"`
}

// ListGroupMappings lists the caller's org's SCIM groups and the roles
// they map to (admins; others see none, as RLS decides).
func (s *Service) ListGroupMappings(ctx context.Context) ([]GroupMapping, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := []GroupMapping{}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		rows, err := q.ListSCIMGroups(ctx, p.OrgID)
		for _, r := range rows {
			m := GroupMapping{ID: r.ID, DisplayName: r.DisplayName, ExternalID: r.ExternalID, Members: r.Members}
			if r.Role != nil {
				m.Role = identity.Role(*r.Role)
			}
			out = append(out, m)
		}
		return err
	})
	if err != nil {
		return nil, mapErr("list group mappings", err)
	}
	return out, nil
}

// SetGroupRole maps a SCIM group of the caller's org to role (provider,
// lead or admin), or unmaps it (""): admins, from a session that presented
// a second factor within ten minutes. The group's members get their roles
// again at once (their sessions end when a role changes). Errors:
// ErrInvalidInput, ErrForbidden, ErrStepUpRequired, ErrNotFound,
// ErrConflict (the org's last admin would lose the role).
func (s *Service) SetGroupRole(ctx context.Context, group uuid.UUID, role identity.Role) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if role != "" && !role.Staff() {
		return errkind.Visible(ErrInvalidInput, "role is provider, lead or admin, or null to unmap")
	}
	err = s.userTx(ctx, p, func(ctx context.Context, q *dbsqlc.Queries) error {
		return q.SetSCIMGroupRole(ctx, dbsqlc.SetSCIMGroupRoleParams{GroupID: group, Role: nullText(string(role)),
			Request: nullText(requestID(ctx))})
	})
	return mapErr("set group role", err)
}
