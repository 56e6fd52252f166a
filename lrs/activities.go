package lrs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// activityRoutes registers the activities and agents resources.
func (s *Server) activityRoutes(api *gin.RouterGroup) {
	read := s.require(scopeStatementsReadMine)
	api.GET("/activities", read, s.handleGetActivity)
	api.HEAD("/activities", read, s.handleGetActivity)
	api.GET("/agents", read, s.handleGetAgent)
	api.HEAD("/agents", read, s.handleGetAgent)
}

// handleGetActivity serves GET and HEAD /xapi/activities?activityId=: the
// Activity object with the LRS's canonical definition, or with just its id
// when the LRS has none (Communication 2.5.s2.b1).
func (s *Server) handleGetActivity(c *gin.Context) {
	q := c.Request.URL.Query()
	if err := allowParams(q, "activityId"); err != nil {
		s.fail(c, err)
		return
	}
	id := q.Get("activityId")
	switch {
	case !q.Has("activityId") || id == "":
		s.fail(c, statements.Errorf(statements.EInvalid, "activityId: required parameter"))
		return
	case len(q["activityId"]) > 1:
		s.fail(c, statements.Errorf(statements.EInvalid, "activityId: given more than once"))
		return
	case !isIRI(id):
		s.fail(c, statements.Errorf(statements.EInvalid, "activityId: must be an IRI"))
		return
	}
	def, err := s.store.ActivityDefinition(c.Request.Context(), credentialOf(c).Tenant, id)
	if err != nil && statements.ErrorCode(err) != statements.ENotFound {
		s.fail(c, err)
		return
	}
	out := struct {
		ObjectType string          `json:"objectType"`
		ID         string          `json:"id"`
		Definition json.RawMessage `json:"definition,omitempty"`
	}{"Activity", id, def}
	body, err := json.Marshal(out)
	if err != nil {
		s.fail(c, statements.Internal(err, "stored activity definition is not JSON"))
		return
	}
	respondJSONWithETag(c, body)
}

// handleGetAgent serves GET and HEAD /xapi/agents?agent=: the Person
// object of the agent (Communication 2.4). It combines the requested
// agent's own properties with the names that agent has in the newest
// statements the credential may read; no other identifier is joined to it,
// so the LRS never reveals a second identity of a learner.
func (s *Server) handleGetAgent(c *gin.Context) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	if err := allowParams(q, "agent"); err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case !q.Has("agent") || q.Get("agent") == "":
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: required parameter"))
		return
	case len(q["agent"]) > 1:
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: given more than once"))
		return
	}
	raw := []byte(q.Get("agent"))
	if err := validation.Agent(versionOf(c), raw); err != nil {
		s.fail(c, paramError("agent", err))
		return
	}
	var a statements.Actor
	if err := json.Unmarshal(raw, &a); err != nil {
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: %v", err))
		return
	}
	if a.ObjectType == "Group" {
		s.fail(c, statements.Errorf(statements.EInvalid, "agent: must be an Agent, not a Group (Communication 2.4.s2)"))
		return
	}
	p := person{ObjectType: "Person"}
	if a.Name != "" {
		p.Name = append(p.Name, a.Name)
	}
	if a.Mbox != "" {
		p.Mbox = []string{a.Mbox}
	}
	if a.MboxSHA1Sum != "" {
		p.MboxSHA1Sum = []string{a.MboxSHA1Sum}
	}
	if a.OpenID != "" {
		p.OpenID = []string{a.OpenID}
	}
	if a.Account != nil {
		p.Account = []statements.Account{*a.Account}
	}
	cred := credentialOf(c)
	if grants(cred.Scopes, scopeStatementsRead) {
		names, err := s.knownNames(ctx, cred.Tenant, a.Key())
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, n := range names {
			if !slices.Contains(p.Name, n) {
				p.Name = append(p.Name, n)
			}
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		s.fail(c, statements.Internal(err, "cannot encode the person"))
		return
	}
	respondJSONWithETag(c, body)
}

// person is the Person object of the agents resource (Communication 2.4.s5).
type person struct {
	ObjectType  string               `json:"objectType"`
	Name        []string             `json:"name,omitempty"`
	Mbox        []string             `json:"mbox,omitempty"`
	MboxSHA1Sum []string             `json:"mbox_sha1sum,omitempty"`
	OpenID      []string             `json:"openid,omitempty"`
	Account     []statements.Account `json:"account,omitempty"`
}

