package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/demo"
	"custos/internal/httpx"
	"custos/internal/quality"
	"custos/internal/service"
)

// benchCommand measures Custos end to end (DESIGN.md §8): it serves the
// same handler as serve on a loopback port and sends real HTTP requests,
// signed in as the demo users, through routing, authentication, service,
// scope, audit and rendering. It needs a data set made by
// "custos demo -bench-shape" and writes follow-ups into it.
func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o benchOptions
	fs.IntVar(&o.conc, "c", 8, "concurrent requests")
	fs.IntVar(&o.n, "n", 1000, "timed requests per read scenario")
	fs.IntVar(&o.writes, "followups", 2000, "follow-ups created per write scenario (0 skips writing)")
	writeC := fs.String("write-c", "", "comma-separated concurrencies of the write scenario (default: -c)")
	fs.IntVar(&o.deepPage, "deep-page", 100, "page reached by walking cursors for the deep list scenarios")
	fs.StringVar(&o.password, "password", getenv("CUSTOS_DEMO_PASSWORD"), "password of the demo users (CUSTOS_DEMO_PASSWORD)")
	fs.StringVar(&o.rep, "rep", demo.BenchRep, "user name of the sales rep")
	fs.StringVar(&o.manager, "manager", demo.BenchManager, "user name of the manager")
	fs.DurationVar(&o.maxTime, "max-time", time.Minute, "time limit of each scenario")
	fs.IntVar(&o.warmup, "warmup", -1, "untimed requests before each scenario (default 2×c)")
	filter := fs.String("run", "", "run only the scenarios whose name matches this regular expression")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and load generator) to this file")
	remote := fs.String("url", "", "measure the Custos serving at this URL from this process, as the user of an API token (CUSTOS_BENCH_TOKEN or -token-file), instead of serving the data directory in-process")
	tokenFile := fs.String("token-file", "", "with -url: file holding the API token (default: CUSTOS_BENCH_TOKEN)")
	serverPID := fs.Int("server-pid", 0, "with -url: the server's process id on this machine, to report its CPU time per request")
	c, err := parseWithConfig(fs, "bench", args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.password == "" && *remote == "" {
		return errors.New("bench: the demo users' password is needed (-password or CUSTOS_DEMO_PASSWORD)")
	}
	if o.conc < 1 || o.n < 1 || o.deepPage < 1 {
		return errors.New("bench: -c, -n and -deep-page must be positive")
	}
	if o.warmup < 0 {
		o.warmup = 2 * o.conc
	}
	o.writeConc = []int{o.conc}
	if *writeC != "" {
		o.writeConc = nil
		for _, s := range strings.Split(*writeC, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				return fmt.Errorf("bench: -write-c: %q is not a positive number", s)
			}
			o.writeConc = append(o.writeConc, n)
		}
	}
	if *filter != "" {
		if o.filter, err = regexp.Compile(*filter); err != nil {
			return fmt.Errorf("bench: -run: %w", err)
		}
	}

	if *remote != "" {
		return benchRemote(ctx, o, *remote, *tokenFile, *serverPID, getenv, stdout, stderr)
	}
	// The benchmark searches by phone and e-mail thousands of times as one
	// user: it measures speed, not the per-user hourly limit.
	c.SensitiveSearches = service.UnlimitedSensitiveSearches
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	svc, db := app.svc, app.db
	// Events left unsealed (by a data set generated before demo sealed its
	// trail, say) are sealed first: caught up during the scenarios, they
	// would be measured instead of them.
	sealer, err := newSealer(c, db, app.auditKeys, logger)
	if err != nil {
		return err
	}
	start := time.Now()
	if n, err := sealer.SealOnce(ctx); err != nil {
		return err
	} else if n > 0 {
		fmt.Fprintf(stdout, "sealed %d waiting audit events before measuring, in %s\n", n, time.Since(start).Round(time.Second))
	}
	// The sealer runs as in serve, so the numbers include sealing the trail.
	stopSealing, err := startSealer(ctx, c, db, app.auditKeys, logger)
	if err != nil {
		return err
	}
	defer stopSealing()
	handler, err := newHandler(svc, httpx.Config{}, logger)
	if err != nil {
		return err
	}
	// Loopback only, on a port of the system's choosing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	b := &bench{benchOptions: o, svc: svc, base: "http://" + ln.Addr().String(), out: stdout, log: stderr, hc: benchClient(),
		cpu: func() (time.Duration, error) { return processCPU("self") }}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Fprintf(stdout, "custos bench: %s database, GOMAXPROCS %d, %d CPUs, %s, -c %d, -n %d\n", db.Dialect(),
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), o.conc, o.n)
	fmt.Fprintln(stdout, "CPU ms/req: this process's CPU time per request, the server's and the load generator's together")
	return b.run(ctx)
}

func benchClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
}

// benchRemote measures a Custos served by another process (issue 18 §3:
// the figures of the real server alone, the client outside it). The token
// is read from a file or the environment, never from the command line.
func benchRemote(ctx context.Context, o benchOptions, base, tokenFile string, pid int, getenv func(string) string, stdout, stderr io.Writer) error {
	token := getenv("CUSTOS_BENCH_TOKEN")
	if tokenFile != "" {
		raw, err := os.ReadFile(tokenFile)
		if err != nil {
			return fmt.Errorf("bench: -token-file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	if token == "" {
		return errors.New("bench: -url needs an API token (CUSTOS_BENCH_TOKEN or -token-file)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bench: -url %q is not an http(s) URL", base)
	}
	b := &bench{benchOptions: o, base: strings.TrimSuffix(u.String(), "/"), out: stdout, log: stderr, hc: benchClient()}
	fmt.Fprintf(stdout, "custos bench: the server at %s, measured from process %d, -c %d, -n %d\n", b.base, os.Getpid(), o.conc, o.n)
	if pid > 0 {
		if _, err := processCPU(strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("bench: -server-pid: %w", err)
		}
		b.cpu = func() (time.Duration, error) { return processCPU(strconv.Itoa(pid)) }
		fmt.Fprintf(stdout, "CPU ms/req: the server's (process %d) CPU time per request alone\n", pid)
	}
	return b.runRemote(ctx, token)
}

// processCPU is the user and system CPU time a process has used so far,
// from /proc/PID/stat (Linux; clock ticks of 1/100 s, the USER_HZ Linux
// reports to user space).
func processCPU(pid string) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields are counted from the last ')'.
	i := bytes.LastIndexByte(raw, ')')
	fields := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// startCPUProfile profiles the process until the returned function is
// called: where a scenario's time goes, on the real data set.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil // no -cpuprofile: nothing to stop
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

type benchOptions struct {
	conc, n, writes, deepPage, warmup int
	writeConc                         []int
	password, rep, manager            string
	maxTime                           time.Duration
	filter                            *regexp.Regexp
}

type bench struct {
	benchOptions
	svc     *service.Service
	base    string
	hc      *http.Client
	out     io.Writer
	log     io.Writer
	results []benchResult
	// cpu reads the CPU time used so far by the process measured, for the
	// CPU per request of each scenario; nil when unknown.
	cpu func() (time.Duration, error)
}

// benchUser is a demo user signed in twice: a browser session (cookie and
// CSRF token) and a personal API token, both made through the service.
type benchUser struct {
	label, username     string
	actor               *access.Actor
	session, csrf       string
	token               string
	tokenID             int64
	customers           string // customers visible to the user ("2000+" when capped)
	deepCursor          string
	deepReached         int
	customerIDs         []int64
	brands              []string
	phones, custEmails  []string
	names, mobiles, ems []string
}

type authKind int

const (
	byToken authKind = iota
	byCookie
)

func (b *bench) run(ctx context.Context) error {
	rep, err := b.signIn(ctx, "rep", b.rep)
	if err != nil {
		return err
	}
	defer b.signOut(ctx, rep)
	mgr, err := b.signIn(ctx, "manager", b.manager)
	if err != nil {
		return err
	}
	defer b.signOut(ctx, mgr)
	// Reports (issue 16) are measured for one who sees every record as an
	// administrator does as well.
	all, err := b.signInDirector(ctx)
	if err != nil {
		return err
	}
	defer b.signOut(ctx, all)
	return b.scenarios(ctx, []*benchUser{rep, mgr}, []*benchUser{rep, mgr, all}, rep)
}

// runRemote measures a running Custos at b.base as the user of one API
// token: the scenarios that need no browser session.
func (b *bench) runRemote(ctx context.Context, token string) error {
	u := &benchUser{label: "token", username: "(API token)", token: token}
	return b.scenarios(ctx, []*benchUser{u}, []*benchUser{u}, u)
}

// scenarios collects what each reader sees, then measures the lists,
// searches, reports and pages for readers (reports and the dashboard for
// reporters) and the writes as writer. Scenarios that need a browser
// session are left out for a user without one.
func (b *bench) scenarios(ctx context.Context, readers, reporters []*benchUser, writer *benchUser) error {
	for _, u := range readers {
		start := time.Now()
		if err := b.collect(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(b.out, "%s %s sees %s customers; deep cursor at page %d (walked in %s)\n", u.label, u.username,
			u.customers, u.deepReached, time.Since(start).Round(time.Millisecond))
	}
	first := readers[0]
	html := first.session != "" && b.htmlAvailable(ctx, first, "/customers")
	if !html {
		fmt.Fprintln(b.out, "GET /customers is not measured (no browser session, or not served by this build): HTML scenarios skipped")
	}
	fmt.Fprintln(b.out)

	pageURL := func(path, cursor string) string {
		v := url.Values{"limit": {"20"}}
		if path == "/customers" {
			v = url.Values{}
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	// Page 1 and the deep page (when the user has more than one page).
	list := func(kind, path string, u *benchUser, auth authKind) {
		b.read(ctx, "list "+kind+" "+u.label+" p1", u, auth, constant(pageURL(path, "")))
		if u.deepReached > 1 {
			b.read(ctx, fmt.Sprintf("list %s %s p%d", kind, u.label, u.deepReached), u, auth, constant(pageURL(path, u.deepCursor)))
		}
	}
	for _, u := range readers {
		list("api", "/api/v1/customers", u, byToken)
	}
	if first.session != "" {
		b.read(ctx, "list api "+first.label+" p1 (session cookie)", first, byCookie, constant(pageURL("/api/v1/customers", "")))
	}
	// The orders a salesperson works in, not only the default one (issue 12
	// §7: sorted by next follow-up, a rep's page cost ten times the default).
	for _, sort := range []string{"next_follow_up", "name", "created"} {
		for _, u := range readers {
			b.read(ctx, "list api "+u.label+" p1 sort="+sort, u, byToken, constant("/api/v1/customers?limit=20&sort="+sort))
		}
	}
	if html {
		for _, u := range readers {
			list("html", "/customers", u, byCookie)
		}
	}
	search := func(path string, values []string) func(int) string {
		if len(values) == 0 {
			return nil
		}
		return func(i int) string { return path + "?" + url.Values{"q": {values[i%len(values)]}}.Encode() }
	}
	for _, u := range readers {
		b.read(ctx, "search customers 2-char brand "+u.label, u, byToken, search("/api/v1/customers", u.brands))
		b.read(ctx, "search contacts 2-char name "+u.label, u, byToken, search("/api/v1/contacts", u.names))
		b.read(ctx, "search customers phone "+u.label, u, byToken, search("/api/v1/customers", u.phones))
		b.read(ctx, "search contacts mobile "+u.label, u, byToken, search("/api/v1/contacts", u.mobiles))
		b.read(ctx, "search customers e-mail "+u.label, u, byToken, search("/api/v1/customers", u.custEmails))
		b.read(ctx, "search contacts e-mail "+u.label, u, byToken, search("/api/v1/contacts", u.ems))
		// The global search (DESIGN.md §8's "scoped global search"):
		// customers, contacts and leads at once, one page of each.
		b.read(ctx, "global search 2-char brand "+u.label, u, byToken, search("/api/v1/search", u.brands))
		b.read(ctx, "global search 2-char name "+u.label, u, byToken, search("/api/v1/search", u.names))
		b.read(ctx, "global search mobile "+u.label, u, byToken, search("/api/v1/search", u.mobiles))
		b.read(ctx, "global search e-mail "+u.label, u, byToken, search("/api/v1/search", u.ems))
		// A word in a tenth of all company names: the worst case of the
		// bigram index.
		b.read(ctx, "search customers common word 科技 "+u.label, u, byToken, search("/api/v1/customers", []string{"科技"}))
	}
	// Reports over the default period (the last 30 days) and the last year.
	year := "?from=" + time.Now().AddDate(-1, 0, 1).Format(time.DateOnly)
	for _, u := range reporters {
		for _, name := range crm.Reports {
			b.read(ctx, "report "+name+" 30 days "+u.label, u, byToken, constant("/api/v1/reports/"+name))
			b.read(ctx, "report "+name+" year "+u.label, u, byToken, constant("/api/v1/reports/"+name+year))
		}
	}
	// The dashboard page: every report the reader's scope shows, at once.
	if first.session != "" && b.htmlAvailable(ctx, first, "/dashboard") {
		for _, u := range reporters {
			b.read(ctx, "dashboard html 30 days "+u.label, u, byCookie, constant("/dashboard"))
			b.read(ctx, "dashboard html year "+u.label, u, byCookie, constant("/dashboard"+year))
		}
	}
	if b.writes > 0 {
		for _, c := range b.writeConc {
			b.createFollowUps(ctx, writer, c)
		}
	}
	b.report()
	return ctx.Err()
}

func constant(path string) func(int) string { return func(int) string { return path } }

func (b *bench) signIn(ctx context.Context, label, username string) (*benchUser, error) {
	client := service.Client{IP: "127.0.0.1", UserAgent: "custos-bench", RequestID: "bench"}
	res, err := b.svc.Login(ctx, username, b.password, client)
	if err != nil {
		return nil, fmt.Errorf("bench: sign in as %s (made by custos demo -bench-shape?): %w", username, err)
	}
	a, err := b.svc.Authenticate(ctx, res.Token, client)
	if err != nil {
		return nil, err
	}
	exp := time.Now().Add(6 * time.Hour)
	var scopes []string // everything the user's role allows
	for _, o := range crm.Objects {
		level := crm.ScopeWrite
		if g := a.Role.Grants[o]; !g.Create && !g.Edit && !g.Delete {
			level = crm.ScopeRead
		}
		scopes = append(scopes, string(o)+":"+level)
	}
	tok, err := b.svc.CreateAPIToken(ctx, a, service.TokenInput{Name: "custos bench", Scopes: scopes, ExpiresAt: &exp})
	if err != nil {
		return nil, err
	}
	return &benchUser{label: label, username: username, actor: a, session: res.Token, csrf: res.CSRFToken,
		token: tok.Secret, tokenID: tok.ID}, nil
}

// benchDirector is the user who sees every record, as an administrator
// does: the administrator's role needs a second factor the bench cannot
// give, so the bench makes (once) a role of its own with the same record
// scope and reports, read only.
const benchDirector = "bench.director"

// signInDirector signs in as benchDirector, creating the role and the
// user through the service on the first run against a data set.
func (b *bench) signInDirector(ctx context.Context) (*benchUser, error) {
	sys := access.System("custos bench")
	dir, err := b.svc.Directory(ctx, sys)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(dir.Users, func(u crm.User) bool { return u.Username == benchDirector }) {
		grants := map[crm.Object]crm.ObjectGrant{}
		for _, o := range crm.Objects {
			grants[o] = crm.ObjectGrant{Read: true, Scope: crm.ScopeAll}
		}
		role, err := b.svc.SaveRole(ctx, sys, crm.Role{Key: "bench_director", Name: "Bench director (every record, read only)",
			Reports: true, Grants: grants})
		if err != nil {
			return nil, fmt.Errorf("bench: role of %s: %w", benchDirector, err)
		}
		var root int64
		for _, d := range dir.Departments {
			if d.ParentID == 0 {
				root = d.ID
			}
		}
		if _, err := b.svc.CreateUser(ctx, sys, service.UserInput{User: crm.User{Username: benchDirector, DisplayName: "Bench director",
			Email: benchDirector + "@demo.example.com", DepartmentID: root, RoleID: role.ID, Lang: "zh-CN"}, Password: b.password}); err != nil {
			return nil, fmt.Errorf("bench: create %s: %w", benchDirector, err)
		}
	}
	return b.signIn(ctx, "all records", benchDirector)
}

// signOut revokes the token and ends the session the bench made.
func (b *bench) signOut(ctx context.Context, u *benchUser) {
	ctx = context.WithoutCancel(ctx)
	if err := b.svc.RevokeAPIToken(ctx, u.actor, u.tokenID); err != nil {
		fmt.Fprintln(b.log, "bench: revoke token:", err)
	}
	if err := b.svc.Logout(ctx, u.actor); err != nil {
		fmt.Fprintln(b.log, "bench: sign out:", err)
	}
}

func (b *bench) request(ctx context.Context, method, path string, body []byte, u *benchUser, auth authKind) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "custos-bench")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch auth {
	case byToken:
		req.Header.Set("Authorization", "Bearer "+u.token)
	case byCookie:
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: u.session})
		if method != http.MethodGet {
			req.Header.Set(httpx.CSRFHeader, u.csrf)
		}
	}
	return req, nil
}

// getJSON fetches an API page and decodes it.
func (b *bench) getJSON(ctx context.Context, path string, u *benchUser, v any) error {
	req, err := b.request(ctx, http.MethodGet, path, nil, u, byToken)
	if err != nil {
		return err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("bench: GET %s: %s: %s", path, resp.Status, msg)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

type benchPage struct {
	Items []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Phone  string `json:"phone"`
		Email  string `json:"email"`
		Mobile string `json:"mobile"`
	} `json:"items"`
	Next        string `json:"next_cursor"`
	Total       int    `json:"total"`
	TotalCapped bool   `json:"total_capped"`
}

// countLabel shows a total, marked when the service stopped counting.
func countLabel(total int, capped bool) string {
	if capped {
		return strconv.Itoa(total) + "+"
	}
	return strconv.Itoa(total)
}

// collect walks the user's customer list to the deep page, as a user
// paging through would, and gathers search terms the user may find: brands
// of visible company names, phones, e-mails and names of visible contacts.
func (b *bench) collect(ctx context.Context, u *benchUser) error {
	brands := demo.Brands()
	seen := map[string]bool{}
	add := func(list *[]string, v string) {
		if v != "" && !strings.Contains(v, "*") && !seen[v] && len(*list) < 50 {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	cursor := ""
	u.deepReached = 1
	for page := 1; ; page++ {
		var p benchPage
		if err := b.getJSON(ctx, "/api/v1/customers?"+url.Values{"limit": {"20"}, "cursor": {cursor}}.Encode(), u, &p); err != nil {
			return err
		}
		if page == 1 {
			u.customers = countLabel(p.Total, p.TotalCapped)
		}
		for _, c := range p.Items {
			u.customerIDs = append(u.customerIDs, c.ID)
			for _, br := range brands {
				if strings.Contains(c.Name, br) {
					add(&u.brands, br)
				}
			}
			add(&u.phones, strings.TrimPrefix(c.Phone, "+86"))
			add(&u.custEmails, c.Email)
		}
		if p.Next == "" || page >= b.deepPage-1 {
			if p.Next != "" && page < b.deepPage {
				cursor, u.deepReached = p.Next, page+1
			}
			break
		}
		cursor, u.deepReached = p.Next, page+1
	}
	u.deepCursor = cursor
	cursor = ""
	for range 5 {
		var p benchPage
		if err := b.getJSON(ctx, "/api/v1/contacts?"+url.Values{"limit": {"200"}, "cursor": {cursor}}.Encode(), u, &p); err != nil {
			return err
		}
		for _, t := range p.Items {
			if utf8.RuneCountInString(t.Name) == 2 && quality.IsHan([]rune(t.Name)[0]) {
				add(&u.names, t.Name)
			}
			add(&u.mobiles, strings.TrimPrefix(t.Mobile, "+86"))
			add(&u.ems, t.Email)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	return nil
}

// htmlAvailable reports whether the build serves the web page at path.
func (b *bench) htmlAvailable(ctx context.Context, u *benchUser, path string) bool {
	req, err := b.request(ctx, http.MethodGet, path, nil, u, byCookie)
	if err != nil {
		return false
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
}

// benchResult is one scenario's latencies and throughput.
type benchResult struct {
	name                string
	conc, n, errors     int
	hits                string // result count of a search, from the first answer
	elapsed             time.Duration
	p50, p95, p99, max  time.Duration
	firstErr, truncated string
	cpu                 time.Duration // of the process measured, over the timed requests; -1 unknown
}

func (b *bench) read(ctx context.Context, name string, u *benchUser, auth authKind, path func(int) string) {
	if b.filter != nil && !b.filter.MatchString(name) {
		return
	}
	if path == nil {
		fmt.Fprintf(b.log, "bench: %s: no sample values (masked or none visible); skipped\n", name)
		return
	}
	build := func(i int) (*http.Request, error) { return b.request(ctx, http.MethodGet, path(i), nil, u, auth) }
	b.measure(ctx, name, b.conc, b.n, http.StatusOK, build)
}

func (b *bench) createFollowUps(ctx context.Context, u *benchUser, conc int) {
	name := fmt.Sprintf("create follow-up (audit on) c=%d", conc)
	if b.filter != nil && !b.filter.MatchString(name) {
		return
	}
	if len(u.customerIDs) == 0 {
		fmt.Fprintf(b.log, "bench: %s: the rep has no customers; skipped\n", name)
		return
	}
	var seq atomic.Int64
	build := func(i int) (*http.Request, error) {
		n := seq.Add(1)
		next := time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
		body, _ := json.Marshal(map[string]any{"kind": "call", "content": fmt.Sprintf("基准测试跟进 #%d：电话沟通报价。", n),
			"customer_id": u.customerIDs[int(n)%len(u.customerIDs)], "next_at": next})
		return b.request(ctx, http.MethodPost, "/api/v1/follow-ups", body, u, byToken)
	}
	b.measure(ctx, name, conc, b.writes, http.StatusCreated, build)
}

// measure sends warm-up requests, then n timed requests from conc workers,
// stopping early at maxTime.
func (b *bench) measure(ctx context.Context, name string, conc, n, want int, build func(int) (*http.Request, error)) {
	res := benchResult{name: name, conc: conc}
	do := func(i int, keep bool) (time.Duration, error) {
		req, err := build(i)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		resp, err := b.hc.Do(req)
		if err != nil {
			return time.Since(start), err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		if resp.StatusCode != want {
			return d, fmt.Errorf("%s %s: %s: %.200s", req.Method, req.URL.Path, resp.Status, body)
		}
		if keep && res.hits == "" && bytes.HasPrefix(body, []byte("{")) {
			var t struct {
				Total  *int `json:"total"`
				Capped bool `json:"total_capped"`
			}
			if json.Unmarshal(body, &t) == nil && t.Total != nil {
				res.hits = countLabel(*t.Total, t.Capped)
			}
			// The global search: the records shown. An answer without the
			// key leaves Customers nil; the search's own "[]" does not.
			var g struct{ Customers, Contacts, Leads []json.RawMessage }
			if t.Total == nil && json.Unmarshal(body, &g) == nil && g.Customers != nil {
				res.hits = strconv.Itoa(len(g.Customers) + len(g.Contacts) + len(g.Leads))
			}
		}
		return d, nil
	}
	for i := range b.warmup {
		do(i, false)
	}
	cpu0, cpuErr := b.readCPU()
	deadline := time.Now().Add(b.maxTime)
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				d, err := do(b.warmup+i, i == 0)
				mu.Lock()
				if err != nil {
					res.errors++
					if res.firstErr == "" {
						res.firstErr = err.Error()
					}
				}
				mu.Unlock()
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = -1
	if cpu1, err := b.readCPU(); err == nil && cpuErr == nil {
		res.cpu = cpu1 - cpu0
	}
	res.n = len(lat)
	if res.n < n {
		res.truncated = fmt.Sprintf("stopped after %s", b.maxTime)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.p50, res.p95, res.p99, res.max = percentile(lat, 0.50), percentile(lat, 0.95), percentile(lat, 0.99), lat[len(lat)-1]
	}
	b.results = append(b.results, res)
	fmt.Fprintf(b.log, "bench: %-45s p50 %6.2f ms  p99 %6.2f ms  %7.0f req/s\n", name, ms(res.p50), ms(res.p99), float64(res.n)/res.elapsed.Seconds())
	if res.firstErr != "" {
		fmt.Fprintf(b.log, "bench: %s: %d errors, first: %s\n", name, res.errors, res.firstErr)
	}
}

// percentile of sorted latencies (nearest rank).
// readCPU reads the measured process's CPU time (an error when unknown).
func (b *bench) readCPU() (time.Duration, error) {
	if b.cpu == nil {
		return 0, errors.New("no process to measure")
	}
	return b.cpu()
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(k, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report prints a Markdown table, ready for docs/benchmarks.md.
func (b *bench) report() {
	fmt.Fprintln(b.out, "| scenario | c | requests | errors | hits | p50 ms | p95 ms | p99 ms | max ms | req/s | CPU ms/req |")
	fmt.Fprintln(b.out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range b.results {
		note := ""
		if r.truncated != "" {
			note = " (" + r.truncated + ")"
		}
		cpu := ""
		if r.cpu >= 0 && r.n > 0 {
			cpu = fmt.Sprintf("%.2f", ms(r.cpu)/float64(r.n))
		}
		fmt.Fprintf(b.out, "| %s%s | %d | %d | %d | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %s |\n", r.name, note, r.conc, r.n, r.errors,
			r.hits, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), float64(r.n)/r.elapsed.Seconds(), cpu)
	}
	for _, r := range b.results {
		if r.firstErr != "" {
			fmt.Fprintf(b.out, "\n%s: %d errors; first: %s\n", r.name, r.errors, r.firstErr)
		}
	}
}
