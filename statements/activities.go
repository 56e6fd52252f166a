package statements

import (
	"encoding/json"
)

// languageMapKeys are the properties of an activity definition that are
// language maps: merged language by language.
var languageMapKeys = map[string]bool{"name": true, "description": true}

// MergeDefinition merges the activity definition next into the canonical
// definition cur (nil when the LRS has none) and returns the result and
// whether it is authoritative. An authoritative definition comes from a
// credential with the define scope.
//
// Language maps (name, description) and extensions are merged entry by
// entry, the newer entry winning; other properties (type, moreInfo,
// interaction properties) are replaced by the newer definition. Once the
// canonical definition is authoritative, a non-authoritative definition
// only adds what is missing: languages, extensions and properties the
// canonical definition lacks (Data 2.4.4.1.s4.b3-b5).
func MergeDefinition(cur []byte, curAuth bool, next []byte, nextAuth bool) ([]byte, bool, error) {
	var n map[string]json.RawMessage
	if err := json.Unmarshal(next, &n); err != nil {
		return nil, false, Errorf(EInvalid, "definition: %v", err)
	}
	if len(cur) == 0 {
		return next, nextAuth, nil
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(cur, &c); err != nil {
		return nil, false, Internal(err, "stored activity definition is not JSON")
	}
	onlyAdd := curAuth && !nextAuth
	for k, v := range n {
		old, had := c[k]
		switch {
		case !had:
			c[k] = v
		case languageMapKeys[k] || k == "extensions":
			merged, err := mergeObjects(old, v, onlyAdd)
			if err != nil {
				return nil, false, err
			}
			c[k] = merged
		case !onlyAdd:
			c[k] = v
		}
	}
	out, err := json.Marshal(c)
	if err != nil {
		return nil, false, Internal(err, "cannot encode activity definition")
	}
	return out, curAuth || nextAuth, nil
}

// mergeObjects merges the members of JSON object b into a; with onlyAdd,
// a's members win.
func mergeObjects(a, b json.RawMessage, onlyAdd bool) (json.RawMessage, error) {
	var am, bm map[string]json.RawMessage
	if json.Unmarshal(a, &am) != nil || json.Unmarshal(b, &bm) != nil || am == nil {
		if onlyAdd {
			return a, nil
		}
		return b, nil
	}
	for k, v := range bm {
		if _, had := am[k]; had && onlyAdd {
			continue
		}
		am[k] = v
	}
	out, err := json.Marshal(am)
	if err != nil {
		return nil, Internal(err, "cannot encode activity definition")
	}
	return out, nil
}

// DefinedActivity is an activity of a statement with the definition the
// statement gives it.
type DefinedActivity struct {
	ID         string
	Definition json.RawMessage
}

// DefinedActivities returns the activities of a validated statement that
// carry a definition, in the order they appear: the object (or a
// SubStatement's object and context activities), then the context
// activities, parent, grouping, category and other.
func DefinedActivities(stmt []byte) []DefinedActivity {
	var out []DefinedActivity
	definedIn(stmt, true, &out)
	return out
}

func definedIn(stmt []byte, top bool, out *[]DefinedActivity) {
	ms, err := objectMembers(stmt)
	if err != nil {
		return
	}
	var obj, ctx []byte
	for _, m := range ms {
		switch m.key {
		case "object":
			obj = m.val
		case "context":
			ctx = m.val
		}
	}
	if obj != nil {
		var typ string
		typ, _ = stringValue(memberValue(obj, "objectType"))
		switch typ {
		case "", "Activity":
			addDefined(obj, out)
		case "SubStatement":
			if top {
				definedIn(obj, false, out)
			}
		}
	}
	ca := memberValue(ctx, "contextActivities")
	if ca == nil {
		return
	}
	lists, err := objectMembers(ca)
	if err != nil {
		return
	}
	for _, k := range []string{"parent", "grouping", "category", "other"} {
		for _, l := range lists {
			if l.key != k {
				continue
			}
			if len(l.val) > 0 && l.val[0] == '{' {
				addDefined(l.val, out)
				continue
			}
			elems, _ := arrayElements(l.val)
			for _, a := range elems {
				addDefined(a, out)
			}
		}
	}
}

// addDefined adds the activity a when it has an id and a definition.
func addDefined(a []byte, out *[]DefinedActivity) {
	ms, err := objectMembers(a)
	if err != nil {
		return
	}
	var id string
	var def []byte
	for _, m := range ms {
		switch m.key {
		case "id":
			id, _ = stringValue(m.val)
		case "definition":
			def = m.val
		}
	}
	if id != "" && len(def) > 0 && def[0] == '{' {
		*out = append(*out, DefinedActivity{ID: id, Definition: def})
	}
}
