package statements

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
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
	out, err := assignBytes(raw, a)
	if err != nil {
		return nil, nil, err
	}
	var s Statement
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, nil, Errorf(EInvalid, "statement: %v", err)
	}
	return out, &s, nil
}

// assignBytes returns the statement object raw with the LRS's properties
// set, as Assign describes.
func assignBytes(raw []byte, a Assigned) ([]byte, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, Errorf(EInvalid, "statement: %v", err)
	}
	hasID, hasVersion := false, false
	kept := members[:0]
	for _, m := range members {
		switch m.key {
		case "stored", "authority":
			continue
		case "id":
			hasID = true
		case "version":
			hasVersion = true
		case "context", "object":
			m.val = arrayContextActivities(m.val)
		}
		if a.UTC {
			m.val = utcTimestamps(m.key, m.val)
		}
		kept = append(kept, m)
	}
	if !hasID {
		kept = append(kept, member{"id", appendQuoted(nil, a.ID)})
	}
	if !hasVersion && a.Version != "" {
		kept = append(kept, member{"version", appendQuoted(nil, a.Version)})
	}
	if len(a.Authority) > 0 {
		kept = append(kept, member{"authority", a.Authority})
	}
	return buildObject(kept), nil
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
		if utc := utcTimestamp(ts); utc != ts {
			return appendQuoted(nil, utc)
		}
		return val
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
	n := 2
	for _, m := range ms {
		n += len(m.key) + len(m.val) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, m.key)
		b = append(b, ':')
		b = append(b, m.val...)
	}
	return append(b, '}')
}

