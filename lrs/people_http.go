package lrs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/digione/lrs/lrs/people"
	"github.com/digione/lrs/statements"
)

// PeopleAPI is what the people API needs beyond the Server's store and
// Config.People's sign-in: the roster rule and the identity rule.
type PeopleAPI struct {
	// Rule decides what a person reads. Required.
	Rule *people.Rule
	// Agents finds the statements of a roster user. Required.
	Agents people.Agents
	// Viewer returns the signed-in person of a request, or false when the
	// request has none (the sign-in middleware answered it already).
	Viewer func(c *gin.Context) (people.Viewer, bool)
	// LineItems returns the activities with a line item in a class, for
	// the overview's "completed"; nil: none.
	LineItems func(ctx context.Context, tenant, class string) ([]string, error)
	// StalledAfter is how long without a statement makes a student
	// stalled; default people.DefaultStalledAfter.
	StalledAfter func(ctx context.Context, tenant string) time.Duration
	// Heartbeat is how often the class stream sends a comment to keep
	// proxies from closing it, and checks the rule again; default 15 s.
	Heartbeat time.Duration
}

// peopleAPI serves /api/: what signed-in people read.
type peopleAPI struct {
	PeopleAPI
	reader *people.Reader
	hub    *people.Hub
}

func newPeopleAPI(cfg PeopleAPI, store statements.Store) *peopleAPI {
	// A sandbox's line items are its seed's: its gradebook is the
	// sandbox gradebook, not a OneRoster provider's tables.
	items := cfg.LineItems
	cfg.LineItems = func(ctx context.Context, tenant, class string) ([]string, error) {
		if vendor, ok := strings.CutPrefix(tenant, SandboxPrefix); ok {
			var acts []string
			for _, li := range SandboxSeed(vendor).LineItems {
				if li.Class == class {
					acts = append(acts, li.Activity)
				}
			}
			return acts, nil
		}
		if items == nil {
			return nil, nil
		}
		return items(ctx, tenant, class)
	}
	p := &peopleAPI{PeopleAPI: cfg, reader: &people.Reader{Store: store, Agents: cfg.Agents}}
	if l, ok := store.(statements.Log); ok {
		p.hub = &people.Hub{Log: l}
	}
	return p
}

// peopleRoutes registers the people API on g, whose middleware has
// signed the person in.
func (s *Server) peopleRoutes(g gin.IRouter) {
	if s.readers == nil {
		return
	}
	reads, streams := s.personInFlight(maxPersonReads), s.personInFlight(maxPersonStreams)
	g.GET("/classes", reads, s.handleGetClasses)
	g.GET("/classes/:class/overview", reads, s.handleGetOverview)
	g.GET("/classes/:class/students/:student/statements", reads, s.handleGetStudentStatements)
	g.GET("/classes/:class/stream", streams, s.handleGetClassStream)
	g.GET("/me/statements", reads, s.handleGetMyStatements)
	g.GET("/me/export", reads, s.handleGetMyExport)
}

// A person has at most maxPersonReads requests of the people API and
// maxPersonStreams class streams under way in one process; more are a
// 429. An overview or an export is work for the store, and no one person
// may take all of it.
const (
	maxPersonReads   = 4
	maxPersonStreams = 4
)

// personInFlight returns a middleware that lets at most max requests of
// one person through at once.
func (s *Server) personInFlight(max int) gin.HandlerFunc {
	var mu sync.Mutex
	busy := map[string]int{}
	return func(c *gin.Context) {
		v, ok := s.readers.Viewer(c)
		if !ok {
			c.Next()
			return
		}
		who := v.Tenant + "\x00" + v.Person
		mu.Lock()
		if busy[who] >= max {
			mu.Unlock()
			s.tooMany(c, time.Second, fmt.Sprintf("%d requests of yours are under way; wait for one to end", max))
			return
		}
		busy[who]++
		mu.Unlock()
		defer func() {
			mu.Lock()
			if busy[who]--; busy[who] == 0 {
				delete(busy, who)
			}
			mu.Unlock()
		}()
		c.Next()
	}
}

// scope works out what the request's person may read; false when the
// request has already been answered.
func (s *Server) scope(c *gin.Context) (*people.Scope, bool) {
	if _, ok := s.readers.Viewer(c); !ok {
		return nil, false
	}
	sc, err := s.scopeOf(c)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return sc, true
}

