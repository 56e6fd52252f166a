package statements

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
)

// The functions of this file work on a statement that has been decoded
// once already, as validation does: a tree of map[string]any, []any,
// string, json.Number, bool and nil. They give the same results as their
// counterparts on bytes (Fingerprint, Assign) without parsing again, and
// never modify the tree.

// FingerprintDoc returns Fingerprint of a received statement given as its
// decoded tree.
func FingerprintDoc(doc map[string]any) string {
	m := normalizeStatement(doc)
	for _, k := range []string{"id", "authority", "stored", "version"} {
		delete(m, k)
	}
	buf := canonicalBuffers.Get().(*[]byte)
	*buf = appendCanonical((*buf)[:0], m)
	h := sha256.Sum256(*buf)
	canonicalBuffers.Put(buf)
	return hex.EncodeToString(h[:])
}

// canonicalBuffers holds buffers for the canonical form of statements.
var canonicalBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// AssignDoc is Assign for a received statement given both as its bytes
// raw and as its decoded tree doc. The Statement it returns has the parts
// the LRS reads to store and index a statement; the parts it only passes
// through (Result, Attachments, activity definitions, verb displays) are
// left empty.
func AssignDoc(raw []byte, doc map[string]any, a Assigned) ([]byte, *Statement, error) {
	out, err := assignBytes(raw, a)
	if err != nil {
		return nil, nil, err
	}
	s := &Statement{
		ID:        str(doc, "id"),
		Actor:     actorOf(doc["actor"]),
		Verb:      Verb{ID: str(asMap(doc["verb"]), "id")},
		Object:    objectOf(asMap(doc["object"]), true),
		Context:   contextOf(doc["context"]),
		Timestamp: str(doc, "timestamp"),
		Version:   str(doc, "version"),
	}
	if s.ID == "" {
		s.ID = a.ID
	}
	if s.Version == "" {
		s.Version = a.Version
	}
	if a.UTC && s.Timestamp != "" {
		s.Timestamp = utcTimestamp(s.Timestamp)
	}
	if len(a.Authority) > 0 {
		var auth Actor
		if err := json.Unmarshal(a.Authority, &auth); err != nil {
			return nil, nil, Errorf(EInvalid, "authority: %v", err)
		}
		s.Authority = &auth
	}
	return out, s, nil
}

// utcTimestamp returns an RFC 3339 timestamp in UTC; one already in UTC
// (or not a timestamp) is returned as it is.
func utcTimestamp(ts string) string {
	if len(ts) > 0 && ts[len(ts)-1] == 'Z' {
		return ts
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func actorOf(v any) Actor {
	m := asMap(v)
	a := Actor{
		ObjectType:  str(m, "objectType"),
		Name:        str(m, "name"),
		Mbox:        str(m, "mbox"),
		MboxSHA1Sum: str(m, "mbox_sha1sum"),
		OpenID:      str(m, "openid"),
		Account:     accountOf(m["account"]),
	}
	if members, ok := m["member"].([]any); ok {
		a.Member = make([]Actor, len(members))
		for i, x := range members {
			a.Member[i] = actorOf(x)
		}
	}
	return a
}

func actorPtr(v any) *Actor {
	if _, ok := v.(map[string]any); !ok {
		return nil
	}
	a := actorOf(v)
	return &a
}

func accountOf(v any) *Account {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return &Account{HomePage: str(m, "homePage"), Name: str(m, "name")}
}

// objectOf decodes a statement's object; sub allows a SubStatement.
func objectOf(m map[string]any, sub bool) Object {
	a := actorOf(m) // the parts of an Agent or Group object
	o := Object{
		ObjectType:  a.ObjectType,
		ID:          str(m, "id"),
		Name:        a.Name,
		Mbox:        a.Mbox,
		MboxSHA1Sum: a.MboxSHA1Sum,
		OpenID:      a.OpenID,
		Account:     a.Account,
		Member:      a.Member,
	}
	if sub && o.ObjectType == "SubStatement" {
		o.Actor = actorPtr(m["actor"])
		if v, ok := m["verb"].(map[string]any); ok {
			o.Verb = &Verb{ID: str(v, "id")}
		}
		if obj, ok := m["object"].(map[string]any); ok {
			inner := objectOf(obj, false)
			o.Object = &inner
		}
		o.Context = contextOf(m["context"])
	}
	return o
}

func contextOf(v any) *Context {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	c := &Context{
		Registration: str(m, "registration"),
		Instructor:   actorPtr(m["instructor"]),
		Team:         actorPtr(m["team"]),
	}
	if ca, ok := m["contextActivities"].(map[string]any); ok {
		c.ContextActivities = &ContextActivities{
			Parent:   activityListOf(ca["parent"]),
			Grouping: activityListOf(ca["grouping"]),
			Category: activityListOf(ca["category"]),
			Other:    activityListOf(ca["other"]),
		}
	}
	if list, ok := m["contextAgents"].([]any); ok {
		c.ContextAgents = make([]ContextAgent, len(list))
		for i, x := range list {
			c.ContextAgents[i] = ContextAgent{Agent: actorOf(asMap(x)["agent"])}
		}
	}
	if list, ok := m["contextGroups"].([]any); ok {
		c.ContextGroups = make([]ContextGroup, len(list))
		for i, x := range list {
			c.ContextGroups[i] = ContextGroup{Group: actorOf(asMap(x)["group"])}
		}
	}
	return c
}

// activityListOf decodes a context activities list, sent as an array or
// as one object.
func activityListOf(v any) ActivityList {
	switch x := v.(type) {
	case map[string]any:
		return ActivityList{{ID: str(x, "id")}}
	case []any:
		l := make(ActivityList, len(x))
		for i, a := range x {
			l[i] = ActivityRef{ID: str(asMap(a), "id")}
		}
		return l
	}
	return nil
}
