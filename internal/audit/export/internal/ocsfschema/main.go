// Command ocsfschema writes a JSON Schema (draft 2020-12) for the OCSF event
// classes Ward exports, generated from a released OCSF schema's raw files
// (ocsf/ocsf-schema at a tag: dictionary.json, categories.json, events/,
// objects/, profiles/). The tests validate exported events against it with
// an independent validator (ajv), so the mapping is checked against the
// release rather than against Ward's idea of it.
//
// Usage: go run ./internal/audit/export/internal/ocsfschema DIR > FILE
//
// What it encodes: for each class, every attribute of the class, its
// parents and its profiles, typed from the dictionary (and the object's or
// class's own override), with enum values of integer *_id attributes,
// regex patterns of string types, arrays, required attributes, the
// classes' class_uid, category_uid and type_uid (class_uid*100 +
// activity_id) and objects' at_least_one constraints; no property outside
// the schema (OCSF puts source-specific data in unmapped).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// classes are the event classes Ward maps its audit actions to.
var classes = []string{"events/iam/authentication.json", "events/iam/entity_management.json",
	"events/application/api_activity.json"}

type attr struct {
	Type        string                     `json:"type"`
	IsArray     bool                       `json:"is_array"`
	Requirement string                     `json:"requirement"`
	Enum        map[string]json.RawMessage `json:"enum"`
}

