// Package demo fills a Custos database with a realistic, bilingual demo
// organisation: departments, managers and sales reps, customers (Chinese and
// English companies), contacts, leads, opportunities in every stage,
// follow-ups with due dates and tasks. It writes only through the service
// layer, each record as the user who owns it, so every record is scoped,
// validated, duplicate-checked and audited like one typed in by hand
// (DESIGN.md §1). The same seed gives the same records.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The usernames of the two users the benchmark signs in as when the data
// set was generated with Options.BenchShape.
const (
	BenchRep     = "bench.rep"
	BenchManager = "bench.manager"
)

// Options configure Generate. Zero values mean the defaults.
type Options struct {
	// Customers is the number of customers (default 300).
	Customers int
	// FollowUpsPerCustomer is the average number of follow-ups per
	// customer (default 5; negative means none). With BenchShape every
	// customer gets exactly this many.
	FollowUpsPerCustomer int
	// Users is the number of sales reps (default: one per 40 customers,
	// at least 6 and at most 40). Four regional managers come on top.
	Users int
	// Seed makes the data set reproducible: the same seed gives the same
	// records (their ids depend on the order concurrent calls commit).
	Seed uint64
	// Concurrency is the number of customers generated at once (default
	// 8); on SQLite their writes share group commits.
	Concurrency int
	// BenchShape shapes ownership for the benchmark (DESIGN.md §8): the
	// user BenchRep owns 3% of the customers, the subtree of BenchManager
	// 30% (3,000 and 30,000 of 100,000), 2% are in the public pool and the
	// rest is spread evenly; every customer gets exactly
	// FollowUpsPerCustomer follow-ups.
	BenchShape bool
	// Password is every generated user's password; empty means a random
	// one, returned in the Summary.
	Password string
	// Progress receives a progress line every ProgressEvery (default 5s)
	// and a last line at the end; nil means quiet.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Now is the reference time for follow-up and task dates (time.Now
	// when nil); it must agree with the service's clock.
	Now func() time.Time
}

// Person is a generated user.
type Person struct {
	Username   string
	Name       string
	Role       string // role key: manager or sales
	Department string
	Customers  int // customers owned at the end (pool customers excluded)
}

// Summary reports what Generate created.
type Summary struct {
	Departments    int
	People         []Person
	Password       string // the generated users' password
	Customers      int
	PoolCustomers  int
	Contacts       int
	Leads          int // including converted ones
	ConvertedLeads int
	Opportunities  int
	Stages         map[string]int // opportunities by stage name
	FollowUps      int
	Tasks          int
	Overdue        int // customers whose next follow-up is before today
	DueToday       int
	DueLater       int
	Skipped        int   // records given up after repeated duplicate refusals
	Calls          int64 // service calls made
	Elapsed        time.Duration
	BenchRep       string // usernames with BenchShape, else empty
	BenchManager   string
}

// CallRate is the number of service calls per second.
func (s Summary) CallRate() float64 { return rate(s.Calls, s.Elapsed) }

// FollowUpRate is the number of follow-ups created per second.
func (s Summary) FollowUpRate() float64 { return rate(int64(s.FollowUps), s.Elapsed) }

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// region is a sales region with its groups.
type region struct {
	name   string
	groups []string
}

// regions hang under the root department (总部).
var regions = []region{
	{"华东大区", []string{"上海一组", "上海二组", "杭州组", "南京组"}},
	{"华南大区", []string{"深圳组", "广州组"}},
	{"华北大区", []string{"北京组", "天津组"}},
	{"西南大区", []string{"成都组", "重庆组"}},
}

// member is a generated user with the actor it acts as.
type member struct {
	user    crm.User
	actor   *access.Actor
	dept    string
	role    string
	region  int
	manager *member // the regional manager, for assigned tasks
	owned   atomic.Int64
}

// slot is one customer to generate: its owner and whether it ends in the pool.
type slot struct {
	owner int32
	pool  bool
}