// scopeOf works out what the request's person may read by the roster
// rule; EUnauthorized when the request has no person.
func (s *Server) scopeOf(c *gin.Context) (*people.Scope, error) {
	v, ok := s.readers.Viewer(c)
	if !ok {
		return nil, statements.Errorf(statements.EUnauthorized, "not signed in")
	}
	if s.admin != nil {
		// A session outlives a change of its tenant: a disabled tenant's
		// people read nothing from the moment it is disabled.
		t, err := s.admin.Tenant(c.Request.Context(), v.Tenant)
		if err != nil && statements.ErrorCode(err) != statements.ENotFound {
			return nil, err
		}
		if t == nil || t.Disabled {
			return nil, statements.Errorf(statements.EForbidden, "tenant %q is disabled or gone", v.Tenant)
		}
	}
	return s.readers.Rule.Scope(c.Request.Context(), v)
}

// auditRead records that the request's person read something: who, what
// (a class or a learner), when; never what the statements hold.
func (s *Server) auditRead(c *gin.Context, sc *people.Scope, what, target string) {
	if s.admin == nil {
		return
	}
	e := statements.AuditEntry{Time: s.now().UTC().Truncate(time.Millisecond), Actor: "person:" + sc.Viewer.Person,
		Action: "people." + what, Tenant: sc.Viewer.Tenant, Target: target, Detail: "role=" + string(sc.Viewer.Role)}
	if err := s.admin.AppendAudit(c.Request.Context(), e); err != nil {
		s.log.Error().Err(err).Str("action", e.Action).Msg("audit of a read")
	}
}

// classJSON is a class as the people API shows it.
type classJSON struct {
	SourcedID string `json:"sourcedId"`
	Title     string `json:"title"`
	ClassCode string `json:"classCode,omitempty"`
	School    string `json:"school,omitempty"`
}

func classOf(c statements.RosterClass) classJSON {
	return classJSON{SourcedID: c.SourcedID, Title: c.Title, ClassCode: c.ClassCode, School: c.School}
}

// handleGetClasses serves GET /api/classes: the classes a teacher
// teaches, those of a principal's school.
func (s *Server) handleGetClasses(c *gin.Context) {
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	classes, err := sc.Classes(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]classJSON, 0, len(classes))
	for _, cl := range classes {
		out = append(out, classOf(cl))
	}
	c.JSON(http.StatusOK, gin.H{"classes": out})
}

// handleGetOverview serves GET /api/classes/{class}/overview?since=: one
// row per student of the class the person may read.
func (s *Server) handleGetOverview(c *gin.Context) {
	ctx := c.Request.Context()
	since, err := timeParam(c.Request.URL.Query(), "since")
	if err != nil {
		s.fail(c, err)
		return
	}
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	class, students, err := sc.Class(ctx, c.Param("class"))
	if err != nil {
		s.fail(c, err)
		return
	}
	o := people.Overview{Since: since, Now: s.now()}
	if s.readers.StalledAfter != nil {
		o.StalledAfter = s.readers.StalledAfter(ctx, sc.Viewer.Tenant)
	}
	if s.readers.LineItems != nil {
		if o.LineItems, err = s.readers.LineItems(ctx, sc.Viewer.Tenant, class.SourcedID); err != nil {
			s.fail(c, err)
			return
		}
	}
	rows, err := s.peopleReader().Overview(ctx, sc.Viewer.Tenant, students, o)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditRead(c, sc, "overview", "class:"+class.SourcedID)
	if rows == nil {
		rows = []people.Row{}
	}
	body := gin.H{"class": classOf(*class), "students": rows}
	if !since.IsZero() {
		body["since"] = since.UTC().Format(time.RFC3339Nano)
	}
	c.JSON(http.StatusOK, body)
}

