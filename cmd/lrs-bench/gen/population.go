package gen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MPASSHomePage is the account home page of learners and teachers: the
// MPASSid identity broker. Account names are opaque.
const MPASSHomePage = "https://mpass-proxy.csc.fi"

// kind is what an activity is.
type kind int

const (
	kindQuestion kind = iota
	kindVideo
	kindLesson
	kindAssessment
	kindGame
	kindModule
	kindCourse
	kindApp
)

var kindTypes = [...]string{
	kindQuestion:   "http://adlnet.gov/expapi/activities/cmi.interaction",
	kindVideo:      "https://w3id.org/xapi/video/activity-type/video",
	kindLesson:     "http://adlnet.gov/expapi/activities/lesson",
	kindAssessment: "http://adlnet.gov/expapi/activities/assessment",
	kindGame:       "http://activitystrea.ms/schema/1.0/game",
	kindModule:     "http://adlnet.gov/expapi/activities/module",
	kindCourse:     "http://adlnet.gov/expapi/activities/course",
	kindApp:        "http://activitystrea.ms/schema/1.0/application",
}

// appSpec is a learning app: its name, subject and course topics.
type appSpec struct {
	slug, name, subject string
	topics              []string
}

var appSpecs = []appSpec{
	{"matikkamatka", "Matikkamatka", "matematiikka", []string{"Murtoluvut", "Desimaaliluvut", "Yhtälöt", "Prosenttilaskenta", "Geometria", "Tilastot ja todennäköisyys", "Funktiot", "Potenssit"}},
	{"sanavirta", "Sanavirta", "äidinkieli ja kirjallisuus", []string{"Sanaluokat", "Lauseenjäsennys", "Runot ja runomitta", "Kertomuksen rakenne", "Oikeinkirjoitus", "Mediataito"}},
	{"luontolabra", "Luontolabra", "biologia ja maantieto", []string{"Metsän eliöt", "Ihmisen elimistö", "Kasvien rakenne", "Ilmasto ja sää", "Kartat ja paikannus", "Vesistöt"}},
	{"english-island", "English Island", "englanti", []string{"Present simple", "Past tense", "School vocabulary", "Reading comprehension", "Listening", "Irregular verbs"}},
	{"historiakone", "Historiakone", "historia", []string{"Esihistoria", "Antiikin Kreikka", "Keskiaika", "Suomen itsenäistyminen", "Teollistuminen", "Kylmä sota"}},
	{"koodikoulu", "Koodikoulu", "ohjelmointi", []string{"Muuttujat", "Ehtolauseet", "Silmukat", "Funktiot", "Algoritmit", "Robotiikka"}},
	{"ruotsinpolku", "Ruotsin polku", "ruotsi", []string{"Hälsningar", "Familjen", "Skolan", "Verb i presens", "Siffror och tid", "Mat och dryck"}},
	{"fysiikkalabra", "Fysiikkalabra", "fysiikka ja kemia", []string{"Liike ja voima", "Sähkö", "Energia", "Aineen rakenne", "Kemialliset reaktiot", "Valo ja ääni"}},
}

var interactionTypes = []string{"choice", "choice", "choice", "true-false", "fill-in", "numeric", "sequencing", "matching", "likert"}

var places = []string{"Espoo", "Vantaa", "Tampere", "Oulu", "Turku", "Jyväskylä", "Kuopio", "Lahti", "Pori", "Joensuu", "Vaasa", "Rovaniemi", "Seinäjoki", "Kokkola", "Mikkeli", "Hämeenlinna"}
var schoolWords = []string{"Keskuskoulu", "Koivukylän koulu", "Mäntylän yhtenäiskoulu", "Rantakoulu", "Kirkonkylän koulu", "Metsolan koulu", "Aurinkorinteen koulu", "Harjun yläkoulu", "Tähtiniityn koulu", "Kallion koulu"}

var browsers = []string{
	`{"code_name":"Mozilla","name":"Chrome","version":"131.0.6778.85","platform":"ChromeOS"}`,
	`{"code_name":"Mozilla","name":"Safari","version":"17.6","platform":"iPadOS"}`,
	`{"code_name":"Mozilla","name":"Edge","version":"130.0.2849.80","platform":"Windows"}`,
	`{"code_name":"Mozilla","name":"Firefox","version":"132.0","platform":"Linux"}`,
}

