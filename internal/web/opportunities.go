package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
)

// ---- stages ----

// pipeline is the configured stages in order, and by id.
type pipeline struct {
	all  []crm.Stage
	byID map[int64]crm.Stage
}

func (s *Server) pipeline(ctx context.Context, a *access.Actor) (pipeline, error) {
	stages, err := s.svc.Stages(ctx, a)
	if err != nil {
		return pipeline{}, err
	}
	pl := pipeline{all: stages, byID: make(map[int64]crm.Stage, len(stages))}
	for _, st := range stages {
		pl.byID[st.ID] = st
	}
	return pl, nil
}

// stageMap is the stages by id, for labels.
func (s *Server) stageMap(ctx context.Context, a *access.Actor) (map[int64]crm.Stage, error) {
	pl, err := s.pipeline(ctx, a)
	return pl.byID, err
}

// active are the active stages in order.
func (pl pipeline) active() []crm.Stage {
	var out []crm.Stage
	for _, st := range pl.all {
		if st.Active {
			out = append(out, st)
		}
	}
	return out
}

// StageMove is one move an opportunity can make from its stage.
type StageMove struct {
	StageID int64
	Label   string
	Lost    bool // a lost stage: the form asks for the reason
}

// Moves are the moves offered for an opportunity: an open one goes back
// to the previous open stage, forward to the next one (after the last, to
// the won stage) or to the lost stage with a reason; a closed one reopens
// into the last open stage.
type Moves struct {
	Prev, Next, Lost *StageMove
}

func (pl pipeline) moves(lang string, current int64) Moves {
	var open []crm.Stage
	var won, lost *crm.Stage
	for _, st := range pl.active() {
		switch st.Kind {
		case crm.StageOpen:
			open = append(open, st)
		case crm.StageWon:
			if won == nil {
				won = &st
			}
		case crm.StageLost:
			if lost == nil {
				lost = &st
			}
		}
	}
	move := func(st *crm.Stage) *StageMove {
		if st == nil || st.ID == current {
			return nil
		}
		return &StageMove{StageID: st.ID, Label: st.Label(lang), Lost: st.Kind == crm.StageLost}
	}
	cur, known := pl.byID[current]
	var m Moves
	if !known || cur.Kind == crm.StageOpen {
		i := slices.IndexFunc(open, func(st crm.Stage) bool { return st.ID == current })
		if i > 0 {
			m.Prev = move(&open[i-1])
		}
		if i+1 < len(open) {
			m.Next = move(&open[i+1])
		} else {
			m.Next = move(won)
		}
		m.Lost = move(lost)
		return m
	}
	if len(open) > 0 {
		m.Prev = move(&open[len(open)-1])
	}
	return m
}

// MoveButton is one stage-move form: a button, or for a lost stage a small
// form asking for the reason. It carries the version the user saw, so a
// move based on a stale view is refused.
type MoveButton struct {
	Page
	OppID   int64
	Version int64
	StageID int64
	Label   string
	Dir     string // prev, next or lost
	From    string // board or detail: where the answer goes
	// Keep is the board's filter query ("?owner=…"), so the board the
	// move answers with is the one the user was looking at.
	Keep string
}

// Action is where the form posts.
func (b MoveButton) Action() string {
	return "/opportunities/" + strconv.FormatInt(b.OppID, 10) + "/stage" + b.Keep
}

// Board reports whether the form swaps the board through htmx.
func (b MoveButton) Board() bool { return b.From == "board" }

// Lost reports whether the move asks for a reason.
func (b MoveButton) Lost() bool { return b.Dir == "lost" }

// InputID is the id of the reason input, unique on the page.
func (b MoveButton) InputID() string {
	return "lost-" + b.From + "-" + strconv.FormatInt(b.OppID, 10)
}