// handleGetStudentStatements serves GET
// /api/classes/{class}/students/{student}/statements: the student's
// statements, newest first, paged by "more".
func (s *Server) handleGetStudentStatements(c *gin.Context) {
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	u, err := sc.Student(c.Request.Context(), c.Param("class"), c.Param("student"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeLearnerStatements(c, sc, u.SourcedID, "class:"+c.Param("class")+" learner:"+u.SourcedID)
}

// handleGetMyStatements serves GET /api/me/statements: the person's own
// statements, newest first, paged by "more".
func (s *Server) handleGetMyStatements(c *gin.Context) {
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	if sc.Self == nil {
		// A person the roster does not know reads nothing.
		c.JSON(http.StatusOK, gin.H{"statements": []json.RawMessage{}, "more": ""})
		return
	}
	if ok, err := sc.MayRead(c.Request.Context(), sc.Self.SourcedID); err != nil || !ok {
		if err == nil {
			err = statements.Errorf(statements.EForbidden, "only learners read their own statements here")
		}
		s.fail(c, err)
		return
	}
	s.writeLearnerStatements(c, sc, sc.Self.SourcedID, "self")
}

// learnerQuery parses the query parameters of a learner's statements.
func learnerQuery(c *gin.Context) (people.Query, error) {
	var q people.Query
	var err error
	if q.Since, err = timeParam(c.Request.URL.Query(), "since"); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(c.Request.URL.Query(), "until"); err != nil {
		return q, err
	}
	q.Verb, q.Activity = c.Query("verb"), c.Query("activity")
	for _, p := range []struct{ name, v string }{{"verb", q.Verb}, {"activity", q.Activity}} {
		if p.v == "" {
			continue
		}
		if u, err := url.Parse(p.v); err != nil || u.Scheme == "" {
			return q, statements.Errorf(statements.EInvalid, "%s: must be an absolute IRI, got %q", p.name, p.v)
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return q, statements.Errorf(statements.EInvalid, "limit: must be a non-negative integer, got %q", v)
		}
		q.Limit = n
	}
	if v := c.Query("more"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return q, statements.Errorf(statements.EInvalid, "more: not a token this LRS gave, got %q", v)
		}
		q.Before = n
	}
	return q, nil
}

// writeLearnerStatements answers a page of the statements of the roster
// user learner, which the rule has let the person read.
func (s *Server) writeLearnerStatements(c *gin.Context, sc *people.Scope, learner, target string) {
	q, err := learnerQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.peopleReader().Statements(c.Request.Context(), sc.Viewer.Tenant, learner, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditRead(c, sc, "statements", target)
	out := make([]json.RawMessage, len(p.Records))
	for i, r := range p.Records {
		out[i] = r.JSON()
	}
	more := ""
	if p.More {
		v := c.Request.URL.Query()
		v.Set("more", strconv.FormatInt(p.Next, 10))
		more = c.Request.URL.Path + "?" + v.Encode()
	}
	c.JSON(http.StatusOK, gin.H{"statements": out, "more": more})
}

// handleGetClassStream serves GET /api/classes/{class}/stream: the new
// statements of the class's students the person may read, as Server-Sent
// Events ("statement" events with the statement as data) until the
// client leaves or the rule no longer lets the person read the class.
func (s *Server) handleGetClassStream(c *gin.Context) {
	ctx := c.Request.Context()
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	classID := c.Param("class")
	_, students, err := sc.Class(ctx, classID)
	if err != nil {
		s.fail(c, err)
		return
	}
	agents, err := s.agentsOf(ctx, sc.Viewer.Tenant, students)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditRead(c, sc, "stream", "class:"+classID)
	if s.readers.hub == nil {
		s.fail(c, statements.Errorf(statements.EUnavailable, "this store has no log to stream from"))
		return
	}
	sub := s.readers.hub.Subscribe(ctx, sc.Viewer.Tenant, agents)
	defer sub.Close()

	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": stream of class statements\n\n")
	w.Flush()
	beat := s.readers.Heartbeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	t := time.NewTicker(beat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case rec, open := <-sub.C:
			if !open {
				// Fallen behind: the client reloads with a query.
				fmt.Fprint(w, "event: reset\ndata: {}\n\n")
				w.Flush()
				return
			}
			sub.Took(rec)
			fmt.Fprintf(w, "id: %d\nevent: statement\ndata: %s\n\n", rec.Position, rec.JSON())
			w.Flush()
		case <-t.C:
			// The roster may have changed: the rule is asked again.
			if sc, err = s.readers.Rule.Scope(ctx, sc.Viewer); err != nil {
				return
			}
			if _, now, err := sc.Class(ctx, classID); err != nil || !sameStudents(now, students) {
				fmt.Fprint(w, "event: reset\ndata: {}\n\n")
				w.Flush()
				return
			}
			fmt.Fprint(w, ": heartbeat\n\n")
			w.Flush()
		}
	}
}

func sameStudents(a, b []statements.RosterUser) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].SourcedID != b[i].SourcedID {
			return false
		}
	}
	return true
}