var devices = []string{"tablet", "chromebook", "laptop", "phone"}

// activity is one activity with its statement object JSON and the JSON it
// takes in contextActivities.
type activity struct {
	id     string
	kind   kind
	object []byte // {"objectType":"Activity","id":..., "definition":{...}}
	bare   []byte // {"objectType":"Activity","id":...}
	ref    []byte // {"objectType":"Activity","id":...,"definition":{"type":...}}

	// Questions.
	interaction string
	correct     string   // a correct response
	wrong       []string // wrong responses
	maxScore    int      // questions, assessments, games
}

type app struct {
	spec     *appSpec
	base     string // https://slug.example.fi
	ext      string // prefix of the app's extension IRIs
	platform string
	root     int     // activity index
	typed    bool    // the app puts the definition type in context activities
	defs     float64 // how often the app sends the object's definition (questions: always)
	roster   bool    // the app names provider, school and class in context extensions
	displays int     // languages of verb displays (1 to 3)
	swedish  bool    // definitions also in Swedish
}

type course struct {
	app     int
	act     int
	modules []int
}

type module struct {
	course, act                     int
	questions                       []int
	video, lesson, assessment, game int
}

type tenant struct{ oid, name string }

type school struct {
	tenant    int
	oid, name string
}

type class struct {
	school  int
	name    string
	teacher int
	courses []int
}

type person struct {
	account string
	actor   []byte
}

type learner struct {
	person
	class   int
	lang    string
	browser int
	device  int
	regs    []string // registration per course of the class
}

// population is everything statements are about.
type population struct {
	apps       []app
	courses    []course
	modules    []module
	activities []activity
	tenants    []tenant
	schools    []school
	classes    []class
	teachers   []person
	learners   []learner
}

func buildPopulation(cfg Config) *population {
	r := newRNG(uint64(cfg.Seed), 1)
	p := &population{}
	for i := range appSpecs {
		p.addApp(r, &appSpecs[i])
	}
	for t := range cfg.Tenants {
		place := places[(t+r.intn(len(places)))%len(places)]
		p.tenants = append(p.tenants, tenant{oid: "1.2.246.562.10." + r.digits(11), name: place + "n kaupunki"})
		for s := range cfg.SchoolsPerTenant {
			name := place + " " + schoolWords[(s+r.intn(3))%len(schoolWords)]
			p.schools = append(p.schools, school{tenant: t, oid: "1.2.246.562.10." + r.digits(11), name: name})
			for c := range cfg.ClassesPerSchool {
				grade := 3 + (c % 7)
				cl := class{school: len(p.schools) - 1, name: fmt.Sprintf("%d%c", grade, 'A'+c/7), teacher: len(p.teachers)}
				p.teachers = append(p.teachers, newPerson(r))
				for len(cl.courses) < cfg.CoursesPerClass && len(cl.courses) < len(p.courses) {
					k := r.intn(len(p.courses))
					if !slices.Contains(cl.courses, k) {
						cl.courses = append(cl.courses, k)
					}
				}
				p.classes = append(p.classes, cl)
				lang := "fi-FI"
				switch {
				case r.chance(0.1):
					lang = "sv-FI"
				case r.chance(0.05):
					lang = "en-US"
				}
				for range cfg.LearnersPerClass {
					l := learner{person: newPerson(r), class: len(p.classes) - 1, lang: lang,
						browser: r.intn(len(browsers)), device: r.intn(len(devices))}
					for range cl.courses {
						l.regs = append(l.regs, r.uuid())
					}
					p.learners = append(p.learners, l)
				}
			}
		}
	}
	return p
}

// newPerson returns an MPASSid account: an opaque, pseudonymous name.
func newPerson(r *rng) person {
	name := "MPASSOID." + r.hex(40)
	w := writer{}
	w.begin('{')
	w.kstr("objectType", "Agent")
	w.key("account")
	w.begin('{')
	w.kstr("homePage", MPASSHomePage)
	w.kstr("name", name)
	w.end('}')
	w.end('}')
	return person{account: name, actor: w.b}
}

func (p *population) addActivity(a activity) int {
	p.activities = append(p.activities, a)
	return len(p.activities) - 1
}