// buttons are the move forms of an opportunity.
func (m Moves) buttons(p Page, oppID, version int64, from string) []MoveButton {
	var out []MoveButton
	for _, mv := range []struct {
		m   *StageMove
		dir string
	}{{m.Prev, "prev"}, {m.Next, "next"}, {m.Lost, "lost"}} {
		if mv.m == nil {
			continue
		}
		dir := mv.dir
		if mv.m.Lost {
			dir = "lost"
		}
		out = append(out, MoveButton{Page: p, OppID: oppID, Version: version, StageID: mv.m.StageID, Label: mv.m.Label, Dir: dir, From: from})
	}
	return out
}

// ---- rows ----

// OpportunityRow is one opportunity in a list, on the board or on its
// customer's page.
type OpportunityRow struct {
	ID                int64
	Version           int64
	Name              string
	CustomerID        int64
	CustomerName      string
	Amount            string
	Stage             string
	StageID           int64
	Closed            bool
	Probability       int
	ExpectedCloseDate string
	OwnerName         string
	UpdatedAt         time.Time
	Custom            map[string]any // stored custom values, for the list columns
	Buttons           []MoveButton   // stage moves, on the board
	Alert             FormErrors     // why its move was refused, on the board
}

// URL is the opportunity's detail page.
func (o OpportunityRow) URL() string { return "/opportunities/" + strconv.FormatInt(o.ID, 10) }

func opportunityRows(p Page, items []crm.Opportunity, stages map[int64]crm.Stage) []OpportunityRow {
	out := make([]OpportunityRow, len(items))
	for i, o := range items {
		st := stages[o.StageID]
		out[i] = OpportunityRow{ID: o.ID, Version: o.Version, Name: o.Name, CustomerID: o.CustomerID, CustomerName: o.CustomerName,
			Amount: p.Money(o.Amount, o.Currency), Stage: st.Label(p.Lang), StageID: o.StageID, Closed: o.ClosedAt != nil,
			Probability: o.Probability, ExpectedCloseDate: o.ExpectedCloseDate, OwnerName: o.OwnerName, UpdatedAt: o.UpdatedAt,
			Custom: o.Custom}
	}
	return out
}

// ---- list ----

// opportunitySorts are the list orderings the store supports.
var opportunitySorts = listSorts(crm.ObjOpportunity)

// OpportunityListView is the opportunity list with search, a stage filter
// and the custom columns and filters.
type OpportunityListView struct {
	Page
	Pager
	CustomList
	Path        string
	Query       string
	StageID     int64
	Stalled     int // days; 0: any
	Sort        string
	Rows        []OpportunityRow
	Total       int
	TotalCapped bool // Total is a lower bound
	stages      []crm.Stage
}

// SearchHint is the search box's placeholder.
func (v OpportunityListView) SearchHint() string { return v.T("opportunities.search_placeholder") }

// FilterSelects are the stage and sort selects.
func (v OpportunityListView) FilterSelects() []FilterSelect {
	stage := FilterSelect{Name: "stage", Label: v.T("field.stage_id"), Options: []Option{{Value: "", Label: v.T("list.any_stage"), Selected: v.StageID == 0}}}
	for _, st := range v.stages {
		stage.Options = append(stage.Options, Option{Value: idString(st.ID), Label: st.Label(v.Lang), Selected: st.ID == v.StageID})
	}
	sort := FilterSelect{Name: "sort", Label: v.T("field.sort"), Options: v.enumOptions("sort", opportunitySorts, v.Sort, "")}
	for i := range sort.Options {
		sort.Options[i].Label = v.T("list.sort_by") + " " + sort.Options[i].Label
	}
	out := append([]FilterSelect{stage}, v.CustomList.selects(v.Page)...)
	if v.Stalled > 0 {
		out = append(out, FilterSelect{Name: "stalled", Label: v.T("team.stalled"), Options: []Option{
			{Value: "", Label: v.T("team.any_activity")},
			{Value: strconv.Itoa(v.Stalled), Label: v.Tf("team.stalled_days", v.Stalled), Selected: true}}})
	}
	return append(out, sort)
}

