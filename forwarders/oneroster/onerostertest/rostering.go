package onerostertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// RosterPath is the path of the rostering service.
const RosterPath = "/ims/oneroster/rostering/v1p2"

// The scopes that allow reading the rostering collections.
const (
	RosterCoreScope = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
	RosterScope     = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
)

// DefaultLimit is the page size when a request gives no limit, as in the
// binding; MaxLimit is the largest the server serves.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Roster is what the rostering service serves: each collection's records
// as the JSON objects of the binding, served in this order. Build records
// with Org, User, Class and Enrollment, or write them by hand to serve
// something broken.
type Roster struct {
	Orgs, Users, Classes, Enrollments []map[string]any
}

// SetRoster makes the server serve r from now on.
func (s *Server) SetRoster(r Roster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roster = r
}

// RosterURL returns the URL of the rostering service.
func (s *Server) RosterURL() string { return s.URL + RosterPath }

// FailRosterPage makes every GET of collection at offset answer status,
// until FailRosterPage(collection, offset, 0).
func (s *Server) FailRosterPage(collection string, offset, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := collection + "@" + strconv.Itoa(offset)
	if status == 0 {
		delete(s.rosterFail, k)
	} else {
		s.rosterFail[k] = status
	}
}

// SetPaging sets what a page of the rostering service says of the rest:
// the X-Total-Count header and the Link to the next page (both by
// default; the binding makes neither required).
func (s *Server) SetPaging(totalCount, link bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noTotal, s.noLink = !totalCount, !link
}

// RosterGets returns how many GET requests the rostering service received.
func (s *Server) RosterGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rosterGets
}

func ref(id, typ string) map[string]any {
	return map[string]any{"href": "https://sis.example" + RosterPath + "/" + typ + "s/" + id, "sourcedId": id, "type": typ}
}

// Org returns an active org record.
func Org(id, name, typ, parent string) map[string]any {
	o := map[string]any{"sourcedId": id, "status": "active", "dateLastModified": "2026-08-01T00:00:00.000Z",
		"name": name, "type": typ, "identifier": "id-" + id}
	if parent != "" {
		o["parent"] = ref(parent, "org")
	}
	return o
}

// User returns an active user record with role in org (primary) and, as
// userIds, identifiers of type "MPASSid".
func User(id, given, family, role, org string, identifiers ...string) map[string]any {
	ids := []any{}
	for _, i := range identifiers {
		ids = append(ids, map[string]any{"type": "MPASSid", "identifier": i})
	}
	return map[string]any{"sourcedId": id, "status": "active", "dateLastModified": "2026-08-01T00:00:00.000Z",
		"enabledUser": true, "givenName": given, "familyName": family, "userIds": ids,
		"roles":      []any{map[string]any{"roleType": "primary", "role": role, "org": ref(org, "org")}},
		"primaryOrg": ref(org, "org")}
}

// Class returns an active class record of school.
func Class(id, title, school string) map[string]any {
	return map[string]any{"sourcedId": id, "status": "active", "dateLastModified": "2026-08-01T00:00:00.000Z",
		"title": title, "classCode": strings.ToUpper(id), "classType": "scheduled",
		"course": ref("course-"+id, "course"), "school": ref(school, "org"), "terms": []any{ref("term-1", "academicSession")}}
}

// Enrollment returns an active enrollment record.
func Enrollment(id, class, user, role string) map[string]any {
	return map[string]any{"sourcedId": id, "status": "active", "dateLastModified": "2026-08-01T00:00:00.000Z",
		"role": role, "primary": false, "user": ref(user, "user"), "class": ref(class, "class"),
		"school": ref("school", "org"), "beginDate": "2026-08-10"}
}

// handleRosterCollection serves GET {RosterPath}/{collection}?limit&offset:
// {"<collection>": [...]} with X-Total-Count and a Link to the next page.
func (s *Server) handleRosterCollection(w http.ResponseWriter, r *http.Request) {
	coll := r.PathValue("collection")
	s.mu.Lock()
	s.rosterGets++
	granted, valid := s.granted(r)
	var records []map[string]any
	known := true
	switch coll {
	case "orgs":
		records = s.roster.Orgs
	case "users":
		records = s.roster.Users
	case "classes":
		records = s.roster.Classes
	case "enrollments":
		records = s.roster.Enrollments
	default:
		known = false
	}
	q := r.URL.Query()
	offset, limit := 0, DefaultLimit
	var badParam string
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badParam = "offset"
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			badParam = "limit"
		}
		limit = min(n, MaxLimit)
	}
	forced := s.rosterFail[coll+"@"+strconv.Itoa(offset)]
	noTotal, noLink := s.noTotal, s.noLink
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		imsxError(w, http.StatusUnauthorized, "unauthorisedrequest", "missing or invalid bearer token")
		return
	}
	if !slices.Contains(granted, RosterCoreScope) && !slices.Contains(granted, RosterScope) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		imsxError(w, http.StatusForbidden, "forbidden", "the token lacks a rostering read scope")
		return
	}
	if !known {
		imsxError(w, http.StatusNotFound, "unknownobject", "no collection "+coll)
		return
	}
	if badParam != "" {
		imsxError(w, http.StatusBadRequest, "invalid_selection_field", badParam+": want a non-negative integer")
		return
	}
	if forced != 0 {
		imsxError(w, forced, "forced", "failure requested by the test for this page")
		return
	}
	page := []map[string]any{}
	if offset < len(records) {
		page = records[offset:min(len(records), offset+limit)]
	}
	w.Header().Set("Content-Type", "application/json")
	if !noTotal {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(records)))
	}
	if offset+limit < len(records) && !noLink {
		next := fmt.Sprintf("%s%s/%s?limit=%d&offset=%d", s.URL, RosterPath, coll, limit, offset+limit)
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{coll: page})
}