func (p *population) addApp(r *rng, spec *appSpec) {
	base := "https://" + spec.slug + ".example.fi"
	ap := app{spec: spec, base: base, ext: base + "/xapi/ext/v2.1/",
		platform: fmt.Sprintf("%s %d.%d.%d", spec.name, r.between(2, 6), r.intn(20), r.intn(10)),
		typed:    r.chance(0.5), defs: 0.3 + 0.7*r.float(), roster: r.chance(0.6), displays: r.between(1, 3),
		swedish: r.chance(0.5)}
	sv := func(s string) string {
		if ap.swedish {
			return s
		}
		return ""
	}
	ap.root = p.addActivity(newActivity(kindApp, base+"/", spec.name, "Oppimateriaali: "+spec.subject,
		sv("Läromedel: "+spec.subject), "", nil))
	p.apps = append(p.apps, ap)
	appIdx := len(p.apps) - 1
	for ti, topic := range spec.topics {
		grade := 3 + (ti+r.intn(7))%7
		cslug := fmt.Sprintf("%s-%dlk", slug(topic), grade)
		cid := base + "/kurssit/" + cslug
		crs := course{app: appIdx}
		crs.act = p.addActivity(newActivity(kindCourse, cid, fmt.Sprintf("%s, %d. luokka", topic, grade),
			fmt.Sprintf("Kurssi aiheesta %s (%s, %d. luokka) perusopetuksen opetussuunnitelman mukaisesti.", topic, spec.subject, grade),
			sv(fmt.Sprintf("Kurs om %s (årskurs %d) enligt grunderna för läroplanen.", topic, grade)), "", nil))
		p.courses = append(p.courses, crs)
		ci := len(p.courses) - 1
		for m := 1; m <= 5; m++ {
			mid := fmt.Sprintf("%s/osa-%d", cid, m)
			md := module{course: ci}
			md.act = p.addActivity(newActivity(kindModule, mid, fmt.Sprintf("%s: osa %d", topic, m),
				fmt.Sprintf("Osa %d: harjoituksia, videoita ja koe aiheesta %s.", m, topic),
				sv(fmt.Sprintf("Del %d: övningar, videor och prov om %s.", m, topic)), "", nil))
			ext := map[string]string{"https://digione.fi/xapi/extensions/curriculum.ops2014.goal": fmt.Sprintf("T%d", r.between(1, 12))}
			for q := 1; q <= 4; q++ {
				md.questions = append(md.questions, p.addActivity(p.newQuestion(r, &ap, mid, topic, m, q)))
			}
			md.video = p.addActivity(newActivity(kindVideo, fmt.Sprintf("%s/video-%d", mid, r.between(100, 999)),
				fmt.Sprintf("Video: %s %d", topic, m), fmt.Sprintf("Opetusvideo, jossa käydään läpi aiheen %s keskeiset käsitteet esimerkkien avulla.", topic),
				sv(fmt.Sprintf("Undervisningsvideo om de centrala begreppen i %s.", topic)), fmt.Sprintf("%s/videot/%s", base, r.hex(12)),
				map[string]string{"https://w3id.org/xapi/video/extensions/length": fmt.Sprintf("%d.%d", r.between(60, 900), r.intn(10))}))
			md.lesson = p.addActivity(newActivity(kindLesson, mid+"/teoria",
				fmt.Sprintf("Teoria: %s %d", topic, m), fmt.Sprintf("Lue teoriaosuus ja tee muistiinpanot aiheesta %s.", topic),
				sv(fmt.Sprintf("Läs teoridelen om %s.", topic)), "", ext))
			a := newActivity(kindAssessment, mid+"/koe", fmt.Sprintf("Koe: %s %d", topic, m),
				fmt.Sprintf("Osan %d koe: %d tehtävää, hyväksytty raja 50 %%.", m, r.between(8, 20)),
				sv(fmt.Sprintf("Prov för del %d.", m)), "", map[string]string{ap.ext + "assessment.pass.mark": "0.5"})
			a.maxScore = 10 * r.between(1, 4)
			md.assessment = p.addActivity(a)
			g := newActivity(kindGame, mid+"/peli", fmt.Sprintf("Peli: %s", topic),
				fmt.Sprintf("Harjoittelupeli: kerää pisteitä ratkaisemalla tehtäviä aiheesta %s.", topic),
				sv(fmt.Sprintf("Övningsspel om %s.", topic)), "", nil)
			g.maxScore = 1000
			md.game = p.addActivity(g)
			crs.modules = append(crs.modules, len(p.modules))
			p.modules = append(p.modules, md)
		}
		p.courses[ci] = crs
	}
}

