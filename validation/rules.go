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

func (c *checker) add(p *path, rule string) {
	c.errs = append(c.errs, Error{Path: p.String(), Rule: rule})
}

// A path is the JSON Pointer of a value as a chain of steps, so that the
// string is built only for a violation. The root step holds the prefix of
// the document ("" or "/3"), already a JSON Pointer.
type path struct {
	up    *path
	key   string // property name; the prefix at the root
	i     int    // array index, when isIdx
	isIdx bool
}

// at returns the path of property key under p.
func (p *path) at(key string) *path { return &path{up: p, key: key} }

// index returns the path of array element i under p.
func (p *path) index(i int) *path { return &path{up: p, i: i, isIdx: true} }

// String returns the JSON Pointer. It only copies from the steps, so that
// paths can live on the stack of the checks that build them.
func (p *path) String() string {
	var num [20]byte
	n := 0
	q := p
	for ; q.up != nil; q = q.up {
		if q.isIdx {
			n += 1 + len(strconv.AppendInt(num[:0], int64(q.i), 10))
		} else {
			n += 1 + len(q.key) + strings.Count(q.key, "~") + strings.Count(q.key, "/")
		}
	}
	b := make([]byte, n+len(q.key))
	copy(b, q.key)
	i := len(b)
	for q = p; q.up != nil; q = q.up {
		if q.isIdx {
			d := strconv.AppendInt(num[:0], int64(q.i), 10)
			i -= len(d)
			copy(b[i:], d)
		} else {
			for j := len(q.key) - 1; j >= 0; j-- {
				switch c := q.key[j]; c {
				case '~':
					i -= 2
					b[i], b[i+1] = '~', '0'
				case '/':
					i -= 2
					b[i], b[i+1] = '~', '1'
				default:
					i--
					b[i] = c
				}
			}
		}
		i--
		b[i] = '/'
	}
	return string(b)
}

// statement checks a Statement, or a SubStatement when sub is set.
func (c *checker) statement(p *path, m map[string]any, sub bool) {
	if sub {
		for _, k := range []string{"id", "stored", "version", "authority"} {
			if _, ok := m[k]; ok {
				c.add(p.at(k), "must not be used in a SubStatement (2.4.4.3.s8.b3)")
			}
		}
	} else {
		if id, ok := m["id"].(string); ok && !isUUID(id) {
			c.add(p.at("id"), "must be a UUID in standard string form, e.g. 12345678-1234-5678-1234-567812345678 (2.4.1.s1, 4.4)")
		}
		if s, ok := m["stored"].(string); ok {
			c.timestamp(p.at("stored"), s)
		}
		if v, ok := m["authority"]; ok {
			c.authority(p.at("authority"), v)
		}
		if s, ok := m["version"].(string); ok {
			c.statementVersion(p.at("version"), s)
		}
	}
	if v, ok := m["actor"]; ok {
		c.actor(p.at("actor"), v)
	}
	verbID := ""
	if v, ok := m["verb"].(map[string]any); ok {
		verbID, _ = v["id"].(string)
		c.verb(p.at("verb"), v)
	}
	kind := ""
	if v, ok := m["object"].(map[string]any); ok {
		kind = c.object(p.at("object"), v, sub)
	}
	if !sub && verbID == verbVoided && kind != "" && kind != "StatementRef" {
		c.add(p.at("object"), "the object of a voiding statement (verb "+verbVoided+") must be a StatementRef (2.3.2.s2.b1)")
	}
	if v, ok := m["result"].(map[string]any); ok {
		c.result(p.at("result"), v)
	}
	if v, ok := m["context"].(map[string]any); ok {
		c.context(p.at("context"), v, kind)
	}
	if s, ok := m["timestamp"].(string); ok {
		c.timestamp(p.at("timestamp"), s)
	}
	if v, ok := m["attachments"].([]any); ok {
		c.attachments(p.at("attachments"), v)
	}
}

// statementVersion checks the "version" property against the request's
// version: "1.0" or "1.0.x" under 1.0.3 (2.4.10.s2.b1, 2.4.10.s3.b2), and
// also "2.0" or "2.0.x" under 2.0.0 (2.4.10).
func (c *checker) statementVersion(p *path, s string) {
	if c.version == V103 {
		if !isVersion(s, "1.0") {
			c.add(p, `must be "1.0" or a 1.0.x version such as "1.0.0" (2.4.10.s3.b2)`)
		}
		return
	}
	if !isVersion(s, "1.0") && !isVersion(s, "2.0") {
		c.add(p, `must be "2.0", "1.0" or a 2.0.x or 1.0.x version such as "2.0.0" (2.4.10)`)
	}
}

