package lrs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/statements"
	"github.com/digione/lrs/validation"
)

// documentResource describes one of the document resources: which
// parameters address its documents and which scope guards it.
type documentResource struct {
	kind         string
	idParam      string // "stateId" or "profileId"
	activity     bool   // addressed by activityId
	agent        bool   // addressed by agent
	registration bool   // takes an optional registration
	scope        string
}

var (
	stateResource = documentResource{kind: statements.KindState, idParam: "stateId",
		activity: true, agent: true, registration: true, scope: scopeState}
	activityProfileResource = documentResource{kind: statements.KindActivityProfile, idParam: "profileId",
		activity: true, scope: scopeProfile}
	agentProfileResource = documentResource{kind: statements.KindAgentProfile, idParam: "profileId",
		agent: true, scope: scopeProfile}
)

// documentRoutes registers the state, activity profile and agent profile
// resources.
func (s *Server) documentRoutes(api *gin.RouterGroup) {
	for path, res := range map[string]documentResource{
		"/activities/state":   stateResource,
		"/activities/profile": activityProfileResource,
		"/agents/profile":     agentProfileResource,
	} {
		read, write := s.requireAny(res.scope, scopeAllRead), s.require(res.scope)
		g := api.Group(path)
		g.GET("", read, s.handleGetDocuments(res))
		g.HEAD("", read, s.handleGetDocuments(res))
		g.PUT("", write, s.handlePutDocument(res))
		g.POST("", write, s.handlePostDocument(res))
		g.DELETE("", write, s.handleDeleteDocuments(res))
	}
}

// requireAny lets the request through if the credential holds a scope
// that grants one of wants.
func (s *Server) requireAny(wants ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		cred := credentialOf(c)
		for _, w := range wants {
			if cred != nil && grants(cred.Scopes, w) {
				c.Next()
				return
			}
		}
		s.fail(c, statements.Errorf(statements.EForbidden, "credential lacks scope %q", wants[0]))
	}
}

// documentRequest is a parsed request of a document resource.
type documentRequest struct {
	key   statements.DocumentKey
	hasID bool // the id parameter was given: one document
	since time.Time
}

// parse reads the query of a request to res. single requires the id
// parameter; ids allows since (a GET).
func (res documentResource) parse(c *gin.Context, single, ids bool) (*documentRequest, error) {
	q := c.Request.URL.Query()
	allowed := []string{res.idParam}
	if res.activity {
		allowed = append(allowed, "activityId")
	}
	if res.agent {
		allowed = append(allowed, "agent")
	}
	if res.registration {
		allowed = append(allowed, "registration")
	}
	if ids {
		allowed = append(allowed, "since")
	}
	if err := allowParams(q, allowed...); err != nil {
		return nil, err
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, statements.Errorf(statements.EInvalid, "%s: given more than once", k)
		}
	}
	r := &documentRequest{key: statements.DocumentKey{Kind: res.kind}}
	if res.activity {
		if !q.Has("activityId") {
			return nil, statements.Errorf(statements.EInvalid, "activityId: required parameter")
		}
		if r.key.ActivityID = q.Get("activityId"); !isIRI(r.key.ActivityID) {
			return nil, statements.Errorf(statements.EInvalid, "activityId: must be an IRI")
		}
	}
	if res.agent {
		if !q.Has("agent") {
			return nil, statements.Errorf(statements.EInvalid, "agent: required parameter")
		}
		key, err := agentParam(versionOf(c), []byte(q.Get("agent")))
		if err != nil {
			return nil, err
		}
		r.key.Agent = key
	}
	if res.registration && q.Has("registration") {
		if r.key.Registration = strings.ToLower(q.Get("registration")); !isUUID(r.key.Registration) {
			return nil, statements.Errorf(statements.EInvalid, "registration: must be a UUID")
		}
	}
	if r.hasID = q.Has(res.idParam); r.hasID {
		if r.key.ID = q.Get(res.idParam); r.key.ID == "" {
			return nil, statements.Errorf(statements.EInvalid, "%s: must not be empty", res.idParam)
		}
		if q.Has("since") {
			return nil, statements.Errorf(statements.EInvalid, "since: not allowed with %s (since filters the list of ids)", res.idParam)
		}
	} else if single {
		return nil, statements.Errorf(statements.EInvalid, "%s: required parameter", res.idParam)
	}
	var err error
	if r.since, err = timeParam(q, "since"); err != nil {
		return nil, err
	}
	return r, nil
}

// agentParam validates the agent parameter of a document resource, which
// must be an Agent (not a Group), and returns its key.
func agentParam(version string, a []byte) (string, error) {
	if err := validation.Agent(version, a); err != nil {
		return "", paramError("agent", err)
	}
	var typ struct {
		ObjectType string `json:"objectType"`
	}
	if json.Unmarshal(a, &typ) == nil && typ.ObjectType == "Group" {
		return "", statements.Errorf(statements.EInvalid, "agent: must be an Agent, not a Group (use the Group's identifier in an Agent object)")
	}
	return statements.AgentKey(a)
}

