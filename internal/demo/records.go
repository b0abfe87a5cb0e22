package demo

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
)

// maxAttempts bounds the retries of a record refused as a duplicate (which
// happens only when a database already holds demo data, see -force).
const maxAttempts = 6

const day = 24 * time.Hour

// person is a generated name with its pinyin (or English) parts for
// user names and e-mail addresses.
type person struct {
	name, surnamePY, givenPY string
	english                  bool
}

var surnameTotal = func() int {
	t := 0
	for _, s := range surnames {
		t += s.weight
	}
	return t
}()

func chinesePerson(r *mrand.Rand) person {
	n := r.IntN(surnameTotal)
	s := surnames[len(surnames)-1]
	for _, x := range surnames {
		if n < x.weight {
			s = x
			break
		}
		n -= x.weight
	}
	given := givenNames[r.IntN(len(givenNames))]
	return person{name: s.han + given.han, surnamePY: s.pinyin, givenPY: given.pinyin}
}

func englishPerson(r *mrand.Rand) person {
	f, l := enFirstNames[r.IntN(len(enFirstNames))], enLastNames[r.IntN(len(enLastNames))]
	return person{name: f + " " + l, surnamePY: strings.ToLower(l), givenPY: strings.ToLower(f), english: true}
}

func pick[T any](r *mrand.Rand, list []T) T { return list[r.IntN(len(list))] }

