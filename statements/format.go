package statements

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Statement formats of GET /statements.
const (
	FormatExact     = "exact"
	FormatIDs       = "ids"
	FormatCanonical = "canonical"
)

// TimeLayout is how the LRS writes the timestamps it sets: RFC 3339 in UTC
// with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// WithStored returns the statement object stmt with a "stored" property
// and, when withTimestamp, a "timestamp" of the same value.
func WithStored(stmt []byte, stored time.Time, withTimestamp bool) []byte {
	s := bytes.TrimRight(stmt, " \t\r\n")
	ts := FormatTime(stored)
	out := make([]byte, 0, len(s)+80)
	out = append(out, s[:len(s)-1]...)
	if !bytes.Equal(bytes.TrimSpace(s[:len(s)-1]), []byte("{")) {
		out = append(out, ',')
	}
	if withTimestamp {
		out = append(out, `"timestamp":"`...)
		out = append(out, ts...)
		out = append(out, `",`...)
	}
	out = append(out, `"stored":"`...)
	out = append(out, ts...)
	out = append(out, `"}`...)
	return out
}

// Assigned holds the properties the LRS assigns to a received statement.
type Assigned struct {
	ID        string // used when the statement has none
	Authority []byte // always replaces the received authority
	Version   string // used when the statement has none
	// UTC converts the statement's timestamps to UTC, as xAPI 2.0.0 has
	// the LRS do (9274.1.1 4.2.7) instead of rejecting other offsets.
	UTC bool
}

// Assign returns the received statement object raw with the LRS's
// properties set and its "stored" removed, keeping every other property as
// received, and the decoded Statement. A statement without "timestamp"
// stays without: its timestamp is its stored time (Data 2.4.7.s3.b2), which
// the store sets (see Record.StampTimestamp). raw must have passed
// validation.
func Assign(raw []byte, a Assigned) ([]byte, *Statement, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, nil, Errorf(EInvalid, "statement: %v", err)
	}
	has := map[string]bool{}
	kept := members[:0]
	for _, m := range members {
		if m.key == "stored" || m.key == "authority" {
			continue
		}
		has[m.key] = true
		if m.key == "context" || m.key == "object" {
			m.val = arrayContextActivities(m.val)
		}
		if a.UTC {
			m.val = utcTimestamps(m.key, m.val)
		}
		kept = append(kept, m)
	}
	if !has["id"] {
		kept = append(kept, member{"id", mustJSON(a.ID)})
	}
	if !has["version"] && a.Version != "" {
		kept = append(kept, member{"version", mustJSON(a.Version)})
	}
	if len(a.Authority) > 0 {
		kept = append(kept, member{"authority", a.Authority})
	}
	out := buildObject(kept)
	var s Statement
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, nil, Errorf(EInvalid, "statement: %v", err)
	}
	return out, &s, nil
}

// arrayContextActivities returns a context (or a SubStatement holding
// one) whose contextActivities values are all arrays: the LRS returns a
// single activity sent as an object as an array of one (Data 2.4.6.2.s4.b3).
func arrayContextActivities(raw json.RawMessage) json.RawMessage {
	ms, err := objectMembers(raw)
	if err != nil {
		return raw
	}
	changed := false
	for i, m := range ms {
		switch m.key {
		case "context":
			if v := arrayContextActivities(m.val); !bytes.Equal(v, m.val) {
				ms[i].val, changed = v, true
			}
		case "contextActivities":
			cas, err := objectMembers(m.val)
			if err != nil {
				return raw
			}
			wrapped := false
			for j, ca := range cas {
				if len(ca.val) > 0 && ca.val[0] == '{' {
					cas[j].val = append(append([]byte{'['}, ca.val...), ']')
					wrapped = true
				}
			}
			if wrapped {
				ms[i].val, changed = buildObject(cas), true
			}
		}
	}
	if !changed {
		return raw
	}
	return buildObject(ms)
}

// utcTimestamps returns the value of the member key with its timestamps in
// UTC: the statement's own, or a SubStatement object's.
func utcTimestamps(key string, val json.RawMessage) json.RawMessage {
	switch key {
	case "timestamp":
		var ts string
		if json.Unmarshal(val, &ts) != nil {
			return val
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || strings.HasSuffix(ts, "Z") {
			return val
		}
		return mustJSON(t.UTC().Format(time.RFC3339Nano))
	case "object":
		ms, err := objectMembers(val)
		if err != nil {
			return val
		}
		changed := false
		for i, m := range ms {
			if m.key == "timestamp" {
				if v := utcTimestamps("timestamp", m.val); !bytes.Equal(v, m.val) {
					ms[i].val, changed = v, true
				}
			}
		}
		if changed {
			return buildObject(ms)
		}
	}
	return val
}

type member struct {
	key string
	val json.RawMessage
}

var errNotObject = Errorf(EInvalid, "must be a JSON object")

func buildObject(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(m.key))
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with strings
	}
	return b
}