func (s *Server) listOpportunities(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	pl, err := s.pipeline(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	cl, err := s.customList(r, a, crm.ObjOpportunity)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	q := r.URL.Query()
	f := crm.ListFilter{Query: strings.TrimSpace(q.Get("q")), Custom: cl.Chosen, Sort: q.Get("sort"), Cursor: q.Get("cursor"), Limit: 20,
		OwnerID: cl.Team.Owner, DeptID: cl.Team.Dept, StalledDays: int(queryID(q, "stalled"))}
	if !slices.Contains(opportunitySorts, f.Sort) {
		f.Sort = "updated"
	}
	// stage_id is the API's name, which a report's drill-down links with.
	if id, err := strconv.ParseInt(cmp.Or(q.Get("stage"), q.Get("stage_id")), 10, 64); err == nil {
		if _, ok := pl.byID[id]; ok {
			f.StageID = id
		}
	}
	if f.Drill, err = drillFilter(r); err != nil {
		s.fail(w, r, a, err)
		return
	}
	cl.Drill = drillView(s.page(r, a, "opportunities.title", "opportunities"), f.Drill)
	page, err := s.svc.ListOpportunities(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := OpportunityListView{Page: s.page(r, a, "opportunities.title", "opportunities"), CustomList: cl, Path: "/opportunities", Query: f.Query,
		StageID: f.StageID, Stalled: f.StalledDays, Sort: f.Sort, Total: page.Total, TotalCapped: page.TotalCapped, stages: pl.all}
	v.Tab = "list"
	v.Rows = opportunityRows(v.Page, page.Items, pl.byID)
	params := url.Values{}
	if f.Query != "" {
		params.Set("q", f.Query)
	}
	if f.StageID != 0 {
		params.Set("stage", idString(f.StageID))
	}
	if f.Sort != "updated" {
		params.Set("sort", f.Sort)
	}
	if f.StalledDays > 0 {
		params.Set("stalled", strconv.Itoa(f.StalledDays))
	}
	cl.params(params)
	drillParams(params, f.Drill)
	v.Pager = makePager(v.Path, params, f.Cursor, readPrev(q), page.Next)
	s.showList(w, r, "opportunities", v)
}

// ---- board ----

// boardLimit bounds the cards of one column; the list shows the rest.
const boardLimit = 50

// BoardView is the pipeline board: one column per active stage.
type BoardView struct {
	Page
	Columns []BoardColumn
	Alert   FormErrors // a refused move, shown above the board
	CanEdit bool
	Pick    TeamPick
	// AmountsHidden: the role may not see amounts, so no sums are shown.
	AmountsHidden bool
}

// TeamForm is the board's rep and department filter.
func (v BoardView) TeamForm() TeamForm { return v.Pick.form(v.Page, "/opportunities/board", nil) }

// BoardColumn is one stage with its opportunities.
type BoardColumn struct {
	Label   string
	Kind    string
	Total   int
	Sums    []BoardSum // per currency, never mixed
	Cards   []OpportunityRow
	MoreURL string
}

// BoardSum is a column's total and weighted total (amount × the stage's
// probability) in one currency.
type BoardSum struct {
	Count            int
	Amount, Weighted string
}

func (s *Server) board(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showBoard(w, r, a, http.StatusOK, FormErrors{}, 0)
}

// showBoard renders the board, or only the board itself for htmx. A
// refused move's alert shows on the card of the opportunity (refused),
// or above the board when the card is not on it.
func (s *Server) showBoard(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, alert FormErrors, refused int64) {
	pl, err := s.pipeline(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := BoardView{Page: s.page(r, a, "board.title", "opportunities"), Alert: alert, CanEdit: a.Can(crm.ObjOpportunity, crm.ActEdit)}
	v.Tab = "board"
	if v.Pick, err = s.teamPick(r, a); err != nil {
		s.fail(w, r, a, err)
		return
	}
	base := crm.ListFilter{OwnerID: v.Pick.Owner, DeptID: v.Pick.Dept}
	totals, err := s.svc.OpportunityTotals(r.Context(), a, base)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.AmountsHidden = totals.AmountsHidden
	for _, st := range pl.active() {
		f := base
		f.StageID, f.Sort, f.Limit = st.ID, "updated", boardLimit
		page, err := s.svc.ListOpportunities(r.Context(), a, f)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		col := BoardColumn{Label: st.Label(v.Lang), Kind: st.Kind, Total: page.Total, Cards: opportunityRows(v.Page, page.Items, pl.byID)}
		for _, t := range totals.Stages {
			if t.StageID == st.ID && !v.AmountsHidden {
				col.Sums = append(col.Sums, BoardSum{Count: t.Count, Amount: v.Money(*t.Amount, t.Currency), Weighted: v.Money(*t.Weighted, t.Currency)})
			}
		}
		if v.CanEdit {
			moves := pl.moves(v.Lang, st.ID)
			keep := withQuery("", teamQuery(v.Pick))
			for i, c := range col.Cards {
				col.Cards[i].Buttons = moves.buttons(v.Page, c.ID, c.Version, "board")
				for j := range col.Cards[i].Buttons {
					col.Cards[i].Buttons[j].Keep = keep
				}
			}
		}
		if i := slices.IndexFunc(col.Cards, func(c OpportunityRow) bool { return c.ID == refused }); i >= 0 && alert.Any() {
			col.Cards[i].Alert, v.Alert = alert, FormErrors{}
		}
		if page.Total > len(page.Items) {
			more := teamQuery(v.Pick)
			more.Set("stage", idString(st.ID))
			col.MoreURL = withQuery("/opportunities", more)
		}
		v.Columns = append(v.Columns, col)
	}
	if isHTMX(r) {
		s.renderPartial(w, r, status, "board", "board", v)
		return
	}
	s.render(w, r, status, "board", v)
}

// moveOpportunity moves an opportunity to another stage. From the board
// (from=board) htmx swaps the whole board, so the card lands in its new
// column; a refused move (stale version, missing lost reason, a stage's
// criteria not met) shows the current board with the reason on the card.
func (s *Server) moveOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	mv := crm.StageMove{Version: formInt(r, "version"), StageID: formInt(r, "stage_id"), LostReason: r.PostFormValue("lost_reason")}
	_, err := s.svc.MoveOpportunity(r.Context(), a, id, mv)
	if err != nil && !isStale(err) && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	fromBoard := r.PostFormValue("from") == "board"
	if err == nil && !isHTMX(r) {
		if fromBoard {
			redirect(w, r, withQuery("/opportunities/board", teamQuery(TeamPick{Owner: queryID(r.URL.Query(), "owner"), Dept: queryID(r.URL.Query(), "department")})))
		} else {
			redirect(w, r, "/opportunities/"+strconv.FormatInt(id, 10))
		}
		return
	}
	status, alert := http.StatusOK, FormErrors{}
	if err != nil {
		status, alert = httpx.Status(err), formErrors(lang(r, a), err)
	}
	if fromBoard {
		s.showBoard(w, r, a, status, alert, id)
		return
	}
	s.opportunityPage(w, r, a, id, status, alert)
}

// ---- detail ----

// StageChangeRow is one step of an opportunity's stage history.
type StageChangeRow struct {
	At       time.Time
	From, To string
	By       string
}

// OpportunityView is an opportunity's detail page with its stage history.
type OpportunityView struct {
	Page
	O         crm.Opportunity
	Stage     string
	StageKind string
	Amount    string
	History   []StageChangeRow
	Custom    []CustomValue
	Buttons   []MoveButton
	Alert     FormErrors
	CanEdit   bool
	CanDelete bool
	// Needs says what the current stage asks before the opportunity moves
	// past it ("" : nothing); Tasks are the tasks linked to it.
	Needs     string
	Tasks     []TaskRow
	ShowTasks bool
}

// TaskList is the opportunity's tasks.
func (v OpportunityView) TaskList() TaskList {
	return TaskList{Page: v.Page, Tasks: v.Tasks, From: "tasks"}
}

// URL is the opportunity's own address.
func (v OpportunityView) URL() string { return "/opportunities/" + strconv.FormatInt(v.O.ID, 10) }

func (s *Server) showOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	s.opportunityPage(w, r, a, id, http.StatusOK, FormErrors{})
}

func (s *Server) opportunityPage(w http.ResponseWriter, r *http.Request, a *access.Actor, id int64, status int, alert FormErrors) {
	ctx := r.Context()
	o, hist, err := s.svc.GetOpportunity(ctx, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	pl, err := s.pipeline(ctx, a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	defs, err := s.activeCustomFields(ctx, a, crm.ObjOpportunity)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	names := map[int64]string{}
	for _, u := range dir.Users {
		names[u.ID] = u.DisplayName
	}
	v := OpportunityView{Page: s.page(r, a, "opportunity.title", "opportunities"), O: o, Alert: alert,
		CanEdit: a.Can(crm.ObjOpportunity, crm.ActEdit), CanDelete: a.Can(crm.ObjOpportunity, crm.ActDelete)}
	v.Title = o.Name
	st := pl.byID[o.StageID]
	v.Stage, v.StageKind, v.Amount = st.Label(v.Lang), st.Kind, v.Money(o.Amount, o.Currency)
	v.Custom = v.customValues(defs, o.Custom)
	if v.CanEdit {
		v.Buttons = pl.moves(v.Lang, o.StageID).buttons(v.Page, o.ID, o.Version, "detail")
	}
	if v.Needs, err = s.stageNeeds(ctx, a, v.Page, st, defs); err != nil {
		s.fail(w, r, a, err)
		return
	}
	if v.ShowTasks = a.Can(crm.ObjTask, crm.ActRead); v.ShowTasks {
		tasks, err := s.svc.ListTasks(ctx, a, service.TaskFilter{OpportunityID: o.ID, All: true, Limit: 50})
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Tasks = taskRows(v.Location(), tasks, map[int64]string{o.CustomerID: o.CustomerName})
	}
	// Newest first: the current stage on top.
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		row := StageChangeRow{At: h.ChangedAt, To: pl.byID[h.ToStageID].Label(v.Lang), By: names[h.ChangedBy]}
		if h.FromStageID != 0 {
			row.From = pl.byID[h.FromStageID].Label(v.Lang)
		}
		v.History = append(v.History, row)
	}
	s.render(w, r, status, "opportunity", v)
}

// stageNeeds words what an open stage's criteria ask before a move past
// it: "离开「方案报价」需要：金额、报价日期". A closed deal moves past nothing.
func (s *Server) stageNeeds(ctx context.Context, a *access.Actor, p Page, st crm.Stage, defs []crm.CustomField) (string, error) {
	if st.Kind != crm.StageOpen {
		return "", nil
	}
	c, err := s.svc.StageCriteria(ctx, a, st.ID)
	if err != nil || c.Empty() {
		return "", err
	}
	spec, _ := crm.Spec(crm.ObjOpportunity)
	var needs []string
	for _, name := range c.Fields {
		if key, custom := strings.CutPrefix(name, "custom."); custom {
			if i := slices.IndexFunc(defs, func(d crm.CustomField) bool { return d.Key == key }); i >= 0 {
				needs = append(needs, defs[i].LabelFor(p.Lang))
			}
		} else if f, ok := spec.Field(name); ok {
			needs = append(needs, p.T(f.Label))
		}
	}
	for _, k := range c.Tasks {
		needs = append(needs, p.Tf("criteria.needs_task", k.Count, k.Title))
	}
	if c.Contract {
		needs = append(needs, p.T("stage.criteria_contract"))
	}
	sep := ", "
	if p.Lang == i18n.ZH {
		sep = "、"
	}
	return p.Tf("criteria.needs_exit", st.Label(p.Lang), strings.Join(needs, sep)), nil
}

func (s *Server) deleteOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.DeleteOpportunity(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/opportunities")
}

// ---- form ----

// OpportunityForm is the opportunity form's input as typed; the amount is
// in major units ("12,000.50").
type OpportunityForm struct {
	CustomerID                                int64
	CustomerName                              string
	Name, Amount, Currency, ExpectedCloseDate string
}

var opportunityFieldNames = []string{"customer_id", "name", "amount", "currency", "expected_close_date"}

func readOpportunityForm(r *http.Request) OpportunityForm {
	g := r.PostFormValue
	return OpportunityForm{CustomerID: formInt(r, "customer_id"), Name: g("name"), Amount: g("amount"),
		Currency: strings.ToUpper(strings.TrimSpace(g("currency"))), ExpectedCloseDate: g("expected_close_date")}
}

// fields reads the form into domain fields; problems are what the page
// could not read (the amount).
func (f OpportunityForm) fields() (crm.OpportunityFields, crm.Problems) {
	out := crm.OpportunityFields{CustomerID: f.CustomerID, Name: f.Name, Currency: f.Currency, ExpectedCloseDate: f.ExpectedCloseDate}
	if out.Currency == "" {
		out.Currency = "CNY"
	}
	var p crm.Problems
	if strings.TrimSpace(f.Amount) != "" {
		n, ok := parseMoney(f.Amount, minorDigits(out.Currency))
		if !ok {
			p.Add("amount", "amount")
		}
		out.Amount = n
	}
	return out, p
}

// OpportunityFormView is the create and edit form. The customer is chosen
// at creation and fixed afterwards.
type OpportunityFormView struct {
	Page
	ID        int64
	Version   int64
	Form      OpportunityForm
	Custom    customInput
	Errors    FormErrors
	Stale     bool
	customers []Option
	defs      customDefs
}

// Action is where the form posts.
func (v OpportunityFormView) Action() string {
	if v.ID == 0 {
		return "/opportunities"
	}
	return "/opportunities/" + strconv.FormatInt(v.ID, 10)
}

// CancelURL is where "cancel" leads.
func (v OpportunityFormView) CancelURL() string {
	switch {
	case v.ID != 0:
		return v.Action()
	case v.Form.CustomerID != 0:
		return "/customers/" + strconv.FormatInt(v.Form.CustomerID, 10)
	}
	return "/opportunities"
}

// Fields are the form's inputs.
func (v OpportunityFormView) Fields() []FieldView {
	f := v.Form
	var fs []FieldView
	if v.ID == 0 {
		fs = append(fs, pickerField(v.Page, v.customers, "choose", v.Errors))
	}
	fs = append(fs, labelFields(v.Page, []FieldView{
		{Name: "name", Value: f.Name, Required: true, Max: 200, Wide: true},
		{Name: "amount", Value: f.Amount, InputMode: "decimal", Hint: v.T("hint.amount")},
		{Name: "currency", Value: f.Currency, Max: 3, Autocomplete: "off", Hint: v.T("hint.currency")},
		{Name: "expected_close_date", Type: "date", Value: f.ExpectedCloseDate},
	}, v.Errors)...)
	return append(fs, v.customFields(v.defs, v.Custom, v.Errors)...)
}

func (s *Server) opportunityForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string) (OpportunityFormView, bool) {
	defs, err := s.activeCustomFields(r.Context(), a, crm.ObjOpportunity)
	if err != nil {
		s.fail(w, r, a, err)
		return OpportunityFormView{}, false
	}
	return OpportunityFormView{Page: s.page(r, a, titleKey, "opportunities"), defs: defs, Custom: customInput{}}, true
}

// withCustomers fills the customer picker of a new opportunity's form.
func (s *Server) withCustomers(w http.ResponseWriter, r *http.Request, a *access.Actor, v *OpportunityFormView) bool {
	if v.ID != 0 {
		return true
	}
	opts, err := s.customerOptions(r.Context(), a, v.Page, "", v.Form.CustomerID, v.Form.CustomerName, "choose")
	if err != nil {
		s.fail(w, r, a, err)
		return false
	}
	v.customers = opts
	return true
}

func (s *Server) newOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.opportunityForm(w, r, a, "opportunity.new")
	if !ok {
		return
	}
	v.Form = OpportunityForm{Currency: "CNY"}
	v.Form.CustomerID, _ = strconv.ParseInt(r.URL.Query().Get("customer_id"), 10, 64)
	if !s.withCustomers(w, r, a, &v) {
		return
	}
	s.render(w, r, http.StatusOK, "opportunity_form", v)
}

