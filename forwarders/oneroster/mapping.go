package oneroster

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/digione/lrs/statements"
)

// Verb IRIs mapped to results by default.
const (
	VerbPassed    = "http://adlnet.gov/expapi/verbs/passed"
	VerbFailed    = "http://adlnet.gov/expapi/verbs/failed"
	VerbCompleted = "http://adlnet.gov/expapi/verbs/completed"
	VerbScored    = "http://adlnet.gov/expapi/verbs/scored"
	VerbSatisfied = "https://w3id.org/xapi/adl/verbs/satisfied"
)

// DefaultVerbs are the verbs mapped when Config.Verbs is empty.
var DefaultVerbs = []string{VerbPassed, VerbFailed, VerbCompleted, VerbScored, VerbSatisfied}

// Context extensions naming the OneRoster line item and class (sourcedIds).
const (
	ExtLineItem = "https://digione.fi/xapi/extensions/oneroster/lineitem"
	ExtClass    = "https://digione.fi/xapi/extensions/oneroster/class"
)

// DefaultIdentityHomePage is the account home page whose names are
// OneRoster user sourcedIds when Config.IdentityHomePage is empty.
const DefaultIdentityHomePage = "https://mpass-proxy.csc.fi"

// Namespace is the UUIDv5 namespace of result sourcedIds. It must never
// change: results already written would be written again under new ids.
var Namespace = uuid.MustParse("8f1c3a52-6f0e-4d35-9a47-2b8e5d0c7e19")

// Score statuses of OneRoster 1.2 used here.
const (
	StatusFullyGraded = "fully graded"
	StatusSubmitted   = "submitted"
)

// Result is a OneRoster 1.2 gradebook result, as written.
type Result struct {
	SourcedID        string            `json:"sourcedId"`
	Status           string            `json:"status"`
	DateLastModified string            `json:"dateLastModified,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	LineItem         GUIDRef           `json:"lineItem"`
	Student          GUIDRef           `json:"student"`
	Class            *GUIDRef          `json:"class,omitempty"`
	ScoreStatus      string            `json:"scoreStatus"`
	Score            *float64          `json:"score,omitempty"`
	TextScore        string            `json:"textScore,omitempty"`
	ScoreDate        string            `json:"scoreDate"`
	Comment          string            `json:"comment,omitempty"`
}

// GUIDRef is a OneRoster reference to another object.
type GUIDRef struct {
	Href      string `json:"href"`
	SourcedID string `json:"sourcedId"`
	Type      string `json:"type"`
}

// Skip says why a statement maps to no result; "" when it maps to one.
type Skip string

// Reasons to skip a statement.
const (
	SkipVerb     Skip = "verb"      // not a completion-type verb: ignored
	SkipVoided   Skip = "voided"    // voided or voiding: not handled yet
	SkipStudent  Skip = "student"   // no account on the identity home page
	SkipLineItem Skip = "line item" // no line item extension
	SkipScore    Skip = "score"     // scored without a score
	SkipInvalid  Skip = "invalid"   // unreadable statement or timestamp
)

// Mapper maps stored statements to results. The zero value is not usable;
// see NewMapper.
type Mapper struct {
	base     string
	homePage string
	verbs    map[string]bool
}

// NewMapper returns a Mapper for results under base (the URL up to and
// including /ims/oneroster/gradebook/v1p2), students of homePage and verbs
// (DefaultVerbs when empty).
func NewMapper(base, homePage string, verbs []string) Mapper {
	if homePage == "" {
		homePage = DefaultIdentityHomePage
	}
	if len(verbs) == 0 {
		verbs = DefaultVerbs
	}
	m := Mapper{base: strings.TrimRight(base, "/"), homePage: strings.TrimRight(homePage, "/"), verbs: map[string]bool{}}
	for _, v := range verbs {
		m.verbs[v] = true
	}
	return m
}

// ResultID returns the sourcedId of the result of student on lineItem in
// tenant.
func ResultID(tenant, lineItem, student string) string {
	return uuid.NewSHA1(Namespace, []byte(tenant+"\x00"+lineItem+"\x00"+student)).String()
}

// mapped is the part of a statement the mapping reads.
type mapped struct {
	ID     string           `json:"id"`
	Actor  statements.Actor `json:"actor"`
	Verb   statements.Verb  `json:"verb"`
	Object struct {
		ObjectType string `json:"objectType"`
	} `json:"object"`
	Result *struct {
		Score *struct {
			Scaled *float64 `json:"scaled"`
			Raw    *float64 `json:"raw"`
		} `json:"score"`
		Response string `json:"response"`
	} `json:"result"`
	Context *struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	} `json:"context"`
	Timestamp string `json:"timestamp"`
}

// Map returns the result of one stored statement, or why it has none.
func (m Mapper) Map(e statements.LogEntry) (*Result, Skip) {
	r := e.Record
	var st mapped
	if err := json.Unmarshal(r.Statement, &st); err != nil {
		return nil, SkipInvalid
	}
	if !m.verbs[st.Verb.ID] {
		return nil, SkipVerb
	}
	if r.Voided || r.Voids != "" || st.Object.ObjectType == "StatementRef" {
		return nil, SkipVoided
	}
	a := st.Actor.Account
	if a == nil || a.Name == "" || strings.TrimRight(a.HomePage, "/") != m.homePage {
		return nil, SkipStudent
	}
	student := a.Name
	var lineItem, class string
	if st.Context != nil {
		lineItem = extString(st.Context.Extensions[ExtLineItem])
		class = extString(st.Context.Extensions[ExtClass])
	}
	if lineItem == "" {
		return nil, SkipLineItem
	}

	var score *float64
	if st.Result != nil && st.Result.Score != nil {
		switch s := st.Result.Score; {
		case s.Raw != nil:
			score = s.Raw
		case s.Scaled != nil:
			v := math.Round(*s.Scaled*100*1e6) / 1e6 // 0.07*100 is 7.000000000000001
			score = &v
		}
	}
	res := &Result{
		SourcedID: ResultID(e.Tenant, lineItem, student),
		Status:    "active",
		Metadata:  map[string]string{"xapiStatementId": r.ID},
		LineItem:  m.ref("lineItems", "lineItem", lineItem),
		Student:   m.ref("users", "user", student),
	}
	if class != "" {
		c := m.ref("classes", "class", class)
		res.Class = &c
	}
	switch {
	case score != nil:
		res.ScoreStatus, res.Score = StatusFullyGraded, score
	case st.Verb.ID == VerbPassed:
		res.ScoreStatus, res.TextScore = StatusFullyGraded, "pass"
	case st.Verb.ID == VerbFailed:
		res.ScoreStatus, res.TextScore = StatusFullyGraded, "fail"
	case st.Verb.ID == VerbScored:
		return nil, SkipScore
	default:
		res.ScoreStatus = StatusSubmitted
	}
	if st.Result != nil {
		res.Comment = st.Result.Response
	}
	when := r.Stored
	if !r.StampTimestamp && st.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, st.Timestamp)
		if err != nil {
			return nil, SkipInvalid
		}
		when = t
	}
	res.ScoreDate = FormatTime(when)
	return res, ""
}

// FormatTime formats t as a OneRoster dateTime: RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (m Mapper) ref(path, typ, id string) GUIDRef {
	return GUIDRef{Href: fmt.Sprintf("%s/%s/%s", m.base, path, url.PathEscape(id)), SourcedID: id, Type: typ}
}

// extString returns an extension's value when it is a non-empty string.
func extString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
