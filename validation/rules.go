package validation

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The rules below check what the schemas cannot say: formats, counts and
// relations between properties. They run after the schema on the same
// decoded document and skip values of the wrong JSON type, which the schema
// has already reported. Anchors such as (2.4.2.1.s2.b1) point at the xAPI
// 1.0.3 text (xAPI-Data.md), whose numbering 2.0.0 keeps for these rules.

const (
	verbVoided         = "http://adlnet.gov/expapi/verbs/voided"
	usageTypeSignature = "http://adlnet.gov/expapi/attachments/signature"
)

// checker collects violations for one document.
type checker struct {
	version string
	errs    Errors
}

func (c *checker) add(path, rule string) {
	c.errs = append(c.errs, Error{Path: path, Rule: rule})
}

// statement checks a Statement, or a SubStatement when sub is set.
func (c *checker) statement(p string, m map[string]any, sub bool) {
	if sub {
		for _, k := range []string{"id", "stored", "version", "authority"} {
			if _, ok := m[k]; ok {
				c.add(child(p, k), "must not be used in a SubStatement (2.4.4.3.s8.b3)")
			}
		}
	} else {
		if id, ok := m["id"].(string); ok && !isUUID(id) {
			c.add(p+"/id", "must be a UUID in standard string form, e.g. 12345678-1234-5678-1234-567812345678 (2.4.1.s1, 4.4)")
		}
		if s, ok := m["stored"].(string); ok {
			c.timestamp(p+"/stored", s)
		}
		if v, ok := m["authority"]; ok {
			c.authority(p+"/authority", v)
		}
		if s, ok := m["version"].(string); ok {
			c.statementVersion(p+"/version", s)
		}
	}
	if v, ok := m["actor"]; ok {
		c.actor(p+"/actor", v)
	}
	verbID := ""
	if v, ok := m["verb"].(map[string]any); ok {
		verbID, _ = v["id"].(string)
		c.verb(p+"/verb", v)
	}
	kind := ""
	if v, ok := m["object"].(map[string]any); ok {
		kind = c.object(p+"/object", v, sub)
	}
	if !sub && verbID == verbVoided && kind != "" && kind != "StatementRef" {
		c.add(p+"/object", "the object of a voiding statement (verb "+verbVoided+") must be a StatementRef (2.3.2.s2.b1)")
	}
	if v, ok := m["result"].(map[string]any); ok {
		c.result(p+"/result", v)
	}
	if v, ok := m["context"].(map[string]any); ok {
		c.context(p+"/context", v, kind)
	}
	if s, ok := m["timestamp"].(string); ok {
		c.timestamp(p+"/timestamp", s)
	}
	if v, ok := m["attachments"].([]any); ok {
		c.attachments(p+"/attachments", v)
	}
}

// statementVersion checks the "version" property against the request's
// version (2.4.10.s2.b1, 2.4.10.s3.b2).
func (c *checker) statementVersion(p, s string) {
	if c.version == V103 {
		if !isSemver(s, "1.0.") {
			c.add(p, `must be a 1.0.x version such as "1.0.0" (2.4.10.s3.b2)`)
		}
		return
	}
	if !isSemver(s, "1.0.") && !isSemver(s, "2.0.") {
		c.add(p, `must be a 2.0.x or 1.0.x version such as "2.0.0" (2.4.10)`)
	}
}

// isSemver reports whether s is prefix followed by a patch number and an
// optional Semantic Versioning 1.0.0 pre-release tag.
func isSemver(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return false
	}
	patch, pre, hasPre := strings.Cut(rest, "-")
	if !isDigitString(patch) || len(patch) > 1 && patch[0] == '0' {
		return false
	}
	if !hasPre {
		return true
	}
	for i := 0; i < len(pre); i++ {
		if !isAlpha(pre[i]) && !isDigit(pre[i]) && pre[i] != '-' {
			return false
		}
	}
	return pre != ""
}

func (c *checker) timestamp(p, s string) {
	if c.version == V103 {
		if !isISO8601DateTime(s) {
			c.add(p, "must be an ISO 8601 date and time such as 2015-11-18T12:17:00.000+00:00; a -00:00 offset is not ISO 8601 (4.5.s1.b1)")
		}
		return
	}
	if !isRFC3339DateTime(s) {
		c.add(p, "must be an RFC 3339 date-time with seconds and a time zone offset, such as 2015-11-18T12:17:00.000Z; a -00:00 offset is not ISO 8601 (4.5)")
	}
}

// actor checks an Agent or a Group (2.4.2).
func (c *checker) actor(p string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if m["objectType"] == "Group" {
		c.group(p, m)
	} else {
		c.agent(p, m)
	}
}