// newQuestion returns a question activity of a random interaction type.
func (p *population) newQuestion(r *rng, ap *app, mid, topic string, m, q int) activity {
	langMap := func(w *writer, fi, sv string) {
		if ap.swedish {
			w.langMap("fi-FI", fi, "sv-FI", sv)
		} else {
			w.langMap("fi-FI", fi)
		}
	}
	it := interactionTypes[r.intn(len(interactionTypes))]
	id := fmt.Sprintf("%s/tehtava-%d", mid, q)
	a := activity{id: id, kind: kindQuestion, interaction: it, maxScore: r.between(1, 4)}
	w := writer{}
	w.begin('{')
	w.kstr("objectType", "Activity")
	w.kstr("id", id)
	w.key("definition")
	w.begin('{')
	w.key("name")
	langMap(&w, fmt.Sprintf("Tehtävä %d.%d", m, q), fmt.Sprintf("Uppgift %d.%d", m, q))
	w.key("description")
	langMap(&w, fmt.Sprintf("%s: %s Tehtävä %d käsittelee aihetta %s.", topic, questionPrompts[it][0], q, strings.ToLower(topic)),
		fmt.Sprintf("%s: %s Uppgift %d.", topic, questionPrompts[it][1], q))
	w.kstr("type", kindTypes[kindQuestion])
	w.kstr("interactionType", it)
	comp := func(list string, ids []string, texts func(i int) (string, string)) {
		w.key(list)
		w.begin('[')
		for i, cid := range ids {
			fi, sv := texts(i)
			w.begin('{')
			w.kstr("id", cid)
			w.key("description")
			langMap(&w, fi, sv)
			w.end('}')
		}
		w.end(']')
	}
	num := func(i int) (string, string) {
		s := fmt.Sprintf("%d/%d", r.between(1, 9), r.between(2, 12))
		return "Vastaus " + s, "Svar " + s
	}
	switch it {
	case "choice":
		ids := []string{"a", "b", "c", "d"}[:r.between(3, 4)]
		a.correct = ids[r.intn(len(ids))]
		for _, x := range ids {
			if x != a.correct {
				a.wrong = append(a.wrong, x)
			}
		}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str(a.correct)
		w.end(']')
		comp("choices", ids, num)
	case "true-false":
		a.correct, a.wrong = "true", []string{"false"}
		if r.chance(0.5) {
			a.correct, a.wrong = "false", []string{"true"}
		}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str(a.correct)
		w.end(']')
	case "fill-in":
		a.correct, a.wrong = strings.ToLower(topic), []string{"en tiedä", "kolme", "vastaus"}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str("{case_matters=false}" + a.correct)
		w.end(']')
	case "numeric":
		n := r.between(2, 500)
		a.correct = fmt.Sprint(n)
		a.wrong = []string{fmt.Sprint(n + 1), fmt.Sprint(n * 2), fmt.Sprint(n - 1)}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str(a.correct)
		w.end(']')
	case "sequencing":
		ids := []string{"eka", "toka", "kolmas", "neljas"}
		a.correct = strings.Join(ids, "[,]")
		a.wrong = []string{"toka[,]eka[,]kolmas[,]neljas", "eka[,]kolmas[,]toka[,]neljas"}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str(a.correct)
		w.end(']')
		comp("choices", ids, func(i int) (string, string) {
			return fmt.Sprintf("Vaihe %d", i+1), fmt.Sprintf("Steg %d", i+1)
		})
	case "matching":
		a.correct = "k1[.]v1[,]k2[.]v2[,]k3[.]v3"
		a.wrong = []string{"k1[.]v2[,]k2[.]v1[,]k3[.]v3"}
		w.key("correctResponsesPattern")
		w.begin('[')
		w.str(a.correct)
		w.end(']')
		comp("source", []string{"k1", "k2", "k3"}, func(i int) (string, string) {
			return fmt.Sprintf("Käsite %d", i+1), fmt.Sprintf("Begrepp %d", i+1)
		})
		comp("target", []string{"v1", "v2", "v3"}, func(i int) (string, string) {
			return fmt.Sprintf("Selitys %d", i+1), fmt.Sprintf("Förklaring %d", i+1)
		})
	case "likert":
		a.correct, a.wrong = "likert_3", []string{"likert_1", "likert_2", "likert_4"}
		comp("scale", []string{"likert_1", "likert_2", "likert_3", "likert_4"}, func(i int) (string, string) {
			return []string{"Ei lainkaan", "Vähän", "Melko hyvin", "Erittäin hyvin"}[i],
				[]string{"Inte alls", "Lite", "Ganska bra", "Mycket bra"}[i]
		})
	}
	w.key("extensions")
	w.begin('{')
	w.kstr("https://digione.fi/xapi/extensions/curriculum.ops2014.content-area", fmt.Sprintf("S%d", r.between(1, 6)))
	w.key(ap.ext + "item.difficulty")
	w.number(float64(r.between(5, 95)) / 100)
	w.end('}')
	w.end('}')
	w.end('}')
	a.object = w.b
	a.ref, a.bare = refJSON(id, kindQuestion), bareJSON(id)
	return a
}