func decodeTree(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Fingerprint returns a digest of a received statement's content under the
// spec's comparison rules: the properties the LRS may assign (id,
// authority, stored, version, a missing timestamp), activity definitions
// and verb displays, the order of properties and of group members, the
// case of case-insensitive values and the serialisation of timestamps and
// numbers do not change it; any other difference does.
func Fingerprint(raw []byte) (string, error) {
	v, err := decodeTree(raw)
	if err != nil {
		return "", Errorf(EInvalid, "statement: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", errNotObject
	}
	for _, k := range []string{"id", "authority", "stored", "version"} {
		delete(m, k)
	}
	normalizeStatement(m)
	h := sha256.Sum256(canonicalJSON(m))
	return hex.EncodeToString(h[:]), nil
}

func normalizeStatement(m map[string]any) {
	if ts, ok := m["timestamp"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			m["timestamp"] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	normalizeActor(m["actor"])
	if verb, ok := m["verb"].(map[string]any); ok {
		delete(verb, "display")
	}
	if obj, ok := m["object"].(map[string]any); ok {
		switch obj["objectType"] {
		case nil, "Activity":
			delete(obj, "definition")
		case "Agent", "Group":
			normalizeActor(obj)
		case "StatementRef":
			if id, ok := obj["id"].(string); ok {
				obj["id"] = strings.ToLower(id)
			}
		case "SubStatement":
			normalizeStatement(obj)
		}
	}
	if ctx, ok := m["context"].(map[string]any); ok {
		if r, ok := ctx["registration"].(string); ok {
			ctx["registration"] = strings.ToLower(r)
		}
		normalizeActor(ctx["instructor"])
		normalizeActor(ctx["team"])
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			for k, l := range ca {
				if one, ok := l.(map[string]any); ok {
					l = []any{one}
					ca[k] = l
				}
				if list, ok := l.([]any); ok {
					for _, a := range list {
						if am, ok := a.(map[string]any); ok {
							delete(am, "definition")
						}
					}
				}
			}
		}
		for _, key := range []string{"contextAgents", "contextGroups"} {
			if list, ok := ctx[key].([]any); ok {
				for _, x := range list {
					if xm, ok := x.(map[string]any); ok {
						normalizeActor(xm["agent"])
						normalizeActor(xm["group"])
					}
				}
			}
		}
	}
}

func normalizeActor(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if mbox, ok := m["mbox"].(string); ok {
		m["mbox"] = normalizeMbox(mbox)
	}
	if s, ok := m["mbox_sha1sum"].(string); ok {
		m["mbox_sha1sum"] = strings.ToLower(s)
	}
	if members, ok := m["member"].([]any); ok {
		for _, x := range members {
			normalizeActor(x)
		}
		sort.Slice(members, func(i, j int) bool {
			return bytes.Compare(canonicalJSON(members[i]), canonicalJSON(members[j])) < 0
		})
	}
}

// canonicalJSON encodes a decoded tree with sorted keys and numbers in
// their shortest form.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	writeCanonical(&b, v)
	return b.Bytes()
}

func writeCanonical(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(mustJSON(k))
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString(string(x))
		}
	default:
		enc, _ := json.Marshal(x)
		b.Write(enc)
	}
}

// Format returns a stored statement (with "stored") in format: FormatExact
// returns it as stored; FormatIDs keeps only what identifies agents,
// groups, activities and verbs; FormatCanonical keeps one language of each
// language map, the best match for langs (Accept-Language, most preferred
// first).
func Format(stmt []byte, format string, langs []string) ([]byte, error) {
	if format == FormatExact || format == "" {
		return stmt, nil
	}
	v, err := decodeTree(stmt)
	if err != nil {
		return nil, Internal(err, "stored statement is not JSON")
	}
	m, _ := v.(map[string]any)
	switch format {
	case FormatIDs:
		idsStatement(m)
	case FormatCanonical:
		canonicalStatement(m, langs)
	default:
		return nil, Errorf(EInvalid, "format: must be one of ids, exact, canonical")
	}
	return json.Marshal(m)
}