// agentParameter checks the agent parameter of the REST resources: an
// Agent or an identified Group.
func (c *checker) agentParameter(p string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if m["objectType"] == "Group" {
		if c.ifis(p, m) != 1 {
			c.add(p, "a Group used as an agent parameter must be an identified Group with exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account) (2.4.2.2.s5.b1)")
		}
		c.members(p, m)
		return
	}
	c.agent(p, m)
}

func (c *checker) agent(p string, m map[string]any) {
	if c.ifis(p, m) != 1 {
		c.add(p, "an Agent must have exactly one inverse functional identifier: mbox, mbox_sha1sum, openid or account (2.4.2.1.s2.b1, 2.4.2.1.s2.b2)")
	}
}

func (c *checker) group(p string, m map[string]any) {
	switch c.ifis(p, m) {
	case 0:
		// A "member" of the wrong type is reported by the schema.
		member, present := m["member"]
		if list, isList := member.([]any); !present || isList && len(list) == 0 {
			c.add(p, `an anonymous Group (no inverse functional identifier) must list its Agents in "member" (2.4.2.2.s4.b1)`)
		}
	case 1:
	default:
		c.add(p, "an identified Group must have exactly one inverse functional identifier: mbox, mbox_sha1sum, openid or account (2.4.2.2.s5.b1)")
	}
	c.members(p, m)
}

// members checks the Agents of a Group; the schema already rejects Groups
// as members (2.4.2.2.s4.b2, 2.4.2.2.s5.b2).
func (c *checker) members(p string, m map[string]any) {
	ms, _ := m["member"].([]any)
	for i, v := range ms {
		if mm, ok := v.(map[string]any); ok && mm["objectType"] != "Group" {
			c.agent(child(p+"/member", strconv.Itoa(i)), mm)
		}
	}
}

// ifis counts the inverse functional identifiers of an Agent or Group and
// checks the format of each (2.4.2.3).
func (c *checker) ifis(p string, m map[string]any) int {
	n := 0
	if v, ok := m["mbox"]; ok {
		n++
		if s, ok := v.(string); ok && !isMbox(s) {
			c.add(p+"/mbox", "must be a mailto: IRI")
		}
	}
	if v, ok := m["mbox_sha1sum"]; ok {
		n++
		if s, ok := v.(string); ok && !isHexLen(s, 40) {
			c.add(p+"/mbox_sha1sum", "must be the hex-encoded SHA-1 hash of a mailto: IRI (40 hex digits) (2.4.2.3.s3)")
		}
	}
	if v, ok := m["openid"]; ok {
		n++
		if s, ok := v.(string); ok && !isURI(s) {
			c.add(p+"/openid", "must be a URI (2.4.2.3.s3)")
		}
	}
	if v, ok := m["account"]; ok {
		n++
		if a, ok := v.(map[string]any); ok {
			if s, ok := a["homePage"].(string); ok && !isIRI(s) {
				c.add(p+"/account/homePage", "must be an IRL (2.4.2.4.s2)")
			}
		}
	}
	return n
}

// authority checks the authority an LRS may keep (2.4.9.s3.b1): an Agent,
// or for 3-legged OAuth a Group of two Agents.
func (c *checker) authority(p string, v any) {
	c.actor(p, v)
	if m, ok := v.(map[string]any); ok && m["objectType"] == "Group" {
		if ms, ok := m["member"].([]any); ok && len(ms) != 2 {
			c.add(p+"/member", "an authority Group must consist of exactly two Agents (2.4.9.s3.b1)")
		}
	}
}

func (c *checker) verb(p string, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isIRI(s) {
		c.add(p+"/id", "must be an IRI (2.4.3.s3, 2.2.s4.b1.b8)")
	}
	c.languageMap(p+"/display", m["display"])
}

// object checks the object of a Statement or SubStatement and returns its
// objectType ("" if unknown).
func (c *checker) object(p string, m map[string]any, sub bool) string {
	kind, _ := m["objectType"].(string)
	if _, present := m["objectType"]; !present {
		kind = "Activity"
	}
	switch kind {
	case "Activity":
		c.activity(p, m)
	case "Agent":
		c.agent(p, m)
	case "Group":
		c.group(p, m)
	case "StatementRef":
		c.statementRef(p, m)
	case "SubStatement":
		if sub {
			c.add(p, "a SubStatement must not contain another SubStatement (2.4.4.3.s8.b4)")
		} else {
			c.statement(p, m, true)
		}
	default:
		return ""
	}
	return kind
}

func (c *checker) statementRef(p string, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isUUID(s) {
		c.add(p+"/id", "must be the UUID of a statement in standard string form (2.4.4.3.s4.b2)")
	}
}