// personStatements is how many of the newest statements of an agent the
// agents resource reads for the agent's names.
const personStatements = 50

// knownNames returns the names the agent with key has as actor or object
// of its newest statements.
func (s *Server) knownNames(ctx context.Context, tenant, key string) ([]string, error) {
	page, err := s.store.QueryStatements(ctx, tenant, statements.Filter{Agent: key, Limit: personStatements, MaxBytes: s.pageBytes})
	if err != nil {
		return nil, err
	}
	var names []string
	add := func(a statements.Actor) {
		if a.Name != "" && a.Key() == key && !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
	}
	for _, r := range page.Records {
		var st statements.Statement
		if json.Unmarshal(r.Statement, &st) != nil {
			continue
		}
		add(st.Actor)
		if st.Object.ObjectIsAgent() {
			add(st.Object.AsActor())
		}
	}
	return names, nil
}

// respondJSONWithETag answers 200 with a JSON body and its ETag (the
// resources have concurrency controls: Communication 2.4, 2.5).
func respondJSONWithETag(c *gin.Context, body []byte) {
	sum := sha256.Sum256(body)
	c.Header("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	c.Data(http.StatusOK, "application/json", body)
}

// mergeDefinitions merges the activity definitions of newly stored
// statements into the LRS's canonical definitions (Data 2.4.4.1.s4.b3).
// They count as authoritative when the credential holds the define scope
// (or all): without it the LRS SHOULD NOT update its canonical
// representation (Communication 4.2.s2 table, "define"), which
// MergeDefinition honours by only adding what an authoritative definition
// lacks.
//
// A definition already merged for its activity is not merged again (see
// mergedDefinitions). A statement the store already had changes nothing (Communication
// 2.1.1.s2.b2, 2.1.2.s2.b4): a record stored before the request's
// consistent-through time is such a statement, since everything stored
// after it was new to this request or arrived concurrently with it.
//
// The statements are stored by then, so a failure is logged, not returned:
// a client's retry would be a duplicate and merge nothing.
func (s *Server) mergeDefinitions(c *gin.Context, recs []*statements.Record) {
	// The statements are stored: finish even if the client goes away.
	ctx := context.WithoutCancel(c.Request.Context())
	cred := credentialOf(c)
	through := c.GetTime(ctxConsistent)
	auth := grants(cred.Scopes, scopeDefine)
	// The definitions of one activity in the request merge into one, in
	// statement order, so the store is called once per activity.
	var order []string
	merged := map[string][]byte{}
	for _, r := range recs {
		if !r.Stored.After(through) {
			continue
		}
		for _, a := range statements.DefinedActivities(r.Statement) {
			// The same definition as before, as most statements of an
			// activity carry, costs no merge at all.
			if s.merged.has(cred.Tenant, a.ID, a.Definition, auth) {
				continue
			}
			cur, seen := merged[a.ID]
			if !seen {
				order = append(order, a.ID)
			}
			def, _, err := statements.MergeDefinition(cur, auth, a.Definition, auth)
			if err != nil {
				s.log.Error().Err(err).Str("request_id", requestIDOf(c)).Msg("cannot merge an activity definition")
				continue
			}
			merged[a.ID] = def
		}
	}
	// The merges of different activities are independent: sent together,
	// they share the store's group commits instead of taking one each.
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxConcurrentMerges)
	for _, id := range order {
		if merged[id] == nil || s.merged.seenBefore(cred.Tenant, id, merged[id], auth) {
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := s.store.MergeActivityDefinition(ctx, cred.Tenant, id, merged[id], auth); err != nil {
				s.merged.forget(cred.Tenant, id, merged[id], auth)
				s.log.Error().Err(err).Str("request_id", requestIDOf(c)).Msg("cannot merge an activity definition")
			}
		})
	}
	wg.Wait()
}

// maxConcurrentMerges bounds the definition merges one request has in
// flight at once.
const maxConcurrentMerges = 32

