package oneroster

import (
	"cmp"
	"context"
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

// Statuses of a OneRoster object: a result retracted after its statements
// were voided is written once more as StatusToBeDeleted.
const (
	StatusActive      = "active"
	StatusToBeDeleted = "tobedeleted"
)

// MetaStatementID is the metadata key of the id of the statement a result
// was written from.
const MetaStatementID = "xapiStatementId"

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
	SkipVoided   Skip = "voided"    // voided by the time it was read
	SkipStudent  Skip = "student"   // no account on the identity home page, or none in a required mapping
	SkipLineItem Skip = "line item" // no line item extension and no activity mapping
	SkipScore    Skip = "score"     // scored without a score
	SkipInvalid  Skip = "invalid"   // unreadable statement or timestamp
)

// Scale is the score range of a line item.
type Scale struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Target is where the results of an activity go: a line item and,
// optionally, its class and score scale.
type Target struct {
	LineItem string `json:"lineItem"`
	Class    string `json:"class,omitempty"`
	Scale    *Scale `json:"scale,omitempty"`
}

// Resolver looks up a tenant's mapping tables. Either method may return
// ok false for "not in the table"; an error makes the statement wait.
type Resolver interface {
	// Student returns the OneRoster user sourcedId of an identity account
	// name.
	Student(ctx context.Context, account string) (sourcedID string, ok bool, err error)
	// Activity returns the target of the results of an activity id.
	Activity(ctx context.Context, activityID string) (t Target, ok bool, err error)
}

// Mapper maps stored statements to results. The zero value is not usable;
// see NewMapper.
type Mapper struct {
	base     string
	homePage string
	verbs    map[string]bool
	// RequireStudent makes a student absent from the Resolver's table a
	// SkipStudent, instead of taking the account name as the sourcedId.
	RequireStudent bool
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

// Maps reports whether statements with verb make results.
func (m Mapper) Maps(verb string) bool { return m.verbs[verb] }

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
		ID         string `json:"id"`
	} `json:"object"`
	Result *struct {
		Score *struct {
			Scaled *float64 `json:"scaled"`
			Raw    *float64 `json:"raw"`
			Min    *float64 `json:"min"`
			Max    *float64 `json:"max"`
		} `json:"score"`
		Response string `json:"response"`
	} `json:"result"`
	Context *struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	} `json:"context"`
	Timestamp string `json:"timestamp"`
}

// Map returns the result of one stored statement, or why it has none,
// without mapping tables: the student is the account name, the line item
// and class come from the context extensions.
func (m Mapper) Map(e statements.LogEntry) (*Result, Skip) {
	res, _, skip, _ := m.MapWith(context.Background(), e, nil)
	return res, skip
}

// MapWith returns the result of one stored statement and the time that
// orders it among the statements of the same result (its timestamp), or
// why it has none. The line item and class come from the context
// extensions, else from r's activity table; the student from r's student
// table, else (unless RequireStudent) the account name. r may be nil.
func (m Mapper) MapWith(ctx context.Context, e statements.LogEntry, r Resolver) (*Result, time.Time, Skip, error) {
	rec := e.Record
	var st mapped
	if err := json.Unmarshal(rec.Statement, &st); err != nil {
		return nil, time.Time{}, SkipInvalid, nil
	}
	if !m.verbs[st.Verb.ID] {
		return nil, time.Time{}, SkipVerb, nil
	}
	if rec.Voided || rec.Voids != "" || st.Object.ObjectType == "StatementRef" {
		return nil, time.Time{}, SkipVoided, nil
	}
	a := st.Actor.Account
	if a == nil || a.Name == "" || strings.TrimRight(a.HomePage, "/") != m.homePage {
		return nil, time.Time{}, SkipStudent, nil
	}
	student := a.Name
	if r != nil {
		id, ok, err := r.Student(ctx, a.Name)
		if err != nil {
			return nil, time.Time{}, "", err
		}
		switch {
		case ok:
			student = id
		case m.RequireStudent:
			return nil, time.Time{}, SkipStudent, nil
		}
	} else if m.RequireStudent {
		return nil, time.Time{}, SkipStudent, nil
	}
	var t Target
	if st.Context != nil {
		t.LineItem = extString(st.Context.Extensions[ExtLineItem])
		t.Class = extString(st.Context.Extensions[ExtClass])
	}
	if r != nil && st.Object.ID != "" && (st.Object.ObjectType == "" || st.Object.ObjectType == "Activity") {
		mt, ok, err := r.Activity(ctx, st.Object.ID)
		if err != nil {
			return nil, time.Time{}, "", err
		}
		if ok {
			if t.LineItem == "" {
				t.LineItem, t.Class = mt.LineItem, cmp.Or(t.Class, mt.Class)
			}
			if t.LineItem == mt.LineItem {
				t.Scale = mt.Scale
			}
		}
	}
	if t.LineItem == "" {
		return nil, time.Time{}, SkipLineItem, nil
	}

	var score *float64
	if st.Result != nil && st.Result.Score != nil {
		s := st.Result.Score
		score = scoreOf(s.Raw, s.Min, s.Max, s.Scaled, t.Scale)
	}
	res := &Result{
		SourcedID: ResultID(e.Tenant, t.LineItem, student),
		Status:    StatusActive,
		Metadata:  map[string]string{MetaStatementID: rec.ID},
		LineItem:  m.ref("lineItems", "lineItem", t.LineItem),
		Student:   m.ref("users", "user", student),
	}
	if t.Class != "" {
		c := m.ref("classes", "class", t.Class)
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
		return nil, time.Time{}, SkipScore, nil
	default:
		res.ScoreStatus = StatusSubmitted
	}
	if st.Result != nil {
		res.Comment = st.Result.Response
	}
	when := rec.Stored
	if !rec.StampTimestamp && st.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, st.Timestamp)
		if err != nil {
			return nil, time.Time{}, SkipInvalid, nil
		}
		when = t
	}
	res.ScoreDate = FormatTime(when)
	return res, when, "", nil
}

// scoreOf returns the score of a result on scale: raw when the statement's
// min and max are the scale's (or no scale is known), otherwise raw or
// scaled rescaled to it; scaled × 100 without a scale or a raw score.
func scoreOf(raw, lo, hi, scaled *float64, scale *Scale) *float64 {
	round := func(v float64) *float64 {
		v = math.Round(v*1e6) / 1e6 // 0.07*100 is 7.000000000000001
		return &v
	}
	switch {
	case scale == nil && raw != nil:
		return raw
	case scale == nil && scaled != nil:
		return round(*scaled * 100)
	case scale == nil:
		return nil
	case raw != nil && lo != nil && hi != nil && *lo == scale.Min && *hi == scale.Max:
		return raw
	case scaled != nil:
		return round(scale.Min + *scaled*(scale.Max-scale.Min))
	case raw != nil && lo != nil && hi != nil && *hi > *lo:
		return round(scale.Min + (*raw-*lo)/(*hi-*lo)*(scale.Max-scale.Min))
	case raw != nil:
		return raw
	}
	return nil
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