func (c *checker) activity(p string, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isIRI(s) {
		c.add(p+"/id", "must be an IRI (2.4.4.1.s1 table, 2.2.s4.b1.b8)")
	}
	if d, ok := m["definition"].(map[string]any); ok {
		c.definition(p+"/definition", d)
	}
}

// componentLists maps each interactionType to the interaction component
// lists it supports (2.4.4.1.s15 table 2).
var componentLists = map[string][]string{
	"choice":       {"choices"},
	"sequencing":   {"choices"},
	"likert":       {"scale"},
	"matching":     {"source", "target"},
	"performance":  {"steps"},
	"true-false":   nil,
	"fill-in":      nil,
	"long-fill-in": nil,
	"numeric":      nil,
	"other":        nil,
}

var allComponentLists = []string{"choices", "scale", "source", "target", "steps"}

func (c *checker) definition(p string, d map[string]any) {
	c.languageMap(p+"/name", d["name"])
	c.languageMap(p+"/description", d["description"])
	if s, ok := d["type"].(string); ok && !isIRI(s) {
		c.add(p+"/type", "must be an IRI (2.4.4.1.s2 table)")
	}
	if s, ok := d["moreInfo"].(string); ok && !isIRI(s) {
		c.add(p+"/moreInfo", "must be an IRL (2.4.4.1.s2 table)")
	}
	c.extensions(p+"/extensions", d["extensions"])

	_, hasPattern := d["correctResponsesPattern"]
	it, hasType := d["interactionType"]
	itype, _ := it.(string)
	for _, list := range allComponentLists {
		v, ok := d[list]
		if !ok {
			continue
		}
		if hasType {
			allowed, known := componentLists[itype]
			if known && !contains(allowed, list) {
				c.add(child(p, list), `is not supported for interactionType "`+itype+`" (2.4.4.1.s15 table 2)`)
			}
		}
		c.components(child(p, list), v)
	}
	if !hasType && hasPattern {
		c.add(p+"/interactionType", "is required when correctResponsesPattern is present: interaction activities must have a valid interactionType (2.4.4.1.s13.b1)")
	}
	if !hasType && !hasPattern {
		for _, list := range allComponentLists {
			if _, ok := d[list]; ok {
				c.add(p+"/interactionType", "is required when interaction components are present: interaction activities must have a valid interactionType (2.4.4.1.s13.b1)")
				break
			}
		}
	}
}

// components checks one interaction component list: distinct ids
// (2.4.4.1.s16.b1) and language maps.
func (c *checker) components(p string, v any) {
	list, _ := v.([]any)
	seen := make(map[string]bool, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := child(p, strconv.Itoa(i))
		if id, ok := m["id"].(string); ok {
			if seen[id] {
				c.add(ip+"/id", "repeats the id of an earlier component in this list; ids must be distinct (2.4.4.1.s16.b1)")
			}
			seen[id] = true
		}
		c.languageMap(ip+"/description", m["description"])
	}
}

func (c *checker) result(p string, m map[string]any) {
	if s, ok := m["score"].(map[string]any); ok {
		c.score(p+"/score", s)
	}
	if s, ok := m["duration"].(string); ok && !isDuration(s) {
		c.add(p+"/duration", "must be an ISO 8601 duration such as PT4H35M59.14S or P4W (4.6.s1.b1)")
	}
	c.extensions(p+"/extensions", m["extensions"])
}

