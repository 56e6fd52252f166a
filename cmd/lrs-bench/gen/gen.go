package gen

import (
	"fmt"
	"strconv"
	"time"
)

// Versions of xAPI the generator writes statements for.
const (
	V103 = "1.0.3"
	V200 = "2.0.0"
)

// Config says what population to generate. Zero fields take their
// defaults.
type Config struct {
	// Seed determines the population and every statement.
	Seed int64
	// Version is the xAPI version the statements are written for; default
	// V103. With V200 some statements name their teacher in contextAgents.
	Version string
	// Now is the time the statements are sent: their timestamps lie up to
	// ten minutes before it. Default 2025-09-01T09:00:00+03:00.
	Now time.Time
	// Learners, when set, is roughly how many learners the population has:
	// it sets Tenants to fit, at least 1.
	Learners int
	// Tenants is the number of education providers; default 3.
	Tenants int
	// SchoolsPerTenant is the number of schools of each provider; default 4.
	SchoolsPerTenant int
	// ClassesPerSchool is the number of classes of each school; default 6.
	ClassesPerSchool int
	// LearnersPerClass is the number of learners of each class; default 22.
	LearnersPerClass int
	// CoursesPerClass is the number of courses each class studies, each
	// learner with a registration of their own; default 4.
	CoursesPerClass int
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.SchoolsPerTenant, 4)
	def(&c.ClassesPerSchool, 6)
	def(&c.LearnersPerClass, 22)
	if c.Learners > 0 {
		perTenant := c.SchoolsPerTenant * c.ClassesPerSchool * c.LearnersPerClass
		c.Tenants = max(1, (c.Learners+perTenant/2)/perTenant)
	}
	def(&c.Tenants, 3)
	def(&c.CoursesPerClass, 4)
	if c.Version == "" {
		c.Version = V103
	}
	if c.Now.IsZero() {
		c.Now = time.Date(2025, 9, 1, 6, 0, 0, 0, time.UTC)
	}
}

// Generator makes the statements of one population. It is safe for
// concurrent use.
type Generator struct {
	cfg Config
	pop *population
}

// New returns the Generator of cfg.
func New(cfg Config) (*Generator, error) {
	cfg.setDefaults()
	if cfg.Version != V103 && cfg.Version != V200 {
		return nil, fmt.Errorf("xAPI version %q: want %s or %s", cfg.Version, V103, V200)
	}
	return &Generator{cfg: cfg, pop: buildPopulation(cfg)}, nil
}

// Stats counts the population.
type Stats struct {
	Tenants, Schools, Classes, Teachers, Learners, Activities, Registrations int
}

// Stats returns the size of the population.
func (g *Generator) Stats() Stats {
	p := g.pop
	regs := 0
	for _, l := range p.learners {
		regs += len(l.regs)
	}
	return Stats{Tenants: len(p.tenants), Schools: len(p.schools), Classes: len(p.classes), Teachers: len(p.teachers),
		Learners: len(p.learners), Activities: len(p.activities), Registrations: regs}
}

// Statement is one generated statement and what a query can find it by.
type Statement struct {
	// JSON is the statement as a client sends it (no id: the LRS assigns one).
	JSON []byte
	// Agent is the actor, as the agent query parameter takes it.
	Agent []byte
	// Verb is the verb id.
	Verb string
	// Activity is the id of the object, an Activity.
	Activity string
	// Parent is the id of a context activity (parent or grouping), which
	// related_activities finds.
	Parent string
	// Registration is the context registration, "" when there is none.
	Registration string
}

// Statement returns statement i.
func (g *Generator) Statement(i uint64) Statement {
	w := writer{b: make([]byte, 0, 2048)}
	st := g.build(&w, i)
	st.JSON = w.b
	return st
}

// AppendBatch appends the JSON array of statements from, from+1, ...,
// from+n-1 to dst.
func (g *Generator) AppendBatch(dst []byte, from uint64, n int) []byte {
	w := writer{b: dst}
	w.begin('[')
	for k := range n {
		g.build(&w, from+uint64(k))
	}
	w.end(']')
	return w.b
}

// verb is an xAPI verb with its display.
type verb struct {
	id, en, fi, sv string
	weight         int
}

const (
	vAnswered = iota
	vExperienced
	vProgressed
	vAttempted
	vCompleted
	vInitialized
	vTerminated
	vLaunched
	vPassed
	vFailed
	vScored
	vSatisfied
)

