package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wardhq/ward/internal/errkind"
	"github.com/wardhq/ward/internal/identity"
)

// The Models API (GET /v1/models and GET /v1/models/{model_id}) as the
// official SDKs call it (client.Models.List, client.Models.Get): the
// upstream's own entries (capabilities, limits, lifecycle, which Ward does
// not know), narrowed to the models the caller's org may call now through
// the gateway: the provider passes its gate (BAA executed, zero retention),
// the model is in the registry's list and the org's (where each has one).
// Nothing about a patient is sent or received, so these calls write no
// audit event; they carry Ward's key, and only to the registered provider.

// catalogueTTL is how long a provider's model list is kept: the list
// changes when the provider releases or retires a model, and the gate
// (registry and policy) is applied afresh on every request.
const catalogueTTL = time.Minute

// upstreamListTimeout bounds one request of the model list or a model's
// entry to the upstream.
const upstreamListTimeout = 20 * time.Second

// maxCataloguePages bounds how many pages of the upstream's list one
// refresh reads (1,000 models each).
const maxCataloguePages = 10

// maxCatalogueBytes bounds the entries one list keeps in all (a page is
// bounded alone by upstreamGet): a list is kept per API version, so a
// hostile upstream's ten full pages would otherwise hold 80 MiB each.
const maxCatalogueBytes = 8 << 20

// ErrNoSuchModel is a model the upstream does not know.
var ErrNoSuchModel = errkind.New(errkind.NotFound, "not_found", "gateway: no such model").
	WithPublic("the provider has no model of this id")

// catalogue keeps the provider's model list per base URL and API version
// (a caller chooses the version: one slot shared by all would let callers
// alternating versions send every request upstream). One refresh runs at a
// time; a request waiting for it gives up when its own context ends, so a
// stalled upstream holds no request whose client has gone.
type catalogue struct {
	refresh chan struct{} // a token held by the one refresh running
	mu      sync.Mutex
	lists   map[string]catalogueList // by base URL and API version
}

// catalogueList is one list as read at at.
type catalogueList struct {
	at      time.Time
	entries []json.RawMessage
	ids     []string
}

// kept returns the list read for key less than catalogueTTL before now.
func (c *catalogue) kept(key string, now time.Time) (catalogueList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.lists[key]
	return l, ok && !now.Before(l.at) && now.Sub(l.at) < catalogueTTL
}

// keep stores l for key and drops the lists no longer fresh.
func (c *catalogue) keep(key string, l catalogueList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, old := range c.lists {
		if l.at.Sub(old.at) >= catalogueTTL {
			delete(c.lists, k)
		}
	}
	if c.lists == nil {
		c.lists = map[string]catalogueList{}
	}
	c.lists[key] = l
}

// modelEntry is what Ward reads of an upstream model entry; the entry
// itself is relayed as the upstream wrote it.
type modelEntry struct {
	ID string `json:"id"`
}

// gatedProvider is the provider calls go to, its key, and the org's
// policy, for a principal in ctx; the provider's own gate (BAA, zero
// retention) is applied here, each model's by allowed.
func (s *Service) gatedProvider(ctx context.Context) (Provider, Policy, string, error) {
	p, ok := identity.PrincipalFrom(ctx)
	if !ok {
		return Provider{}, Policy{}, "", errkind.New(errkind.Unauthenticated, "unauthenticated", "gateway: no principal")
	}
	now := s.now()
	pol, err := s.policies.get(ctx, s, p, now)
	if err != nil {
		return Provider{}, Policy{}, "", err
	}
	prov, err := s.reg.get(ctx, s.db.Pool, s.cfg.Provider, now)
	if err != nil {
		return Provider{}, Policy{}, "", err
	}
	if err := providerGate(prov, now); err != nil {
		return Provider{}, Policy{}, "", err
	}
	if err := pol.gate(prov.Name, ""); errors.Is(err, ErrProviderNotEnabled) {
		return Provider{}, Policy{}, "", err
	}
	key := s.cfg.Keys[prov.Name]
	if key == "" {
		return Provider{}, Policy{}, "", ErrNoUpstreamKey
	}
	return prov, pol, key, nil
}

