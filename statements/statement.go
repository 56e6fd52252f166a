package statements

import (
	"encoding/json"
	"strings"
)

// VerbVoided is the verb of a voiding statement.
const VerbVoided = "http://adlnet.gov/expapi/verbs/voided"

// Statement is the part of an xAPI statement the LRS reads to store, index
// and answer queries. Parts it only passes through (result, definitions,
// extensions) stay raw. It is decoded from statements that passed validation.
type Statement struct {
	ID          string            `json:"id,omitempty"`
	Actor       Actor             `json:"actor"`
	Verb        Verb              `json:"verb"`
	Object      Object            `json:"object"`
	Result      json.RawMessage   `json:"result,omitempty"`
	Context     *Context          `json:"context,omitempty"`
	Timestamp   string            `json:"timestamp,omitempty"`
	Stored      string            `json:"stored,omitempty"`
	Authority   *Actor            `json:"authority,omitempty"`
	Version     string            `json:"version,omitempty"`
	Attachments []json.RawMessage `json:"attachments,omitempty"`
}

// Actor is an Agent or a Group.
type Actor struct {
	ObjectType  string   `json:"objectType,omitempty"`
	Name        string   `json:"name,omitempty"`
	Mbox        string   `json:"mbox,omitempty"`
	MboxSHA1Sum string   `json:"mbox_sha1sum,omitempty"`
	OpenID      string   `json:"openid,omitempty"`
	Account     *Account `json:"account,omitempty"`
	Member      []Actor  `json:"member,omitempty"`
}

// Account is an agent's account on a system.
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Verb is the action of a statement.
type Verb struct {
	ID      string          `json:"id"`
	Display json.RawMessage `json:"display,omitempty"`
}

// Object is the union of the object kinds: Activity, Agent, Group,
// StatementRef and SubStatement; ObjectType tells which ("" is Activity).
type Object struct {
	ObjectType string          `json:"objectType,omitempty"`
	ID         string          `json:"id,omitempty"`
	Definition json.RawMessage `json:"definition,omitempty"`

	// Agent and Group.
	Name        string   `json:"name,omitempty"`
	Mbox        string   `json:"mbox,omitempty"`
	MboxSHA1Sum string   `json:"mbox_sha1sum,omitempty"`
	OpenID      string   `json:"openid,omitempty"`
	Account     *Account `json:"account,omitempty"`
	Member      []Actor  `json:"member,omitempty"`

	// SubStatement.
	Actor   *Actor   `json:"actor,omitempty"`
	Verb    *Verb    `json:"verb,omitempty"`
	Object  *Object  `json:"object,omitempty"`
	Context *Context `json:"context,omitempty"`
}

// Context gives the circumstances of a statement.
type Context struct {
	Registration      string             `json:"registration,omitempty"`
	Instructor        *Actor             `json:"instructor,omitempty"`
	Team              *Actor             `json:"team,omitempty"`
	ContextActivities *ContextActivities `json:"contextActivities,omitempty"`
	ContextAgents     []ContextAgent     `json:"contextAgents,omitempty"`
	ContextGroups     []ContextGroup     `json:"contextGroups,omitempty"`
}

// ContextActivities are the activities a statement's context relates to.
// Each list may be sent as a single object; see ActivityList.
type ContextActivities struct {
	Parent   ActivityList `json:"parent,omitempty"`
	Grouping ActivityList `json:"grouping,omitempty"`
	Category ActivityList `json:"category,omitempty"`
	Other    ActivityList `json:"other,omitempty"`
}

// ActivityRef identifies an activity.
type ActivityRef struct {
	ID string `json:"id"`
}

// ActivityList is a list of activities that also decodes from one object.
type ActivityList []ActivityRef

// UnmarshalJSON accepts an array of activities or a single activity.
func (l *ActivityList) UnmarshalJSON(b []byte) error {
	b = trimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var a ActivityRef
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		*l = ActivityList{a}
		return nil
	}
	return json.Unmarshal(b, (*[]ActivityRef)(l))
}

// ContextAgent is an xAPI 2.0 context agent.
type ContextAgent struct {
	Agent Actor `json:"agent"`
}

// ContextGroup is an xAPI 2.0 context group.
type ContextGroup struct {
	Group Actor `json:"group"`
}

// ObjectIsAgent reports whether the object is an Agent or a Group.
func (o *Object) ObjectIsAgent() bool {
	return o.ObjectType == "Agent" || o.ObjectType == "Group"
}

// AsActor returns the Agent or Group the object is.
func (o *Object) AsActor() Actor {
	return Actor{ObjectType: o.ObjectType, Name: o.Name, Mbox: o.Mbox, MboxSHA1Sum: o.MboxSHA1Sum,
		OpenID: o.OpenID, Account: o.Account, Member: o.Member}
}

// IsActivity reports whether the object is an Activity.
func (o *Object) IsActivity() bool { return o.ObjectType == "" || o.ObjectType == "Activity" }

// IsStatementRef reports whether the object is a StatementRef.
func (o *Object) IsStatementRef() bool { return o.ObjectType == "StatementRef" }

// Voids returns the id of the statement this statement voids, or "".
func (s *Statement) Voids() string {
	if s.Verb.ID == VerbVoided && s.Object.IsStatementRef() {
		return strings.ToLower(s.Object.ID)
	}
	return ""
}

// RefTarget returns the id of the statement the object refers to, or "".
func (s *Statement) RefTarget() string {
	if s.Object.IsStatementRef() {
		return strings.ToLower(s.Object.ID)
	}
	return ""
}

// Key returns the identity of an Agent or identified Group, the string by
// which two actors are the same: its object type and its inverse functional
// identifier. An anonymous group has no key ("").
func (a *Actor) Key() string {
	typ := a.ObjectType
	if typ == "" {
		typ = "Agent"
	}
	switch {
	case a.Mbox != "":
		return typ + "|mbox|" + normalizeMbox(a.Mbox)
	case a.MboxSHA1Sum != "":
		return typ + "|mbox_sha1sum|" + strings.ToLower(a.MboxSHA1Sum)
	case a.OpenID != "":
		return typ + "|openid|" + a.OpenID
	case a.Account != nil:
		return typ + "|account|" + a.Account.HomePage + "|" + a.Account.Name
	}
	return ""
}

// normalizeMbox lower-cases the case-insensitive parts of a mailto IRI:
// the scheme and the domain.
func normalizeMbox(m string) string {
	const scheme = "mailto:"
	if len(m) >= len(scheme) && strings.EqualFold(m[:len(scheme)], scheme) {
		m = scheme + m[len(scheme):]
	}
	if at := strings.LastIndexByte(m, '@'); at >= 0 {
		m = m[:at] + strings.ToLower(m[at:])
	}
	return m
}

// AgentKey returns the key (see Actor.Key) of an agent given as JSON, as the
// agent parameter of the xAPI resources carries it.
func AgentKey(agentJSON []byte) (string, error) {
	var a Actor
	if err := json.Unmarshal(agentJSON, &a); err != nil {
		return "", Errorf(EInvalid, "agent: not a JSON Agent object: %v", err)
	}
	k := a.Key()
	if k == "" {
		return "", Errorf(EInvalid, "agent: must have exactly one of mbox, mbox_sha1sum, openid, account")
	}
	return k, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}