var verbs = []verb{
	vAnswered:    {"http://adlnet.gov/expapi/verbs/answered", "answered", "vastasi", "svarade", 28},
	vExperienced: {"http://adlnet.gov/expapi/verbs/experienced", "experienced", "koki", "upplevde", 14},
	vProgressed:  {"http://adlnet.gov/expapi/verbs/progressed", "progressed", "edistyi", "framskred", 10},
	vAttempted:   {"http://adlnet.gov/expapi/verbs/attempted", "attempted", "yritti", "försökte", 7},
	vCompleted:   {"http://adlnet.gov/expapi/verbs/completed", "completed", "suoritti", "slutförde", 8},
	vInitialized: {"http://adlnet.gov/expapi/verbs/initialized", "initialized", "aloitti", "initierade", 6},
	vTerminated:  {"http://adlnet.gov/expapi/verbs/terminated", "terminated", "lopetti", "avslutade", 6},
	vLaunched:    {"http://adlnet.gov/expapi/verbs/launched", "launched", "käynnisti", "startade", 4},
	vPassed:      {"http://adlnet.gov/expapi/verbs/passed", "passed", "läpäisi", "godkändes", 5},
	vFailed:      {"http://adlnet.gov/expapi/verbs/failed", "failed", "hylättiin", "underkändes", 2},
	vScored:      {"http://adlnet.gov/expapi/verbs/scored", "scored", "sai pisteet", "fick poäng", 6},
	vSatisfied:   {"https://w3id.org/xapi/adl/verbs/satisfied", "satisfied", "täytti vaatimukset", "uppfyllde kraven", 4},
}

var (
	verbWeights []int
	verbJSON    [][3][]byte // by the number of display languages - 1
)

func init() {
	for _, v := range verbs {
		verbWeights = append(verbWeights, v.weight)
		var js [3][]byte
		display := []string{"en-US", v.en, "fi-FI", v.fi, "sv-FI", v.sv}
		for n := range js {
			w := writer{}
			w.begin('{')
			w.kstr("id", v.id)
			w.key("display")
			w.langMap(display[:2*n+2]...)
			w.end('}')
			js[n] = w.b
		}
		verbJSON = append(verbJSON, js)
	}
}

// Verbs returns the ids of the verbs statements use.
func Verbs() []string {
	out := make([]string, len(verbs))
	for i, v := range verbs {
		out[i] = v.id
	}
	return out
}

// Profile and category IRIs.
const (
	catCMI5    = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
	catMoveOn  = "https://w3id.org/xapi/cmi5/context/categories/moveon"
	catVideo   = "https://w3id.org/xapi/video"
	catDigiOne = "https://digione.fi/xapi/profiles/oppiminen/v1.0"
	extSession = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
	extProg    = "https://w3id.org/xapi/cmi5/result/extensions/progress"
	extBrowser = "http://id.tincanapi.com/extension/browser-info"
	roleTeach  = "https://digione.fi/xapi/roles/teacher"
)

var eet = time.FixedZone("EET", 2*3600)

// event is what one statement says: who did what in which app.
type event struct {
	r    *rng
	l    *learner
	cl   *class
	sch  *school
	reg  string // the learner's registration in the course
	crs  *course
	ap   *app
	md   *module
	v    int // index into verbs
	a    *activity
	cmi5 bool // the object is a cmi5 AU (module) or course
}

// build writes statement i with w and returns what queries find it by.
func (g *Generator) build(w *writer, i uint64) Statement {
	e := g.event(i)
	st := Statement{Agent: e.l.actor, Verb: verbs[e.v].id, Activity: e.a.id}
	w.begin('{')
	w.kraw("actor", e.l.actor)
	w.kraw("verb", verbJSON[e.v][e.ap.displays-1])
	if e.a.kind == kindQuestion || e.r.chance(e.ap.defs) {
		w.kraw("object", e.a.object)
	} else {
		w.kraw("object", e.a.bare)
	}
	g.result(w, e.r, e.v, e.a)
	st.Registration, st.Parent = g.context(w, &e)
	ts := g.cfg.Now.Add(-time.Duration(e.r.intn(600_000)) * time.Millisecond)
	if e.r.chance(0.5) {
		ts = ts.In(eet)
	} else {
		ts = ts.UTC()
	}
	w.key("timestamp")
	w.sep()
	w.b = append(w.b, '"')
	w.b = ts.AppendFormat(w.b, "2006-01-02T15:04:05.000Z07:00")
	w.b = append(w.b, '"')
	w.end('}')
	return st
}