// allowed reports whether model may be called through prov under pol now.
func (s *Service) allowed(prov Provider, pol Policy, model string) error {
	if err := gate(prov, model, s.now()); err != nil {
		return err
	}
	return pol.gate(prov.Name, model)
}

// ListModels answers GET /v1/models: the upstream's entries of the models
// the caller's org may call, newest first as the upstream lists them,
// paged by limit (1 to 1,000, default 20), after_id and before_id as the
// Anthropic API pages them.
func (s *Service) ListModels(ctx context.Context, query url.Values, h http.Header) ([]byte, error) {
	limit := 20
	if v := query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, bad("limit must be a whole number from 1 to 1000")
		}
		limit = n
	}
	after, before := query.Get("after_id"), query.Get("before_id")
	if after != "" && before != "" {
		return nil, bad("give after_id or before_id, not both")
	}
	prov, pol, key, err := s.gatedProvider(ctx)
	if err != nil {
		return nil, err
	}
	version, _, err := upstreamHeaders(h)
	if err != nil {
		return nil, err
	}
	entries, ids, err := s.catalogue(ctx, prov, key, version)
	if err != nil {
		return nil, err
	}
	var keep []json.RawMessage
	var keepIDs []string
	for i, id := range ids {
		if s.allowed(prov, pol, id) == nil {
			keep, keepIDs = append(keep, entries[i]), append(keepIDs, id)
		}
	}
	lo, hi := 0, len(keep)
	switch {
	case after != "":
		lo = slices.Index(keepIDs, after) + 1
		if lo == 0 {
			lo = len(keep) // an id not in the list: nothing after it
		}
		hi = min(len(keep), lo+limit)
	case before != "":
		hi = max(slices.Index(keepIDs, before), 0)
		lo = max(0, hi-limit)
	default:
		hi = min(len(keep), limit)
	}
	page := struct {
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
		FirstID *string           `json:"first_id"`
		LastID  *string           `json:"last_id"`
	}{Data: keep[lo:hi]}
	if page.Data == nil {
		page.Data = []json.RawMessage{}
	}
	if hi > lo {
		page.FirstID, page.LastID = &keepIDs[lo], &keepIDs[hi-1]
	}
	if before != "" {
		page.HasMore = lo > 0
	} else {
		page.HasMore = hi < len(keep)
	}
	return json.Marshal(page)
}

// GetModel answers GET /v1/models/{model_id} for a model the caller's org
// may call (the gate's refusal otherwise, as a Messages call naming it
// would get): the upstream's entry. An alias the upstream resolves is
// gated by the name the caller gave.
func (s *Service) GetModel(ctx context.Context, id string, h http.Header) ([]byte, error) {
	if !modelID(id) {
		return nil, bad("a model id is 1 to 256 letters, digits and . - _ : @, not starting with a dot")
	}
	prov, pol, key, err := s.gatedProvider(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.allowed(prov, pol, id); err != nil {
		return nil, err
	}
	version, _, err := upstreamHeaders(h)
	if err != nil {
		return nil, err
	}
	raw, status, err := s.upstreamGet(ctx, prov, key, version, "/v1/models/"+url.PathEscape(id))
	switch {
	case err != nil:
		return nil, err
	case status == http.StatusNotFound:
		return nil, ErrNoSuchModel
	case status != http.StatusOK:
		return nil, fmt.Errorf("%w: the upstream answered %d to a model's entry", ErrUpstream, status)
	}
	var e modelEntry
	if json.Unmarshal(raw, &e) != nil || e.ID == "" {
		return nil, fmt.Errorf("%w: unreadable model entry", ErrUpstream)
	}
	return raw, nil
}

// modelID reports whether id reads as a model id (the API's
// "claude-haiku-5-5", a cloud's "anthropic.claude-v2:1" or
// "claude-sonnet@20250514"): it goes into the upstream's path, so no
// separator, escape or dot segment may.
func modelID(id string) bool {
	if id == "" || len(id) > 256 || id[0] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:@", c) >= 0) {
			return false
		}
	}
	return true
}