// appendQuoted appends s as a JSON string, exactly as encoding/json writes
// it: the common case, printable ASCII that needs no escape, without its
// help.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return append(b, mustJSON(s)...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
// case of case-insensitive values, the serialisation of timestamps and
// numbers and a duration's precision beyond 0.01 s (NormalizeDuration) do
// not change it; any other difference does.
func Fingerprint(raw []byte) (string, error) {
	v, err := decodeTree(raw)
	if err != nil {
		return "", Errorf(EInvalid, "statement: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", errNotObject
	}
	return FingerprintDoc(m), nil
}

// normalizeStatement returns a copy of the statement m in the form its
// fingerprint is taken of. m is not modified: what changes is copied.
func normalizeStatement(in map[string]any) map[string]any {
	m := maps.Clone(in)
	if ts, ok := m["timestamp"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			m["timestamp"] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	if actor, ok := m["actor"]; ok {
		m["actor"] = normalizeActor(actor)
	}
	if r, ok := m["result"].(map[string]any); ok {
		if d, ok := r["duration"].(string); ok {
			if n := NormalizeDuration(d); n != d {
				r = maps.Clone(r)
				r["duration"] = n
				m["result"] = r
			}
		}
	}
	if verb, ok := m["verb"].(map[string]any); ok {
		if _, ok := verb["display"]; ok {
			verb = maps.Clone(verb)
			delete(verb, "display")
			m["verb"] = verb
		}
	}
	if obj, ok := m["object"].(map[string]any); ok {
		switch obj["objectType"] {
		case nil, "Activity":
			if _, ok := obj["definition"]; ok {
				obj = maps.Clone(obj)
				delete(obj, "definition")
				m["object"] = obj
			}
		case "Agent", "Group":
			m["object"] = normalizeActor(obj)
		case "StatementRef":
			if id, ok := obj["id"].(string); ok {
				obj = maps.Clone(obj)
				obj["id"] = strings.ToLower(id)
				m["object"] = obj
			}
		case "SubStatement":
			m["object"] = normalizeStatement(obj)
		}
	}
	if ctx, ok := m["context"].(map[string]any); ok {
		ctx = maps.Clone(ctx)
		m["context"] = ctx
		if r, ok := ctx["registration"].(string); ok {
			ctx["registration"] = strings.ToLower(r)
		}
		for _, key := range []string{"instructor", "team"} {
			if a, ok := ctx[key]; ok {
				ctx[key] = normalizeActor(a)
			}
		}
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			ca = maps.Clone(ca)
			ctx["contextActivities"] = ca
			for k, l := range ca {
				var list []any
				switch x := l.(type) {
				case map[string]any:
					list = []any{x}
				case []any:
					list = slices.Clone(x)
				default:
					continue
				}
				for i, a := range list {
					if am, ok := a.(map[string]any); ok {
						if _, ok := am["definition"]; ok {
							am = maps.Clone(am)
							delete(am, "definition")
							list[i] = am
						}
					}
				}
				ca[k] = list
			}
		}
		for _, key := range []string{"contextAgents", "contextGroups"} {
			if list, ok := ctx[key].([]any); ok {
				list = slices.Clone(list)
				ctx[key] = list
				for i, x := range list {
					if xm, ok := x.(map[string]any); ok {
						xm = maps.Clone(xm)
						for _, k := range []string{"agent", "group"} {
							if a, ok := xm[k]; ok {
								xm[k] = normalizeActor(a)
							}
						}
						list[i] = xm
					}
				}
			}
		}
	}
	return m
}

// NormalizeDuration returns an ISO 8601 duration in the form statements
// are compared in: seconds beyond 0.01 s precision are dropped (Data 4.6:
// "any precision beyond 0.01 second precision shall not be included in
// the comparison"), and so are leading zeros of numbers and trailing
// zeros of fractions, so "PT1.5S", "PT1.50S" and "PT1.5049S" compare
// equal. A string that is not a duration is returned as it is.
func NormalizeDuration(d string) string {
	if len(d) < 2 || d[0] != 'P' {
		return d
	}
	out := make([]byte, 0, len(d))
	out = append(out, 'P')
	inTime := false
	for i := 1; i < len(d); {
		if d[i] == 'T' {
			if inTime {
				return d
			}
			inTime = true
			out = append(out, 'T')
			i++
			continue
		}
		j := i
		for j < len(d) && (d[j] >= '0' && d[j] <= '9') {
			j++
		}
		whole := d[i:j]
		frac := ""
		if j < len(d) && (d[j] == '.' || d[j] == ',') {
			k := j + 1
			for k < len(d) && (d[k] >= '0' && d[k] <= '9') {
				k++
			}
			frac, j = d[j+1:k], k
		}
		if whole == "" && frac == "" || j >= len(d) || !strings.ContainsRune("YMWDHS", rune(d[j])) {
			return d
		}
		unit := d[j]
		if unit == 'S' && inTime && len(frac) > 2 {
			frac = frac[:2]
		}
		whole = strings.TrimLeft(whole, "0")
		if whole == "" {
			whole = "0"
		}
		frac = strings.TrimRight(frac, "0")
		out = append(out, whole...)
		if frac != "" {
			out = append(out, '.')
			out = append(out, frac...)
		}
		out = append(out, unit)
		i = j + 1
	}
	return string(out)
}

// normalizeActor returns a copy of an Agent or Group in the form its
// fingerprint is taken of; anything else is returned as it is.
func normalizeActor(v any) any {
	in, ok := v.(map[string]any)
	if !ok {
		return v
	}
	m := maps.Clone(in)
	if mbox, ok := m["mbox"].(string); ok {
		m["mbox"] = normalizeMbox(mbox)
	}
	if s, ok := m["mbox_sha1sum"].(string); ok {
		m["mbox_sha1sum"] = strings.ToLower(s)
	}
	if members, ok := m["member"].([]any); ok {
		members = slices.Clone(members)
		for i, x := range members {
			members[i] = normalizeActor(x)
		}
		sort.Slice(members, func(i, j int) bool {
			return bytes.Compare(canonicalJSON(members[i]), canonicalJSON(members[j])) < 0
		})
		m["member"] = members
	}
	return m
}

// canonicalJSON encodes a decoded tree with sorted keys and numbers in
// their shortest form.
func canonicalJSON(v any) []byte {
	return appendCanonical(nil, v)
}

func appendCanonical(b []byte, v any) []byte {
	switch x := v.(type) {
	case map[string]any:
		var arr [32]string
		keys := arr[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, k)
			b = append(b, ':')
			b = appendCanonical(b, x[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, e)
		}
		return append(b, ']')
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return strconv.AppendFloat(b, f, 'g', -1, 64)
		}
		return append(b, x...)
	case string:
		return appendQuoted(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case nil:
		return append(b, "null"...)
	default:
		enc, _ := json.Marshal(x)
		return append(b, enc...)
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

// idsActivity returns an Activity as its identifier alone: the ids format
// keeps "only identifiers" (Communication 2.1.3.s1.table1.row13), and an
// Activity's objectType is not one.
func idsActivity(a map[string]any) map[string]any {
	return map[string]any{"id": a["id"]}
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
