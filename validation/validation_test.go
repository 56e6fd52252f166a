package validation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// base is a minimal valid statement; stmt adds or replaces its top-level
// properties.
const base = `{"actor":{"objectType":"Agent","mbox":"mailto:learner@example.com"},` +
	`"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced","display":{"en-US":"experienced"}},` +
	`"object":{"id":"http://example.com/activities/1"}}`

// stmt returns base with the top-level properties of override (a JSON
// object) added or replaced; a property set to the JSON string "-" is removed.
func stmt(override string) string {
	var b, o map[string]json.RawMessage
	if err := json.Unmarshal([]byte(base), &b); err != nil {
		panic(err)
	}
	if err := json.Unmarshal([]byte(override), &o); err != nil {
		panic("bad test override " + override + ": " + err.Error())
	}
	for k, v := range o {
		if string(v) == `"-"` {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	out, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return string(out)
}

// ctx returns a statement with the given context object.
func ctx(context string) string { return stmt(`{"context":` + context + `}`) }

// obj returns a statement with the given object.
func obj(object string) string { return stmt(`{"object":` + object + `}`) }

// def returns a statement whose object is an Activity with the given definition.
func def(definition string) string {
	return obj(`{"id":"http://example.com/q1","definition":` + definition + `}`)
}

// score returns a statement with the given result score.
func score(s string) string { return stmt(`{"result":{"score":` + s + `}}`) }

const both = "both"

type statementCase struct {
	name     string
	version  string // V103, V200 or both
	json     string
	wantPath string // "*" matches any path
	wantRule string // substring; "" with wantPath "" means valid
}

func valid(name, version, doc string) statementCase {
	return statementCase{name: name, version: version, json: doc}
}

func invalid(name, version, doc, path, rule string) statementCase {
	return statementCase{name: name, version: version, json: doc, wantPath: path, wantRule: rule}
}

var statementCases = []statementCase{
	// JSON itself.
	valid("minimal", both, base),
	invalid("not JSON", both, `{"actor":`, "", "not valid JSON"),
	invalid("trailing data", both, base+`{}`, "", "unexpected data after"),
	invalid("empty body", both, "  ", "", "is empty"),
	invalid("invalid UTF-8", both, stmt(`{"result":{"response":"ok"}}`)[:20]+"\xff\xfe"+stmt(`{}`)[20:], "", "UTF-8"),
	invalid("array where a statement is expected", both, `[`+base+`]`, "", "must be an object"),
	invalid("duplicate key at top level", both, `{"actor":{"mbox":"mailto:a@example.com"},"actor":{"mbox":"mailto:b@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`, "/actor", "property used more than once (2.2.s2.b2)"),
	invalid("duplicate key in extensions", both, stmt(`{"result":{"extensions":{"http://example.com/e":1}}}`)[:0]+strings.Replace(stmt(`{"result":{"extensions":{"http://example.com/e":{"k":1}}}}`), `{"k":1}`, `{"k":1,"k":2}`, 1), "/result/extensions/http:~1~1example.com~1e/k", "more than once"),
	invalid("deep nesting", both, stmt(`{"result":{"extensions":{"http://example.com/e":`+strings.Repeat("[", 300)+strings.Repeat("]", 300)+`}}}`), "*", "nested more than"),
	invalid("number out of range", both, score(`{"raw":1e400}`), "/result/score/raw", "out of range"),
	valid("huge number inside extensions", both, stmt(`{"result":{"extensions":{"http://example.com/e":1e400}}}`)),
	// Numbers outside float64 range are allowed in the values of extensions
	// wherever statements have extensions, and nowhere else, not even under
	// another property named "extensions".
	valid("huge number in activity definition extensions", both, def(`{"extensions":{"http://example.com/e":1e400}}`)),
	valid("huge number in context extensions", both, ctx(`{"extensions":{"http://example.com/e":[-1e400,{"k":1E+400}]}}`)),
	valid("huge number in context activity extensions", both, ctx(`{"contextActivities":{"parent":[{"id":"http://example.com/p","definition":{"extensions":{"http://example.com/e":1e400}}}],"category":{"id":"http://example.com/c","definition":{"extensions":{"http://example.com/e":1e400}}}}}`)),
	valid("huge number in SubStatement extensions", both, obj(`{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a","definition":{"extensions":{"http://example.com/e":1e400}}},"result":{"extensions":{"http://example.com/e":1e400}},"context":{"extensions":{"http://example.com/e":1e400}}}`)),
	invalid("huge number under extensions in actor objectType", both, stmt(`{"actor":{"objectType":{"extensions":1e400}}}`), "/actor/objectType/extensions", "number is out of range"),
	invalid("huge number under result extensions in actor objectType", both, stmt(`{"actor":{"objectType":{"result":{"extensions":{"http://example.com/e":1e400}}}}}`), "/actor/objectType/result/extensions/http:~1~1example.com~1e", "number is out of range"),
	invalid("huge number in verb extensions", both, stmt(`{"verb":{"id":"http://example.com/v","extensions":{"http://example.com/e":1e400}}}`), "/verb/extensions/http:~1~1example.com~1e", "number is out of range"),
	invalid("huge number under extensions in object objectType", both, obj(`{"id":"http://example.com/a","objectType":{"extensions":{"http://example.com/e":1e400}}}`), "/object/objectType/extensions/http:~1~1example.com~1e", "number is out of range"),
	invalid("huge number under extensions in interactionType", both, def(`{"interactionType":{"extensions":{"http://example.com/e":1e400}}}`), "/object/definition/interactionType/extensions/http:~1~1example.com~1e", "number is out of range"),
	invalid("huge number under extensions in a context agent", both, ctx(`{"contextAgents":[{"objectType":{"extensions":1e400},"agent":{"mbox":"mailto:a@example.com"}}]}`), "/context/contextAgents/0/objectType/extensions", "number is out of range"),
	invalid("huge number as the extensions object", both, stmt(`{"result":{"extensions":1e400}}`), "/result/extensions", "number is out of range"),
	invalid("huge number in an extensions array", both, ctx(`{"extensions":[1e400]}`), "/context/extensions/0", "number is out of range"),
	invalid("huge number in the definition of an Agent object", both, obj(`{"objectType":"Agent","mbox":"mailto:a@example.com","definition":{"extensions":{"http://example.com/e":1e400}}}`), "/object/definition", "not a property allowed here"),

	// 2.2 formatting requirements.
	invalid("actor required", both, stmt(`{"actor":"-"}`), "/actor", "is required"),
	invalid("verb required", both, stmt(`{"verb":"-"}`), "/verb", "is required"),
	invalid("object required", both, stmt(`{"object":"-"}`), "/object", "is required"),
	invalid("unknown property", both, stmt(`{"foo":1}`), "/foo", "not a property allowed"),
	invalid("key case must match", both, stmt(`{"Result":{}}`), "/Result", "case sensitive"),
	invalid("null value", both, stmt(`{"result":{"success":null}}`), "/result/success", "must not be null (2.2.s4.b1.b1)"),
	invalid("null statement property", both, stmt(`{"context":null}`), "/context", "must not be null"),
	valid("null inside extensions", both, stmt(`{"result":{"extensions":{"http://example.com/e":null}}}`)),
	invalid("null extensions object", both, stmt(`{"result":{"extensions":null}}`), "/result/extensions", "must not be null"),
	invalid("string where number required", both, score(`{"raw":"5"}`), "/result/score/raw", "must be a JSON number"),
	invalid("string where boolean required", both, stmt(`{"result":{"success":"true"}}`), "/result/success", "must be a JSON boolean"),
	invalid("objectType case", both, stmt(`{"actor":{"objectType":"agent","mbox":"mailto:a@example.com"}}`), "/actor/objectType", "exact case"),
	invalid("interactionType case", both, def(`{"interactionType":"Choice"}`), "/object/definition/interactionType", "exact case"),

	// 2.4.1 id.
	valid("id upper case", both, stmt(`{"id":"FD41C918-B88B-4B20-A0A5-A4C32391AAA0"}`)),
	valid("id of any variant", both, stmt(`{"id":"12345678-1234-5678-1234-567812345678"}`)),
	invalid("id not a UUID", both, stmt(`{"id":"fd41c918b88b4b20a0a5a4c32391aaa0"}`), "/id", "UUID"),
	invalid("id empty", both, stmt(`{"id":""}`), "/id", "UUID"),
	invalid("id not a string", both, stmt(`{"id":1}`), "/id", "must be a string"),

	// 2.4.2 actor.
	invalid("mbox without mailto", both, stmt(`{"actor":{"mbox":"learner@example.com"}}`), "/actor/mbox", "must be a mailto: IRI"),
	invalid("mbox without address", both, stmt(`{"actor":{"mbox":"mailto:"}}`), "/actor/mbox", "mailto"),
	invalid("agent with two IFIs", both, stmt(`{"actor":{"mbox":"mailto:a@example.com","openid":"http://a.example.com/"}}`), "/actor", "exactly one inverse functional identifier"),
	invalid("agent without IFI", both, stmt(`{"actor":{"name":"Nobody"}}`), "/actor", "exactly one inverse functional identifier"),
	valid("agent with mbox_sha1sum", both, stmt(`{"actor":{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}}`)),
	invalid("mbox_sha1sum too short", both, stmt(`{"actor":{"mbox_sha1sum":"ebd31e95"}}`), "/actor/mbox_sha1sum", "40 hex"),
	invalid("openid not a URI", both, stmt(`{"actor":{"openid":"toby at openid"}}`), "/actor/openid", "URI"),
	valid("agent with account", both, stmt(`{"actor":{"account":{"homePage":"http://www.example.com","name":"1625378"}}}`)),
	invalid("account without name", both, stmt(`{"actor":{"account":{"homePage":"http://www.example.com"}}}`), "/actor/account/name", "is required"),
	invalid("account homePage not an IRL", both, stmt(`{"actor":{"account":{"homePage":"www.example.com","name":"x"}}}`), "/actor/account/homePage", "IRL"),
	invalid("account unknown property", both, stmt(`{"actor":{"account":{"homePage":"http://example.com","name":"x","id":1}}}`), "/actor/account/id", "not a property"),
	valid("identified group without members", both, stmt(`{"actor":{"objectType":"Group","mbox":"mailto:team@example.com"}}`)),
	valid("anonymous group", both, stmt(`{"actor":{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}}`)),
	invalid("anonymous group without member", both, stmt(`{"actor":{"objectType":"Group","name":"x"}}`), "/actor", "anonymous Group"),
	invalid("anonymous group with empty member", both, stmt(`{"actor":{"objectType":"Group","member":[]}}`), "/actor", "anonymous Group"),
	invalid("identified group with two IFIs", both, stmt(`{"actor":{"objectType":"Group","mbox":"mailto:t@example.com","openid":"http://t.example.com"}}`), "/actor", "identified Group"),
	invalid("group member is a group", both, stmt(`{"actor":{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:t@example.com"}]}}`), "/actor/member/0/objectType", "members of a Group are Agents"),
	invalid("group member without IFI", both, stmt(`{"actor":{"objectType":"Group","member":[{"name":"x"}]}}`), "/actor/member/0", "exactly one"),
	invalid("member on an agent", both, stmt(`{"actor":{"mbox":"mailto:a@example.com","member":[]}}`), "/actor/member", "not a property"),

	// 2.4.3 verb.
	invalid("verb id not an IRI", both, stmt(`{"verb":{"id":"experienced"}}`), "/verb/id", "IRI"),
	invalid("verb id with space", both, stmt(`{"verb":{"id":"http://example.com/a verb"}}`), "/verb/id", "IRI"),
	invalid("verb id missing", both, stmt(`{"verb":{"display":{"en":"x"}}}`), "/verb/id", "is required"),
	invalid("verb display key", both, stmt(`{"verb":{"id":"http://example.com/v","display":{"en_GB":"x"}}}`), "/verb/display/en_GB", "RFC 5646"),
	invalid("verb display value", both, stmt(`{"verb":{"id":"http://example.com/v","display":{"en-US":1}}}`), "/verb/display/en-US", "must be a string"),
	invalid("voiding statement with an Activity", both, stmt(`{"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"}}`), "/object", "StatementRef (2.3.2.s2.b1)"),

	// 2.4.4 object: Activity.
	invalid("activity id relative", both, obj(`{"id":"#fragment"}`), "/object/id", "IRI"),
	invalid("activity id missing", both, obj(`{"objectType":"Activity"}`), "/object/id", "is required"),
	invalid("activity unknown property", both, obj(`{"id":"http://example.com/a","name":"x"}`), "/object/name", "not a property"),
	invalid("unknown objectType", both, obj(`{"objectType":"Thing","id":"http://example.com/a"}`), "/object/objectType", "must be one of"),
	invalid("definition type", both, def(`{"type":"cmi.interaction"}`), "/object/definition/type", "IRI"),
	invalid("definition moreInfo", both, def(`{"moreInfo":"example.com"}`), "/object/definition/moreInfo", "IRL"),
	invalid("definition name key", both, def(`{"name":{"en_US":"x"}}`), "/object/definition/name/en_US", "RFC 5646"),
	invalid("extension key not an IRI", both, def(`{"extensions":{"color":"red"}}`), "/object/definition/extensions/color", "IRI (4.1.s3.b1)"),
	invalid("components without interactionType", both, def(`{"choices":[{"id":"a"}]}`), "/object/definition/interactionType", "is required"),
	invalid("pattern without interactionType", both, def(`{"correctResponsesPattern":["a"]}`), "/object/definition/interactionType", "is required"),
	invalid("choices on true-false", both, def(`{"interactionType":"true-false","choices":[{"id":"a"}]}`), "/object/definition/choices", "not supported"),
	invalid("scale on choice", both, def(`{"interactionType":"choice","scale":[{"id":"a"}]}`), "/object/definition/scale", "not supported"),
	valid("source and target on matching", both, def(`{"interactionType":"matching","source":[{"id":"a"}],"target":[{"id":"1"}]}`)),
	invalid("duplicate component ids", both, def(`{"interactionType":"choice","choices":[{"id":"a"},{"id":"a"}]}`), "/object/definition/choices/1/id", "distinct"),
	invalid("component id missing", both, def(`{"interactionType":"likert","scale":[{"description":{"en":"x"}}]}`), "/object/definition/scale/0/id", "is required"),
	invalid("component description key", both, def(`{"interactionType":"performance","steps":[{"id":"a","description":{"e":"x"}}]}`), "/object/definition/steps/0/description/e", "RFC 5646"),
	invalid("pattern not strings", both, def(`{"interactionType":"numeric","correctResponsesPattern":[4]}`), "/object/definition/correctResponsesPattern/0", "must be a string"),
	valid("empty correctResponsesPattern", both, def(`{"interactionType":"fill-in","correctResponsesPattern":[]}`)),

	// 2.4.4.2 Agent or Group as object.
	valid("agent object", both, obj(`{"objectType":"Agent","mbox":"mailto:a@example.com"}`)),
	valid("group object", both, obj(`{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`)),
	invalid("agent object without objectType", both, obj(`{"mbox":"mailto:a@example.com"}`), "/object/mbox", "not a property"),
	invalid("agent object without IFI", both, obj(`{"objectType":"Agent","name":"x"}`), "/object", "exactly one"),

	// 2.4.4.3 StatementRef and SubStatement.
	invalid("statementref id", both, obj(`{"objectType":"StatementRef","id":"http://example.com/s"}`), "/object/id", "UUID"),
	invalid("statementref without id", both, obj(`{"objectType":"StatementRef"}`), "/object/id", "is required"),
	invalid("statementref extra property", both, obj(`{"objectType":"StatementRef","id":"9e13cefd-53d3-4eac-b5ed-2cf6693903bb","definition":{}}`), "/object/definition", "not a property"),
	invalid("substatement with id", both, obj(`{"objectType":"SubStatement","id":"9e13cefd-53d3-4eac-b5ed-2cf6693903bb","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/id", "must not be used in a SubStatement"),
	invalid("substatement with stored", both, obj(`{"objectType":"SubStatement","stored":"2013-05-18T05:32:34.804Z","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/stored", "SubStatement"),
	invalid("substatement with version", both, obj(`{"objectType":"SubStatement","version":"1.0.0","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/version", "SubStatement"),
	invalid("substatement with authority", both, obj(`{"objectType":"SubStatement","authority":{"mbox":"mailto:a@example.com"},"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/authority", "SubStatement"),
	invalid("nested substatement", both, obj(`{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}}`), "/object/object", "must not contain another SubStatement"),
	invalid("substatement without actor", both, obj(`{"objectType":"SubStatement","verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/actor", "is required"),
	invalid("substatement inner rules", both, obj(`{"objectType":"SubStatement","actor":{"mbox":"a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/actor/mbox", "mailto"),
	valid("substatement with future timestamp", both, obj(`{"objectType":"SubStatement","timestamp":"2999-01-01T00:00:00Z","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`)),
	invalid("substatement timestamp", both, obj(`{"objectType":"SubStatement","timestamp":"tomorrow","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`), "/object/timestamp", "date"),

	// 2.4.5 result.
	valid("scaled bounds", both, score(`{"scaled":-1}`)),
	valid("scaled upper bound", both, score(`{"scaled":1.0}`)),
	invalid("scaled above 1", both, score(`{"scaled":1.01}`), "/result/score/scaled", "between -1 and 1"),
	invalid("scaled below -1", both, score(`{"scaled":-1.5}`), "/result/score/scaled", "between -1 and 1"),
	valid("raw between min and max", both, score(`{"raw":5,"min":0,"max":10}`)),
	valid("raw unrestricted without min and max", both, score(`{"raw":-5000.5}`)),
	invalid("min equal to max", both, score(`{"min":10,"max":10}`), "/result/score/min", "less than max"),
	invalid("raw below min", both, score(`{"raw":-1,"min":0}`), "/result/score/raw", "less than min"),
	invalid("raw above max", both, score(`{"raw":11,"min":0,"max":10}`), "/result/score/raw", "greater than max"),
	invalid("score unknown property", both, score(`{"percent":5}`), "/result/score/percent", "not a property"),
	invalid("response not a string", both, stmt(`{"result":{"response":5}}`), "/result/response", "must be a string"),
	valid("duration hours minutes seconds", both, stmt(`{"result":{"duration":"PT4H35M59.14S"}}`)),
	valid("duration all components", both, stmt(`{"result":{"duration":"P3Y1M29DT4H35M59.14S"}}`)),
	valid("duration years", both, stmt(`{"result":{"duration":"P3Y"}}`)),
	valid("duration weeks", both, stmt(`{"result":{"duration":"P4W"}}`)),
	valid("duration comma fraction", both, stmt(`{"result":{"duration":"PT0,5S"}}`)),
	invalid("duration weeks combined", both, stmt(`{"result":{"duration":"P4W1D"}}`), "/result/duration", "ISO 8601 duration"),
	invalid("duration empty time", both, stmt(`{"result":{"duration":"PT"}}`), "/result/duration", "ISO 8601 duration"),
	invalid("duration no P", both, stmt(`{"result":{"duration":"1H"}}`), "/result/duration", "ISO 8601 duration"),
	invalid("duration fraction not last", both, stmt(`{"result":{"duration":"PT1.5H30M"}}`), "/result/duration", "ISO 8601 duration"),
	invalid("duration alternative format", both, stmt(`{"result":{"duration":"P0003-01-29T04:35:59"}}`), "/result/duration", "ISO 8601 duration"),
	invalid("duration seconds without T", both, stmt(`{"result":{"duration":"P16559.14S"}}`), "/result/duration", "ISO 8601 duration"),

	// 2.4.6 context.
	invalid("registration", both, ctx(`{"registration":"abc"}`), "/context/registration", "UUID"),
	valid("instructor group", both, ctx(`{"instructor":{"objectType":"Group","mbox":"mailto:t@example.com"}}`)),
	invalid("instructor agent", both, ctx(`{"instructor":{"mbox":"t@example.com"}}`), "/context/instructor/mbox", "mailto"),
	invalid("team is an agent", both, ctx(`{"team":{"mbox":"mailto:t@example.com"}}`), "/context/team/objectType", "is required"),
	invalid("team anonymous without members", both, ctx(`{"team":{"objectType":"Group"}}`), "/context/team", "anonymous Group"),
	valid("contextActivities single object", both, ctx(`{"contextActivities":{"parent":{"id":"http://example.com/p"}}}`)),
	valid("contextActivities arrays", both, ctx(`{"contextActivities":{"parent":[{"id":"http://example.com/p"}],"grouping":[],"category":[{"id":"http://example.com/c"}],"other":[{"id":"http://example.com/o","objectType":"Activity"}]}}`)),
	invalid("contextActivities unknown key", both, ctx(`{"contextActivities":{"parents":[]}}`), "/context/contextActivities/parents", "not a property"),
	invalid("contextActivities id", both, ctx(`{"contextActivities":{"parent":[{"id":"http://example.com/p"},{"id":"p2"}]}}`), "/context/contextActivities/parent/1/id", "IRI"),
	invalid("contextActivities not activity", both, ctx(`{"contextActivities":{"other":[{"objectType":"Agent","mbox":"mailto:a@example.com"}]}}`), "/context/contextActivities/other/0/objectType", "Activity"),
	valid("revision with activity", both, ctx(`{"revision":"2","platform":"web"}`)),
	invalid("revision with agent object", both, stmt(`{"object":{"objectType":"Agent","mbox":"mailto:a@example.com"},"context":{"revision":"2"}}`), "/context/revision", "Activity (2.4.6.s4.b1)"),
	invalid("platform with statementref object", both, stmt(`{"object":{"objectType":"StatementRef","id":"9e13cefd-53d3-4eac-b5ed-2cf6693903bb"},"context":{"platform":"web"}}`), "/context/platform", "Activity (2.4.6.s4.b2)"),
	invalid("language tag", both, ctx(`{"language":"en_US"}`), "/context/language", "RFC 5646"),
	invalid("context statement not a ref", both, ctx(`{"statement":{"objectType":"Activity","id":"http://example.com/a"}}`), "/context/statement/objectType", "StatementRef"),
	invalid("context statement id", both, ctx(`{"statement":{"objectType":"StatementRef","id":"x"}}`), "/context/statement/id", "UUID"),
	invalid("context extension key", both, ctx(`{"extensions":{"altitude":1}}`), "/context/extensions/altitude", "IRI"),
	invalid("contextAgents in 1.0.3", V103, ctx(`{"contextAgents":[]}`), "/context/contextAgents", "not a property"),
	invalid("contextGroups in 1.0.3", V103, ctx(`{"contextGroups":[]}`), "/context/contextGroups", "not a property"),
	valid("contextAgents", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:i@example.com"},"relevantTypes":["http://example.com/instructor"]}]}`)),
	invalid("contextAgent objectType", V200, ctx(`{"contextAgents":[{"objectType":"Should fail","agent":{"mbox":"mailto:i@example.com"}}]}`), "/context/contextAgents/0/objectType", "contextAgent"),
	invalid("contextAgent objectType missing", V200, ctx(`{"contextAgents":[{"agent":{"mbox":"mailto:i@example.com"}}]}`), "/context/contextAgents/0/objectType", "is required"),
	invalid("contextAgent agent invalid", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"key":"Should fail"}}]}`), "/context/contextAgents/0/agent/key", "not a property"),
	invalid("contextAgent agent is a group", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"objectType":"Group","mbox":"mailto:g@example.com"}}]}`), "/context/contextAgents/0/agent/objectType", "Agent"),
	invalid("contextAgent agent without IFI", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"name":"x"}}]}`), "/context/contextAgents/0/agent", "exactly one"),
	invalid("contextAgent relevantTypes empty", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:i@example.com"},"relevantTypes":[]}]}`), "/context/contextAgents/0/relevantTypes", "empty"),
	invalid("contextAgent relevantTypes not IRIs", V200, ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:i@example.com"},"relevantTypes":["abc"]}]}`), "/context/contextAgents/0/relevantTypes/0", "IRI"),
	invalid("contextAgents not an array", V200, ctx(`{"contextAgents":{"objectType":"contextAgent","agent":{"mbox":"mailto:i@example.com"}}}`), "/context/contextAgents", "must be an array"),
	valid("contextGroups", V200, ctx(`{"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:g@example.com"},"relevantTypes":["http://example.com/team"]}]}`)),
	invalid("contextGroup objectType", V200, ctx(`{"contextGroups":[{"objectType":"Should fail","group":{"objectType":"Group","mbox":"mailto:g@example.com"}}]}`), "/context/contextGroups/0/objectType", "contextGroup"),
	invalid("contextGroup group invalid", V200, ctx(`{"contextGroups":[{"objectType":"contextGroup","group":{"key":"Should fail"}}]}`), "/context/contextGroups/0/group/objectType", "is required"),
	invalid("contextGroup group is an agent", V200, ctx(`{"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Agent","mbox":"mailto:a@example.com"}}]}`), "/context/contextGroups/0/group/objectType", "Group"),
	invalid("contextGroup relevantTypes empty", V200, ctx(`{"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:g@example.com"},"relevantTypes":[]}]}`), "/context/contextGroups/0/relevantTypes", "empty"),
	invalid("contextGroup anonymous without members", V200, ctx(`{"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group"}}]}`), "/context/contextGroups/0/group", "anonymous Group"),

	// 4.5 timestamps, 1.0.3: ISO 8601.
	valid("1.0.3 timestamp with offset", V103, stmt(`{"timestamp":"2015-11-18T12:17:00+00:00"}`)),
	valid("1.0.3 timestamp Z with fraction", V103, stmt(`{"timestamp":"2015-11-18T12:17:00.123456Z"}`)),
	valid("1.0.3 timestamp without zone", V103, stmt(`{"timestamp":"2015-11-18T12:17:00"}`)),
	valid("1.0.3 timestamp basic format", V103, stmt(`{"timestamp":"20151118T121700+0530"}`)),
	valid("1.0.3 timestamp minutes precision", V103, stmt(`{"timestamp":"2015-11-18T12:17+01:00"}`)),
	valid("1.0.3 timestamp hour offset", V103, stmt(`{"timestamp":"2015-11-18T12:17:00-05"}`)),
	valid("1.0.3 timestamp leap day", V103, stmt(`{"timestamp":"2016-02-29T00:00:00Z"}`)),
	invalid("1.0.3 timestamp -00:00", V103, stmt(`{"timestamp":"2008-09-15T15:53:00.601-00:00"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp -0000", V103, stmt(`{"timestamp":"2008-09-15T15:53:00.601-0000"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp -00", V103, stmt(`{"timestamp":"2008-09-15T15:53:00.601-00"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp date only", V103, stmt(`{"timestamp":"2015-11-18"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp not a date", V103, stmt(`{"timestamp":"01/011/2015"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp space separator", V103, stmt(`{"timestamp":"2015-11-18 12:17:00Z"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp February 30", V103, stmt(`{"timestamp":"2015-02-30T12:17:00Z"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp hour 25", V103, stmt(`{"timestamp":"2015-11-18T25:17:00Z"}`), "/timestamp", "ISO 8601"),
	invalid("1.0.3 timestamp mixed formats", V103, stmt(`{"timestamp":"2015-11-18T121700Z"}`), "/timestamp", "ISO 8601"),
	valid("1.0.3 stored", V103, stmt(`{"stored":"2013-05-18T05:32:34.804+00:00"}`)),
	invalid("1.0.3 stored", V103, stmt(`{"stored":"yesterday"}`), "/stored", "ISO 8601"),

	// 4.5 timestamps, 2.0.0: RFC 3339 and ISO 8601.
	valid("2.0.0 timestamp Z", V200, stmt(`{"timestamp":"2015-11-18T12:17:00.123Z"}`)),
	valid("2.0.0 timestamp offset", V200, stmt(`{"timestamp":"2023-05-04T12:00:00-05:00"}`)),
	invalid("2.0.0 timestamp without zone", V200, stmt(`{"timestamp":"2015-11-18T12:17:00"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 timestamp without seconds", V200, stmt(`{"timestamp":"2023-05-04T12:00-05:00"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 timestamp basic format", V200, stmt(`{"timestamp":"20151118T121700Z"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 timestamp -00:00", V200, stmt(`{"timestamp":"2008-09-15T15:53:00.601-00:00"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 timestamp space separator", V200, stmt(`{"timestamp":"2008-09-15 15:53:00.601+00:00"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 timestamp lower-case t", V200, stmt(`{"timestamp":"2008-09-15t15:53:00Z"}`), "/timestamp", "RFC 3339"),
	invalid("2.0.0 stored", V200, stmt(`{"stored":"2008-09-15T15:53:00"}`), "/stored", "RFC 3339"),

	// 2.4.9 authority and 2.4.10 version.
	valid("authority agent", both, stmt(`{"authority":{"objectType":"Agent","account":{"homePage":"http://cloud.scorm.com/","name":"anonymous"}}}`)),
	invalid("authority agent without IFI", both, stmt(`{"authority":{"name":"x"}}`), "/authority", "exactly one"),
	valid("authority anonymous group of two", both, stmt(`{"authority":{"objectType":"Group","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}}`)),
	invalid("authority group with mbox", both, stmt(`{"authority":{"objectType":"Group","mbox":"mailto:g@example.com","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}}`), "/authority/mbox", "anonymous"),
	invalid("authority group with mbox_sha1sum", both, stmt(`{"authority":{"objectType":"Group","mbox_sha1sum":"cd9b00a5611f94eaa7b1661edab976068e364975","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}}`), "/authority/mbox_sha1sum", "anonymous"),
	invalid("authority group with openid", both, stmt(`{"authority":{"objectType":"Group","openid":"http://openid.example.org/12345","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}}`), "/authority/openid", "anonymous"),
	invalid("authority group with account", both, stmt(`{"authority":{"objectType":"Group","account":{"homePage":"http://www.example.com","name":"g"},"member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}}`), "/authority/account", "anonymous"),
	invalid("authority identified group without members", both, stmt(`{"authority":{"objectType":"Group","openid":"http://openid.example.org/12345"}}`), "/authority/openid", "anonymous"),
	invalid("authority group without members", both, stmt(`{"authority":{"objectType":"Group"}}`), "/authority/member", "exactly two Agents"),
	invalid("authority group of one", both, stmt(`{"authority":{"objectType":"Group","member":[{"mbox":"mailto:bob@example.com"}]}}`), "/authority/member", "exactly two Agents"),
	invalid("authority group member without IFI", both, stmt(`{"authority":{"objectType":"Group","member":[{"name":"x"},{"mbox":"mailto:bob@example.com"}]}}`), "/authority/member/0", "exactly one"),
	invalid("authority group of three", both, stmt(`{"authority":{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},{"mbox":"mailto:b@example.com"},{"mbox":"mailto:c@example.com"}]}}`), "/authority/member", "exactly two Agents"),
	valid("1.0.3 version 1.0.0", V103, stmt(`{"version":"1.0.0"}`)),
	valid("1.0.3 version 1.0.9", V103, stmt(`{"version":"1.0.9"}`)),
	invalid("1.0.3 version 2.0.0", V103, stmt(`{"version":"2.0.0"}`), "/version", "1.0.x"),
	invalid("1.0.3 version 1.1.0", V103, stmt(`{"version":"1.1.0"}`), "/version", "1.0.x"),
	valid("1.0.3 version 1.0", V103, stmt(`{"version":"1.0"}`)),
	invalid("1.0.3 version 1", V103, stmt(`{"version":"1"}`), "/version", "1.0.x"),
	invalid("1.0.3 version 1.0.", V103, stmt(`{"version":"1.0."}`), "/version", "1.0.x"),
	invalid("1.0.3 version 2.0", V103, stmt(`{"version":"2.0"}`), "/version", "1.0.x"),
	invalid("1.0.3 version 0.9.9", V103, stmt(`{"version":"0.9.9"}`), "/version", "1.0.x"),
	valid("2.0.0 version 2.0.0", V200, stmt(`{"version":"2.0.0"}`)),
	valid("2.0.0 version 1.0.3", V200, stmt(`{"version":"1.0.3"}`)),
	invalid("2.0.0 version 3.0.0", V200, stmt(`{"version":"3.0.0"}`), "/version", "2.0.x"),
	valid("2.0.0 version 2.0", V200, stmt(`{"version":"2.0"}`)),
	valid("2.0.0 version 1.0", V200, stmt(`{"version":"1.0"}`)),
	invalid("2.0.0 version 2.1", V200, stmt(`{"version":"2.1"}`), "/version", "2.0.x"),
	invalid("2.0.0 version 2", V200, stmt(`{"version":"2"}`), "/version", "2.0.x"),
	invalid("version not a string", both, stmt(`{"version":1}`), "/version", "must be a string"),

	// 2.4.11 attachments.
	valid("attachment", both, stmt(`{"attachments":[{"usageType":"http://example.com/certificate","display":{"en":"Certificate"},"contentType":"application/pdf; charset=binary","length":0,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634","fileUrl":"http://example.com/c.pdf"}]}`)),
	invalid("attachment without sha2", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":1}]}`), "/attachments/0/sha2", "is required"),
	invalid("attachment without display", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","contentType":"application/pdf","length":1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/display", "is required"),
	invalid("attachment negative length", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":-1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/length", "non-negative integer"),
	invalid("attachment fractional length", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":1.5,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/length", "non-negative integer"),
	invalid("attachment length string", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":"1","sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/length", "must be a JSON number"),
	invalid("attachment content type", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"pdf","length":1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/contentType", "media type"),
	invalid("attachment sha2", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":1,"sha2":"not-a-hash"}]}`), "/attachments/0/sha2", "SHA-2"),
	invalid("attachment usageType", both, stmt(`{"attachments":[{"usageType":"certificate","display":{"en":"C"},"contentType":"application/pdf","length":1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/usageType", "IRI"),
	invalid("attachment fileUrl", both, stmt(`{"attachments":[{"usageType":"http://example.com/c","display":{"en":"C"},"contentType":"application/pdf","length":1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634","fileUrl":"c.pdf"}]}`), "/attachments/0/fileUrl", "IRL"),
	invalid("signature content type", both, stmt(`{"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en":"Signature"},"contentType":"text/plain","length":1,"sha2":"672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"}]}`), "/attachments/0/contentType", "octet-stream"),
	invalid("attachments not an array", both, stmt(`{"attachments":{}}`), "/attachments", "must be an array"),
}

func TestStatement(t *testing.T) {
	for _, tc := range statementCases {
		versions := []string{tc.version}
		if tc.version == both {
			versions = []string{V103, V200}
		}
		for _, v := range versions {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				err := Statement(v, []byte(tc.json))
				checkResult(t, err, tc.wantPath, tc.wantRule)
			})
		}
	}
}

// checkResult asserts that err is nil when wantPath and wantRule are empty,
// and otherwise an Errors value holding a matching violation.
func checkResult(t *testing.T, err error, wantPath, wantRule string) {
	t.Helper()
	if wantPath == "" && wantRule == "" {
		if err != nil {
			t.Fatalf("got %v, want valid", err)
		}
		return
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v (%T), want Errors with %s: ...%s...", err, err, wantPath, wantRule)
	}
	for _, e := range errs {
		if (wantPath == "*" || e.Path == wantPath) && strings.Contains(e.Rule, wantRule) {
			return
		}
	}
	t.Fatalf("got %v, want %s: ...%s...", err, wantPath, wantRule)
}

func TestStatement_ErrorText(t *testing.T) {
	err := Statement(V103, []byte(stmt(`{"actor":{"mbox":"learner@example.com"}}`)))
	if got, want := err.Error(), "/actor/mbox: must be a mailto: IRI"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStatement_SpecExamples(t *testing.T) {
	for _, dir := range []string{"examples", "examples-2.0.0"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples in %s: %v", dir, err)
		}
		versions := []string{V103, V200}
		if dir == "examples-2.0.0" {
			versions = []string{V200}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range versions {
				t.Run(v+"/"+filepath.Base(f), func(t *testing.T) {
					if err := Statement(v, data); err != nil {
						t.Errorf("got %v, want valid", err)
					}
				})
			}
		}
	}
}

func TestStatement_UnsupportedVersion(t *testing.T) {
	checkResult(t, Statement("1.0.2", []byte(base)), "", "not supported")
}

func TestStatement_Deterministic(t *testing.T) {
	doc := []byte(stmt(`{"id":"x","actor":{"name":"a"},"verb":{"id":"v","display":{"a":"1","b":"2","c":"3"}},"result":{"extensions":{"a":1,"b":2,"c":3}}}`))
	first := Statement(V103, doc).Error()
	for i := 0; i < 20; i++ {
		if got := Statement(V103, doc).Error(); got != first {
			t.Fatalf("got %q, want %q", got, first)
		}
	}
}

// requestCase is a request body with the violation it must produce
// (wantPath and wantRule empty for a valid body).
type requestCase struct {
	name, json, wantPath, wantRule string
}

const dupID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"

var statementsCases = []requestCase{
	{"empty array", `[]`, "", ""},
	{"single object", base, "", ""},
	{"array", `[` + base + `,` + base + `]`, "", ""},
	{"invalid second statement", `[` + base + `,` + stmt(`{"actor":{"mbox":"x"}}`) + `]`, "/1/actor/mbox", "mailto"},
	{"element not an object", `[1]`, "/0", "must be an object"},
	{"duplicate ids", `[` + stmt(`{"id":"`+dupID+`"}`) + `,` + stmt(`{"id":"`+strings.ToUpper(dupID)+`"}`) + `]`, "/1/id", "repeats the id of statement /0"},
	{"single invalid object", stmt(`{"verb":"-"}`), "/verb", "is required"},
	{"not JSON", `[`, "", "not valid JSON"},
	{"scalar", `"statement"`, "", "must be an object"},
}

func TestStatements(t *testing.T) {
	for _, v := range []string{V103, V200} {
		for _, tc := range statementsCases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				checkResult(t, Statements(v, []byte(tc.json)), tc.wantPath, tc.wantRule)
			})
		}
	}
}

var agentCases = []requestCase{
	{"agent", `{"mbox":"mailto:a@example.com"}`, "", ""},
	{"agent with objectType", `{"objectType":"Agent","account":{"homePage":"http://example.com","name":"a"}}`, "", ""},
	{"identified group", `{"objectType":"Group","openid":"http://g.example.com/"}`, "", ""},
	{"anonymous group", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`, "", "identified Group"},
	{"agent without IFI", `{"name":"a"}`, "", "exactly one"},
	{"agent with two IFIs", `{"mbox":"mailto:a@example.com","mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`, "", "exactly one"},
	{"bad mbox", `{"mbox":"a@example.com"}`, "/mbox", "mailto"},
	{"unknown property", `{"mbox":"mailto:a@example.com","email":"a"}`, "/email", "not a property"},
	{"objectType case", `{"objectType":"agent","mbox":"mailto:a@example.com"}`, "/objectType", "exact case"},
	{"not an object", `"mailto:a@example.com"`, "", "must be an object"},
	{"duplicate key", `{"mbox":"mailto:a@example.com","mbox":"mailto:b@example.com"}`, "/mbox", "more than once"},
	{"huge number under extensions in objectType", `{"objectType":{"extensions":1e400},"mbox":"mailto:a@example.com"}`, "/objectType/extensions", "number is out of range"},
	{"huge number in extensions", `{"mbox":"mailto:a@example.com","extensions":{"http://example.com/e":1e400}}`, "/extensions/http:~1~1example.com~1e", "number is out of range"},
}

func TestAgent(t *testing.T) {
	for _, v := range []string{V103, V200} {
		for _, tc := range agentCases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				checkResult(t, Agent(v, []byte(tc.json)), tc.wantPath, tc.wantRule)
			})
		}
	}
}

func TestErrors_Error(t *testing.T) {
	if got, want := (Error{Rule: "is empty"}).Error(), "statement: is empty"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var errs Errors
	for i := 0; i < 7; i++ {
		errs = append(errs, Error{Path: "/a", Rule: "r"})
	}
	if got, want := errs.Error(), "/a: r; /a: r; /a: r; /a: r; /a: r; and 2 more"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSchemasCompile(t *testing.T) {
	for _, v := range []string{V103, V200} {
		if _, err := schemasFor(v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatement_Concurrent(t *testing.T) {
	docs := []string{base, stmt(`{"actor":{"mbox":"x"}}`), ctx(`{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:i@example.com"}}]}`)}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			var last error
			for i := 0; i < 50; i++ {
				for j, d := range docs {
					v := []string{V103, V200}[(g+i)%2]
					err := Statement(v, []byte(d))
					if wantValid := j == 0 || j == 2 && v == V200; (err == nil) != wantValid {
						last = fmt.Errorf("%s doc %d: got %v, want valid=%v", v, j, err, wantValid)
					}
				}
			}
			done <- last
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Errorf("unexpected result under concurrency: %v", err)
		}
	}
}
