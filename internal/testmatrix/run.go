package testmatrix

import (
	"net/http"
	"slices"
	"strings"

	"custos/internal/crm"
	"custos/internal/httpx"
)

// Spec classifies one route of a surface (or one variant of a route whose
// path names an object): the records it is about, the outcome the oracle
// expects for each actor and record, and how to build a real request (R is
// the surface's request).
type Spec[R any] struct {
	Name    string     // the variant, for routes whose path names an object
	Object  crm.Object // the object of the slots; "" for a route about no record
	Slots   []Slot     // nil: Slots(Object), or the pseudo slots of Object
	Variant Variant    // the state of the family the record comes from
	Want    func(a ActorKey, s Slot) Outcome
	Req     func(x *Target) R
	Lists   []Listing
	Mutates bool // an allowed request changes the family: the next cell gets a fresh one
	Ends    bool // may end the actor's sessions: everyone signs in again after it
	Account bool // changes the account's own state: runs last
}

// Target is what a request is built for: the actor, the slot, and the
// slot's family (nil for pseudo slots and routes about no record).
type Target struct {
	W *World
	A ActorKey
	S Slot
	F *Family
}

// Listing checks a list answer: the records of O the answer shows (found
// by the surface through Key) must be exactly those In says, among every
// family the world was built with.
type Listing struct {
	Key string
	O   crm.Object
	In  func(a ActorKey, o crm.Object, s Slot, v Variant) bool
}

// Answer is a surface's answer reduced for the matrix.
type Answer struct {
	Outcome Outcome
	Detail  string // for failure messages
	Normal  string // without what differs between any two requests, to compare denials
	// Shows reports whether the answer lists the record (for Listings).
	Shows func(l Listing, r Record) bool
}

// Surface is how a test sends requests to one surface.
type Surface[R any] struct {
	Name   string
	Actors []ActorKey
	Routes []httpx.Route
	Specs  map[string][]Spec[R]
	Do     func(a ActorKey, method string, r R) Answer
	// Match says whether an answer's outcome is the one wanted (nil:
	// Matches), for a surface that cannot tell two outcomes apart.
	Match func(want, got Outcome) bool
}

// Run checks that every route is classified (and nothing else), runs
// every cell — reads first, against the families as built, then writes,
// then the accounts' own functions — and reports.
func Run[R any](w *World, rep *Report, s Surface[R]) {
	w.t.Helper()
	key := func(rt httpx.Route) string { return rt.Method + " " + rt.Pattern }
	for _, rt := range s.Routes {
		if _, ok := s.Specs[key(rt)]; !ok {
			w.t.Errorf("%s route %s has no entry in the authorisation matrix: classify it", s.Name, key(rt))
		}
	}
	for k := range s.Specs {
		if !slices.ContainsFunc(s.Routes, func(rt httpx.Route) bool { return key(rt) == k }) {
			w.t.Errorf("the %s matrix classifies %s, which is no route", s.Name, k)
		}
	}
	if s.Match == nil {
		s.Match = Matches
	}
	phase := func(method string, sp Spec[R]) int {
		switch {
		case sp.Account:
			return 2
		case method == http.MethodGet:
			return 0
		}
		return 1
	}
	for p := range 3 {
		for _, rt := range s.Routes {
			for _, sp := range s.Specs[key(rt)] {
				if phase(rt.Method, sp) == p {
					runRoute(w, rep, s, rt, sp)
				}
			}
		}
	}
	rep.Finish(s.Name)
}

func runRoute[R any](w *World, rep *Report, s Surface[R], rt httpx.Route, sp Spec[R]) {
	name := rt.Method + " " + rt.Pattern
	if sp.Name != "" {
		name += " [" + sp.Name + "]"
	}
	slots := sp.Slots
	if slots == nil && sp.Object != "" {
		if slots = PseudoSlots[sp.Object]; slots == nil {
			slots = Slots(sp.Object)
		}
	}
	if slots == nil {
		slots = []Slot{""}
	}
	// The missing record first: every other denial is compared with it.
	if i := slices.Index(slots, SlotMissing); i > 0 {
		slots = append([]Slot{SlotMissing}, slices.Delete(slices.Clone(slots), i, i+1)...)
	}
	for _, a := range s.Actors {
		var missing *Answer
		for _, sl := range slots {
			c := Cell{Route: name, Actor: a, Object: sp.Object, Slot: sl, Want: sp.Want(a, sl)}
			x := &Target{W: w, A: a, S: sl}
			if sl != "" && PseudoSlots[sp.Object] == nil {
				x.F = w.Family(sl, sp.Variant)
			}
			rep.Requests++
			ans := s.Do(a, rt.Method, sp.Req(x))
			rep.Result(c, ans.Outcome, s.Match, ans.Detail)
			if sl == SlotMissing {
				missing = &ans
			} else if missing != nil && c.Want.Denial() && ans.Outcome.Denial() && c.Want == sp.Want(a, SlotMissing) {
				rep.Same(c, ans.Normal, missing.Normal)
			}
			if ans.Outcome != Allow {
				continue
			}
			for _, l := range sp.Lists {
				listed(w, rep, c, l, ans)
			}
			if sp.Mutates && x.F != nil {
				w.Dirty(x.F)
			}
			if sp.Ends {
				w.SignIn()
			}
		}
	}
}

// listed compares a list answer with the records the oracle says it shows.
func listed(w *World, rep *Report, c Cell, l Listing, ans Answer) {
	for _, f := range w.base {
		if !f.Has(l.O) {
			continue
		}
		cell := Cell{Route: c.Route + " lists", Actor: c.Actor, Object: l.O, Slot: f.Slot}
		rep.Listed(cell, ans.Shows(l, f.Records[l.O]), l.In(c.Actor, l.O, f.Slot, f.Variant))
	}
}

// Unify turns a path with ids into one with placeholders, so answers about
// different records compare equal when nothing else differs.
func Unify(body, path string) string {
	return strings.ReplaceAll(body, path, "{path}")
}