// score checks the ranges of the Score object (2.4.5.1.s2 table).
func (c *checker) score(p string, m map[string]any) {
	num := func(k string) (float64, bool) {
		n, ok := m[k].(json.Number)
		if !ok {
			return 0, false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil && !math.IsInf(f, 0)
	}
	if f, ok := num("scaled"); ok && (f < -1 || f > 1) {
		c.add(p+"/scaled", "must be between -1 and 1 inclusive (2.4.5.1.s2 table)")
	}
	minV, hasMin := num("min")
	maxV, hasMax := num("max")
	if hasMin && hasMax && !(minV < maxV) {
		c.add(p+"/min", "must be less than max (2.4.5.1.s2 table)")
	}
	if raw, ok := num("raw"); ok {
		if hasMin && raw < minV {
			c.add(p+"/raw", "must not be less than min (2.4.5.1.s2 table)")
		}
		if hasMax && raw > maxV {
			c.add(p+"/raw", "must not be greater than max (2.4.5.1.s2 table)")
		}
	}
}

// context checks the Context object; kind is the objectType of the
// statement's object (2.4.6).
func (c *checker) context(p string, m map[string]any, kind string) {
	if s, ok := m["registration"].(string); ok && !isUUID(s) {
		c.add(p+"/registration", "must be a UUID in standard string form (2.4.6.s3 table, 4.4)")
	}
	if v, ok := m["instructor"]; ok {
		c.actor(p+"/instructor", v)
	}
	if v, ok := m["team"].(map[string]any); ok && v["objectType"] == "Group" {
		c.group(p+"/team", v)
	}
	if ca, ok := m["contextActivities"].(map[string]any); ok {
		for _, k := range sortedKeys(ca) {
			kp := child(p+"/contextActivities", k)
			switch v := ca[k].(type) {
			case []any:
				for i, a := range v {
					if am, ok := a.(map[string]any); ok {
						c.activity(child(kp, strconv.Itoa(i)), am)
					}
				}
			case map[string]any:
				c.activity(kp, v)
			}
		}
	}
	if kind != "" && kind != "Activity" {
		if _, ok := m["revision"]; ok {
			c.add(p+"/revision", `may only be used when the statement's object is an Activity (2.4.6.s4.b1); its objectType is "`+kind+`"`)
		}
		if _, ok := m["platform"]; ok {
			c.add(p+"/platform", `may only be used when the statement's object is an Activity (2.4.6.s4.b2); its objectType is "`+kind+`"`)
		}
	}
	if s, ok := m["language"].(string); ok && !isLanguageTag(s) {
		c.add(p+"/language", "must be an RFC 5646 language tag (2.4.6.s3 table)")
	}
	if v, ok := m["statement"].(map[string]any); ok {
		c.statementRef(p+"/statement", v)
	}
	c.extensions(p+"/extensions", m["extensions"])
	if c.version == V200 {
		c.contextAgents(p+"/contextAgents", m["contextAgents"], "agent")
		c.contextAgents(p+"/contextGroups", m["contextGroups"], "group")
	}
}

// contextAgents checks the contextAgents or contextGroups array of xAPI
// 2.0.0; key is "agent" or "group".
func (c *checker) contextAgents(p string, v any, key string) {
	list, _ := v.([]any)
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := child(p, strconv.Itoa(i))
		if a, ok := m[key].(map[string]any); ok {
			if key == "agent" {
				c.agent(ip+"/agent", a)
			} else if a["objectType"] == "Group" {
				c.group(ip+"/group", a)
			}
		}
		types, _ := m["relevantTypes"].([]any)
		for j, t := range types {
			if s, ok := t.(string); ok && !isIRI(s) {
				c.add(child(ip+"/relevantTypes", strconv.Itoa(j)), "must be an IRI")
			}
		}
	}
}

func (c *checker) attachments(p string, list []any) {
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := child(p, strconv.Itoa(i))
		usage, _ := m["usageType"].(string)
		if _, ok := m["usageType"].(string); ok && !isIRI(usage) {
			c.add(ip+"/usageType", "must be an IRI (2.4.11.s2 table)")
		}
		c.languageMap(ip+"/display", m["display"])
		c.languageMap(ip+"/description", m["description"])
		if s, ok := m["contentType"].(string); ok {
			if !isMediaType(s) {
				c.add(ip+"/contentType", "must be an Internet media type such as application/pdf (2.4.11.s2 table)")
			} else if usage == usageTypeSignature && !strings.EqualFold(strings.TrimSpace(strings.Split(s, ";")[0]), "application/octet-stream") {
				c.add(ip+"/contentType", "must be application/octet-stream for a signature attachment (2.6.s4.b1)")
			}
		}
		if n, ok := m["length"].(json.Number); ok && !isNonNegativeInteger(n) {
			c.add(ip+"/length", "must be a non-negative integer number of octets (2.4.11.s2 table)")
		}
		if s, ok := m["sha2"].(string); ok && !isHexLen(s, 56, 64, 96, 128) {
			c.add(ip+"/sha2", "must be a hex-encoded SHA-2 hash (56, 64, 96 or 128 hex digits) (2.4.11.s2 table)")
		}
		if s, ok := m["fileUrl"].(string); ok && !isIRI(s) {
			c.add(ip+"/fileUrl", "must be an IRL (2.4.11.s2 table)")
		}
	}
}

// isNonNegativeInteger accepts an integer literal (no fraction or
// exponent) from 0 to 2^63-1.
func isNonNegativeInteger(n json.Number) bool {
	_, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && !strings.HasPrefix(string(n), "-")
}

// languageMap checks the keys of a language map (2.2.s4.b2); the schema
// checks that the values are strings.
func (c *checker) languageMap(p string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		if !isLanguageTag(k) {
			c.add(child(p, k), "is not an RFC 5646 language tag (2.2.s4.b2)")
		}
	}
}

// extensions checks that extension keys are IRIs (4.1.s3.b1); values are
// free JSON and not validated (4.1.s3.b2).
func (c *checker) extensions(p string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		if !isIRI(k) {
			c.add(child(p, k), "extension key must be an IRI (4.1.s3.b1)")
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
