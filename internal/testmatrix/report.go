package testmatrix

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
)

// Reached is the expected outcome of the account's own functions whose
// answer depends on the account's state (a code checked, nothing pending to
// confirm): the request passes authorisation, whatever it then answers.
const Reached Outcome = "reached"

// Cell is one cell of the matrix: a route (and the variant of a route whose
// path names an object), an actor, and the slot of the record the request
// names ("" for a route about no record).
type Cell struct {
	Route  string
	Actor  ActorKey
	Object crm.Object
	Slot   Slot
	Want   Outcome
}

func (c Cell) String() string {
	if c.Slot == "" {
		return fmt.Sprintf("%s as %s", c.Route, c.Actor)
	}
	return fmt.Sprintf("%s as %s on %s/%s (%s)", c.Route, c.Actor, c.Object, c.Slot, Relation(c.Actor, c.Object, c.Slot))
}

// Report collects the matrix's cells and what went wrong.
type Report struct {
	t         *testing.T
	start     time.Time
	Requests  int
	cells     int
	routes    map[string]bool
	variants  map[string]bool // routes with a variant per object their path names
	actors    map[ActorKey]bool
	relations map[string]bool
	outcomes  map[Outcome]int
	allows    []string // denials expected, the request was allowed
	denials   []string // allows expected, the request was refused
	wrong     []string // refused, but not the way expected
	leaks     []string // a denial told more than "not there" would
}

// NewReport starts a report; its clock measures the run.
func NewReport(t *testing.T) *Report {
	return &Report{t: t, start: time.Now(), routes: map[string]bool{}, variants: map[string]bool{}, actors: map[ActorKey]bool{},
		relations: map[string]bool{}, outcomes: map[Outcome]int{}}
}

func (r *Report) count(c Cell) {
	r.cells++
	route, _, _ := strings.Cut(strings.TrimSuffix(c.Route, " lists"), " [") // the table's route, without variant
	r.routes[route] = true
	r.variants[strings.TrimSuffix(c.Route, " lists")] = true
	r.actors[c.Actor] = true
	if c.Slot != "" {
		r.relations[Relation(c.Actor, c.Object, c.Slot)] = true
	}
}

// Matches reports whether an answer's outcome is the one wanted.
func Matches(want, got Outcome) bool {
	if want == Reached {
		return got == Allow || got == Invalid || got == Conflict
	}
	return want == got
}

// Result records the outcome of one cell's request; match says whether
// it is the one wanted, detail describes the response for the failure
// message.
func (r *Report) Result(c Cell, got Outcome, match func(want, got Outcome) bool, detail string) {
	r.count(c)
	r.outcomes[c.Want]++
	if match(c.Want, got) {
		return
	}
	line := fmt.Sprintf("%s: want %s, got %s: %s", c, c.Want, got, clip(detail))
	switch {
	case c.Want.Denial() && c.Want != Reached && !got.Denial():
		r.allows = append(r.allows, line)
	case !c.Want.Denial() || c.Want == Reached:
		r.denials = append(r.denials, line)
	default:
		r.wrong = append(r.wrong, line)
	}
}

// Listed records whether a list answer showed a record it should (want) or
// should not show.
func (r *Report) Listed(c Cell, present, want bool) {
	r.count(c)
	switch {
	case present && !want:
		r.allows = append(r.allows, fmt.Sprintf("%s: listed, must not be", c))
	case !present && want:
		r.denials = append(r.denials, fmt.Sprintf("%s: not listed, should be", c))
	}
}

// Same records a denial compared with the answer about a missing record:
// they must be identical once what varies per request is removed.
func (r *Report) Same(c Cell, got, missing string) {
	if got != missing {
		g, m := firstDifference(got, missing)
		r.leaks = append(r.leaks, fmt.Sprintf("%s: the denial differs from the answer for a missing record:\n  got     %s\n  missing %s",
			c, clip(g), clip(m)))
	}
}

// firstDifference returns both texts from a little before the first place
// they differ.
func firstDifference(a, b string) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	start := max(0, i-120)
	for start > 0 && start < len(a) && a[start]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		start--
	}
	if start > 0 {
		return "…" + a[start:], "…" + b[min(start, len(b)):]
	}
	return a, b
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// Finish fails the test for every finding and logs the matrix's size.
func (r *Report) Finish(surface string) {
	r.t.Helper()
	for _, group := range []struct {
		name  string
		lines []string
	}{{"unexpected allow", r.allows}, {"unexpected denial", r.denials}, {"wrong refusal", r.wrong}, {"denial tells more than \"not there\"", r.leaks}} {
		for i, l := range group.lines {
			if i == 40 {
				r.t.Errorf("%s: … and %d more", group.name, len(group.lines)-40)
				break
			}
			r.t.Errorf("%s: %s", group.name, l)
		}
	}
	outcomes := make([]string, 0, len(r.outcomes))
	for _, o := range slices.Sorted(maps.Keys(r.outcomes)) {
		outcomes = append(outcomes, fmt.Sprintf("%s %d", o, r.outcomes[o]))
	}
	r.t.Logf("%s matrix: %d routes (%d with variants) × %d actors × %d relations (%s) = %d cells in %d requests, %s; expected outcomes: %s",
		surface, len(r.routes), len(r.variants), len(r.actors), len(r.relations), strings.Join(slices.Sorted(maps.Keys(r.relations)), ", "),
		r.cells, r.Requests, time.Since(r.start).Round(time.Millisecond), strings.Join(outcomes, ", "))
}