// handleGetDocuments serves GET and HEAD of a document resource: one
// document with its id parameter, else the ids of the documents (since).
func (s *Server) handleGetDocuments(res documentResource) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		r, err := res.parse(c, false, true)
		if err != nil {
			s.fail(c, err)
			return
		}
		tenant := credentialOf(c).Tenant
		if r.hasID {
			d, err := s.store.Document(ctx, tenant, r.key)
			if err != nil {
				s.fail(c, err)
				return
			}
			setDocumentHeaders(c, d.ETag, d.Updated)
			if inm := c.GetHeader("If-None-Match"); inm != "" && matchesAny(inm, d.ETag, true) {
				c.Status(http.StatusNotModified)
				return
			}
			ct := d.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			if !isJSONType(ct) {
				// A document is the client's bytes: never a page that runs
				// on the LRS's origin.
				c.Header("Content-Security-Policy", "sandbox")
			}
			c.Data(http.StatusOK, ct, d.Content)
			return
		}
		ids, err := s.store.DocumentIDs(ctx, tenant, r.key, r.since)
		if err != nil {
			s.fail(c, err)
			return
		}
		body, _ := json.Marshal(ids)
		c.Header("ETag", statements.DocumentETag(body))
		if last, ok := s.lastUpdated(c, tenant, r.key, ids); ok {
			c.Header("Last-Modified", last.UTC().Format(http.TimeFormat))
		}
		c.Data(http.StatusOK, "application/json", body)
	}
}

// lastUpdated returns when the newest of the documents ids (of the set
// key) was updated, when it can tell cheaply: the store lists ids only, so
// it reads each document, up to a few, at its key.
func (s *Server) lastUpdated(c *gin.Context, tenant string, key statements.DocumentKey, ids []string) (time.Time, bool) {
	const most = 50
	if len(ids) > most || key.Kind == statements.KindState && key.Registration == "" && len(ids) > 0 {
		// Without a registration the ids span registrations: their
		// documents cannot all be addressed.
		return time.Time{}, false
	}
	var last time.Time
	for _, id := range ids {
		k := key
		k.ID = id
		d, err := s.store.Document(c.Request.Context(), tenant, k)
		if err != nil {
			return time.Time{}, false
		}
		if d.Updated.After(last) {
			last = d.Updated
		}
	}
	return last, !last.IsZero()
}

func setDocumentHeaders(c *gin.Context, etag string, updated time.Time) {
	c.Header("ETag", etag)
	c.Header("Last-Modified", updated.UTC().Format(http.TimeFormat))
}

// preconditions are the If-Match and If-None-Match headers of a write.
type preconditions struct{ ifMatch, ifNoneMatch string }

func preconditionsOf(c *gin.Context) preconditions {
	return preconditions{strings.TrimSpace(c.GetHeader("If-Match")), strings.TrimSpace(c.GetHeader("If-None-Match"))}
}

func (p preconditions) none() bool { return p.ifMatch == "" && p.ifNoneMatch == "" }

// check returns EPreconditionFailed unless the headers hold for d (nil:
// no document), as RFC 7232 says.
func (p preconditions) check(d *statements.Document) error {
	if p.ifMatch != "" {
		if d == nil {
			return statements.Errorf(statements.EPreconditionFailed, "If-Match: the document does not exist")
		}
		if !matchesAny(p.ifMatch, d.ETag, false) {
			return statements.Errorf(statements.EPreconditionFailed,
				"If-Match: the document has changed (its ETag is now %s); GET it again and retry", d.ETag)
		}
	}
	if p.ifNoneMatch != "" && d != nil && matchesAny(p.ifNoneMatch, d.ETag, true) {
		return statements.Errorf(statements.EPreconditionFailed, "If-None-Match: the document exists (ETag %s)", d.ETag)
	}
	return nil
}

// matchesAny reports whether the header value (an entity-tag list or
// "*") matches etag; weak compares W/ tags as equal to strong ones. A tag
// sent without quotes is taken as if quoted.
func matchesAny(header, etag string, weak bool) bool {
	if header == "*" {
		return true
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if after, ok := strings.CutPrefix(t, "W/"); ok {
			if !weak {
				continue
			}
			t = after
		}
		if !strings.HasPrefix(t, `"`) {
			t = `"` + t + `"`
		}
		if t == etag {
			return true
		}
	}
	return false
}

// casRetries bounds how often a write re-reads a document that another
// LRS process changed
// between its read and its compare-and-swap.
const casRetries = 32