type file struct {
	Name        string                     `json:"name"`
	UID         int                        `json:"uid"`
	Extends     string                     `json:"extends"`
	Category    string                     `json:"category"`
	Profiles    []string                   `json:"profiles"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
	} `json:"constraints"`
}

type typ struct {
	Type  string `json:"type"`
	Regex string `json:"regex"`
	Range []int  `json:"range"`
}

type gen struct {
	dir     string
	dict    map[string]attr
	types   map[string]typ
	objects map[string]*file
	defs    map[string]any
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ocsfschema OCSF_SCHEMA_DIR > schema.json")
		os.Exit(2)
	}
	out, err := generate(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocsfschema:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func generate(dir string) ([]byte, error) {
	g := &gen{dir: dir, objects: map[string]*file{}, defs: map[string]any{}}
	var dict struct {
		Attributes map[string]attr `json:"attributes"`
		Types      struct {
			Attributes map[string]typ `json:"attributes"`
		} `json:"types"`
	}
	if err := readJSON(filepath.Join(dir, "dictionary.json"), &dict); err != nil {
		return nil, err
	}
	g.dict, g.types = dict.Attributes, dict.Types.Attributes
	var version struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(dir, "version.json"), &version); err != nil {
		return nil, err
	}
	var cats struct {
		Attributes map[string]struct {
			UID int `json:"uid"`
		} `json:"attributes"`
	}
	if err := readJSON(filepath.Join(dir, "categories.json"), &cats); err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "objects", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		f := &file{}
		if err := readJSON(p, f); err != nil {
			return nil, err
		}
		g.objects[f.Name] = f
	}
	var oneOf []any
	for _, c := range classes {
		chain, err := g.eventChain(filepath.Join(dir, c))
		if err != nil {
			return nil, err
		}
		cls := chain[0]
		category := ""
		for _, f := range chain {
			if category == "" && f.Category != "" && f.Category != "other" {
				category = f.Category
			}
		}
		catUID, ok := cats.Attributes[category]
		if !ok {
			return nil, fmt.Errorf("%s: unknown category %q", c, category)
		}
		classUID := catUID.UID*1000 + cls.UID
		attrs, err := g.merged(chain)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		s, err := g.objectSchema(attrs, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		props := s["properties"].(map[string]any)
		props["class_uid"] = map[string]any{"const": classUID}
		props["category_uid"] = map[string]any{"const": catUID.UID}
		acts := enumInts(attrs["activity_id"].Enum)
		types := make([]int, len(acts))
		for i, a := range acts {
			types[i] = classUID*100 + a
		}
		props["type_uid"] = map[string]any{"enum": types}
		s["title"] = fmt.Sprintf("OCSF %s %s (%d)", version.Version, cls.Name, classUID)
		oneOf = append(oneOf, s)
	}
	root := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "urn:ward:ocsf:" + version.Version,
		"description": "Generated by internal/audit/export/internal/ocsfschema from OCSF " + version.Version + " (Apache-2.0): the classes Ward exports.",
		"oneOf":       oneOf,
		"$defs":       g.defs,
	}
	b, err := json.MarshalIndent(root, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// eventChain reads an event class and the classes it extends, child first.
func (g *gen) eventChain(path string) ([]*file, error) {
	var chain []*file
	for path != "" {
		f := &file{}
		if err := readJSON(path, f); err != nil {
			return nil, err
		}
		chain = append(chain, f)
		path = ""
		if f.Extends != "" {
			m, _ := filepath.Glob(filepath.Join(g.dir, "events", "*", f.Extends+".json"))
			m2, _ := filepath.Glob(filepath.Join(g.dir, "events", f.Extends+".json"))
			m = append(m, m2...)
			if len(m) != 1 {
				return nil, fmt.Errorf("cannot find event %q", f.Extends)
			}
			path = m[0]
		}
	}
	return chain, nil
}

// merged folds the attributes of chain (child first) and their included
// profiles into one map; a child's entry overrides its parent's fields.
func (g *gen) merged(chain []*file) (map[string]attr, error) {
	out := map[string]attr{}
	for i := len(chain) - 1; i >= 0; i-- {
		if err := g.fold(out, chain[i].Attributes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (g *gen) fold(out map[string]attr, attrs map[string]json.RawMessage) error {
	if inc, ok := attrs["$include"]; ok {
		var files []string
		if err := json.Unmarshal(inc, &files); err != nil {
			return err
		}
		for _, f := range files {
			var p file
			if err := readJSON(filepath.Join(g.dir, f), &p); err != nil {
				return err
			}
			// A profile's attributes are required only of events that
			// apply the profile (metadata.profiles); Ward applies none.
			sub := map[string]attr{}
			if err := g.fold(sub, p.Attributes); err != nil {
				return err
			}
			for n, a := range sub {
				if _, ok := out[n]; !ok {
					a.Requirement = "optional"
					out[n] = a
				}
			}
		}
	}
	for name, raw := range attrs {
		if name == "$include" {
			continue
		}
		var a attr
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("attribute %s: %w", name, err)
		}
		cur := out[name]
		if a.Type != "" {
			cur.Type = a.Type
		}
		if a.Requirement != "" {
			cur.Requirement = a.Requirement
		}
		if a.Enum != nil {
			if cur.Enum == nil {
				cur.Enum = map[string]json.RawMessage{}
			}
			for k, v := range a.Enum {
				cur.Enum[k] = v
			}
		}
		out[name] = cur
	}
	return nil
}

func enumInts(e map[string]json.RawMessage) []int {
	var out []int
	for k := range e {
		if n, err := strconv.Atoi(k); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// objectSchema is the schema of an object with attrs.
func (g *gen) objectSchema(attrs map[string]attr, atLeastOne []string) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := attrs[n]
		d, ok := g.dict[n]
		if !ok {
			return nil, fmt.Errorf("attribute %s is not in the dictionary", n)
		}
		t := a.Type
		if t == "" {
			t = d.Type
		}
		enum := d.Enum
		if a.Enum != nil {
			enum = a.Enum
		}
		s, err := g.typeSchema(t, enum)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", n, err)
		}
		if d.IsArray {
			s = map[string]any{"type": "array", "items": s}
		}
		props[n] = s
		if a.Requirement == "required" {
			required = append(required, n)
		}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	if len(atLeastOne) > 0 {
		var alts []any
		for _, n := range atLeastOne {
			if _, ok := props[n]; ok {
				alts = append(alts, map[string]any{"required": []string{n}})
			}
		}
		out["anyOf"] = alts
	}
	return out, nil
}

// typeSchema is the schema of a dictionary type or an object name.
func (g *gen) typeSchema(t string, enum map[string]json.RawMessage) (map[string]any, error) {
	switch t {
	case "object_t", "object":
		return map[string]any{"type": "object"}, nil
	case "json_t":
		return map[string]any{}, nil
	}
	if strings.HasSuffix(t, "_t") {
		base, s := t, map[string]any{}
		for base != "" {
			tt, ok := g.types[base]
			if !ok {
				return nil, fmt.Errorf("unknown type %s", base)
			}
			if tt.Regex != "" {
				if _, has := s["pattern"]; !has {
					s["pattern"] = tt.Regex
				}
			}
			if len(tt.Range) == 2 {
				s["minimum"], s["maximum"] = tt.Range[0], tt.Range[1]
			}
			switch base {
			case "string_t":
				s["type"] = "string"
			case "integer_t", "long_t":
				s["type"] = "integer"
			case "float_t":
				s["type"] = "number"
			case "boolean_t":
				s["type"] = "boolean"
			}
			if tt.Type == base {
				break
			}
			base = tt.Type
		}
		if _, ok := s["type"]; !ok {
			return nil, fmt.Errorf("type %s has no base type", t)
		}
		if enum != nil && s["type"] == "integer" {
			s["enum"] = enumInts(enum)
		}
		return s, nil
	}
	if _, done := g.defs[t]; !done {
		g.defs[t] = true // a placeholder: objects refer to themselves
		chain, err := g.objectChain(t)
		if err != nil {
			return nil, err
		}
		attrs, err := g.merged(chain)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", t, err)
		}
		var alo []string
		for _, f := range chain {
			if len(f.Constraints.AtLeastOne) > 0 {
				alo = f.Constraints.AtLeastOne
				break
			}
		}
		s, err := g.objectSchema(attrs, alo)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", t, err)
		}
		g.defs[t] = s
	}
	return map[string]any{"$ref": "#/$defs/" + t}, nil
}

// objectChain is an object and the objects it extends, child first.
func (g *gen) objectChain(name string) ([]*file, error) {
	var chain []*file
	for name != "" && name != "object" {
		f, ok := g.objects[name]
		if !ok {
			return nil, fmt.Errorf("unknown object %s", name)
		}
		if slices.Contains(chain, f) {
			return nil, fmt.Errorf("object %s extends itself", name)
		}
		chain = append(chain, f)
		name = f.Extends
	}
	return chain, nil
}