func idsStatement(m map[string]any) {
	if m == nil {
		return
	}
	m["actor"] = idsActor(m["actor"])
	if verb, ok := m["verb"].(map[string]any); ok {
		m["verb"] = map[string]any{"id": verb["id"]}
	}
	if obj, ok := m["object"].(map[string]any); ok {
		switch obj["objectType"] {
		case nil, "Activity":
			m["object"] = idsActivity(obj)
		case "Agent", "Group":
			m["object"] = idsActor(obj)
		case "SubStatement":
			idsStatement(obj)
		}
	}
	if _, ok := m["authority"]; ok {
		m["authority"] = idsActor(m["authority"])
	}
	if ctx, ok := m["context"].(map[string]any); ok {
		for _, k := range []string{"instructor", "team"} {
			if _, ok := ctx[k]; ok {
				ctx[k] = idsActor(ctx[k])
			}
		}
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			for k, l := range ca {
				switch x := l.(type) {
				case []any:
					for i, a := range x {
						if am, ok := a.(map[string]any); ok {
							x[i] = idsActivity(am)
						}
					}
				case map[string]any:
					ca[k] = idsActivity(x)
				}
			}
		}
		for _, pair := range [][2]string{{"contextAgents", "agent"}, {"contextGroups", "group"}} {
			if list, ok := ctx[pair[0]].([]any); ok {
				for _, x := range list {
					if xm, ok := x.(map[string]any); ok {
						xm[pair[1]] = idsActor(xm[pair[1]])
					}
				}
			}
		}
	}
}

func idsActivity(a map[string]any) map[string]any {
	out := map[string]any{"id": a["id"]}
	if t, ok := a["objectType"]; ok {
		out["objectType"] = t
	}
	return out
}

var ifiKeys = []string{"mbox", "mbox_sha1sum", "openid", "account"}

func idsActor(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	if t, ok := m["objectType"]; ok {
		out["objectType"] = t
	}
	identified := false
	for _, k := range ifiKeys {
		if x, ok := m[k]; ok {
			out[k] = x
			identified = true
		}
	}
	if !identified {
		if members, ok := m["member"].([]any); ok {
			ms := make([]any, len(members))
			for i, x := range members {
				ms[i] = idsActor(x)
			}
			out["member"] = ms
		}
	}
	return out
}

func canonicalStatement(m map[string]any, langs []string) {
	if m == nil {
		return
	}
	if verb, ok := m["verb"].(map[string]any); ok {
		filterLangMap(verb, "display", langs)
	}
	if obj, ok := m["object"].(map[string]any); ok {
		switch obj["objectType"] {
		case nil, "Activity":
			canonicalActivity(obj, langs)
		case "SubStatement":
			canonicalStatement(obj, langs)
		}
	}
	if ctx, ok := m["context"].(map[string]any); ok {
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			for _, l := range ca {
				switch x := l.(type) {
				case []any:
					for _, a := range x {
						if am, ok := a.(map[string]any); ok {
							canonicalActivity(am, langs)
						}
					}
				case map[string]any:
					canonicalActivity(x, langs)
				}
			}
		}
	}
	if atts, ok := m["attachments"].([]any); ok {
		for _, a := range atts {
			if am, ok := a.(map[string]any); ok {
				filterLangMap(am, "display", langs)
				filterLangMap(am, "description", langs)
			}
		}
	}
}

func canonicalActivity(a map[string]any, langs []string) {
	def, ok := a["definition"].(map[string]any)
	if !ok {
		return
	}
	filterLangMap(def, "name", langs)
	filterLangMap(def, "description", langs)
	for _, k := range []string{"choices", "scale", "source", "target", "steps"} {
		if list, ok := def[k].([]any); ok {
			for _, c := range list {
				if cm, ok := c.(map[string]any); ok {
					filterLangMap(cm, "description", langs)
				}
			}
		}
	}
}

// filterLangMap keeps only the best language of the language map m[key].
func filterLangMap(m map[string]any, key string, langs []string) {
	lm, ok := m[key].(map[string]any)
	if !ok || len(lm) <= 1 {
		return
	}
	tags := make([]string, 0, len(lm))
	for k := range lm {
		tags = append(tags, k)
	}
	best := BestLanguage(tags, langs)
	m[key] = map[string]any{best: lm[best]}
}

// BestLanguage returns the tag of tags that best matches the preferences
// langs (most preferred first, "*" for any): an exact match first, then a
// tag that has a preference as its prefix, then a preference that has the
// tag as its prefix; with no match, the first tag in sorted order.
func BestLanguage(tags, langs []string) string {
	sort.Strings(tags)
	for _, want := range langs {
		if want == "*" {
			break
		}
		for _, t := range tags {
			if strings.EqualFold(t, want) {
				return t
			}
		}
		for _, t := range tags {
			if len(t) > len(want) && strings.EqualFold(t[:len(want)], want) && t[len(want)] == '-' {
				return t
			}
		}
		for _, t := range tags {
			if len(want) > len(t) && strings.EqualFold(want[:len(t)], t) && want[len(t)] == '-' {
				return t
			}
		}
	}
	return tags[0]
}

// ParseAcceptLanguage returns the language ranges of an Accept-Language
// header, most preferred first; ranges with q=0 are left out.
func ParseAcceptLanguage(h string) []string {
	type rng struct {
		tag string
		q   float64
	}
	var rs []rng
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			rs = append(rs, rng{strings.TrimSpace(tag), q})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].q > rs[j].q })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.tag
	}
	return out
}
