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
	c, err := parseWithConfig(fs, "bench", args, getenv, stderr)
	if err != nil {
		return err
	}
	if o.password == "" {
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

	b := &bench{benchOptions: o, svc: svc, base: "http://" + ln.Addr().String(), out: stdout, log: stderr,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Fprintf(stdout, "custos bench: %s database, GOMAXPROCS %d, %d CPUs, %s, -c %d, -n %d\n", db.Dialect(),
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), o.conc, o.n)
	return b.run(ctx)
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
	for _, u := range []*benchUser{rep, mgr} {
		start := time.Now()
		if err := b.collect(ctx, u); err != nil {
			return err
		}
		fmt.Fprintf(b.out, "%s %s sees %s customers; deep cursor at page %d (walked in %s)\n", u.label, u.username,
			u.customers, u.deepReached, time.Since(start).Round(time.Millisecond))
	}
	html := b.htmlAvailable(ctx, rep)
	if !html {
		fmt.Fprintln(b.out, "GET /customers is not served by this build: HTML list scenarios skipped")
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
	for _, u := range []*benchUser{rep, mgr} {
		list("api", "/api/v1/customers", u, byToken)
	}
	b.read(ctx, "list api rep p1 (session cookie)", rep, byCookie, constant(pageURL("/api/v1/customers", "")))
	// The orders a salesperson works in, not only the default one (issue 12
	// §7: sorted by next follow-up, a rep's page cost ten times the default).
	for _, sort := range []string{"next_follow_up", "name", "created"} {
		for _, u := range []*benchUser{rep, mgr} {
			b.read(ctx, "list api "+u.label+" p1 sort="+sort, u, byToken, constant("/api/v1/customers?limit=20&sort="+sort))
		}
	}
	if html {
		for _, u := range []*benchUser{rep, mgr} {
			list("html", "/customers", u, byCookie)
		}
	}
	search := func(path string, values []string) func(int) string {
		if len(values) == 0 {
			return nil
		}
		return func(i int) string { return path + "?" + url.Values{"q": {values[i%len(values)]}}.Encode() }
	}
	for _, u := range []*benchUser{rep, mgr} {
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
	// Reports (issue 16): each over the last year, under each user's scope.
	year := "?from=" + time.Now().AddDate(-1, 0, 1).Format(time.DateOnly)
	for _, u := range []*benchUser{rep, mgr} {
		for _, name := range crm.Reports {
			b.read(ctx, "report "+name+" "+u.label, u, byToken, constant("/api/v1/reports/"+name+year))
		}
		// The dashboard page: every report its reader's scope shows, in
		// one request (issue 16: p95 ≤ 500 ms).
		if html {
			b.read(ctx, "dashboard page "+u.label, u, byCookie, constant("/dashboard"+year))
		}
	}
	if b.writes > 0 {
		for _, c := range b.writeConc {
			b.createFollowUps(ctx, rep, c)
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
	var scopes []string // everything a sales rep's role allows
	for _, o := range crm.Objects {
		scopes = append(scopes, string(o)+":"+crm.ScopeWrite)
	}
	tok, err := b.svc.CreateAPIToken(ctx, a, service.TokenInput{Name: "custos bench", Scopes: scopes, ExpiresAt: &exp})
	if err != nil {
		return nil, err
	}
	return &benchUser{label: label, username: username, actor: a, session: res.Token, csrf: res.CSRFToken,
		token: tok.Secret, tokenID: tok.ID}, nil
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

// htmlAvailable reports whether the build serves the web customer list.
func (b *bench) htmlAvailable(ctx context.Context, u *benchUser) bool {
	req, err := b.request(ctx, http.MethodGet, "/customers", nil, u, byCookie)
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
func percentile(sorted []time.Duration, q float64) time.Duration {
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(k, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report prints a Markdown table, ready for docs/benchmarks.md.
func (b *bench) report() {
	fmt.Fprintln(b.out, "| scenario | c | requests | errors | hits | p50 ms | p95 ms | p99 ms | max ms | req/s |")
	fmt.Fprintln(b.out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range b.results {
		note := ""
		if r.truncated != "" {
			note = " (" + r.truncated + ")"
		}
		fmt.Fprintf(b.out, "| %s%s | %d | %d | %d | %s | %.2f | %.2f | %.2f | %.2f | %.0f |\n", r.name, note, r.conc, r.n, r.errors,
			r.hits, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), float64(r.n)/r.elapsed.Seconds())
	}
	for _, r := range b.results {
		if r.firstErr != "" {
			fmt.Fprintf(b.out, "\n%s: %d errors; first: %s\n", r.name, r.errors, r.firstErr)
		}
	}
}
