// Package onerostertest is a strict, in-memory OneRoster 1.2 provider
// for tests: an OAuth 2 client-credentials token endpoint; the gradebook's
// PUT /results/{sourcedId} under BasePath, which checks what the
// specification requires of a result and stores it; and the rostering
// service's collections orgs, users, classes and enrollments under
// RosterPath, paged with limit and offset (rostering.go).
//
// It imports only the standard library.
package onerostertest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// BasePath is the path of the gradebook service.
const BasePath = "/ims/oneroster/gradebook/v1p2"

// Scope is the scope a token must be granted for PUT /results.
const Scope = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput"

// ScoreStatuses are the scoreStatus values of OneRoster 1.2.
var ScoreStatuses = []string{"exempt", "fully graded", "not submitted", "partially graded", "submitted"}

// Server is a running test gradebook. Close it when done.
type Server struct {
	*httptest.Server
	clientID, secret string

	mu         sync.Mutex
	tokens     map[string][]string // token -> the scopes granted
	scopes     []string            // the scopes the client may be granted
	roster     Roster
	rosterFail map[string]int // collection + "@" + offset -> status to answer
	rosterGets int
	noTotal    bool // pages without X-Total-Count
	noLink     bool // pages without a Link to the next
	results    map[string]map[string]any
	history    map[string][]map[string]any
	users      map[string]bool // known user sourcedIds; nil: any
	failN      int
	failCode   int
	retryAfter string
	failFor    map[string]int // result sourcedId -> status to answer, every time
	tokenReqs  int
	puts       int
}

// New starts a Server that grants tokens to clientID and secret.
func New(clientID, secret string) *Server {
	s := &Server{clientID: clientID, secret: secret, tokens: map[string][]string{},
		scopes:  []string{Scope, RosterCoreScope, RosterScope},
		results: map[string]map[string]any{}, history: map[string][]map[string]any{}, failFor: map[string]int{},
		rosterFail: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("PUT "+BasePath+"/results/{id}", s.handlePutResult)
	mux.HandleFunc("GET "+RosterPath+"/{collection}", s.handleRosterCollection)
	s.Server = httptest.NewServer(mux)
	return s
}

// BaseURL returns the URL of the gradebook service.
func (s *Server) BaseURL() string { return s.URL + BasePath }

// TokenURL returns the URL of the token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// FailNext makes the next n PUT requests answer status, before any check.
// A 429 or 503 carries the Retry-After that SetRetryAfter set, if any.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// SetRetryAfter sets the Retry-After header of forced 429 and 503 answers
// ("" for none).
func (s *Server) SetRetryAfter(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = v
}

// FailFor makes every PUT of the result with sourcedId id answer status
// after the token check, until FailFor(id, 0).
func (s *Server) FailFor(id string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failFor, id)
	} else {
		s.failFor[id] = status
	}
}

// KnowUsers makes the gradebook know only the users with these sourcedIds
// (and the ones known before): a result for any other student is refused
// with 422. Without a call, every student is known.
func (s *Server) KnowUsers(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users = map[string]bool{}
	}
	for _, id := range ids {
		s.users[id] = true
	}
}

// History returns every result accepted for sourcedId id, oldest first.
func (s *Server) History(id string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history[id])
}

// RevokeTokens makes every token granted so far invalid.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Result returns the stored result with sourcedId id, or nil.
func (s *Server) Result(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.results[id]
}

// Results returns how many results are stored.
func (s *Server) Results() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.results)
}

// Counts returns how many token requests and PUT requests were received.
func (s *Server) Counts() (tokens, puts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReqs, s.puts
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokenReqs++
	s.mu.Unlock()
	oauthError := func(code int, e string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.clientID || secret != s.secret {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		oauthError(http.StatusUnauthorized, "invalid_client")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		oauthError(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	asked := strings.Fields(r.PostForm.Get("scope"))
	s.mu.Lock()
	allowed := slices.Clone(s.scopes)
	s.mu.Unlock()
	if len(asked) == 0 {
		oauthError(http.StatusBadRequest, "invalid_scope")
		return
	}
	for _, sc := range asked {
		if !slices.Contains(allowed, sc) {
			oauthError(http.StatusBadRequest, "invalid_scope")
			return
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.tokens[tok] = asked
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer", "expires_in": 3600, "scope": strings.Join(asked, " "),
	})
}

// granted returns the scopes of the request's bearer token and whether it
// is a token the server granted. The caller holds s.mu.
func (s *Server) granted(r *http.Request) ([]string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, false
	}
	scopes, ok := s.tokens[tok]
	return scopes, ok
}

// AllowScopes sets the scopes the client may be granted; by default the
// gradebook's Scope and both rostering scopes. A token request asking for
// any other scope is refused with invalid_scope.
func (s *Server) AllowScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = scopes
}

// imsxError answers a OneRoster status report.
func imsxError(w http.ResponseWriter, code int, minor, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"imsx_codeMajor": "failure", "imsx_severity": "error",
		"imsx_description": desc,
		"imsx_CodeMinor": map[string]any{"imsx_codeMinorField": []map[string]string{
			{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor},
		}},
	})
}

