package httpapi

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/identity"
	"github.com/wardhq/ward/internal/scim"
)

// The SCIM surface (RFC 7644) under /scim/v2: a directory's bearer token,
// SCIM bodies and SCIM errors. docs/scim.md is the guide.

// scimRoutes mounts the SCIM routes when the service is configured.
func (s *server) scimRoutes() {
	svc := s.deps.SCIM
	if svc == nil {
		return
	}
	sc, fail := s.scim, s.scim.writeError
	token := need{scimToken: true}
	sc.route("GET /scim/v2/ServiceProviderConfig", public, handleSCIMStatic(scimServiceProviderConfig()))
	sc.route("GET /scim/v2/ResourceTypes", public, handleSCIMStatic(scimList(scimResourceTypes())))
	sc.route("GET /scim/v2/ResourceTypes/{id}", public, handleSCIMByID(scimResourceTypes(), fail))
	sc.route("GET /scim/v2/Schemas", public, handleSCIMStatic(scimList(scimSchemas())))
	sc.route("GET /scim/v2/Schemas/{id}", public, handleSCIMByID(scimSchemas(), fail))
	sc.route("GET /scim/v2/Users", token, handleSCIMUserList(svc, fail))
	sc.route("POST /scim/v2/Users", token, handleSCIMUserCreate(svc, fail))
	sc.route("GET /scim/v2/Users/{id}", token, handleSCIMUserGet(svc, fail))
	sc.route("PUT /scim/v2/Users/{id}", token, handleSCIMUserReplace(svc, fail))
	sc.route("PATCH /scim/v2/Users/{id}", token, handleSCIMUserPatch(svc, fail))
	sc.route("DELETE /scim/v2/Users/{id}", token, handleSCIMUserDelete(svc, fail))
	sc.route("GET /scim/v2/Groups", token, handleSCIMGroupList(svc, fail))
	sc.route("POST /scim/v2/Groups", token, handleSCIMGroupWrite(svc, fail, false))
	sc.route("GET /scim/v2/Groups/{id}", token, handleSCIMGroupGet(svc, fail))
	sc.route("PUT /scim/v2/Groups/{id}", token, handleSCIMGroupWrite(svc, fail, true))
	sc.route("PATCH /scim/v2/Groups/{id}", token, handleSCIMGroupPatch(svc, fail))
	sc.route("DELETE /scim/v2/Groups/{id}", token, handleSCIMGroupDelete(svc, fail))
}

// scimGuard authenticates a SCIM request: a bearer scim_ token, resolved
// by the database to its org, then the principal's rate limit.
func (s *server) scimGuard(sf *surface, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.credential(r)
		switch {
		case err != nil:
		case c.cookie || c.dpop:
			err = scim.ErrUnauthenticated
		}
		var p identity.Principal
		if err == nil {
			err = s.budgeted(r, func() (err error) {
				p, err = s.deps.SCIM.Authenticate(r.Context(), c.token)
				return err
			})
		}
		if err != nil {
			sf.writeError(w, r, err)
			return
		}
		if ok, retry := s.limits.allow(p, s.cfg.Now()); !ok {
			sf.writeError(w, r, rateLimited(retry, "too many requests; slow down"))
			return
		}
		next.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	writeEncoded(w, status, "application/scim+json", v)
}

// scimBody reads a SCIM request body: application/scim+json or
// application/json, within the surface's limit, checked as checkJSON does.
func scimBody(r *http.Request) ([]byte, error) {
	if err := contentCoding(r); err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/scim+json" && mt != "application/json" {
		return nil, &publicError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			msg: "send the body as application/scim+json"}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyError(err)
	}
	// As the JSON API's bodies: no NUL (PostgreSQL text cannot hold it), no
	// invalid UTF-8 or lone surrogate (stored as U+FFFD), no key given
	// twice (SCIM attribute names are case-insensitive too).
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	return b, nil
}

// scimID reads a resource id: one that is no UUID names nothing (404).
func scimID(r *http.Request) (uuid.UUID, error) {
	v := r.PathValue("id")
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return uuid.Nil, scim.ErrNotFound
	}
	return id, nil
}

// scimListQuery reads filter, startIndex and count.
func scimListQuery(r *http.Request) (scim.ListQuery, error) {
	q := r.URL.Query()
	lq := scim.ListQuery{Filter: q.Get("filter")}
	var err error
	if v := q.Get("startIndex"); v != "" {
		if lq.StartIndex, err = strconv.Atoi(v); err != nil {
			return lq, badRequest("invalid_input", "startIndex must be an integer")
		}
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return lq, badRequest("invalid_input", "count must be an integer")
		}
		lq.Count = &n
	}
	return lq, nil
}