type generator struct {
	svc    *service.Service
	admin  *access.Actor
	opt    Options
	now    time.Time
	today  time.Time // midnight, local time
	id     identities
	stages []crm.Stage
	reps   []*member
	mgrs   []*member
	slots  []slot
	leads  int // unconverted leads to create

	calls, customers, pool, contacts, leadsMade, converted, opps, followUps, tasks, skipped atomic.Int64
	overdue, dueToday, dueLater                                                             atomic.Int64
	stageMu                                                                                 sync.Mutex
	stageCount                                                                              map[string]int
}

// Generate creates the demo organisation and its records through svc. admin
// must be an administrator (or a system actor); Bootstrap must have run.
// Every customer record is created by the user who owns it.
func Generate(ctx context.Context, svc *service.Service, admin *access.Actor, opt Options) (Summary, error) {
	start := time.Now()
	opt = withDefaults(opt)
	g := &generator{svc: svc, admin: admin, opt: opt, id: newIdentities(opt.Seed), stageCount: map[string]int{}}
	g.now = opt.Now()
	y, m, d := g.now.Date()
	g.today = time.Date(y, m, d, 0, 0, 0, 0, g.now.Location())
	sum := Summary{Password: opt.Password}
	org := mrand.New(mrand.NewPCG(opt.Seed, 0x6f7267))
	var err error
	if g.stages, err = g.loadStages(ctx); err != nil {
		return sum, err
	}
	if sum.Departments, err = g.createOrg(ctx, org); err != nil {
		return sum, err
	}
	g.planSlots(org)
	if opt.BenchShape {
		sum.BenchRep, sum.BenchManager = BenchRep, BenchManager
	}

	progressDone := g.startProgress(start)
	err = g.parallel(ctx, len(g.slots), g.customer)
	if err == nil {
		err = g.parallel(ctx, g.leads, g.lead)
	}
	close(progressDone)
	sum.Elapsed = time.Since(start)
	g.fill(&sum)
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "demo: done: %d customers, %d follow-ups, %d service calls in %s (%.0f calls/s, %.0f follow-ups/s)\n",
			sum.Customers, sum.FollowUps, sum.Calls, sum.Elapsed.Round(time.Millisecond), sum.CallRate(), sum.FollowUpRate())
	}
	return sum, err
}