// refusedOpportunity shows the form again with the objections.
func (s *Server) refusedOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor, v OpportunityFormView, err error) {
	v.Stale = isStale(err)
	if !v.Stale && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	v.Errors = labeledFormErrors(v.Lang, err, v.defs.labels(v.Lang), append(slices.Clone(opportunityFieldNames), v.defs.names()...)...)
	if !s.withCustomers(w, r, a, &v) {
		return
	}
	s.render(w, r, httpx.Status(err), "opportunity_form", v)
}

func (s *Server) createOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v, ok := s.opportunityForm(w, r, a, "opportunity.new")
	if !ok {
		return
	}
	v.Form, v.Custom = readOpportunityForm(r), readCustom(r, v.defs)
	fields, p := v.Form.fields()
	fields.Custom = v.Custom.values(v.defs)
	var err error
	var o crm.Opportunity
	if len(p) > 0 {
		err = mergeProblems(p, fields.Validate())
	} else {
		o, err = s.svc.CreateOpportunity(r.Context(), a, fields)
	}
	if err != nil {
		s.refusedOpportunity(w, r, a, v, err)
		return
	}
	redirect(w, r, "/opportunities/"+strconv.FormatInt(o.ID, 10))
}

func (s *Server) editOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	o, _, err := s.svc.GetOpportunity(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v, ok := s.opportunityForm(w, r, a, "opportunity.edit")
	if !ok {
		return
	}
	v.ID, v.Version = o.ID, o.Version
	v.Form = OpportunityForm{CustomerID: o.CustomerID, CustomerName: o.CustomerName, Name: o.Name,
		Amount: formatMinor(o.Amount, minorDigits(o.Currency), false), Currency: o.Currency, ExpectedCloseDate: o.ExpectedCloseDate}
	v.Custom = customInputOf(v.defs, o.Custom)
	s.render(w, r, http.StatusOK, "opportunity_form", v)
}

func (s *Server) updateOpportunity(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, ok := s.opportunityForm(w, r, a, "opportunity.edit")
	if !ok {
		return
	}
	v.ID, v.Version = id, formInt(r, "version")
	v.Form, v.Custom = readOpportunityForm(r), readCustom(r, v.defs)
	fields, p := v.Form.fields()
	var err error
	if len(p) > 0 {
		fields.CustomerID = 1 // fixed after creation; not the form's concern
		err = mergeProblems(p, fields.Validate())
	} else {
		_, err = s.svc.UpdateOpportunity(r.Context(), a, id, crm.OpportunityUpdate{Version: v.Version, Name: &fields.Name,
			Amount: &fields.Amount, Currency: &fields.Currency, ExpectedCloseDate: &fields.ExpectedCloseDate, Custom: v.Custom.values(v.defs)})
	}
	if err != nil {
		s.refusedOpportunity(w, r, a, v, err)
		return
	}
	redirect(w, r, "/opportunities/"+strconv.FormatInt(id, 10))
}