func (s *Server) handlePutResult(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.puts++
	if s.failN > 0 {
		s.failN--
		code, ra := s.failCode, s.retryAfter
		s.mu.Unlock()
		if ra != "" && (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) {
			w.Header().Set("Retry-After", ra)
		}
		imsxError(w, code, "forced", "failure requested by the test")
		return
	}
	granted, valid := s.granted(r)
	forced := s.failFor[r.PathValue("id")]
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		imsxError(w, http.StatusUnauthorized, "unauthorisedrequest", "missing or invalid bearer token")
		return
	}
	if !slices.Contains(granted, Scope) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		imsxError(w, http.StatusForbidden, "forbidden", "the token lacks the scope "+Scope)
		return
	}
	if forced != 0 {
		imsxError(w, forced, "forced", "failure requested by the test for this result")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		imsxError(w, http.StatusUnsupportedMediaType, "invalid_data", "want application/json")
		return
	}
	var env map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&env); err != nil {
		imsxError(w, http.StatusBadRequest, "invalid_data", "body: "+err.Error())
		return
	}
	raw, ok := env["result"]
	if !ok || len(env) != 1 {
		imsxError(w, http.StatusBadRequest, "invalid_data", `body must be {"result": {...}}`)
		return
	}
	var res map[string]any
	if err := json.Unmarshal(raw, &res); err != nil || res == nil {
		imsxError(w, http.StatusBadRequest, "invalid_data", "result must be an object")
		return
	}
	if err := CheckResult(res, r.PathValue("id")); err != nil {
		imsxError(w, http.StatusUnprocessableEntity, "invalid_data", err.Error())
		return
	}
	s.mu.Lock()
	student := res["student"].(map[string]any)["sourcedId"].(string)
	if s.users != nil && !s.users[student] {
		s.mu.Unlock()
		imsxError(w, http.StatusUnprocessableEntity, "unknownobject", fmt.Sprintf("result.student: no user %q", student))
		return
	}
	id := res["sourcedId"].(string)
	_, existed := s.results[id]
	s.results[id] = res
	s.history[id] = append(s.history[id], res)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if existed {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	_, _ = w.Write([]byte(`{"result":` + string(raw) + `}`))
}

// resultFields are the properties a OneRoster 1.2 result may have.
var resultFields = []string{
	"sourcedId", "status", "dateLastModified", "metadata", "lineItem", "student", "class",
	"scoreScale", "scoreStatus", "score", "textScore", "scoreDate", "comment",
	"learningObjectiveSet", "inProgress", "incomplete", "late", "missing",
}

// CheckResult returns what is wrong with result as the body of
// PUT /results/{id}, or nil.
func CheckResult(res map[string]any, id string) error {
	for k := range res {
		if !slices.Contains(resultFields, k) {
			return fmt.Errorf("result.%s: unknown property", k)
		}
	}
	str := func(k string) (string, error) {
		v, ok := res[k].(string)
		if !ok || v == "" {
			return "", fmt.Errorf("result.%s: required string", k)
		}
		return v, nil
	}
	for _, k := range []string{"sourcedId", "status", "scoreStatus", "scoreDate"} {
		if _, err := str(k); err != nil {
			return err
		}
	}
	if res["sourcedId"] != id {
		return fmt.Errorf("result.sourcedId %q is not the %q of the path", res["sourcedId"], id)
	}
	if st := res["status"]; st != "active" && st != "tobedeleted" {
		return fmt.Errorf("result.status %q: want active or tobedeleted", st)
	}
	if st := res["scoreStatus"].(string); !slices.Contains(ScoreStatuses, st) {
		return fmt.Errorf("result.scoreStatus %q: want one of %q", st, ScoreStatuses)
	}
	for _, k := range []string{"scoreDate", "dateLastModified"} {
		if v, ok := res[k]; ok {
			s, _ := v.(string)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
				return fmt.Errorf("result.%s %q: want an RFC 3339 date-time in UTC", k, v)
			}
		}
	}
	for k, typ := range map[string]string{"lineItem": "lineItem", "student": "user", "class": "class"} {
		v, ok := res[k]
		if !ok {
			if k == "class" {
				continue
			}
			return fmt.Errorf("result.%s: required", k)
		}
		if err := checkGUIDRef(v, typ); err != nil {
			return fmt.Errorf("result.%s: %w", k, err)
		}
	}
	if v, ok := res["score"]; ok {
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("result.score: want a number")
		}
	}
	if v, ok := res["metadata"]; ok {
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("result.metadata: want an object")
		}
	}
	return nil
}

func checkGUIDRef(v any, typ string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a GUIDRef object")
	}
	if len(m) != 3 {
		return fmt.Errorf("want exactly href, sourcedId and type")
	}
	href, _ := m["href"].(string)
	id, _ := m["sourcedId"].(string)
	if id == "" || !strings.HasPrefix(href, "http") {
		return fmt.Errorf("want an href URL and a sourcedId")
	}
	if m["type"] != typ {
		return fmt.Errorf("type %v: want %q", m["type"], typ)
	}
	return nil
}