// agentsOf returns the agent keys of the statements of users.
func (s *Server) agentsOf(ctx context.Context, tenant string, users []statements.RosterUser) ([]string, error) {
	var all []string
	for _, u := range users {
		keys, err := s.readers.Agents.Agents(ctx, tenant, u.SourcedID)
		if err != nil {
			return nil, err
		}
		all = append(all, keys...)
	}
	return all, nil
}

func (s *Server) peopleReader() *people.Reader { return s.readers.reader }

// handleGetMyExport serves GET /api/me/export: everything the LRS keeps of
// the learner, as one JSON download (the right of access): their
// statements, newest first, and their state and agent profile documents,
// written a page at a time, so that an export holds one page in memory
// however much the learner has done. A failure after the first page ends
// the body short, which no JSON reader takes for a whole export.
func (s *Server) handleGetMyExport(c *gin.Context) {
	ctx := c.Request.Context()
	sc, ok := s.scope(c)
	if !ok {
		return
	}
	if sc.Self == nil || sc.Viewer.Role != people.Learner {
		s.fail(c, statements.Errorf(statements.EForbidden, "only a learner the roster knows exports their data here"))
		return
	}
	q := people.Query{}
	p, err := s.peopleReader().Statements(ctx, sc.Viewer.Tenant, sc.Self.SourcedID, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.auditRead(c, sc, "export", "self")
	w := c.Writer
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="digione-lrs-export.json"`)
	w.WriteHeader(http.StatusOK)
	head, _ := json.Marshal(map[string]any{"person": sc.Viewer.Person, "sourcedId": sc.Self.SourcedID, "tenant": sc.Viewer.Tenant,
		"exported": s.now().UTC().Format(time.RFC3339Nano)})
	w.Write(head[:len(head)-1])
	w.WriteString(`,"statements":[`)
	n := 0
	for {
		for _, r := range p.Records {
			if n > 0 {
				w.WriteString(",")
			}
			w.Write(r.JSON())
			n++
		}
		if !p.More {
			break
		}
		q.Before = p.Next
		if p, err = s.peopleReader().Statements(ctx, sc.Viewer.Tenant, sc.Self.SourcedID, q); err != nil {
			s.log.Error().Err(err).Str("tenant", sc.Viewer.Tenant).Msg("export ended short")
			return
		}
	}
	w.WriteString(`],"documents":[`)
	if err := s.exportDocuments(ctx, w, sc.Viewer.Tenant, sc.Self.SourcedID); err != nil {
		s.log.Error().Err(err).Str("tenant", sc.Viewer.Tenant).Msg("export ended short")
		return
	}
	w.WriteString("]}")
}

// exportPage is how many documents an export holds in memory at once.
const exportPage = 8

// documentJSON is a document as an export shows it: JSON content as JSON,
// any other as base64.
type documentJSON struct {
	Kind         string          `json:"kind"`
	ActivityID   string          `json:"activityId,omitempty"`
	Registration string          `json:"registration,omitempty"`
	ID           string          `json:"id"`
	ContentType  string          `json:"contentType"`
	Updated      time.Time       `json:"updated"`
	JSON         json.RawMessage `json:"json,omitempty"`
	Base64       []byte          `json:"base64,omitempty"`
}

// exportDocuments writes, comma-separated, the documents of the roster
// user learner's agents.
func (s *Server) exportDocuments(ctx context.Context, w io.Writer, tenant, learner string) error {
	keys, err := s.readers.Agents.Agents(ctx, tenant, learner)
	if err != nil {
		return err
	}
	n := 0
	for _, agent := range keys {
		var after statements.DocumentKey
		for {
			docs, err := s.store.AgentDocuments(ctx, tenant, agent, after, exportPage)
			if err != nil {
				return err
			}
			for _, d := range docs {
				out := documentJSON{Kind: d.Key.Kind, ActivityID: d.Key.ActivityID, Registration: d.Key.Registration, ID: d.Key.ID,
					ContentType: d.ContentType, Updated: d.Updated.UTC()}
				if json.Valid(d.Content) && strings.HasPrefix(d.ContentType, "application/json") {
					out.JSON = d.Content
				} else {
					out.Base64 = d.Content
				}
				b, err := json.Marshal(out)
				if err != nil {
					return err
				}
				if n > 0 {
					io.WriteString(w, ",")
				}
				w.Write(b)
				n++
			}
			if len(docs) < exportPage {
				break
			}
			after = docs[len(docs)-1].Key
		}
	}
	return nil
}