// isVersion reports whether s is the minor version minor ("1.0") itself or
// a semantic version of it ("1.0.3", "1.0.3-rc1").
func isVersion(s, minor string) bool {
	return s == minor || isSemver(s, minor+".")
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

func (c *checker) timestamp(p *path, s string) {
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
func (c *checker) actor(p *path, v any) {
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
func (c *checker) agentParameter(p *path, v any) {
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

func (c *checker) agent(p *path, m map[string]any) {
	if c.ifis(p, m) != 1 {
		c.add(p, "an Agent must have exactly one inverse functional identifier: mbox, mbox_sha1sum, openid or account (2.4.2.1.s2.b1, 2.4.2.1.s2.b2)")
	}
}

func (c *checker) group(p *path, m map[string]any) {
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
func (c *checker) members(p *path, m map[string]any) {
	ms, _ := m["member"].([]any)
	for i, v := range ms {
		if mm, ok := v.(map[string]any); ok && mm["objectType"] != "Group" {
			c.agent(p.at("member").index(i), mm)
		}
	}
}

// ifis counts the inverse functional identifiers of an Agent or Group and
// checks the format of each (2.4.2.3).
func (c *checker) ifis(p *path, m map[string]any) int {
	n := 0
	if v, ok := m["mbox"]; ok {
		n++
		if s, ok := v.(string); ok && !isMbox(s) {
			c.add(p.at("mbox"), "must be a mailto: IRI")
		}
	}
	if v, ok := m["mbox_sha1sum"]; ok {
		n++
		if s, ok := v.(string); ok && !isHexLen(s, 40) {
			c.add(p.at("mbox_sha1sum"), "must be the hex-encoded SHA-1 hash of a mailto: IRI (40 hex digits) (2.4.2.3.s3)")
		}
	}
	if v, ok := m["openid"]; ok {
		n++
		if s, ok := v.(string); ok && !isURI(s) {
			c.add(p.at("openid"), "must be a URI (2.4.2.3.s3)")
		}
	}
	if v, ok := m["account"]; ok {
		n++
		if a, ok := v.(map[string]any); ok {
			if s, ok := a["homePage"].(string); ok && !isIRI(s) {
				c.add(p.at("account").at("homePage"), "must be an IRL (2.4.2.4.s2)")
			}
		}
	}
	return n
}

// authority checks the authority an LRS may keep (2.4.9.s3.b1): an Agent,
// or for 3-legged OAuth an anonymous Group of exactly two Agents.
func (c *checker) authority(p *path, v any) {
	m, ok := v.(map[string]any)
	if !ok || m["objectType"] != "Group" {
		c.actor(p, v)
		return
	}
	for _, k := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if _, ok := m[k]; ok {
			c.add(p.at(k), "an authority Group must be anonymous: the OAuth consumer and user as its two members, no inverse functional identifier of its own (2.4.9.s3.b1)")
		}
	}
	ms, _ := m["member"].([]any)
	if len(ms) != 2 {
		c.add(p.at("member"), "an authority Group must consist of exactly two Agents (2.4.9.s3.b1)")
	}
	c.members(p, m)
}

func (c *checker) verb(p *path, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isIRI(s) {
		c.add(p.at("id"), "must be an IRI (2.4.3.s3, 2.2.s4.b1.b8)")
	}
	c.languageMap(p.at("display"), m["display"])
}

// object checks the object of a Statement or SubStatement and returns its
// objectType ("" if unknown).
func (c *checker) object(p *path, m map[string]any, sub bool) string {
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

func (c *checker) statementRef(p *path, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isUUID(s) {
		c.add(p.at("id"), "must be the UUID of a statement in standard string form (2.4.4.3.s4.b2)")
	}
}

func (c *checker) activity(p *path, m map[string]any) {
	if s, ok := m["id"].(string); ok && !isIRI(s) {
		c.add(p.at("id"), "must be an IRI (2.4.4.1.s1 table, 2.2.s4.b1.b8)")
	}
	if d, ok := m["definition"].(map[string]any); ok {
		c.definition(p.at("definition"), d)
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

func (c *checker) definition(p *path, d map[string]any) {
	c.languageMap(p.at("name"), d["name"])
	c.languageMap(p.at("description"), d["description"])
	if s, ok := d["type"].(string); ok && !isIRI(s) {
		c.add(p.at("type"), "must be an IRI (2.4.4.1.s2 table)")
	}
	if s, ok := d["moreInfo"].(string); ok && !isIRI(s) {
		c.add(p.at("moreInfo"), "must be an IRL (2.4.4.1.s2 table)")
	}
	c.extensions(p.at("extensions"), d["extensions"])

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
				c.add(p.at(list), `is not supported for interactionType "`+itype+`" (2.4.4.1.s15 table 2)`)
			}
		}
		c.components(p.at(list), v)
	}
	if !hasType && hasPattern {
		c.add(p.at("interactionType"), "is required when correctResponsesPattern is present: interaction activities must have a valid interactionType (2.4.4.1.s13.b1)")
	}
	if !hasType && !hasPattern {
		for _, list := range allComponentLists {
			if _, ok := d[list]; ok {
				c.add(p.at("interactionType"), "is required when interaction components are present: interaction activities must have a valid interactionType (2.4.4.1.s13.b1)")
				break
			}
		}
	}
}

// components checks one interaction component list: distinct ids
// (2.4.4.1.s16.b1) and language maps.
func (c *checker) components(p *path, v any) {
	list, _ := v.([]any)
	var seen map[string]bool // for long lists; short ones are searched
	if len(list) > 16 {
		seen = make(map[string]bool, len(list))
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := p.index(i)
		if id, ok := m["id"].(string); ok {
			dup := false
			if seen != nil {
				dup = seen[id]
				seen[id] = true
			} else {
				dup = hasComponentID(list[:i], id)
			}
			if dup {
				c.add(ip.at("id"), "repeats the id of an earlier component in this list; ids must be distinct (2.4.4.1.s16.b1)")
			}
		}
		c.languageMap(ip.at("description"), m["description"])
	}
}

// hasComponentID reports whether one of the components in list has id.
func hasComponentID(list []any, id string) bool {
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			if s, ok := m["id"].(string); ok && s == id {
				return true
			}
		}
	}
	return false
}

func (c *checker) result(p *path, m map[string]any) {
	if s, ok := m["score"].(map[string]any); ok {
		c.score(p.at("score"), s)
	}
	if s, ok := m["duration"].(string); ok && !isDuration(s) {
		c.add(p.at("duration"), "must be an ISO 8601 duration such as PT4H35M59.14S or P4W (4.6.s1.b1)")
	}
	c.extensions(p.at("extensions"), m["extensions"])
}

// score checks the ranges of the Score object (2.4.5.1.s2 table).
func (c *checker) score(p *path, m map[string]any) {
	num := func(k string) (float64, bool) {
		n, ok := m[k].(json.Number)
		if !ok {
			return 0, false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil && !math.IsInf(f, 0)
	}
	if f, ok := num("scaled"); ok && (f < -1 || f > 1) {
		c.add(p.at("scaled"), "must be between -1 and 1 inclusive (2.4.5.1.s2 table)")
	}
	minV, hasMin := num("min")
	maxV, hasMax := num("max")
	if hasMin && hasMax && !(minV < maxV) {
		c.add(p.at("min"), "must be less than max (2.4.5.1.s2 table)")
	}
	if raw, ok := num("raw"); ok {
		if hasMin && raw < minV {
			c.add(p.at("raw"), "must not be less than min (2.4.5.1.s2 table)")
		}
		if hasMax && raw > maxV {
			c.add(p.at("raw"), "must not be greater than max (2.4.5.1.s2 table)")
		}
	}
}

// context checks the Context object; kind is the objectType of the
// statement's object (2.4.6).
func (c *checker) context(p *path, m map[string]any, kind string) {
	if s, ok := m["registration"].(string); ok && !isUUID(s) {
		c.add(p.at("registration"), "must be a UUID in standard string form (2.4.6.s3 table, 4.4)")
	}
	if v, ok := m["instructor"]; ok {
		c.actor(p.at("instructor"), v)
	}
	if v, ok := m["team"].(map[string]any); ok && v["objectType"] == "Group" {
		c.group(p.at("team"), v)
	}
	if ca, ok := m["contextActivities"].(map[string]any); ok {
		for k, v := range ca {
			kp := p.at("contextActivities").at(k)
			switch v := v.(type) {
			case []any:
				for i, a := range v {
					if am, ok := a.(map[string]any); ok {
						c.activity(kp.index(i), am)
					}
				}
			case map[string]any:
				c.activity(kp, v)
			}
		}
	}
	if kind != "" && kind != "Activity" {
		if _, ok := m["revision"]; ok {
			c.add(p.at("revision"), `may only be used when the statement's object is an Activity (2.4.6.s4.b1); its objectType is "`+kind+`"`)
		}
		if _, ok := m["platform"]; ok {
			c.add(p.at("platform"), `may only be used when the statement's object is an Activity (2.4.6.s4.b2); its objectType is "`+kind+`"`)
		}
	}
	if s, ok := m["language"].(string); ok && !isLanguageTag(s) {
		c.add(p.at("language"), "must be an RFC 5646 language tag (2.4.6.s3 table)")
	}
	if v, ok := m["statement"].(map[string]any); ok {
		c.statementRef(p.at("statement"), v)
	}
	c.extensions(p.at("extensions"), m["extensions"])
	if c.version == V200 {
		c.contextAgents(p.at("contextAgents"), m["contextAgents"], "agent")
		c.contextAgents(p.at("contextGroups"), m["contextGroups"], "group")
	}
}

// contextAgents checks the contextAgents or contextGroups array of xAPI
// 2.0.0; key is "agent" or "group".
func (c *checker) contextAgents(p *path, v any, key string) {
	list, _ := v.([]any)
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := p.index(i)
		if a, ok := m[key].(map[string]any); ok {
			if key == "agent" {
				c.agent(ip.at("agent"), a)
			} else if a["objectType"] == "Group" {
				c.group(ip.at("group"), a)
			}
		}
		types, _ := m["relevantTypes"].([]any)
		for j, t := range types {
			if s, ok := t.(string); ok && !isIRI(s) {
				c.add(ip.at("relevantTypes").index(j), "must be an IRI")
			}
		}
	}
}

func (c *checker) attachments(p *path, list []any) {
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ip := p.index(i)
		usage, _ := m["usageType"].(string)
		if _, ok := m["usageType"].(string); ok && !isIRI(usage) {
			c.add(ip.at("usageType"), "must be an IRI (2.4.11.s2 table)")
		}
		c.languageMap(ip.at("display"), m["display"])
		c.languageMap(ip.at("description"), m["description"])
		if s, ok := m["contentType"].(string); ok {
			if !isMediaType(s) {
				c.add(ip.at("contentType"), "must be an Internet media type such as application/pdf (2.4.11.s2 table)")
			} else if usage == usageTypeSignature && !strings.EqualFold(strings.TrimSpace(strings.Split(s, ";")[0]), "application/octet-stream") {
				c.add(ip.at("contentType"), "must be application/octet-stream for a signature attachment (2.6.s4.b1)")
			}
		}
		if n, ok := m["length"].(json.Number); ok && !isNonNegativeInteger(n) {
			c.add(ip.at("length"), "must be a non-negative integer number of octets (2.4.11.s2 table)")
		}
		if s, ok := m["sha2"].(string); ok && !isHexLen(s, 56, 64, 96, 128) {
			c.add(ip.at("sha2"), "must be a hex-encoded SHA-2 hash (56, 64, 96 or 128 hex digits) (2.4.11.s2 table)")
		}
		if s, ok := m["fileUrl"].(string); ok && !isIRI(s) {
			c.add(ip.at("fileUrl"), "must be an IRL (2.4.11.s2 table)")
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
func (c *checker) languageMap(p *path, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		if !isLanguageTag(k) {
			c.add(p.at(k), "is not an RFC 5646 language tag (2.2.s4.b2)")
		}
	}
}

// extensions checks that extension keys are IRIs (4.1.s3.b1); values are
// free JSON and not validated (4.1.s3.b2).
func (c *checker) extensions(p *path, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k := range m {
		if !isIRI(k) {
			c.add(p.at(k), "extension key must be an IRI (4.1.s3.b1)")
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
