package conformance

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Kinds of Written data.
const (
	WrittenStatement       = "statement"
	WrittenState           = "state"
	WrittenActivityProfile = "activity profile"
	WrittenAgentProfile    = "agent profile"
)

// Written is a piece of data a run stored in the LRS, so that whoever ran
// it can find it (and remove it, where the LRS allows).
type Written struct {
	// Kind is WrittenStatement or the kind of document.
	Kind string
	// ID is the statement id, or the document's stateId or profileId.
	ID string
	// ActivityID, Agent (JSON) and Registration address a document.
	ActivityID, Agent, Registration string
	// Version is the xAPI version of the client that wrote it.
	Version string
	// Check is the requirement ID of the check that wrote it, or
	// "preflight".
	Check string
	// Deleted reports that a later request of the run deleted the document.
	Deleted bool
}

// writtenLog collects what the clients of one run write, in order.
type writtenLog struct {
	mu    sync.Mutex
	items []Written
	index map[string]int // key → position in items
}

func (w Written) key() string {
	return strings.Join([]string{w.Kind, w.ID, w.ActivityID, w.Agent, w.Registration}, "\x00")
}

func (l *writtenLog) add(w Written) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.index == nil {
		l.index = map[string]int{}
	}
	if i, ok := l.index[w.key()]; ok {
		l.items[i].Deleted = false // written again
		return
	}
	l.index[w.key()] = len(l.items)
	l.items = append(l.items, w)
}

// deleted marks the documents of kind in the context q (one, when q has
// its id) as deleted.
func (l *writtenLog) deleted(kind, idParam string, q url.Values) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.items {
		if w.Kind != kind || (q.Has(idParam) && q.Get(idParam) != w.ID) ||
			q.Get("activityId") != w.ActivityID || q.Get("agent") != w.Agent ||
			(q.Has("registration") && q.Get("registration") != w.Registration) {
			continue
		}
		l.items[i].Deleted = true
	}
}

func (l *writtenLog) list() []Written {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Written, len(l.items))
	copy(out, l.items)
	return out
}

// docKinds maps the paths of the document resources to their kinds and
// id parameters.
var docKinds = map[string][2]string{
	"activities/state":   {WrittenState, "stateId"},
	"activities/profile": {WrittenActivityProfile, "profileId"},
	"agents/profile":     {WrittenAgentProfile, "profileId"},
}

// record notes the data a successful request stored or deleted.
func (c *Client) record(hr *http.Request, sent []byte, r *response) {
	if r.status < 200 || r.status > 299 || !strings.HasPrefix(hr.URL.Path, c.base.Path) {
		return
	}
	path := strings.TrimPrefix(hr.URL.Path, c.base.Path)
	method, q := hr.Method, hr.URL.Query()
	if method == http.MethodPost && q.Has("method") {
		// The alternate request syntax: the method and the parameters
		// are in the query and the form.
		method = q.Get("method")
		if ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			form, _ := url.ParseQuery(string(sent))
			for k, v := range form {
				q[k] = v
			}
		}
	}
	w := Written{Version: c.version, Check: c.check}
	switch {
	case path == "statements" && method == http.MethodPut:
		w.Kind, w.ID = WrittenStatement, q.Get("statementId")
		c.written.add(w)
	case path == "statements" && method == http.MethodPost:
		var got []string
		if json.Unmarshal(r.body, &got) == nil {
			for _, id := range got {
				w.Kind, w.ID = WrittenStatement, id
				c.written.add(w)
			}
		}
	case docKinds[path] != [2]string{}:
		kind, idParam := docKinds[path][0], docKinds[path][1]
		switch method {
		case http.MethodPut, http.MethodPost:
			w.Kind, w.ID = kind, q.Get(idParam)
			w.ActivityID, w.Agent, w.Registration = q.Get("activityId"), q.Get("agent"), q.Get("registration")
			c.written.add(w)
		case http.MethodDelete:
			c.written.deleted(kind, idParam, q)
		}
	}
}