var questionPrompts = map[string][2]string{
	"choice":     {"Valitse oikea vastaus annetuista vaihtoehdoista.", "Välj rätt svar bland alternativen."},
	"true-false": {"Onko väite totta vai tarua?", "Är påståendet sant eller falskt?"},
	"fill-in":    {"Kirjoita puuttuva sana tekstikenttään.", "Skriv det ord som saknas."},
	"numeric":    {"Laske ja kirjoita vastaus numeroina.", "Räkna och skriv svaret med siffror."},
	"sequencing": {"Järjestä vaiheet oikeaan järjestykseen.", "Ordna stegen i rätt ordning."},
	"matching":   {"Yhdistä käsitteet ja niiden selitykset.", "Para ihop begreppen med förklaringarna."},
	"likert":     {"Kuinka hyvin mielestäsi osaat tämän aiheen?", "Hur väl kan du det här ämnet?"},
}

// newActivity returns an activity with a definition in Finnish and
// Swedish.
func newActivity(k kind, id, name, fi, sv, moreInfo string, ext map[string]string) activity {
	w := writer{}
	w.begin('{')
	w.kstr("objectType", "Activity")
	w.kstr("id", id)
	w.key("definition")
	w.begin('{')
	w.key("name")
	w.langMap("fi-FI", name)
	w.key("description")
	if sv != "" {
		w.langMap("fi-FI", fi, "sv-FI", sv)
	} else {
		w.langMap("fi-FI", fi)
	}
	w.kstr("type", kindTypes[k])
	if moreInfo != "" {
		w.kstr("moreInfo", moreInfo)
	}
	if len(ext) > 0 {
		w.key("extensions")
		w.begin('{')
		for _, k := range slices.Sorted(maps.Keys(ext)) {
			w.key(k)
			w.raw(extValue(ext[k]))
		}
		w.end('}')
	}
	w.end('}')
	w.end('}')
	return activity{id: id, kind: k, object: w.b, ref: refJSON(id, k), bare: bareJSON(id)}
}

// extValue returns v as JSON: a number when it reads as one, else a string.
func extValue(v string) []byte {
	isNum := v != ""
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' {
			isNum = false
		}
	}
	if isNum {
		return []byte(v)
	}
	return appendString(nil, v)
}

func refJSON(id string, k kind) []byte {
	w := writer{}
	w.begin('{')
	w.kstr("objectType", "Activity")
	w.kstr("id", id)
	w.key("definition")
	w.begin('{')
	w.kstr("type", kindTypes[k])
	w.end('}')
	w.end('}')
	return w.b
}

func bareJSON(id string) []byte {
	w := writer{}
	w.begin('{')
	w.kstr("objectType", "Activity")
	w.kstr("id", id)
	w.end('}')
	return w.b
}

// slug returns s in lower case ASCII with dashes: "Kylmä sota" → "kylma-sota".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch c {
		case 'ä', 'å':
			c = 'a'
		case 'ö':
			c = 'o'
		}
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