// event picks the learner, course, verb and activity of statement i.
func (g *Generator) event(i uint64) event {
	p := g.pop
	e := event{r: newRNG(uint64(g.cfg.Seed), 2, i)}
	r := e.r
	e.l = &p.learners[r.intn(len(p.learners))]
	e.cl = &p.classes[e.l.class]
	e.sch = &p.schools[e.cl.school]
	k := r.intn(len(e.cl.courses))
	e.reg = e.l.regs[k]
	e.crs = &p.courses[e.cl.courses[k]]
	e.ap = &p.apps[e.crs.app]
	md := &p.modules[e.crs.modules[r.intn(len(e.crs.modules))]]
	e.md = md
	e.v = r.pick(verbWeights)

	// The object, by what the verb is said of.
	obj := md.questions[r.intn(len(md.questions))]
	switch e.v {
	case vAttempted:
		obj = pickOf(r, md.assessment, md.assessment, md.game)
	case vExperienced:
		obj = pickOf(r, md.video, md.lesson)
	case vProgressed:
		obj = pickOf(r, md.video, md.lesson, md.game, md.act)
	case vCompleted:
		obj = pickOf(r, md.video, md.lesson, md.assessment, md.game, md.act)
	case vPassed, vFailed:
		obj = pickOf(r, md.assessment, md.assessment, md.act)
	case vScored:
		obj = pickOf(r, md.game, md.game, md.assessment)
	case vLaunched, vInitialized, vTerminated:
		obj = md.act
	case vSatisfied:
		obj = pickOf(r, md.act, e.crs.act)
	}
	e.a = &p.activities[obj]
	e.cmi5 = e.a.kind == kindModule || e.a.kind == kindCourse
	return e
}

// context writes the context of e and returns its registration and the
// id of one of its context activities.
func (g *Generator) context(w *writer, e *event) (registration, parent string) {
	p, r, ap := g.pop, e.r, e.ap
	ref := func(i int) []byte {
		if ap.typed {
			return p.activities[i].ref
		}
		return p.activities[i].bare
	}
	list := func(key string, acts ...int) {
		w.key(key)
		w.begin('[')
		for _, a := range acts {
			w.raw(ref(a))
		}
		w.end(']')
	}
	w.key("context")
	w.begin('{')
	if e.cmi5 || e.a.kind == kindQuestion || e.a.kind == kindAssessment || r.chance(0.8) {
		registration = e.reg
		w.kstr("registration", registration)
	}
	w.key("contextActivities")
	w.begin('{')
	switch e.a.kind {
	case kindCourse:
		parent = p.activities[ap.root].id
		list("grouping", ap.root)
	case kindModule:
		parent = p.activities[e.crs.act].id
		list("parent", e.crs.act)
		list("grouping", ap.root)
	default:
		parent = p.activities[e.md.act].id
		list("parent", e.md.act)
		list("grouping", e.crs.act, ap.root)
	}
	cats := func(cs ...[]byte) {
		w.key("category")
		w.begin('[')
		for _, c := range cs {
			w.raw(c)
		}
		w.end(']')
	}
	switch {
	case e.cmi5 && (e.v == vPassed || e.v == vFailed || e.v == vCompleted):
		cats(categoryJSON[0], categoryJSON[1])
	case e.cmi5:
		cats(categoryJSON[0])
	case e.a.kind == kindVideo:
		cats(categoryJSON[2])
	case ap.typed:
		cats(categoryJSON[3])
	}
	w.end('}')
	teacher := p.teachers[e.cl.teacher].actor
	if r.chance(0.15) {
		w.kraw("instructor", teacher)
	}
	if g.cfg.Version == V200 && r.chance(0.1) {
		w.key("contextAgents")
		w.begin('[')
		w.begin('{')
		w.kstr("objectType", "contextAgent")
		w.kraw("agent", teacher)
		w.key("relevantTypes")
		w.begin('[')
		w.str(roleTeach)
		w.end(']')
		w.end('}')
		w.end(']')
	}
	w.kstr("platform", ap.platform)
	w.kstr("language", e.l.lang)
	w.key("extensions")
	w.begin('{')
	if e.cmi5 {
		w.kstr(extSession, r.uuid())
	} else {
		w.kstr(ap.ext+"session.id", r.hex(16))
	}
	if ap.roster {
		w.kstr("https://digione.fi/xapi/extensions/provider.oid", p.tenants[e.sch.tenant].oid)
		w.kstr("https://digione.fi/xapi/extensions/school.oid", e.sch.oid)
		w.kstr("https://digione.fi/xapi/extensions/class.name", e.cl.name)
	}
	if !ap.typed {
		w.kstr(ap.ext+"device.type", devices[e.l.device])
	}
	if r.chance(0.3) {
		w.kraw(extBrowser, []byte(browsers[e.l.browser]))
	}
	w.end('}')
	w.end('}')
	return registration, parent
}