// docLocks serializes, within this process, the writes of one document:
// concurrent merges of the same document then never race each other, and
// only writers in other processes can make a compare-and-swap retry.
// Documents share a fixed number of locks by a hash of tenant and key.
type docLocks [256]chan struct{}

func newDocLocks() *docLocks {
	var l docLocks
	for i := range l {
		l[i] = make(chan struct{}, 1)
	}
	return &l
}

// lock takes the lock of tenant's document key and returns its release.
func (l *docLocks) lock(ctx context.Context, tenant string, key statements.DocumentKey) (func(), error) {
	h := fnv.New32a()
	for _, p := range []string{tenant, key.Kind, key.ActivityID, key.Agent, key.Registration, key.ID} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	ch := l[h.Sum32()%uint32(len(l))]
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, statements.Errorf(statements.EUnavailable, "the request ended while waiting for other writes of the document")
	}
}

// casBackoff waits before retry i of a compare-and-swap that lost to
// another LRS process: a few milliseconds, growing, with jitter.
func casBackoff(ctx context.Context, i int) {
	d := time.Duration(1+rand.IntN(2<<min(i, 6))) * time.Millisecond
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// errMustMatch is the 409 of a PUT without preconditions over a document
// that exists (Communication 3.1.s4.b13, b14).
var errMustMatch = statements.Errorf(statements.EConflict,
	"the document already exists: check its current state (GET it) and send If-Match with its ETag to replace it, or If-None-Match: * to create a new document only")

// errNeedsPrecondition is the 400 of an xAPI 1.0.3 PUT of an agent or
// activity profile without preconditions over a document that does not
// exist (Communication 2.6.s3, 2.7.s3: a PUT without an ETag header is
// refused with an error code and message).
var errNeedsPrecondition = statements.Errorf(statements.EInvalid,
	"If-Match or If-None-Match: a PUT of a profile document in xAPI 1.0.3 must send one: If-None-Match: * to create the document, or If-Match with its ETag to replace it")

var errRaced = statements.Errorf(statements.EConflict, "the document kept changing while this request was writing it; retry")

// handlePutDocument serves PUT of a document resource: stores the body as
// the document.
func (s *Server) handlePutDocument(res documentResource) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		r, err := res.parse(c, true, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		body, err := s.readDocumentBody(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		tenant := credentialOf(c).Tenant
		doc := &statements.Document{Key: r.key, Content: body, ContentType: contentTypeOf(c),
			ETag: statements.DocumentETag(body), Updated: s.now()}
		p := preconditionsOf(c)
		// The state resource of xAPI 1.0.3 lets a PUT without preconditions
		// replace a document (Communication 3.1.s3); otherwise it is a 409.
		if p.none() && res.kind == statements.KindState && versionOf(c) == Version103 {
			if err := s.store.PutDocument(ctx, tenant, doc, statements.Condition{}); err != nil {
				s.fail(c, err)
				return
			}
			setDocumentHeaders(c, doc.ETag, doc.Updated)
			c.Status(http.StatusNoContent)
			return
		}
		err = s.casDocument(ctx, tenant, r.key, func(old *statements.Document) (*statements.Document, error) {
			switch {
			case p.none() && old != nil:
				return nil, errMustMatch
			case p.none() && versionOf(c) == Version103:
				return nil, errNeedsPrecondition
			}
			return doc, p.check(old)
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		setDocumentHeaders(c, doc.ETag, doc.Updated)
		c.Status(http.StatusNoContent)
	}
}

// handlePostDocument serves POST of a document resource: merges the
// posted JSON object into the stored one (top-level properties), or
// stores it when there is none.
func (s *Server) handlePostDocument(res documentResource) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		r, err := res.parse(c, true, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		body, err := s.readDocumentBody(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !isJSONType(contentTypeOf(c)) {
			s.fail(c, statements.Errorf(statements.EInvalid,
				"Content-Type: a POST merges JSON objects and must be application/json (use PUT to store other content)"))
			return
		}
		posted, err := jsonObject(body)
		if err != nil {
			s.fail(c, statements.Errorf(statements.EInvalid, "body: a POST merges JSON objects: %v", err))
			return
		}
		tenant := credentialOf(c).Tenant
		p := preconditionsOf(c)
		var doc *statements.Document
		err = s.casDocument(ctx, tenant, r.key, func(old *statements.Document) (*statements.Document, error) {
			if err := p.check(old); err != nil {
				return nil, err
			}
			content := body
			if old != nil {
				content, err = mergeJSON(old, posted)
				if err != nil {
					return nil, err
				}
			}
			doc = &statements.Document{Key: r.key, Content: content, ContentType: "application/json",
				ETag: statements.DocumentETag(content), Updated: s.now()}
			return doc, nil
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		setDocumentHeaders(c, doc.ETag, doc.Updated)
		c.Status(http.StatusNoContent)
	}
}

// casDocument reads the document at key, asks next for what to store
// instead (an error stops), and stores it with a compare-and-swap on what
// it read, again from the read when another write came in between.
func (s *Server) casDocument(ctx context.Context, tenant string, key statements.DocumentKey,
	next func(old *statements.Document) (*statements.Document, error)) error {
	return s.withDocument(ctx, tenant, key, func(old *statements.Document) error {
		doc, err := next(old)
		if err != nil {
			return err
		}
		cond := statements.Condition{IfNoneMatch: "*"}
		if old != nil {
			cond = statements.Condition{IfMatch: old.ETag}
		}
		return lostRace(s.store.PutDocument(ctx, tenant, doc, cond))
	})
}

// errLostRace is a compare-and-swap of a document that another write came
// before; withDocument tries again.
var errLostRace = errors.New("the document changed since it was read")

// lostRace turns the EPreconditionFailed of a store's compare-and-swap into
// errLostRace.
func lostRace(err error) error {
	if statements.ErrorCode(err) == statements.EPreconditionFailed {
		return errLostRace
	}
	return err
}

// withDocument runs try on the document at key (nil: there is none) with
// the writes of that document in this process held back, and again, after
// a short wait, while try returns errLostRace because a write of another
// process came in between.
func (s *Server) withDocument(ctx context.Context, tenant string, key statements.DocumentKey, try func(old *statements.Document) error) error {
	unlock, err := s.docLocks.lock(ctx, tenant, key)
	if err != nil {
		return err
	}
	defer unlock()
	for i := range casRetries {
		if i > 0 {
			casBackoff(ctx, i)
		}
		old, err := s.store.Document(ctx, tenant, key)
		if statements.ErrorCode(err) == statements.ENotFound {
			old, err = nil, nil
		}
		if err != nil {
			return err
		}
		if err := try(old); err != errLostRace {
			return err
		}
	}
	return errRaced
}

// mergeJSON merges posted into the stored document old: both must be JSON
// objects (Communication 2.2.s7, 2.2.s8.b1).
func mergeJSON(old *statements.Document, posted map[string]json.RawMessage) ([]byte, error) {
	if !isJSONType(old.ContentType) {
		return nil, statements.Errorf(statements.EInvalid,
			"the stored document is not application/json (it is %q), so a POST cannot merge into it; use PUT", old.ContentType)
	}
	stored, err := jsonObject(old.Content)
	if err != nil {
		return nil, statements.Errorf(statements.EInvalid, "the stored document is not a JSON object, so a POST cannot merge into it (%v); use PUT", err)
	}
	for k, v := range posted {
		stored[k] = v
	}
	return json.Marshal(stored)
}

// jsonObject parses b, which must be one JSON object.
func jsonObject(b []byte) (map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errNotObject
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errNotObject
	}
	return m, nil
}

var errNotObject = statements.Errorf(statements.EInvalid, "not a JSON object")

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// contentTypeOf returns the Content-Type a document is stored with.
func contentTypeOf(c *gin.Context) string {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// handleDeleteDocuments serves DELETE of a document resource: one
// document with its id parameter, else (state only) every document of the
// activity, agent and registration.
func (s *Server) handleDeleteDocuments(res documentResource) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		r, err := res.parse(c, res.kind != statements.KindState, false)
		if err != nil {
			s.fail(c, err)
			return
		}
		tenant := credentialOf(c).Tenant
		if !r.hasID {
			if err := s.store.DeleteDocuments(ctx, tenant, r.key); err != nil {
				s.fail(c, err)
				return
			}
			c.Status(http.StatusNoContent)
			return
		}
		p := preconditionsOf(c)
		if p.none() {
			err = s.store.DeleteDocument(ctx, tenant, r.key, statements.Condition{})
		} else {
			err = s.deleteChecked(c, tenant, r.key, p)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// deleteChecked deletes the document at key if the preconditions hold,
// with a compare-and-swap on the document they were checked against.
func (s *Server) deleteChecked(c *gin.Context, tenant string, key statements.DocumentKey, p preconditions) error {
	ctx := c.Request.Context()
	return s.withDocument(ctx, tenant, key, func(old *statements.Document) error {
		if err := p.check(old); err != nil {
			return err
		}
		if old == nil {
			return nil
		}
		return lostRace(s.store.DeleteDocument(ctx, tenant, key, statements.Condition{IfMatch: old.ETag}))
	})
}

// readDocumentBody reads the body of a PUT or POST: any bytes.
func (s *Server) readDocumentBody(c *gin.Context) ([]byte, error) {
	if c.Request.ContentLength > s.maxBody {
		return nil, statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", s.maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, statements.Errorf(statements.ETooLarge, "body: larger than %d bytes", s.maxBody)
		}
		return nil, statements.Errorf(statements.EInvalid, "body: %v", err)
	}
	return body, nil
}