// mergedDefinitions remembers the definitions merged recently, per
// activity, so that a definition arriving again, as it does with every
// statement an app sends about an activity, costs no store call. A
// definition merged once is not merged again while remembered, so the
// canonical definition does not flip back and forth between two that
// alternate.
type mergedDefinitions struct {
	mu   sync.Mutex
	seen map[string]struct{} // tenant, activity id and hash of definition and authority
}

// maxMergedDefinitions bounds the memory of mergedDefinitions.
const maxMergedDefinitions = 100_000

func mergedKey(tenant, id string, def []byte, auth bool) string {
	h := sha256.New()
	h.Write(def)
	if auth {
		h.Write([]byte{1})
	}
	return tenant + "\x00" + id + "\x00" + string(h.Sum(nil))
}

// seenBefore reports whether def was merged for the activity id of tenant
// already, and remembers it as merged.
func (m *mergedDefinitions) seenBefore(tenant, id string, def []byte, auth bool) bool {
	key := mergedKey(tenant, id, def, auth)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) >= maxMergedDefinitions {
		m.seen = map[string]struct{}{}
	}
	if _, ok := m.seen[key]; ok {
		return true
	}
	m.seen[key] = struct{}{}
	return false
}

// has reports whether def was merged for the activity id of tenant
// already.
func (m *mergedDefinitions) has(tenant, id string, def []byte, auth bool) bool {
	key := mergedKey(tenant, id, def, auth)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.seen[key]
	return ok
}

// forget drops a definition whose merge failed.
func (m *mergedDefinitions) forget(tenant, id string, def []byte, auth bool) {
	m.mu.Lock()
	delete(m.seen, mergedKey(tenant, id, def, auth))
	m.mu.Unlock()
}

// definitions holds the canonical activity definitions a request has read
// (nil for those the LRS lacks), up to maxDefinitionBytes of them: past
// that, each is read again when needed.
type definitions struct {
	m    map[string]json.RawMessage
	size int
}

// maxDefinitionBytes bounds the definitions one request keeps.
const maxDefinitionBytes = 1 << 20

func (d *definitions) get(id string) (json.RawMessage, bool) {
	def, ok := d.m[id]
	return def, ok
}

func (d *definitions) put(id string, def json.RawMessage) {
	n := len(id) + len(def)
	if d.size+n > maxDefinitionBytes {
		return
	}
	if d.m == nil {
		d.m = map[string]json.RawMessage{}
	}
	d.m[id] = def
	d.size += n
}

// canonicalDefinitions returns the statement stmt with the definition of
// each activity replaced by the LRS's canonical one, where it has one: the
// "canonical" format (Communication 2.1.3.s1 table, format). cache holds
// the definitions read so far in the request.
func (s *Server) canonicalDefinitions(ctx context.Context, tenant string, stmt []byte, cache *definitions) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(stmt))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, statements.Internal(err, "stored statement is not JSON")
	}
	var ferr error
	replace := func(a map[string]any) {
		id, _ := a["id"].(string)
		if id == "" || ferr != nil {
			return
		}
		def, ok := cache.get(id)
		if !ok {
			d, err := s.store.ActivityDefinition(ctx, tenant, id)
			if err != nil && statements.ErrorCode(err) != statements.ENotFound {
				ferr = err
				return
			}
			def = d
			cache.put(id, def)
		}
		if def == nil {
			return
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(def))
		d.UseNumber()
		if d.Decode(&v) == nil {
			a["definition"] = v
		}
	}
	var walk func(st map[string]any, depth int)
	walk = func(st map[string]any, depth int) {
		if o, ok := st["object"].(map[string]any); ok {
			switch o["objectType"] {
			case nil, "Activity":
				replace(o)
			case "SubStatement":
				if depth == 0 {
					walk(o, depth+1)
				}
			}
		}
		ctxm, _ := st["context"].(map[string]any)
		ca, _ := ctxm["contextActivities"].(map[string]any)
		for _, l := range ca {
			switch x := l.(type) {
			case []any:
				for _, a := range x {
					if am, ok := a.(map[string]any); ok {
						replace(am)
					}
				}
			case map[string]any:
				replace(x)
			}
		}
	}
	walk(m, 0)
	if ferr != nil {
		return nil, ferr
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, statements.Internal(err, "cannot encode the statement")
	}
	return out, nil
}