var categoryJSON [][]byte

func init() {
	for _, c := range []struct{ id, name string }{
		{catCMI5, ""}, {catMoveOn, ""}, {catVideo, "Video"}, {catDigiOne, "DigiOne oppiminen"},
	} {
		w := writer{}
		w.begin('{')
		w.kstr("id", c.id)
		if c.name != "" {
			w.key("definition")
			w.begin('{')
			w.key("name")
			w.langMap("en-US", c.name)
			w.kstr("type", "http://adlnet.gov/expapi/activities/profile")
			w.end('}')
		}
		w.end('}')
		categoryJSON = append(categoryJSON, w.b)
	}
}

func pickOf(r *rng, acts ...int) int { return acts[r.intn(len(acts))] }

// result writes the result of verb v said of a, if it has one.
func (g *Generator) result(w *writer, r *rng, v int, a *activity) {
	score := func(top, raw int) {
		w.key("score")
		w.begin('{')
		w.key("scaled")
		w.number(float64(raw*1000/top) / 1000)
		w.key("raw")
		w.integer(raw)
		w.key("min")
		w.integer(0)
		w.key("max")
		w.integer(top)
		w.end('}')
	}
	duration := func(maxSeconds int) {
		w.kstr("duration", isoDuration(r.between(1, maxSeconds*10)))
	}
	switch v {
	case vAnswered:
		w.key("result")
		w.begin('{')
		ok := r.chance(0.65)
		if a.interaction != "likert" {
			raw := 0
			if ok {
				raw = a.maxScore
			} else if a.maxScore > 1 {
				raw = r.intn(a.maxScore)
			}
			score(a.maxScore, raw)
			w.key("success")
			w.boolean(ok)
		}
		w.key("completion")
		w.boolean(true)
		resp := a.correct
		if !ok || a.interaction == "likert" {
			resp = a.wrong[r.intn(len(a.wrong))]
		}
		w.kstr("response", resp)
		duration(180)
		w.key("extensions")
		w.begin('{')
		w.key("https://digione.fi/xapi/extensions/attempt.number")
		w.integer(r.between(1, 3))
		w.key("https://digione.fi/xapi/extensions/hints.used")
		w.integer(r.pick([]int{6, 3, 1}))
		w.end('}')
		w.end('}')
	case vAttempted:
		if r.chance(0.5) {
			w.key("result")
			w.begin('{')
			w.key("extensions")
			w.begin('{')
			w.key("https://digione.fi/xapi/extensions/attempt.number")
			w.integer(r.between(1, 3))
			w.end('}')
			w.end('}')
		}
	case vExperienced:
		w.key("result")
		w.begin('{')
		duration(900)
		w.end('}')
	case vProgressed:
		w.key("result")
		w.begin('{')
		w.key("extensions")
		w.begin('{')
		if a.kind == kindVideo {
			w.key("https://w3id.org/xapi/video/extensions/progress")
			w.number(float64(r.between(1, 99)) / 100)
		} else {
			w.key(extProg)
			w.integer(r.between(1, 99))
		}
		w.end('}')
		w.end('}')
	case vCompleted:
		w.key("result")
		w.begin('{')
		w.key("completion")
		w.boolean(true)
		duration(3600)
		w.end('}')
	case vPassed, vFailed:
		top := a.maxScore
		if top == 0 {
			top = 100
		}
		raw := r.between(top/2, top)
		if v == vFailed {
			raw = r.between(0, top/2-1)
		}
		w.key("result")
		w.begin('{')
		score(top, raw)
		w.key("success")
		w.boolean(v == vPassed)
		w.key("completion")
		w.boolean(true)
		duration(3600)
		w.end('}')
	case vScored:
		top := a.maxScore
		if top == 0 {
			top = 100
		}
		w.key("result")
		w.begin('{')
		score(top, r.between(0, top))
		w.end('}')
	case vTerminated:
		w.key("result")
		w.begin('{')
		duration(3600)
		w.end('}')
	}
}

// isoDuration formats tenths of a second as an ISO 8601 duration:
// PT1M12.5S.
func isoDuration(tenths int) string {
	b := []byte("PT")
	s := tenths / 10
	if s >= 3600 {
		b = strconv.AppendInt(b, int64(s/3600), 10)
		b = append(b, 'H')
	}
	if s >= 60 {
		b = strconv.AppendInt(b, int64(s/60%60), 10)
		b = append(b, 'M')
	}
	b = strconv.AppendInt(b, int64(s%60), 10)
	if t := tenths % 10; t != 0 {
		b = append(b, '.', byte('0'+t))
	}
	return string(append(b, 'S'))
}