func handleSCIMUserList(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lq, err := scimListQuery(r)
		var list scim.UserList
		if err == nil {
			list, err = svc.ListUsers(r.Context(), lq)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeSCIM(w, http.StatusOK, list)
	})
}

func handleSCIMUserGet(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		var u scim.User
		if err == nil {
			u, err = svc.GetUser(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", u.Meta.Version)
		writeSCIM(w, http.StatusOK, u)
	})
}

func handleSCIMUserCreate(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := scimBody(r)
		var in scim.UserInput
		if err == nil {
			in, err = scim.DecodeUser(b)
		}
		var u scim.User
		if err == nil {
			u, err = svc.CreateUser(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("Location", u.Meta.Location)
		w.Header().Set("ETag", u.Meta.Version)
		writeSCIM(w, http.StatusCreated, u)
	})
}

func handleSCIMUserReplace(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		var b []byte
		if err == nil {
			b, err = scimBody(r)
		}
		var in scim.UserInput
		if err == nil {
			in, err = scim.DecodeUser(b)
		}
		var u scim.User
		if err == nil {
			u, err = svc.ReplaceUser(r.Context(), id, in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", u.Meta.Version)
		writeSCIM(w, http.StatusOK, u)
	})
}

func handleSCIMUserPatch(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		var b []byte
		if err == nil {
			b, err = scimBody(r)
		}
		var p scim.PatchRequest
		if err == nil {
			p, err = scim.DecodePatch(b)
		}
		var u scim.User
		if err == nil {
			u, err = svc.PatchUser(r.Context(), id, p.Operations)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", u.Meta.Version)
		writeSCIM(w, http.StatusOK, u)
	})
}

func handleSCIMUserDelete(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		if err == nil {
			err = svc.DeleteUser(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSCIMGroupList(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lq, err := scimListQuery(r)
		var list scim.GroupList
		if err == nil {
			list, err = svc.ListGroups(r.Context(), lq)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeSCIM(w, http.StatusOK, list)
	})
}

func handleSCIMGroupGet(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		var g scim.Group
		if err == nil {
			g, err = svc.GetGroup(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", g.Meta.Version)
		writeSCIM(w, http.StatusOK, g)
	})
}

// handleSCIMGroupWrite is POST (replace false) or PUT of a Group.
func handleSCIMGroupWrite(svc *scim.Service, fail errorWriter, replace bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id uuid.UUID
		var err error
		if replace {
			id, err = scimID(r)
		}
		var b []byte
		if err == nil {
			b, err = scimBody(r)
		}
		var in scim.GroupInput
		if err == nil {
			in, err = scim.DecodeGroup(b)
		}
		var g scim.Group
		if err == nil && replace {
			g, err = svc.ReplaceGroup(r.Context(), id, in)
		} else if err == nil {
			g, err = svc.CreateGroup(r.Context(), in)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", g.Meta.Version)
		status := http.StatusOK
		if !replace {
			w.Header().Set("Location", g.Meta.Location)
			status = http.StatusCreated
		}
		writeSCIM(w, status, g)
	})
}

func handleSCIMGroupPatch(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		var b []byte
		if err == nil {
			b, err = scimBody(r)
		}
		var p scim.PatchRequest
		if err == nil {
			p, err = scim.DecodePatch(b)
		}
		var g scim.Group
		if err == nil {
			g, err = svc.PatchGroup(r.Context(), id, p.Operations)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.Header().Set("ETag", g.Meta.Version)
		writeSCIM(w, http.StatusOK, g)
	})
}

func handleSCIMGroupDelete(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := scimID(r)
		if err == nil {
			err = svc.DeleteGroup(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// The discovery resources (RFC 7644 §4), which hold no org's data.

func handleSCIMStatic(v any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeSCIM(w, http.StatusOK, v) })
}

func handleSCIMByID(items []map[string]any, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, it := range items {
			if strings.EqualFold(it["id"].(string), r.PathValue("id")) {
				writeSCIM(w, http.StatusOK, it)
				return
			}
		}
		fail(w, r, scim.ErrNotFound)
	})
}

