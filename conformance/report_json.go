package conformance

import (
	"encoding/json"
	"io"
	"time"
)

// WriteJSON writes the report as one JSON object: the preflight's
// findings (or its error), a summary per version and section, every check
// with its requirement, status, the reason it did not run or, for a
// failure, the error and the last HTTP exchange, and the data the run
// wrote.
func (r Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Tool: "lrs-conformance", Endpoint: r.Endpoint, Key: r.Key, Started: r.Started.UTC(),
		DurationSeconds: r.Duration.Seconds(), OK: r.OK(),
		Checks:  []jsonCheck{},
		Written: jsonWritten{Statements: []jsonStatement{}, Documents: []jsonDocument{}},
	}
	if r.PreflightErr != nil {
		out.Preflight.Error = r.PreflightErr.Error()
		if pe, ok := r.PreflightErr.(*PreflightError); ok {
			out.Preflight.Exchange = exchangeJSON(pe.Exchange)
		}
	}
	if caps := r.Capabilities; caps != nil {
		out.Preflight.Versions = caps.Versions
		out.Preflight.Scopes = caps.Scopes
		out.Preflight.ScopesDeclared = caps.Declared
		out.Preflight.Assumed = caps.Assumed
		out.Preflight.Probes = caps.Probes
		out.Preflight.Authority = caps.Authority
	}
	out.Summary.jsonTally = tallyJSON(r.Totals())
	out.Summary.Versions = []jsonVersion{}
	for _, v := range r.Summaries() {
		jv := jsonVersion{Version: v.Version, jsonTally: tallyJSON(v.Tally)}
		for _, s := range v.Sections {
			jv.Sections = append(jv.Sections, jsonSection{Section: s.Section, jsonTally: tallyJSON(s.Tally)})
		}
		out.Summary.Versions = append(out.Summary.Versions, jv)
	}
	for _, res := range r.Results {
		jc := jsonCheck{
			ID: res.Requirement.ID, Requirement: res.Requirement.Text, Version: res.Version, Section: res.Section,
			Status: res.Status(), Needs: res.Needs, Reason: res.NotRun, DurationSeconds: res.Duration.Seconds(),
			Exchange: exchangeJSON(res.Exchange),
		}
		if jc.Needs == nil {
			jc.Needs = []string{}
		}
		if res.Err != nil {
			jc.Error = res.Err.Error()
		}
		out.Checks = append(out.Checks, jc)
	}
	for _, d := range r.Written {
		if d.Kind == WrittenStatement {
			out.Written.Statements = append(out.Written.Statements, jsonStatement{ID: d.ID, Version: d.Version, Check: d.Check})
			continue
		}
		out.Written.Documents = append(out.Written.Documents, jsonDocument{
			Resource: d.Kind, ID: d.ID, ActivityID: d.ActivityID, Agent: d.Agent, Registration: d.Registration,
			Version: d.Version, Check: d.Check, Deleted: d.Deleted,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type jsonReport struct {
	Tool            string        `json:"tool"`
	Endpoint        string        `json:"endpoint"`
	Key             string        `json:"key"`
	Started         time.Time     `json:"started"`
	DurationSeconds float64       `json:"durationSeconds"`
	OK              bool          `json:"ok"`
	Preflight       jsonPreflight `json:"preflight"`
	Summary         jsonSummary   `json:"summary"`
	Checks          []jsonCheck   `json:"checks"`
	Written         jsonWritten   `json:"written"`
}

type jsonPreflight struct {
	Error          string            `json:"error,omitempty"`
	Exchange       *jsonExchange     `json:"exchange,omitempty"`
	Versions       []string          `json:"versions,omitempty"`
	Scopes         []string          `json:"scopes,omitempty"`
	ScopesDeclared bool              `json:"scopesDeclared"`
	Assumed        []string          `json:"assumed,omitempty"`
	Probes         map[string]string `json:"probes,omitempty"`
	Authority      map[string]any    `json:"authority,omitempty"`
}

type jsonTally struct {
	Passed          int     `json:"passed"`
	Failed          int     `json:"failed"`
	NotRun          int     `json:"notRun"`
	DurationSeconds float64 `json:"durationSeconds"`
}

func tallyJSON(t Tally) jsonTally {
	return jsonTally{Passed: t.Passed, Failed: t.Failed, NotRun: t.NotRun, DurationSeconds: t.Duration.Seconds()}
}

type jsonSummary struct {
	jsonTally
	Versions []jsonVersion `json:"versions"`
}

type jsonVersion struct {
	Version string `json:"version"`
	jsonTally
	Sections []jsonSection `json:"sections"`
}

type jsonSection struct {
	Section string `json:"section"`
	jsonTally
}

type jsonCheck struct {
	ID              string        `json:"id"`
	Requirement     string        `json:"requirement"`
	Version         string        `json:"version"`
	Section         string        `json:"section"`
	Status          string        `json:"status"`
	Needs           []string      `json:"needs"`
	Reason          string        `json:"reason,omitempty"`
	DurationSeconds float64       `json:"durationSeconds"`
	Error           string        `json:"error,omitempty"`
	Exchange        *jsonExchange `json:"exchange,omitempty"`
}

type jsonExchange struct {
	Request  jsonMessage  `json:"request"`
	Response *jsonMessage `json:"response,omitempty"`
	Error    string       `json:"error,omitempty"`
}

type jsonMessage struct {
	Method        string              `json:"method,omitempty"`
	URL           string              `json:"url,omitempty"`
	Status        int                 `json:"status,omitempty"`
	Headers       map[string][]string `json:"headers"`
	Body          string              `json:"body"`
	BodyBytes     int                 `json:"bodyBytes"`
	BodyTruncated bool                `json:"bodyTruncated,omitempty"`
}

func messageJSON(m Message) jsonMessage {
	h := map[string][]string(m.Header)
	if h == nil {
		h = map[string][]string{}
	}
	return jsonMessage{Method: m.Method, URL: m.URL, Status: m.Status, Headers: h, Body: m.Body,
		BodyBytes: m.BodyBytes, BodyTruncated: m.BodyBytes > MaxExcerpt}
}

func exchangeJSON(e *Exchange) *jsonExchange {
	if e == nil {
		return nil
	}
	out := &jsonExchange{Request: messageJSON(e.Request), Error: e.Err}
	if e.Response != nil {
		m := messageJSON(*e.Response)
		out.Response = &m
	}
	return out
}

type jsonWritten struct {
	Statements []jsonStatement `json:"statements"`
	Documents  []jsonDocument  `json:"documents"`
}

type jsonStatement struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Check   string `json:"check"`
}

type jsonDocument struct {
	Resource     string `json:"resource"`
	ID           string `json:"id"`
	ActivityID   string `json:"activityId,omitempty"`
	Agent        string `json:"agent,omitempty"`
	Registration string `json:"registration,omitempty"`
	Version      string `json:"version"`
	Check        string `json:"check"`
	Deleted      bool   `json:"deleted"`
}