func withDefaults(opt Options) Options {
	if opt.Customers <= 0 {
		opt.Customers = 300
	}
	switch {
	case opt.FollowUpsPerCustomer == 0:
		opt.FollowUpsPerCustomer = 5
	case opt.FollowUpsPerCustomer < 0:
		opt.FollowUpsPerCustomer = 0
	}
	if opt.Users <= 0 {
		opt.Users = min(max(opt.Customers/40, 6), 40)
	}
	if opt.BenchShape {
		opt.Users = max(opt.Users, 8) // at least two reps in the bench manager's subtree
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 5 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Password == "" {
		opt.Password = randomPassword()
	}
	return opt
}

// randomPassword returns 16 random characters: shown once, never stored in
// clear.
func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (g *generator) call() { g.calls.Add(1) }

func (g *generator) loadStages(ctx context.Context) ([]crm.Stage, error) {
	all, err := g.svc.Stages(ctx, g.admin)
	if err != nil {
		return nil, fmt.Errorf("demo: stages: %w", err)
	}
	var out []crm.Stage
	for _, st := range all {
		if st.Active {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b crm.Stage) int { return a.Position - b.Position })
	if !slices.ContainsFunc(out, func(st crm.Stage) bool { return st.Kind == crm.StageOpen }) {
		return nil, errors.New("demo: the pipeline has no open stage")
	}
	return out, nil
}

// createOrg creates the departments under the root, a manager per region
// and the sales reps, spread over the groups.
func (g *generator) createOrg(ctx context.Context, r *mrand.Rand) (int, error) {
	dir, err := g.svc.Directory(ctx, g.admin)
	if err != nil {
		return 0, fmt.Errorf("demo: directory: %w", err)
	}
	roles := map[string]int64{}
	for _, ro := range dir.Roles {
		roles[ro.Key] = ro.ID
	}
	if roles["manager"] == 0 || roles["sales"] == 0 {
		return 0, errors.New("demo: the default roles manager and sales are missing")
	}
	var root crm.Department
	for _, d := range dir.Departments {
		if d.ParentID == 0 {
			root = d
			break
		}
	}
	if root.ID == 0 {
		return 0, errors.New("demo: no root department; run bootstrap first")
	}
	taken := map[string]bool{}
	for _, u := range dir.Users {
		taken[u.Username] = true
	}
	depts := 0
	type group struct {
		dept   crm.Department
		region int
	}
	var groups [][]group // per region
	for ri, reg := range regions {
		rd, err := g.svc.CreateDepartment(ctx, g.admin, crm.Department{Name: reg.name, ParentID: root.ID})
		g.call()
		if err != nil {
			return depts, fmt.Errorf("demo: create department %s: %w", reg.name, err)
		}
		depts++
		username := ""
		if ri == 0 && g.opt.BenchShape {
			username = BenchManager
		}
		mgr, err := g.createUser(ctx, r, taken, username, rd, "manager", roles["manager"], ri)
		if err != nil {
			return depts, err
		}
		rd.ManagerID = mgr.user.ID
		if _, err := g.svc.UpdateDepartment(ctx, g.admin, rd); err != nil {
			return depts, fmt.Errorf("demo: set manager of %s: %w", reg.name, err)
		}
		g.call()
		var gs []group
		for _, name := range reg.groups {
			gd, err := g.svc.CreateDepartment(ctx, g.admin, crm.Department{Name: name, ParentID: rd.ID})
			g.call()
			if err != nil {
				return depts, fmt.Errorf("demo: create department %s: %w", name, err)
			}
			depts++
			gs = append(gs, group{gd, ri})
		}
		groups = append(groups, gs)
	}
	// Interleave the groups across regions so a small team still covers
	// every region: 上海一组, 深圳组, 北京组, 成都组, 上海二组, ...
	var order []group
	for k := 0; ; k++ {
		added := false
		for _, gs := range groups {
			if k < len(gs) {
				order = append(order, gs[k])
				added = true
			}
		}
		if !added {
			break
		}
	}
	for i := range g.opt.Users {
		gr := order[i%len(order)]
		username := ""
		if i == 0 && g.opt.BenchShape {
			username = BenchRep
		}
		rep, err := g.createUser(ctx, r, taken, username, gr.dept, "sales", roles["sales"], gr.region)
		if err != nil {
			return depts, err
		}
		rep.manager = g.mgrs[gr.region]
		g.reps = append(g.reps, rep)
	}
	return depts, nil
}

func (g *generator) createUser(ctx context.Context, r *mrand.Rand, taken map[string]bool, username string, d crm.Department, role string, roleID int64, region int) (*member, error) {
	p := chinesePerson(r)
	if username == "" {
		username = p.surnamePY + "." + p.givenPY
	}
	base := username
	for n := 2; taken[username]; n++ {
		username = fmt.Sprintf("%s%d", base, n)
	}
	taken[username] = true
	u, err := g.svc.CreateUser(ctx, g.admin, service.UserInput{
		User: crm.User{Username: username, DisplayName: p.name, Email: username + "@demo.example.com",
			DepartmentID: d.ID, RoleID: roleID, Lang: "zh-CN"},
		Password: g.opt.Password,
	})
	g.call()
	if err != nil {
		return nil, fmt.Errorf("demo: create user %s: %w", username, err)
	}
	a, err := g.svc.UserActor(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("demo: actor of %s: %w", username, err)
	}
	a.UserAgent = "custos demo"
	m := &member{user: u, actor: a, dept: d.Name, role: role, region: region}
	if role == "manager" {
		g.mgrs = append(g.mgrs, m)
	}
	return m, nil
}

// planSlots decides who owns each customer and which end in the pool, then
// shuffles the order they are created in.
func (g *generator) planSlots(r *mrand.Rand) {
	n := g.opt.Customers
	quota := make([]int, len(g.reps))
	var pool int
	var poolFrom []int // reps who create the pool customers
	if g.opt.BenchShape {
		pool = n * 2 / 100
		var inside, outside []int
		for i, rep := range g.reps {
			if rep.region == 0 {
				inside = append(inside, i)
			} else {
				outside = append(outside, i)
			}
		}
		quota[0] = n * 3 / 100 // reps[0] is BenchRep, in the first region
		spread(quota, inside[1:], n*30/100-quota[0])
		spread(quota, outside, n-n*30/100-pool)
		poolFrom = outside
	} else {
		pool = n * 5 / 100
		if n >= 2 {
			pool = max(pool, 1)
		}
		weights := make([]float64, len(g.reps))
		var total float64
		for i := range weights {
			weights[i] = 0.5 + r.Float64()
			total += weights[i]
		}
		rest := n - pool
		given := 0
		for i := range quota {
			quota[i] = int(float64(rest) * weights[i] / total)
			given += quota[i]
		}
		for i := 0; given < rest; i = (i + 1) % len(quota) {
			quota[i]++
			given++
		}
		for i := range g.reps {
			poolFrom = append(poolFrom, i)
		}
	}
	g.slots = make([]slot, 0, n)
	for i, q := range quota {
		for range q {
			g.slots = append(g.slots, slot{owner: int32(i)})
		}
	}
	for k := range pool {
		g.slots = append(g.slots, slot{owner: int32(poolFrom[k%len(poolFrom)]), pool: true})
	}
	r.Shuffle(len(g.slots), func(i, j int) { g.slots[i], g.slots[j] = g.slots[j], g.slots[i] })
	if g.opt.BenchShape {
		g.leads = n / 20
	} else {
		g.leads = n / 5
	}
}

// spread divides total evenly over the reps at idx.
func spread(quota []int, idx []int, total int) {
	if len(idx) == 0 {
		return
	}
	for k, i := range idx {
		quota[i] = total / len(idx)
		if k < total%len(idx) {
			quota[i]++
		}
	}
}

// parallel runs fn for 0..n-1 on opt.Concurrency workers and returns the
// first error, cancelling the rest.
func (g *generator) parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(g.opt.Concurrency, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

func (g *generator) startProgress(start time.Time) chan struct{} {
	done := make(chan struct{})
	if g.opt.Progress == nil {
		return done
	}
	go func() {
		t := time.NewTicker(g.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(start)
				c := g.customers.Load()
				line := fmt.Sprintf("demo: %d/%d customers, %d follow-ups, %d service calls (%.0f/s), %s elapsed",
					c, len(g.slots), g.followUps.Load(), g.calls.Load(), rate(g.calls.Load(), el), el.Round(time.Second))
				if c > 0 && int(c) < len(g.slots) {
					eta := time.Duration(float64(el) * float64(len(g.slots)-int(c)) / float64(c))
					line += fmt.Sprintf(", about %s to go", eta.Round(time.Second))
				}
				fmt.Fprintln(g.opt.Progress, line)
			}
		}
	}()
	return done
}

func (g *generator) fill(s *Summary) {
	s.Customers = int(g.customers.Load())
	s.PoolCustomers = int(g.pool.Load())
	s.Contacts = int(g.contacts.Load())
	s.Leads = int(g.leadsMade.Load())
	s.ConvertedLeads = int(g.converted.Load())
	s.Opportunities = int(g.opps.Load())
	s.FollowUps = int(g.followUps.Load())
	s.Tasks = int(g.tasks.Load())
	s.Overdue, s.DueToday, s.DueLater = int(g.overdue.Load()), int(g.dueToday.Load()), int(g.dueLater.Load())
	s.Skipped = int(g.skipped.Load())
	s.Calls = g.calls.Load()
	g.stageMu.Lock()
	s.Stages = maps.Clone(g.stageCount)
	g.stageMu.Unlock()
	for _, m := range append(slices.Clone(g.mgrs), g.reps...) {
		s.People = append(s.People, Person{Username: m.user.Username, Name: m.user.DisplayName, Role: m.role,
			Department: m.dept, Customers: int(m.owned.Load())})
	}
}