func scimList(items []map[string]any) map[string]any {
	return map[string]any{"schemas": []string{scim.SchemaListResponse}, "totalResults": len(items),
		"startIndex": 1, "itemsPerPage": len(items), "Resources": items}
}

func scimServiceProviderConfig() map[string]any {
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/wardhq/ward/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": scim.MaxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "An org's SCIM token (scim_…), created by an org admin: Authorization: Bearer <token>",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"},
	}
}

func scimResourceTypes() []map[string]any {
	return []map[string]any{
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "User", "name": "User",
			"endpoint": "/Users", "description": "A staff member of the org", "schema": scim.SchemaUser,
			"schemaExtensions": []map[string]any{{"schema": scim.SchemaEnterprise, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/User"}},
		{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "Group", "name": "Group",
			"endpoint": "/Groups", "description": "A directory group of the org's staff", "schema": scim.SchemaGroup,
			"meta": map[string]any{"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/Group"}},
	}
}

func scimAttr(name, typ string, required bool, mutability, uniqueness string, sub ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	return a
}

func scimSchemas() []map[string]any {
	str := func(n string) map[string]any { return scimAttr(n, "string", false, "readWrite", "none") }
	emails := scimAttr("emails", "complex", false, "readWrite", "none", str("value"), str("type"),
		scimAttr("primary", "boolean", false, "readWrite", "none"))
	emails["multiValued"] = true
	roles := scimAttr("roles", "complex", false, "readOnly", "none", str("value"))
	roles["multiValued"] = true
	ext := scimAttr("externalId", "string", false, "readWrite", "server")
	ext["caseExact"] = true
	members := scimAttr("members", "complex", false, "readWrite", "none", str("value"), str("$ref"), str("type"))
	members["multiValued"] = true
	return []map[string]any{
		{"id": scim.SchemaUser, "name": "User", "description": "A staff member of the org",
			"attributes": []map[string]any{
				scimAttr("userName", "string", true, "immutable", "server"),
				ext,
				scimAttr("name", "complex", false, "readWrite", "none", str("formatted"), str("familyName"),
					str("givenName"), str("middleName"), str("honorificPrefix"), str("honorificSuffix")),
				str("displayName"), str("nickName"), str("title"),
				emails,
				scimAttr("active", "boolean", false, "readWrite", "none"),
				roles,
			},
			"meta": map[string]any{"resourceType": "Schema", "location": "/scim/v2/Schemas/" + scim.SchemaUser}},
		{"id": scim.SchemaGroup, "name": "Group", "description": "A directory group of the org's staff",
			"attributes": []map[string]any{
				scimAttr("displayName", "string", true, "readWrite", "server"),
				ext,
				members,
			},
			"meta": map[string]any{"resourceType": "Schema", "location": "/scim/v2/Schemas/" + scim.SchemaGroup}},
		// The User resource type names the enterprise extension (Entra ID
		// sends it): its attributes are accepted and none is kept.
		{"id": scim.SchemaEnterprise, "name": "EnterpriseUser",
			"description": "Accepted on Users and not kept: Ward stores none of its attributes",
			"attributes":  []map[string]any{},
			"meta":        map[string]any{"resourceType": "Schema", "location": "/scim/v2/Schemas/" + scim.SchemaEnterprise}},
	}
}

// The token routes of the JSON API.

func handleSCIMTokenCreate(svc *scim.Service, fail errorWriter) http.Handler {
	type request struct {
		Name        string        `json:"name"`
		DefaultRole identity.Role `json:"default_role"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(r, &req)
		var t scim.CreatedToken
		if err == nil {
			t, err = svc.CreateToken(r.Context(), req.Name, req.DefaultRole)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, t)
	})
}

func handleSCIMTokenList(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, err := svc.ListTokens(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"scim_tokens": ts})
	})
}

func handleSCIMTokenRevoke(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err == nil {
			err = svc.RevokeToken(r.Context(), id)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func handleSCIMGroupMappings(svc *scim.Service, fail errorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs, err := svc.ListGroupMappings(r.Context())
		if err != nil {
			fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"scim_groups": gs})
	})
}

func handleSCIMGroupRole(svc *scim.Service, fail errorWriter) http.Handler {
	type request struct {
		Role *identity.Role `json:"role"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		var req request
		if err == nil {
			err = decode(r, &req)
		}
		if err == nil {
			var role identity.Role
			if req.Role != nil {
				role = *req.Role
			}
			err = svc.SetGroupRole(r.Context(), id, role)
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