// weighted returns an index drawn with the given weights.
func weighted(r *mrand.Rand, weights ...int) int {
	t := 0
	for _, w := range weights {
		t += w
	}
	n := r.IntN(t)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// contactPlan is a person at a customer, before identities are derived.
type contactPlan struct {
	person
	title    string
	mobile   bool
	mailKind int // 0 company address, 1 public mail host, 2 none
	wechat   string
	notes    string
}

func planContact(r *mrand.Rand, english bool) contactPlan {
	c := contactPlan{person: chinesePerson(r), title: pick(r, titlesCN)}
	if english && r.IntN(10) < 7 {
		c.person, c.title = englishPerson(r), pick(r, titlesEN)
	}
	c.mobile = r.IntN(100) < 95
	c.mailKind = weighted(r, 60, 25, 15)
	if r.IntN(100) < 30 {
		c.wechat = fmt.Sprintf("wxid_%s%d", c.givenPY, r.IntN(100000))
	}
	return c
}

// fields derives the contact's fields: pid makes mobile and public e-mail
// unique, domain and used make company e-mails unique.
func (g *generator) contactFields(c contactPlan, customerID int64, pid uint64, domain string, attempt int, used map[string]bool) crm.ContactFields {
	f := crm.ContactFields{CustomerID: customerID, Name: c.name, Title: c.title, WeChat: c.wechat, Notes: c.notes}
	if c.mobile {
		f.Mobile = g.id.mobile(pid, attempt)
	}
	switch c.mailKind {
	case 0:
		local := c.givenPY + "." + c.surnamePY
		if !c.english {
			local = c.surnamePY + c.givenPY
		}
		for n := 2; used[local]; n++ {
			local = fmt.Sprintf("%s.%s%d", c.givenPY, c.surnamePY, n)
		}
		used[local] = true
		f.Email = local + "@" + domain
	case 1:
		f.Email = g.id.publicMail(pid, c.surnamePY+c.givenPY, attempt)
	}
	return f
}

// Follow-up state of a customer at the end: its next follow-up is overdue,
// due today, due later, or not planned.
const (
	nextOverdue = iota
	nextToday
	nextLater
	nextNone
)

type followPlan struct {
	kind, content string
	at            time.Time
	next          *time.Time
}

type oppPlan struct {
	fields crm.OpportunityFields
	stage  int // index into g.stages
	path   []int
	reason string
	inLead bool // created by the lead conversion
}

type taskPlan struct {
	title, notes string
	due          time.Time
	done         bool
	byManager    bool
}

// customerPlan is every random choice about one customer, drawn once so a
// retry after a duplicate changes only the identities.
type customerPlan struct {
	idx                                     uint64
	english                                 bool
	style                                   int
	fields                                  crm.CustomerFields
	district, street, number                int
	phone, email, credit, modernCredit, web bool
	mailbox                                 string
	people                                  []contactPlan
	viaLead                                 bool
	opp                                     *oppPlan
	follow                                  []followPlan
	category                                int
	task                                    *taskPlan
}

func (g *generator) planCustomer(r *mrand.Rand, i int) customerPlan {
	bench := g.opt.BenchShape
	p := customerPlan{idx: uint64(i), english: r.IntN(10) == 0, style: r.IntN(1000)}
	p.fields = crm.CustomerFields{
		Level:  crm.CustomerLevels[weighted(r, 10, 25, 40, 25)],
		Source: pick(r, crm.CustomerSources),
		Status: crm.CustomerStatuses[weighted(r, 35, 40, 15, 10)],
	}
	for range weighted(r, 40, 35, 20, 5) {
		if t := pick(r, tags); !strings.Contains(strings.Join(p.fields.Tags, ","), t) {
			p.fields.Tags = append(p.fields.Tags, t)
		}
	}
	p.district, p.street, p.number = r.IntN(4), r.IntN(len(streets)), 1+r.IntN(999)
	p.phone, p.email, p.credit, p.web = r.IntN(100) < 80, r.IntN(100) < 50, r.IntN(100) < 45, r.IntN(100) < 50
	p.modernCredit = r.IntN(100) < 60
	p.mailbox = pick(r, []string{"info", "sales", "contact", "service", "office", "hr"})
	n := 1 + weighted(r, 45, 35, 20) // 1-3 contacts
	if bench {
		n = 1 + r.IntN(2)
	}
	for range n {
		p.people = append(p.people, planContact(r, p.english))
	}
	// The benchmark data set is leaner around its million follow-ups.
	percent := func(normal, benchShape int) bool {
		if bench {
			return r.IntN(100) < benchShape
		}
		return r.IntN(100) < normal
	}
	p.viaLead = percent(8, 3)

	// The bench shape gives 55% of customers an opportunity: ≥ 50,000 at
	// 100,000 customers, for the report scenarios (issue 16).
	if i < len(g.stages) || percent(40, 55) {
		p.opp = g.planOpportunity(r, i, p.english)
		p.opp.inLead = p.viaLead && r.IntN(2) == 0
	}

	avg := g.opt.FollowUpsPerCustomer
	nf := avg
	if !bench {
		nf = r.IntN(2*avg + 1)
	}
	p.category = nextNone
	switch {
	case i < 4 && avg > 0:
		p.category, nf = i, max(nf, 1)
	case nf > 0:
		p.category = weighted(r, 25, 8, 52, 15)
	}
	p.follow = g.planFollowUps(r, nf, p.category, p.english)

	if percent(15, 5) {
		t := &taskPlan{title: pick(r, taskTitles), done: r.IntN(100) < 30, byManager: r.IntN(100) < 20}
		switch weighted(r, 30, 15, 55) {
		case 0:
			t.due = g.now.Add(-time.Duration(1+r.IntN(10*24)) * time.Hour)
		case 1:
			t.due = g.today.Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
		default:
			t.due = g.today.Add(time.Duration(1+r.IntN(14))*day + 10*time.Hour)
		}
		p.task = t
	}
	return p
}

func (g *generator) planOpportunity(r *mrand.Rand, i int, english bool) *oppPlan {
	// Every stage gets an opportunity: the first customers take one each.
	target := i
	if i >= len(g.stages) {
		weights := make([]int, len(g.stages))
		open := 0
		for k, st := range g.stages {
			switch st.Kind {
			case crm.StageOpen:
				weights[k] = max(25-5*open, 5)
				open++
			case crm.StageWon:
				weights[k] = 18
			default:
				weights[k] = 12
			}
		}
		target = weighted(r, weights...)
	}
	o := &oppPlan{stage: target}
	name, currency := pick(r, productsCN), "CNY"
	if english {
		name = pick(r, productsEN)
		if r.IntN(2) == 0 {
			currency = "USD"
		}
	}
	o.fields = crm.OpportunityFields{Name: fmt.Sprintf("%d %s", g.now.Year(), name), Amount: int64(1+r.IntN(400)) * 5000_00,
		Currency: currency}
	closeIn := time.Duration(10+r.IntN(170)) * day
	// The path walks the open stages after the first, as a salesperson
	// would, then into the target.
	var opens []int
	for k, st := range g.stages {
		if st.Kind == crm.StageOpen {
			opens = append(opens, k)
		}
	}
	switch g.stages[target].Kind {
	case crm.StageOpen:
		for _, k := range opens[1:] {
			if k <= target {
				o.path = append(o.path, k)
			}
		}
	case crm.StageWon:
		o.path = append(append(o.path, opens[1:]...), target)
		closeIn = -time.Duration(r.IntN(90)) * day
	default:
		o.path = append(append(o.path, opens[1:r.IntN(len(opens))+1]...), target)
		o.reason = pick(r, lostReasons)
		closeIn = -time.Duration(r.IntN(90)) * day
	}
	o.fields.ExpectedCloseDate = g.now.Add(closeIn).Format(time.DateOnly)
	return o
}

// planFollowUps spreads n follow-ups over the last months, oldest first;
// the last one sets the customer's next follow-up according to category.
func (g *generator) planFollowUps(r *mrand.Rand, n, category int, english bool) []followPlan {
	if n == 0 {
		return nil
	}
	hours := func(h int) time.Duration { return time.Duration(h) * time.Hour }
	var last time.Time
	var next *time.Time
	switch category {
	case nextOverdue:
		back := 8 + r.IntN(50)
		last = g.now.Add(-time.Duration(back)*day - hours(r.IntN(8)))
		t := last.Add(time.Duration(1+r.IntN(back-2)) * day)
		next = &t
	case nextToday:
		last = g.now.Add(-time.Duration(1+r.IntN(14))*day - hours(r.IntN(8)))
		t := g.today.Add(time.Duration(9*60+r.IntN(9*60)) * time.Minute)
		next = &t
	case nextLater:
		last = g.now.Add(-hours(1 + r.IntN(14*24)))
		t := g.today.Add(time.Duration(1+r.IntN(30))*day + time.Duration(9*60+r.IntN(9*60))*time.Minute)
		next = &t
	default:
		last = g.now.Add(-time.Duration(1+r.IntN(60)) * day)
	}
	start := g.now.Add(-time.Duration(20+r.IntN(160)) * day)
	if !start.Before(last) {
		start = last.Add(-time.Duration(n) * day)
	}
	out := make([]followPlan, n)
	span := last.Sub(start)
	for k := range n {
		at := last
		if k < n-1 {
			at = start.Add(span * time.Duration(k) / time.Duration(n))
			at = at.Add(time.Duration(r.Int64N(int64(span/time.Duration(n)/2) + 1)))
		}
		if k > 0 && !at.After(out[k-1].at) {
			at = out[k-1].at.Add(time.Minute)
		}
		out[k] = followPlan{at: at.Truncate(time.Minute)}
		out[k].kind = crm.FollowUpKinds[weighted(r, 35, 15, 10, 20, 10, 10)]
		out[k].content = followUpText(r, out[k].kind, english && r.IntN(10) < 7)
	}
	for k := range n - 1 {
		if r.IntN(100) < 60 {
			t := out[k+1].at.Add(time.Duration(r.IntN(48)-12) * time.Hour)
			if t.After(out[k].at) {
				out[k].next = &t
			}
		}
	}
	out[n-1].next = next
	return out
}

func followUpText(r *mrand.Rand, kind string, english bool) string {
	if english {
		verb := map[string]string{"call": "Called", "visit": "Visited the client", "meeting": "Meeting", "message": "WeChat",
			"email": "E-mailed", "note": "Note"}[kind]
		return fmt.Sprintf("%s about %s; %s.", verb, pick(r, topicsEN), pick(r, reactEN))
	}
	topic, react := pick(r, topicsCN), pick(r, reactCN)
	switch kind {
	case "call":
		return "电话沟通" + topic + "，" + react + "。"
	case "visit":
		return "上门拜访，沟通" + topic + "，" + react + "。"
	case "meeting":
		return "与客户开会讨论" + topic + "，" + react + "。"
	case "message":
		return "微信跟进" + topic + "，" + react + "。"
	case "email":
		return "发送邮件说明" + topic + "，" + react + "。"
	}
	return "备注：" + topic + "，" + react + "。"
}

// identity derives the customer's name, phone, e-mail, credit code and
// website from its index; attempt > 0 after a duplicate refusal.
func (g *generator) identity(p *customerPlan, attempt int) (crm.CustomerFields, companyName) {
	cn := g.id.company(p.idx, p.english, p.style, attempt)
	f := p.fields
	f.Tags = append([]string(nil), p.fields.Tags...)
	f.Name, f.Industry, f.Province, f.City = cn.name, cn.industry, cn.city.province, cn.city.name
	f.Address = fmt.Sprintf("%s%s%s%d号", cn.city.name+"市", cn.city.districts[p.district%len(cn.city.districts)], streets[p.street], p.number)
	if p.phone {
		f.Phone = g.id.landline(cn.city, p.idx, attempt)
	}
	if p.email {
		f.Email = p.mailbox + "@" + cn.domain
	}
	if p.credit {
		f.CreditCode = g.id.creditCode(cn.city, p.idx, p.modernCredit, attempt)
	}
	if p.web {
		f.Website = "https://www." + cn.domain
	}
	return f, cn
}

// customer generates customer slot i with everything hanging off it, as
// its owner.
func (g *generator) customer(ctx context.Context, i int) error {
	r := mrand.New(mrand.NewPCG(g.opt.Seed, uint64(i)<<1|1))
	s := g.slots[i]
	rep := g.reps[s.owner]
	a := rep.actor
	p := g.planCustomer(r, i)

	var id int64
	var cn companyName
	var err error
	first := 0 // contacts already created by a lead conversion
	var oppID, oppVersion int64
	if p.viaLead {
		id, cn, oppID, err = g.customerFromLead(ctx, rep, &p)
		first, oppVersion = 1, 1
	} else {
		id, cn, err = g.createCustomer(ctx, rep, &p)
	}
	if err != nil || id == 0 {
		return err
	}

	used := map[string]bool{}
	for k := first; k < len(p.people); k++ {
		if err := g.createContact(ctx, rep, p.people[k], id, uint64(i)*8+uint64(k), cn.domain, used); err != nil {
			return err
		}
	}
	if p.opp != nil {
		if oppID == 0 {
			f := p.opp.fields
			f.CustomerID = id
			o, err := g.svc.CreateOpportunity(ctx, a, f)
			g.call()
			if err != nil {
				return fmt.Errorf("demo: create opportunity: %w", err)
			}
			oppID, oppVersion = o.ID, o.Version
			g.opps.Add(1)
		}
		if err := g.moveOpportunity(ctx, rep, oppID, oppVersion, p.opp); err != nil {
			return err
		}
	}
	for _, f := range p.follow {
		at := f.at
		_, err := g.svc.CreateFollowUp(ctx, a, crm.FollowUpInput{Kind: f.kind, Content: f.content, OccurredAt: &at, NextAt: f.next, CustomerID: id})
		g.call()
		if err != nil {
			return fmt.Errorf("demo: create follow-up: %w", err)
		}
		g.followUps.Add(1)
	}
	if len(p.follow) > 0 {
		switch p.category {
		case nextOverdue:
			g.overdue.Add(1)
		case nextToday:
			g.dueToday.Add(1)
		case nextLater:
			g.dueLater.Add(1)
		}
	}
	if p.task != nil {
		if err := g.createTask(ctx, rep, id, p.task); err != nil {
			return err
		}
	}
	if s.pool {
		if err := g.svc.ReleaseCustomer(ctx, a, id); err != nil {
			return fmt.Errorf("demo: release customer to the pool: %w", err)
		}
		g.call()
		g.pool.Add(1)
	} else {
		rep.owned.Add(1)
	}
	g.customers.Add(1)
	return nil
}

// createCustomer creates the customer, retrying with new identities when
// refused as a duplicate; id 0 means it gave up.
func (g *generator) createCustomer(ctx context.Context, rep *member, p *customerPlan) (int64, companyName, error) {
	for attempt := range maxAttempts {
		f, cn := g.identity(p, attempt)
		c, err := g.svc.CreateCustomer(ctx, rep.actor, service.CustomerInput{CustomerFields: f})
		g.call()
		switch {
		case err == nil:
			return c.ID, cn, nil
		case !crm.IsCode(err, crm.Duplicate):
			return 0, cn, fmt.Errorf("demo: create customer %q: %w", f.Name, err)
		}
	}
	g.skipped.Add(1)
	return 0, companyName{}, nil
}

// customerFromLead creates a lead for the customer's first contact and
// converts it (with the opportunity when planned so), then completes the
// customer's fields, as a salesperson does after qualifying a lead.
func (g *generator) customerFromLead(ctx context.Context, rep *member, p *customerPlan) (int64, companyName, int64, error) {
	a := rep.actor
	for attempt := range maxAttempts {
		f, cn := g.identity(p, attempt)
		cf := g.contactFields(p.people[0], 0, p.idx*8, cn.domain, attempt, map[string]bool{})
		l, err := g.svc.CreateLead(ctx, a, crm.LeadFields{Name: cf.Name, Company: f.Name, Title: cf.Title, Mobile: cf.Mobile,
			Email: cf.Email, WeChat: cf.WeChat, Source: f.Source, Notes: leadNotes[p.idx%uint64(len(leadNotes))]})
		g.call()
		if crm.IsCode(err, crm.Duplicate) {
			continue
		}
		if err != nil {
			return 0, cn, 0, fmt.Errorf("demo: create lead: %w", err)
		}
		g.leadsMade.Add(1)
		conv := crm.LeadConversion{Version: l.Version}
		if p.opp != nil && p.opp.inLead {
			of := p.opp.fields
			conv.Opportunity = &of
		}
		l, err = g.svc.ConvertLead(ctx, a, l.ID, conv)
		g.call()
		if err != nil {
			return 0, cn, 0, fmt.Errorf("demo: convert lead: %w", err)
		}
		g.converted.Add(1)
		g.contacts.Add(1)
		if l.OpportunityID != 0 {
			g.opps.Add(1)
		}
		up := crm.CustomerUpdate{Version: 1, Industry: &f.Industry, Level: &f.Level, Status: &f.Status, Province: &f.Province,
			City: &f.City, Address: &f.Address, Website: &f.Website, Phone: &f.Phone, Email: &f.Email, CreditCode: &f.CreditCode, Tags: &f.Tags}
		_, err = g.svc.UpdateCustomer(ctx, a, l.CustomerID, up)
		g.call()
		if crm.IsCode(err, crm.Duplicate) {
			g.skipped.Add(1) // the customer stays, without the refused phone, e-mail or code
		} else if err != nil {
			return 0, cn, 0, fmt.Errorf("demo: complete converted customer: %w", err)
		}
		return l.CustomerID, cn, l.OpportunityID, nil
	}
	g.skipped.Add(1)
	return 0, companyName{}, 0, nil
}

func (g *generator) createContact(ctx context.Context, rep *member, c contactPlan, customerID int64, pid uint64, domain string, used map[string]bool) error {
	for attempt := range maxAttempts {
		f := g.contactFields(c, customerID, pid, domain, attempt, used)
		_, err := g.svc.CreateContact(ctx, rep.actor, f)
		g.call()
		switch {
		case err == nil:
			g.contacts.Add(1)
			return nil
		case !crm.IsCode(err, crm.Duplicate):
			return fmt.Errorf("demo: create contact: %w", err)
		}
	}
	g.skipped.Add(1)
	return nil
}

func (g *generator) moveOpportunity(ctx context.Context, rep *member, id, version int64, p *oppPlan) error {
	for _, k := range p.path {
		mv := crm.StageMove{Version: version, StageID: g.stages[k].ID}
		if g.stages[k].Kind == crm.StageLost {
			mv.LostReason = p.reason
		}
		o, err := g.svc.MoveOpportunity(ctx, rep.actor, id, mv)
		g.call()
		if err != nil {
			return fmt.Errorf("demo: move opportunity to %s: %w", g.stages[k].Name, err)
		}
		version = o.Version
	}
	g.stageMu.Lock()
	g.stageCount[g.stages[p.stage].Name]++
	g.stageMu.Unlock()
	return nil
}

func (g *generator) createTask(ctx context.Context, rep *member, customerID int64, t *taskPlan) error {
	by := rep.actor
	f := crm.TaskFields{Title: t.title, Notes: t.notes, DueAt: &t.due, CustomerID: customerID}
	if t.byManager && rep.manager != nil {
		by, f.AssigneeID = rep.manager.actor, rep.user.ID
	}
	k, err := g.svc.CreateTask(ctx, by, f)
	g.call()
	if err != nil {
		return fmt.Errorf("demo: create task: %w", err)
	}
	g.tasks.Add(1)
	if t.done {
		if err := g.svc.SetTaskDone(ctx, rep.actor, k.ID, true); err != nil {
			return fmt.Errorf("demo: complete task: %w", err)
		}
		g.call()
	}
	return nil
}

// lead creates unconverted lead j, some of them worked on (contacted,
// qualified or disqualified).
func (g *generator) lead(ctx context.Context, j int) error {
	idx := uint64(len(g.slots) + j)
	r := mrand.New(mrand.NewPCG(g.opt.Seed, idx<<1))
	rep := g.reps[r.IntN(len(g.reps))]
	english := r.IntN(10) == 0
	c := planContact(r, english)
	source := pick(r, crm.CustomerSources)
	status := []string{"", "contacted", "qualified", "disqualified"}[weighted(r, 40, 25, 20, 15)]
	style := r.IntN(1000)
	for attempt := range maxAttempts {
		cn := g.id.company(idx, english, style, attempt)
		cf := g.contactFields(c, 0, idx*8, cn.domain, attempt, map[string]bool{})
		l, err := g.svc.CreateLead(ctx, rep.actor, crm.LeadFields{Name: cf.Name, Company: cn.name, Title: cf.Title,
			Mobile: cf.Mobile, Email: cf.Email, WeChat: cf.WeChat, Source: source, Notes: leadNotes[idx%uint64(len(leadNotes))]})
		g.call()
		if crm.IsCode(err, crm.Duplicate) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo: create lead: %w", err)
		}
		g.leadsMade.Add(1)
		if status != "" {
			if _, err := g.svc.UpdateLead(ctx, rep.actor, l.ID, crm.LeadUpdate{Version: l.Version, Status: &status}); err != nil {
				return fmt.Errorf("demo: update lead: %w", err)
			}
			g.call()
		}
		return nil
	}
	g.skipped.Add(1)
	return nil
}