// catalogue returns the provider's model entries and their ids (each id
// once, where the upstream first lists it), read from the upstream at most
// once per catalogueTTL for each base URL and API version. A refresh reads
// at most maxCataloguePages pages within upstreamListTimeout in all.
func (s *Service) catalogue(ctx context.Context, prov Provider, key, version string) ([]json.RawMessage, []string, error) {
	c := &s.models
	slot := prov.BaseURL + " " + version
	if l, ok := c.kept(slot, s.now()); ok {
		return l.entries, l.ids, nil
	}
	select {
	case c.refresh <- struct{}{}:
		defer func() { <-c.refresh }()
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	// Another request may have read it while this one waited.
	if l, ok := c.kept(slot, s.now()); ok {
		return l.entries, l.ids, nil
	}
	ctx, cancel := context.WithTimeout(ctx, upstreamListTimeout)
	defer cancel()
	at := s.now()
	var entries []json.RawMessage
	var ids []string
	seen := map[string]bool{}
	size := 0
	after := ""
	for page := 0; ; page++ {
		if page == maxCataloguePages {
			return nil, nil, fmt.Errorf("%w: the model list has more than %d pages", ErrUpstream, maxCataloguePages)
		}
		path := "/v1/models?limit=1000"
		if after != "" {
			path += "&after_id=" + url.QueryEscape(after)
		}
		raw, status, err := s.upstreamGet(ctx, prov, key, version, path)
		if err != nil {
			return nil, nil, err
		}
		if status != http.StatusOK {
			return nil, nil, fmt.Errorf("%w: the upstream answered %d to the model list", ErrUpstream, status)
		}
		var list struct {
			Data    []json.RawMessage `json:"data"`
			HasMore bool              `json:"has_more"`
			LastID  string            `json:"last_id"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, nil, fmt.Errorf("%w: unreadable model list", ErrUpstream)
		}
		for _, d := range list.Data {
			var e modelEntry
			if json.Unmarshal(d, &e) != nil || e.ID == "" {
				return nil, nil, fmt.Errorf("%w: unreadable model entry", ErrUpstream)
			}
			// An id listed twice would page forever: after_id names its
			// first place, and the page after it holds it again.
			if seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			if size += len(d); size > maxCatalogueBytes {
				return nil, nil, fmt.Errorf("%w: the model list is larger than %d bytes", ErrUpstream, maxCatalogueBytes)
			}
			entries, ids = append(entries, d), append(ids, e.ID)
		}
		if !list.HasMore || list.LastID == "" || list.LastID == after {
			break
		}
		after = list.LastID
	}
	c.keep(slot, catalogueList{at: at, entries: entries, ids: ids})
	return entries, ids, nil
}

// upstreamGet sends one GET with Ward's key to the provider and returns
// its body (at most 8 MiB) and status. The upstream's refusal of the key
// is the operator's to fix (ErrUpstreamKeyRefused), as for a Messages call.
func (s *Service) upstreamGet(ctx context.Context, prov Provider, key, version, path string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, upstreamListTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prov.BaseURL+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("gateway: build upstream request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Anthropic-Version", version)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, fmt.Errorf("%w: %w", ErrUpstream, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		s.log.ErrorContext(ctx, "the upstream refused the gateway's key", "provider", prov.Name)
		return nil, 0, ErrUpstreamKeyRefused
	}
	const most = 8 << 20
	raw, err := io.ReadAll(io.LimitReader(resp.Body, most+1))
	if err != nil || len(raw) > most {
		return nil, 0, fmt.Errorf("%w: read the model list", ErrUpstream)
	}
	return raw, resp.StatusCode, nil
}
