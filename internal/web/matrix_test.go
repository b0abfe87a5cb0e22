package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	tm "custos/internal/testmatrix"
	"custos/internal/testorg"
)

// TestAuthorisationMatrix sends every route of the web pages, as every
// person (administrator, managers of the subtree and of another department,
// a sales owner, a colleague in the same department, sales elsewhere, the
// auditor), about records in every relation to them, and compares each
// answer with the outcome the oracle of internal/testmatrix computes from
// the permission model. A route without a classification fails the test,
// so every new route must be classified here. Every denial must look
// exactly like the page about a missing record.
func TestAuthorisationMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := tm.New(t, db)
		srv, err := New(w.Svc, httpx.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		srv.Register(mux)
		m := &webMatrix{w: w, handler: httpx.Middleware(http.NewCrossOriginProtection().Handler(mux))}
		tm.Run(w, tm.NewReport(t), tm.Surface[webReq]{Name: "web", Actors: tm.PersonActors, Routes: srv.Routes(),
			Specs: webSpecs(w, srv), Do: m.do, Match: pageMatch})
	})
}

type webSpec = tm.Spec[webReq]

// webReq is a page request: a GET of path, or a POST of form (the CSRF
// token is added). A request that signs the user out succeeds with a
// redirect to the sign-in page; one without session is sent as a visitor.
type webReq struct {
	path     string
	form     url.Values
	signsOut bool
	visitor  bool
	cookies  []*http.Cookie
	unique   []string // values the request makes unique (a contract number), the same in every answer
	file     string   // a POST of form as multipart/form-data with this file (as "file")
}

type webMatrix struct {
	w       *tm.World
	handler http.Handler
}

func (m *webMatrix) do(a tm.ActorKey, method string, r webReq) tm.Answer {
	var body io.Reader
	contentType := "application/x-www-form-urlencoded"
	if method == http.MethodPost {
		form := url.Values{}
		for k, v := range r.form {
			form[k] = v
		}
		if !r.visitor {
			form.Set(httpx.CSRFField, m.w.Sessions[a].CSRF)
		}
		body = strings.NewReader(form.Encode())
		if r.file != "" {
			var b []byte
			b, contentType = multipartForm(form, "file", "matrix.csv", r.file)
			body = bytes.NewReader(b)
		}
	}
	req := httptest.NewRequest(method, r.path, body)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept-Language", "en")
	if !r.visitor {
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: m.w.Sessions[a].Token})
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, req)
	return pageAnswer(rec, r, m.w.Sessions[a].CSRF)
}

var (
	stepUpTitle  = i18n.T("en", "stepup.title")
	notFoundRule = i18n.T("en", "rule.not_found")
	requestID    = regexp.MustCompile(`[0-9a-f]{16}`)
)

// pageAnswer reads a page as the matrix needs it.
func pageAnswer(rec *httptest.ResponseRecorder, r webReq, csrf string) tm.Answer {
	body, loc := rec.Body.String(), rec.Header().Get("Location")
	var out tm.Outcome
	switch rec.Code {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted:
		out = tm.Allow
	case http.StatusSeeOther, http.StatusFound:
		switch {
		case (loc == "/login" || strings.HasPrefix(loc, "/login?")) && !r.signsOut:
			out = "signed out"
		default:
			out = tm.Allow
		}
	case http.StatusNotFound:
		out = tm.Hidden
	case http.StatusForbidden:
		out = tm.Forbidden
		if strings.Contains(body, stepUpTitle) {
			out = tm.StepUp
		}
	case http.StatusConflict:
		out = tm.Conflict
	case http.StatusUnprocessableEntity:
		out = tm.Invalid
		if strings.Contains(body, notFoundRule) {
			out = tm.BadRef
		}
	default:
		out = tm.Outcome(fmt.Sprintf("status %d", rec.Code))
	}
	// What differs between two requests: the path (with the record's id),
	// the session's CSRF token and request ids.
	normal := tm.Unify(tm.Unify(strings.ReplaceAll(body, csrf, "{csrf}"), r.path), html.EscapeString(r.path))
	if ref := r.form.Get("customer_id"); ref != "" { // the customer the form named, as typed
		normal = strings.NewReplacer("/customers/"+ref+`"`, `/customers/{ref}"`, `value="`+ref+`"`, `value="{ref}"`).Replace(normal)
	}
	for _, u := range r.unique {
		normal = strings.ReplaceAll(normal, u, "{unique}")
	}
	normal = fmt.Sprintf("%d %s %s", rec.Code, loc, requestID.ReplaceAllString(normal, "{id}"))
	return tm.Answer{Outcome: out, Detail: fmt.Sprintf("%d %s %s", rec.Code, loc, body), Normal: normal,
		Shows: func(l tm.Listing, rec tm.Record) bool {
			part := body
			if n, err := strconv.Atoi(l.Key); err == nil { // the n-th card of the page
				cards := strings.Split(body, `<section class="card">`)
				part = ""
				if n < len(cards) {
					part = cards[n]
				}
			}
			return strings.Contains(part, html.EscapeString(rec.Name))
		}}
}

// pageMatch is tm.Matches, except that a form refused because of the
// customer it names says "does not exist" whether or not the user sees
// that customer: a refusal the oracle calls Invalid (the user sees the
// customer, so the page may name it) can look like BadRef.
func pageMatch(want, got tm.Outcome) bool {
	return tm.Matches(want, got) || want == tm.Invalid && got == tm.BadRef
}

// Requests.

func get(p string) func(*tm.Target) webReq { return func(*tm.Target) webReq { return webReq{path: p} } }

func post(p string, form url.Values) func(*tm.Target) webReq {
	return func(*tm.Target) webReq { return webReq{path: p, form: form} }
}

// page is a request about the slot's record of o at prefix/{id}suffix,
// with a form for a POST.
func page(o crm.Object, prefix, suffix string, form func(x *tm.Target) url.Values) func(*tm.Target) webReq {
	return func(x *tm.Target) webReq {
		r := webReq{path: prefix + strconv.FormatInt(x.F.ID(o), 10) + suffix}
		if form != nil {
			r.form = form(x)
		}
		return r
	}
}

func values(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// current is the form of an edit page: the record's version and name
// (the forms send every field) plus more fields.
func current(o crm.Object, nameField string, kv ...string) func(x *tm.Target) url.Values {
	return func(x *tm.Target) url.Values {
		v := values(kv...)
		id := x.F.ID(o)
		v.Set("version", strconv.FormatInt(x.W.Version(o, id), 10))
		name := "x"
		if r, ok := x.F.Records[o]; ok {
			name = r.Name
		}
		v.Set(nameField, name)
		if o != crm.ObjCustomer && o != crm.ObjLead && x.F.Has(crm.ObjCustomer) {
			v.Set("customer_id", strconv.FormatInt(x.F.ID(crm.ObjCustomer), 10))
		}
		return v
	}
}

func onCustomer(kv ...string) func(x *tm.Target) url.Values {
	return func(x *tm.Target) url.Values {
		v := values(kv...)
		v.Set("customer_id", strconv.FormatInt(x.F.ID(crm.ObjCustomer), 10))
		return v
	}
}

// webAttach is creating a record of o on the slot's customer from a form:
// one the actor may not edit is refused like a missing one when the actor
// does not see it; when they see it, the form names the customer again.
func webAttach(o crm.Object) func(tm.ActorKey, tm.Slot) tm.Outcome {
	return func(a tm.ActorKey, s tm.Slot) tm.Outcome {
		out := tm.AttachOutcome(a, o, s)
		if out == tm.BadRef && tm.Visible(a, crm.ObjCustomer, s) {
			return tm.Invalid
		}
		return out
	}
}

// recycleKeys are the recycle bin's tabs other than customers.
var recycleKeys = map[crm.Object]string{crm.ObjContact: "contacts", crm.ObjLead: "leads", crm.ObjOpportunity: "opportunities",
	crm.ObjContract: "contracts", crm.ObjTask: "tasks", crm.ObjFollowUp: "follow-ups"}

// revealFields are fields of each object that take field rules.
var revealFields = map[crm.Object]string{crm.ObjCustomer: "phone", crm.ObjContact: "mobile", crm.ObjLead: "mobile", crm.ObjOpportunity: "name",
	crm.ObjContract: "name"}

// missingIncident is an incident no test creates.
var missingIncident = "/incidents/" + strconv.FormatInt(tm.MissingID, 10)

// webSpecs classifies every route of the web pages.
func webSpecs(w *tm.World, srv *Server) map[string][]webSpec {
	ctx := context.Background()
	stages, err := w.Svc.Stages(ctx, w.System())
	if err != nil || len(stages) < 2 {
		panic(fmt.Sprintf("stages: %v", err))
	}
	field, err := w.Svc.SaveCustomField(ctx, w.System(), crm.CustomField{Object: crm.ObjLead, Key: "matrix_note", Label: "备注", Type: "text"})
	if err != nil {
		panic(err)
	}
	var asset string
	for name := range srv.assets.files {
		asset = name
		break
	}
	me, err := w.Svc.Me(ctx, w.Users[tm.Admin])
	if err != nil {
		panic(err)
	}
	roles := map[string]int64{}
	for _, r := range w.Org.Roles {
		roles[r.Key] = r.ID
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	var campaignID int64
	campaign := func() int64 { // one campaign for the reads, started when first asked
		if campaignID == 0 {
			campaignID = w.FreshCampaign()
		}
		return campaignID
	}
	rep2, bystander, hq, west := id(w.UserID(tm.Rep2)), id(w.Bystander.UserID), id(w.Org.HQ.ID), w.Org.West
	user := func(prefix, suffix string, form url.Values) func(*tm.Target) webReq {
		return func(x *tm.Target) webReq {
			return webReq{path: prefix + id(w.UserOf(x.A, x.S)) + suffix, form: form}
		}
	}
	passkey := func(suffix string, form url.Values) func(*tm.Target) webReq {
		return func(x *tm.Target) webReq {
			key := tm.MissingID
			if x.S == tm.SlotOther {
				key = w.BystanderPasskey
			}
			return webReq{path: "/account/passkeys/" + id(key) + suffix, form: form}
		}
	}
	// userForm is the administration form of a user, unchanged.
	userForm := func(x *tm.Target) url.Values {
		switch x.S {
		case tm.SlotOwn:
			return values("display_name", me.DisplayName, "department_id", id(me.DepartmentID), "role_id", id(me.RoleID))
		case tm.SlotOther:
			return values("display_name", "User bystander", "department_id", hq, "role_id", id(roles["sales"]))
		}
		return values("display_name", "nobody", "department_id", hq, "role_id", id(roles["sales"]))
	}
	adminUser := func(a tm.ActorKey, s tm.Slot) tm.Outcome {
		if tm.IsAdmin(a) && s == tm.SlotMissing {
			return tm.Hidden
		}
		return tm.AdminOutcome(a, false)
	}
	search := "%E6%A3%B1%E9%95%9C" // 棱镜, in every record's name
	specs := map[string][]webSpec{
		"GET /static/{path...}": {{Want: tm.Anyone, Req: func(*tm.Target) webReq { return webReq{path: "/static/" + asset, visitor: true} }}},
		"GET /login":            {{Want: tm.Anyone, Req: get("/login")}},
		"POST /login": {{Want: tm.Anyone, Req: func(x *tm.Target) webReq {
			// A visitor signs in with the form's double-submit token.
			rec := httptest.NewRecorder()
			srv.loginPage(rec, httptest.NewRequest("GET", "/login", nil))
			tok := csrfInput.FindStringSubmatch(rec.Body.String())
			u, err := w.Svc.Me(ctx, w.Users[x.A])
			if err != nil || tok == nil {
				panic(fmt.Sprintf("sign-in form: %v", err))
			}
			return webReq{path: "/login", visitor: true, cookies: rec.Result().Cookies(),
				form: values("username", u.Username, "password", testorg.Password, httpx.CSRFField, tok[1])}
		}}},
		"POST /logout":    {{Want: tm.Anyone, Req: func(*tm.Target) webReq { return webReq{path: "/logout", form: url.Values{}, signsOut: true} }, Ends: true, Account: true}},
		"GET /login/mfa":  {{Want: tm.Anyone, Req: get("/login/mfa")}},
		"POST /login/mfa": {{Want: tm.Anyone, Req: post("/login/mfa", values("code", "000000")), Account: true}},
		"GET /step-up":    {{Want: tm.Anyone, Req: get("/step-up")}},
		"POST /step-up": {{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if !w.Enrolled(a) {
				return tm.StepUp // without a second factor: set one up first
			}
			return tm.Reached
		}, Req: post("/step-up", values("step_up_code", "000000")), Account: true}},
		"GET /{$}": {{Want: tm.Anyone, Req: get("/")}},
		// The dashboard: every report within the reader's scopes, for the
		// roles with the reports permission.
		"GET /dashboard": {{Want: tm.ReportOutcome, Req: get("/dashboard")}},
		"GET /reports":   {{Want: tm.ReportOutcome, Req: get("/reports")}},

		"GET /customers": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: get("/customers"),
			Lists: []tm.Listing{{O: crm.ObjCustomer, In: tm.InList}}}},
		"GET /customers/new": {{Want: tm.Anyone, Req: get("/customers/new")}},
		"POST /customers": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate), Req: func(*tm.Target) webReq {
			return webReq{path: "/customers", form: values("name", w.Name("新客户"), "status", "prospect")}
		}}},
		"GET /customers/{id}": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.ReadOutcome), Req: page(crm.ObjCustomer, "/customers/", "", nil)}},
		// Values nobody holds: there is no owner to ask.
		"POST /access-requests": {{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if tm.Can(a, crm.ObjCustomer, crm.ActCreate) {
				return tm.Hidden
			}
			return tm.Forbidden
		}, Req: post("/access-requests", values("object", "customer", "access", "share", "fields", `{"name":"无人持有的名称","status":"prospect"}`))}},
		"GET /customers/{id}/edit": {{Object: crm.ObjCustomer, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if out := tm.ReadOutcome(a, crm.ObjCustomer, s); out != tm.Allow || s != tm.SlotPool {
				return out
			}
			return tm.Hidden // pool customers are claimed, not edited
		}, Req: page(crm.ObjCustomer, "/customers/", "/edit", nil)}},
		"POST /customers/{id}": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.EditOutcome),
			Req: page(crm.ObjCustomer, "/customers/", "", current(crm.ObjCustomer, "name", "status", "prospect", "industry", "制造"))}},
		"POST /customers/{id}/delete": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.DeleteOutcome),
			Req: page(crm.ObjCustomer, "/customers/", "/delete", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},
		"POST /customers/{id}/release": {{Object: crm.ObjCustomer, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ReleaseOutcome(a, s) },
			Req: page(crm.ObjCustomer, "/customers/", "/release", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},
		"POST /customers/{id}/claim": {{Object: crm.ObjCustomer, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ClaimOutcome(a, s) },
			Req: page(crm.ObjCustomer, "/customers/", "/claim", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},
		"POST /customers/{id}/restore": {{Object: crm.ObjCustomer, Variant: tm.CustomerDeleted, Want: tm.On(crm.ObjCustomer, tm.DeleteOutcome),
			Req: page(crm.ObjCustomer, "/customers/", "/restore", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},
		"POST /customers/{id}/follow-ups": {{Object: crm.ObjCustomer, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			// The customer is in the path: one the actor does not see is not found.
			out := tm.AttachOutcome(a, crm.ObjFollowUp, s)
			switch {
			case out != tm.BadRef:
				return out
			case tm.Visible(a, crm.ObjCustomer, s):
				return tm.Invalid
			}
			return tm.Hidden
		}, Req: page(crm.ObjCustomer, "/customers/", "/follow-ups", func(*tm.Target) url.Values { return values("kind", "call", "content", "回访") })}},
		"GET /customers/options": {{Want: tm.Anyone, Req: get("/customers/options?q=" + search),
			Lists: []tm.Listing{{O: crm.ObjCustomer, In: tm.InList}}}},
		"GET /pool": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: get("/pool"), Lists: []tm.Listing{{O: crm.ObjCustomer, In: tm.InPool}}}},
		"GET /recycle-bin": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActDelete), Req: get("/recycle-bin"),
			Lists: []tm.Listing{{O: crm.ObjCustomer, In: tm.InBin}}}},

		"GET /contacts":     {{Want: tm.CanDo(crm.ObjContact, crm.ActRead), Req: get("/contacts"), Lists: []tm.Listing{{O: crm.ObjContact, In: tm.InList}}}},
		"GET /contacts/new": {{Want: tm.Anyone, Req: get("/contacts/new")}},
		"POST /contacts": {{Object: crm.ObjCustomer, Want: webAttach(crm.ObjContact), Req: func(x *tm.Target) webReq {
			return webReq{path: "/contacts", form: onCustomer("name", "新联系人")(x)}
		}}},
		"GET /approvals": {{Want: tm.Anyone, Req: get("/approvals")}},
		// Notifications are each user's own: another's id (here a missing
		// one) is not found for anyone.
		"GET /notifications":            {{Want: tm.Anyone, Req: get("/notifications")}},
		"POST /notifications/read-all":  {{Want: tm.Anyone, Req: post("/notifications/read-all", url.Values{})}},
		"POST /notifications/{id}/read": {{Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.Hidden }, Req: post("/notifications/"+id(tm.MissingID)+"/read", nil)}},
		"POST /account/notifications":   {{Want: tm.Anyone, Req: post("/account/notifications", values("pref", "digest:inapp")), Account: true}},
		"GET /approvals/{id}": {{Object: tm.ObjApproval, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ApprovalOutcome(a, tm.Requester(s)) },
			Req: func(x *tm.Target) webReq { return webReq{path: "/approvals/" + w.ApprovalID(x.S)} }}},
		"POST /approvals/{id}/decision": {{Object: tm.ObjApproval, Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.StepUp },
			Req: func(x *tm.Target) webReq {
				return webReq{path: "/approvals/" + w.ApprovalID(x.S) + "/decision", form: values("decision", "approve")}
			}}},
		"POST /customers/{id}/transfer": {{Object: crm.ObjCustomer,
			Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.TransferOutcome(a, crm.ObjCustomer, s, tm.Rep2) },
			Req:  page(crm.ObjCustomer, "/customers/", "/transfer", func(*tm.Target) url.Values { return values("to", rep2) }), Mutates: true}},
		"POST /customers/{id}/shares": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.ShareOutcome),
			Req: page(crm.ObjCustomer, "/customers/", "/shares", func(*tm.Target) url.Values { return values("user_id", bystander, "level", "read") })}},
		"POST /leads/{id}/shares": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ShareOutcome),
			Req: page(crm.ObjLead, "/leads/", "/shares", func(*tm.Target) url.Values { return values("user_id", bystander, "level", "read") })}},
		"GET /shares":          {{Want: tm.Anyone, Req: get("/shares")}},
		"GET /review":          {{Want: tm.ReviewOutcome, Req: get("/review")}},
		"POST /review/confirm": {{Want: tm.ReviewConfirmOutcome, Req: post("/review/confirm", url.Values{})}},
		"POST /review/tokens": {{Object: tm.ObjReview, Want: tm.ReviewTokenOutcome, Req: func(x *tm.Target) webReq {
			tok := tm.MissingID
			if x.S != tm.SlotMissing {
				tok = w.FreshToken(x.A, x.S)
			}
			return webReq{path: "/review/tokens", form: values("user_id", id(w.UserOf(x.A, x.S)), "token_id", id(tok))}
		}}},
		"GET /audit":             {{Want: tm.AuditOutcome, Req: get("/audit")}},
		"GET /alerts":            {{Want: tm.AuditOutcome, Req: get("/alerts")}},
		"GET /exposure":          {{Want: tm.AuditOutcome, Req: get("/exposure?since=2020-01-01T00:00")}},
		"GET /exposure/download": {{Want: tm.AuditOutcome, Req: get("/exposure/download?since=2020-01-01T00:00")}},
		// Data quality: figures and drill-downs within each reader's own
		// scope; settings and the fix-up push for administrators.
		"GET /quality":         {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: get("/quality")}},
		"GET /quality/records": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: get("/quality/records?object=customer&issue=all")}},
		"POST /quality/settings": {{Want: tm.Admins, Req: post("/quality/settings", values("stale_days", "30", "w.customer.name", "1",
			"w.contact.name", "1", "w.lead.name", "1", "w.opportunity.amount", "1"))}},
		"POST /quality/fixups": {{Want: tm.Admins, Req: post("/quality/fixups", nil), Mutates: true}},
		// Review campaigns: read like the quality page; started by
		// administrators and managers; a record confirmed by whoever owns it
		// within their own scope (a fresh campaign each time, over every
		// owned record).
		"GET /quality/campaigns": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: get("/quality/campaigns")}},
		"POST /quality/campaigns": {{Want: tm.StartCampaignOutcome, Mutates: true, Req: func(*tm.Target) webReq {
			due := w.Clock.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04")
			return webReq{path: "/quality/campaigns", form: values("name", "matrix", "objects", "customer", "selection", "stale", "due_at", due)}
		}}},
		"GET /quality/campaigns/{id}": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: func(*tm.Target) webReq {
			return webReq{path: "/quality/campaigns/" + id(campaign())}
		}}},
		"GET /quality/campaigns/{id}/records": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: func(*tm.Target) webReq {
			return webReq{path: "/quality/campaigns/" + id(campaign()) + "/records?object=customer"}
		}}},
		"POST /quality/campaigns/{id}/confirm": {{Object: crm.ObjCustomer, Want: tm.CampaignConfirmOutcome, Mutates: true, Req: func(x *tm.Target) webReq {
			return webReq{path: "/quality/campaigns/" + id(w.FreshCampaign()) + "/confirm", form: values("object", "customer", "ids", id(x.F.ID(crm.ObjCustomer)))}
		}}},
		// Incidents: read by the trail's readers, kept by administrators; the
		// one asked for does not exist.
		"GET /incidents": {{Want: tm.AuditOutcome, Req: get("/incidents")}},
		"POST /incidents": {{Want: tm.Admins, Req: post("/incidents", values("title", "matrix", "severity", "low", "status", "open",
			"detected_at", "2020-01-01T00:00"))}},
		"GET /incidents/{id}": {{Want: tm.AuditFindsNothing, Req: get(missingIncident)}},
		"POST /incidents/{id}": {{Want: tm.AdminFindsNothing, Req: post(missingIncident, values("version", "1", "title", "matrix",
			"severity", "low", "status", "closed", "detected_at", "2020-01-01T00:00"))}},
		"POST /incidents/{id}/timeline": {{Want: tm.AdminFindsNothing, Req: post(missingIncident+"/timeline", values("note", "matrix"))}},
		"POST /incidents/{id}/exposure": {{Want: tm.AdminFindsNothing, Req: post(missingIncident+"/exposure", values("since", "2020-01-01T00:00"))}},
		"GET /incidents/{id}/exposure":  {{Want: tm.AuditFindsNothing, Req: get(missingIncident + "/exposure?format=csv")}},
		"POST /alerts/{id}/review":      {{Want: tm.AdminFindsNothing, Req: post("/alerts/"+id(tm.MissingID)+"/review", nil)}},
		"POST /alert-rules/{key}":       {{Want: tm.StepUps, Req: post("/alert-rules/mass_view", values("enabled", "on", "threshold", "200"))}},
		"GET /admin/users/{id}/job":     {{Object: tm.ObjUser, Want: adminUser, Req: user("/admin/users/", "/job", nil)}},
		"POST /admin/users/{id}/job": {{Object: tm.ObjUser, Want: adminUser, // to the department they are in: nothing moves
			Req: user("/admin/users/", "/job", values("department_id", hq)), Slots: []tm.Slot{tm.SlotOwn, tm.SlotOther, tm.SlotMissing}}},

		"POST /shares/revoke": {{Object: tm.ObjShare, Want: tm.RevokeOutcome, Req: func(x *tm.Target) webReq {
			share := tm.MissingID
			if x.S != tm.SlotMissing {
				share = w.FreshShare(x.S)
			}
			return webReq{path: "/shares/revoke", form: values("id", id(share))}
		}}},
		"GET /contacts/{id}":      {{Object: crm.ObjContact, Want: tm.On(crm.ObjContact, tm.ReadOutcome), Req: page(crm.ObjContact, "/contacts/", "", nil)}},
		"GET /contacts/{id}/edit": {{Object: crm.ObjContact, Want: tm.On(crm.ObjContact, tm.ReadOutcome), Req: page(crm.ObjContact, "/contacts/", "/edit", nil)}},
		"POST /contacts/{id}": {{Object: crm.ObjContact, Want: tm.On(crm.ObjContact, tm.EditOutcome),
			Req: page(crm.ObjContact, "/contacts/", "", current(crm.ObjContact, "name", "title", "经理"))}},
		"POST /contacts/{id}/delete": {{Object: crm.ObjContact, Want: tm.On(crm.ObjContact, tm.DeleteOutcome),
			Req: page(crm.ObjContact, "/contacts/", "/delete", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},

		"GET /leads":      {{Want: tm.CanDo(crm.ObjLead, crm.ActRead), Req: get("/leads"), Lists: []tm.Listing{{O: crm.ObjLead, In: tm.InList}}}},
		"GET /follow-ups": {{Want: tm.CanDo(crm.ObjFollowUp, crm.ActRead), Req: get("/follow-ups")}},
		"GET /leads/new":  {{Want: tm.Anyone, Req: get("/leads/new")}},
		"POST /leads": {{Want: tm.CanDo(crm.ObjLead, crm.ActCreate), Req: func(*tm.Target) webReq {
			n := w.Name("新线索")
			return webReq{path: "/leads", form: values("name", n, "company", n+"公司")}
		}}},
		"GET /leads/{id}":      {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ReadOutcome), Req: page(crm.ObjLead, "/leads/", "", nil)}},
		"GET /leads/{id}/edit": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ReadOutcome), Req: page(crm.ObjLead, "/leads/", "/edit", nil)}},
		"POST /leads/{id}": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.EditOutcome),
			Req: page(crm.ObjLead, "/leads/", "", current(crm.ObjLead, "name", "status", "contacted", "custom."+field.Key, "备注"))}},
		"GET /leads/{id}/convert": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ReadOutcome), Req: page(crm.ObjLead, "/leads/", "/convert", nil)}},
		"POST /leads/{id}/convert": {{Object: crm.ObjLead, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ConvertOutcome(a, s) },
			Req: page(crm.ObjLead, "/leads/", "/convert", func(x *tm.Target) url.Values {
				return values("version", strconv.FormatInt(x.W.Version(crm.ObjLead, x.F.ID(crm.ObjLead)), 10))
			}), Mutates: true}},

		"GET /opportunities":       {{Want: tm.CanDo(crm.ObjOpportunity, crm.ActRead), Req: get("/opportunities"), Lists: []tm.Listing{{O: crm.ObjOpportunity, In: tm.InList}}}},
		"GET /opportunities/board": {{Want: tm.CanDo(crm.ObjOpportunity, crm.ActRead), Req: get("/opportunities/board"), Lists: []tm.Listing{{O: crm.ObjOpportunity, In: tm.InList}}}},
		"GET /opportunities/new":   {{Want: tm.Anyone, Req: get("/opportunities/new")}},
		"POST /opportunities": {{Object: crm.ObjCustomer, Want: webAttach(crm.ObjOpportunity), Req: func(x *tm.Target) webReq {
			return webReq{path: "/opportunities", form: onCustomer("name", "新商机", "amount", "500")(x)}
		}}},
		"GET /opportunities/{id}":      {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.ReadOutcome), Req: page(crm.ObjOpportunity, "/opportunities/", "", nil)}},
		"GET /opportunities/{id}/edit": {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.ReadOutcome), Req: page(crm.ObjOpportunity, "/opportunities/", "/edit", nil)}},
		"POST /opportunities/{id}": {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.EditOutcome),
			Req: page(crm.ObjOpportunity, "/opportunities/", "", current(crm.ObjOpportunity, "name", "amount", "900", "currency", "CNY"))}},
		"POST /opportunities/{id}/stage": {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.EditOutcome),
			Req: page(crm.ObjOpportunity, "/opportunities/", "/stage", func(x *tm.Target) url.Values {
				return values("version", strconv.FormatInt(x.W.Version(crm.ObjOpportunity, x.F.ID(crm.ObjOpportunity)), 10), "stage_id", id(stages[1].ID))
			})}},
		"POST /opportunities/{id}/delete": {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.DeleteOutcome),
			Req: page(crm.ObjOpportunity, "/opportunities/", "/delete", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},

		"GET /contracts":     {{Want: tm.CanDo(crm.ObjContract, crm.ActRead), Req: get("/contracts"), Lists: []tm.Listing{{O: crm.ObjContract, In: tm.InList}}}},
		"GET /contracts/new": {{Want: tm.Anyone, Req: get("/contracts/new")}},
		"POST /contracts": {{Object: crm.ObjCustomer, Want: webAttach(crm.ObjContract), Req: func(x *tm.Target) webReq {
			n := w.Name("HT")
			return webReq{path: "/contracts", form: onCustomer("number", n, "name", n, "amount", "500")(x), unique: []string{n}}
		}}},
		"GET /contracts/{id}":      {{Object: crm.ObjContract, Want: tm.On(crm.ObjContract, tm.ReadOutcome), Req: page(crm.ObjContract, "/contracts/", "", nil)}},
		"GET /contracts/{id}/edit": {{Object: crm.ObjContract, Want: tm.On(crm.ObjContract, tm.ReadOutcome), Req: page(crm.ObjContract, "/contracts/", "/edit", nil)}},
		"POST /contracts/{id}": {{Object: crm.ObjContract, Want: tm.On(crm.ObjContract, tm.EditOutcome),
			Req: page(crm.ObjContract, "/contracts/", "", func(x *tm.Target) url.Values {
				// The form sends every field: the number is the record's (its name).
				v := current(crm.ObjContract, "name", "amount", "900", "currency", "CNY", "status", "signed")(x)
				v.Set("number", v.Get("name"))
				if x.F.Has(crm.ObjOpportunity) {
					v.Set("opportunity_id", id(x.F.ID(crm.ObjOpportunity)))
				}
				return v
			})}},
		"POST /contracts/{id}/delete": {{Object: crm.ObjContract, Want: tm.On(crm.ObjContract, tm.DeleteOutcome),
			Req: page(crm.ObjContract, "/contracts/", "/delete", func(*tm.Target) url.Values { return url.Values{} }), Mutates: true}},

		"GET /tasks":     {{Want: tm.CanDo(crm.ObjTask, crm.ActRead), Req: get("/tasks"), Lists: []tm.Listing{{O: crm.ObjTask, In: tm.MyTasks}}}},
		"GET /tasks/new": {{Want: tm.Anyone, Req: get("/tasks/new")}},
		"POST /tasks": {{Object: crm.ObjCustomer, Want: webAttach(crm.ObjTask), Req: func(x *tm.Target) webReq {
			return webReq{path: "/tasks", form: onCustomer("title", "新任务")(x)}
		}}},
		"GET /tasks/{id}/edit": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.ReadOutcome), Req: page(crm.ObjTask, "/tasks/", "/edit", nil)}},
		"POST /tasks/{id}": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.EditOutcome),
			Req: page(crm.ObjTask, "/tasks/", "", current(crm.ObjTask, "title", "notes", "备忘"))}},
		"POST /tasks/{id}/done": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.EditOutcome),
			Req: page(crm.ObjTask, "/tasks/", "/done", func(*tm.Target) url.Values { return url.Values{} })}},
		"POST /tasks/{id}/reopen": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.EditOutcome),
			Req: page(crm.ObjTask, "/tasks/", "/reopen", func(*tm.Target) url.Values { return url.Values{} })}},

		"GET /search": {{Want: tm.Anyone, Req: get("/search?q=" + search), Lists: []tm.Listing{
			{Key: "1", O: crm.ObjCustomer, In: tm.InList}, {Key: "2", O: crm.ObjContact, In: tm.InList}, {Key: "3", O: crm.ObjLead, In: tm.InList}}}},

		"GET /account":            {{Want: tm.Anyone, Req: get("/account")}},
		"POST /account/language":  {{Want: tm.Anyone, Req: post("/account/language", values("lang", "en")), Account: true}},
		"POST /account/time-zone": {{Want: tm.Anyone, Req: post("/account/time-zone", values("time_zone", "Asia/Shanghai")), Account: true}},
		"GET /account/password":   {{Want: tm.Anyone, Req: get("/account/password")}},
		"POST /account/password": {{Want: tm.Anyone, Req: post("/account/password", values("current_password", testorg.Password,
			"new_password", testorg.Password, "confirm_password", testorg.Password)), Ends: true, Account: true}},
		"POST /account/tokens": {{Want: tm.Anyone, Req: func(x *tm.Target) webReq {
			return webReq{path: "/account/tokens", form: values("name", "matrix", "scopes", tm.OwnTokenScope(x.A))}
		}, Account: true}},
		"POST /account/tokens/{id}/revoke": {{Object: tm.ObjToken, Want: tm.OwnOnly, Req: func(x *tm.Target) webReq {
			tok := tm.MissingID
			if x.S != tm.SlotMissing {
				tok = w.FreshToken(x.A, x.S)
			}
			return webReq{path: "/account/tokens/" + id(tok) + "/revoke", form: url.Values{}}
		}, Account: true}},
		"POST /account/sessions/{id}/end": {{Object: tm.ObjSession, Want: endSession, Req: func(x *tm.Target) webReq {
			return webReq{path: "/account/sessions/" + sessionID(w, x) + "/end", form: url.Values{}}
		}, Account: true}},
		"POST /account/sessions/end-others": {{Want: tm.Anyone, Req: post("/account/sessions/end-others", url.Values{}), Account: true}},
		"GET /account/mfa":                  {{Want: tm.Anyone, Req: get("/account/mfa")}},
		"POST /account/mfa/totp":            {{Want: tm.SessionOnly, Req: post("/account/mfa/totp", url.Values{}), Account: true}},
		"GET /account/mfa/totp":             {{Want: tm.Anyone, Req: get("/account/mfa/totp")}},
		"GET /account/mfa/totp/qr.png":      {{Want: pendingEnrolment(w), Req: get("/account/mfa/totp/qr.png"), Account: true}},
		"POST /account/mfa/totp/confirm":    {{Want: tm.AddFactor(w.Enrolled), Req: post("/account/mfa/totp/confirm", values("code", "000000")), Account: true}},
		"POST /account/mfa/totp/disable":    {{Want: tm.SessionOnly, Req: post("/account/mfa/totp/disable", values("code", "000000")), Account: true}},
		"POST /account/mfa/recovery-codes":  {{Want: tm.SessionOnly, Req: post("/account/mfa/recovery-codes", values("code", "000000")), Account: true}},

		// Passkeys: the ceremonies answer what the account's state allows
		// (no passkey to check, an answer no authenticator made); someone
		// else's passkey does not exist.
		"POST /passkeys/challenge":         {{Want: tm.SessionOnly, Req: post("/passkeys/challenge", url.Values{}), Account: true}},
		"POST /account/passkeys/challenge": {{Want: tm.SessionOnly, Req: post("/account/passkeys/challenge", url.Values{}), Account: true}},
		"POST /account/passkeys": {{Want: tm.AddFactor(w.Enrolled), Req: post("/account/passkeys", values("name", "matrix", "passkey", "{}")),
			Account: true}},
		"POST /account/passkeys/{id}": {{Object: tm.ObjPasskey, Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.Hidden },
			Req: passkey("", values("name", "新名字"))}},
		"POST /account/passkeys/{id}/remove": {{Object: tm.ObjPasskey, Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.StepUp },
			Req: passkey("/remove", url.Values{})}},

		"GET /admin":       {{Want: tm.Anyone, Req: get("/admin")}}, // a redirect to the users page, which is closed
		"GET /admin/users": {{Want: tm.Admins, Req: get("/admin/users")}},
		"POST /admin/users": {{Want: tm.Admins, Req: func(*tm.Target) webReq {
			return webReq{path: "/admin/users", form: values("username", fmt.Sprintf("matrix%d", w.Serial()), "display_name", "Matrix",
				"department_id", hq, "role_id", id(roles["sales"]), "password", testorg.Password)}
		}}},
		"GET /admin/users/{id}": {{Object: tm.ObjUser, Want: adminUser, Req: user("/admin/users/", "", nil)}},
		"POST /admin/users/{id}": {{Object: tm.ObjUser, Want: adminUser, Req: func(x *tm.Target) webReq {
			return webReq{path: "/admin/users/" + id(w.UserOf(x.A, x.S)), form: userForm(x)}
		}}},
		"POST /admin/users/{id}/password": {{Object: tm.ObjUser, Want: tm.StepUps, Req: user("/admin/users/", "/password", values("password", testorg.Password))}},
		"GET /admin/approvals":            {{Want: tm.Admins, Req: get("/admin/approvals")}},
		"GET /admin/backups":              {{Want: tm.Admins, Req: get("/admin/backups")}},
		"POST /admin/approvals/{kind}":    {{Want: tm.StepUps, Req: post("/admin/approvals/transfer", values("steps.transfer", "manager"))}},
		"GET /admin/users/{id}/offboard":  {{Object: tm.ObjUser, Want: adminUser, Req: user("/admin/users/", "/offboard", nil)}},
		"POST /admin/users/{id}/offboard": {{Object: tm.ObjUser, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if out := adminUser(a, s); out != tm.Allow {
				return out // the page names the user first
			}
			return tm.StepUp
		},
			Req: user("/admin/users/", "/offboard", values("customers_to", "0", "others_to", rep2))}},
		"GET /admin/users/{id}/security": {{Object: tm.ObjUser, Want: adminUser, Req: user("/admin/users/", "/security", nil)}},
		"POST /admin/users/{id}/sessions/end": {{Object: tm.ObjUser, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if s == tm.SlotOwn && tm.IsAdmin(a) {
				return tm.Allow // signing out everywhere else
			}
			return tm.StepUps(a, s)
		}, Req: user("/admin/users/", "/sessions/end", url.Values{}), Ends: true, Account: true}},
		"POST /admin/users/{id}/sessions/{sid}/end": {{Object: tm.ObjSession, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if !tm.IsAdmin(a) {
				return tm.Forbidden
			}
			return endSession(a, s)
		}, Req: func(x *tm.Target) webReq {
			return webReq{path: "/admin/users/" + id(w.UserOf(x.A, x.S)) + "/sessions/" + sessionID(w, x) + "/end", form: url.Values{}}
		}, Account: true}},
		"POST /admin/users/{id}/mfa/reset": {{Object: tm.ObjUser, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if s == tm.SlotOwn && tm.IsAdmin(a) {
				return tm.Invalid // one's own second factor is managed on the account page
			}
			return tm.StepUps(a, s)
		}, Req: user("/admin/users/", "/mfa/reset", url.Values{})}},
		"GET /admin/departments": {{Want: tm.Admins, Req: get("/admin/departments")}},
		"POST /admin/departments": {{Want: tm.Admins, Req: func(*tm.Target) webReq {
			return webReq{path: "/admin/departments", form: values("name", w.Name("部门"), "parent_id", hq)}
		}}},
		"GET /admin/departments/{id}": {{Want: tm.Admins, Req: get("/admin/departments/" + id(west.ID))}},
		"POST /admin/departments/{id}": {{Want: tm.Admins, Req: post("/admin/departments/"+id(west.ID),
			values("name", west.Name, "parent_id", hq, "manager_id", id(w.UserID(tm.MgrWest))))}},
		"GET /admin/roles":       {{Want: tm.Admins, Req: get("/admin/roles")}},
		"GET /admin/roles/new":   {{Want: tm.Admins, Req: get("/admin/roles/new")}},
		"POST /admin/roles":      {{Want: tm.StepUps, Req: post("/admin/roles", values("key", "matrix", "name", "Matrix"))}},
		"GET /admin/roles/{id}":  {{Want: tm.Admins, Req: get("/admin/roles/" + id(roles["sales"]))}},
		"POST /admin/roles/{id}": {{Want: tm.StepUps, Req: post("/admin/roles/"+id(roles["auditor"]), values("name", "Auditor", "audit", "on"))}},
		"GET /admin/stages":      {{Want: tm.Admins, Req: get("/admin/stages")}},
		"POST /admin/stages": {{Want: tm.Admins, Req: func(*tm.Target) webReq {
			return webReq{path: "/admin/stages", form: values("name", w.Name("阶段"), "kind", "open", "probability", "30", "position", "50")}
		}}},
		"GET /admin/stages/{id}": {{Want: tm.Admins, Req: get("/admin/stages/" + id(stages[0].ID))}},
		"POST /admin/stages/{id}": {{Want: tm.Admins, Req: post("/admin/stages/"+id(stages[0].ID), values("name", stages[0].Name,
			"name_en", stages[0].NameEn, "kind", stages[0].Kind, "probability", strconv.Itoa(stages[0].Probability),
			"position", strconv.Itoa(stages[0].Position), "active", "on"))}},
		// Criteria that ask for nothing, so the moves the matrix makes
		// stay allowed.
		"POST /admin/stages/{id}/criteria": {{Want: tm.Admins, Req: post("/admin/stages/"+id(stages[1].ID)+"/criteria", values("tasks", ""))}},
		"GET /admin/custom-fields":         {{Want: tm.Admins, Req: get("/admin/custom-fields")}},
		"POST /admin/custom-fields": {{Want: tm.Admins, Req: func(*tm.Target) webReq {
			return webReq{path: "/admin/custom-fields", form: values("object", "contact", "key", fmt.Sprintf("matrix_%d", w.Serial()),
				"label", "标签", "type", "text", "active", "on")}
		}}},
		"GET /admin/custom-fields/{id}": {{Want: tm.Admins, Req: get("/admin/custom-fields/" + id(field.ID))}},
		"POST /admin/custom-fields/{id}": {{Want: tm.Admins, Req: post("/admin/custom-fields/"+id(field.ID), values("object", "lead",
			"key", field.Key, "label", "备注", "type", "text", "active", "on"))}},
	}
	privacySpecs(w, specs)
	importSpecs(w, specs)
	duplicateSpecs(w, specs)
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead, crm.ObjOpportunity, crm.ObjContract, crm.ObjTask, crm.ObjFollowUp} {
		key := recycleKeys[o]
		specs["GET /recycle-bin/{object}"] = append(specs["GET /recycle-bin/{object}"], webSpec{Name: key,
			Want: tm.CanDo(o, crm.ActDelete), Req: get("/recycle-bin/" + key), Lists: []tm.Listing{{O: o, In: tm.InBin}}})
		specs["POST /recycle-bin/{object}/{id}/restore"] = append(specs["POST /recycle-bin/{object}/{id}/restore"], webSpec{Name: key,
			Object: o, Variant: tm.Deleted, Want: tm.On(o, tm.DeleteOutcome), Mutates: true,
			Req: page(o, "/recycle-bin/"+key+"/", "/restore", func(*tm.Target) url.Values { return url.Values{} })})
	}
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead, crm.ObjOpportunity, crm.ObjContract} {
		specs["GET /history/{object}/{id}"] = append(specs["GET /history/{object}/{id}"], webSpec{Name: string(o), Object: o,
			Want: tm.On(o, tm.HistoryOutcome), Req: page(o, "/history/"+string(o)+"/", "", nil)})
		specs["GET /versions/{object}/{id}"] = append(specs["GET /versions/{object}/{id}"], webSpec{Name: string(o), Object: o,
			Want: tm.On(o, tm.ReadOutcome), Req: page(o, "/versions/"+string(o)+"/", "", nil)})
		// Restoring the first version is an edit (to the fields the record has).
		specs["POST /versions/{object}/{id}/{version}"] = append(specs["POST /versions/{object}/{id}/{version}"], webSpec{Name: string(o),
			Object: o, Want: tm.On(o, tm.EditOutcome), Req: page(o, "/versions/"+string(o)+"/", "/1", func(x *tm.Target) url.Values {
				return values("current", strconv.FormatInt(x.W.Version(o, x.F.ID(o)), 10))
			})})
		f := revealFields[o]
		specs["POST /reveal/{object}/{id}"] = append(specs["POST /reveal/{object}/{id}"], webSpec{Name: string(o), Object: o,
			Want: tm.On(o, tm.RevealOutcome), Req: page(o, "/reveal/"+string(o)+"/", "", func(*tm.Target) url.Values { return values("field", f) })})
	}
	return specs
}

// sessionID is a fresh session of the slot's user (or a missing one).
func sessionID(w *tm.World, x *tm.Target) string {
	if x.S == tm.SlotMissing {
		return strconv.FormatInt(tm.MissingID, 10)
	}
	return strconv.FormatInt(w.FreshSession(x.A, x.S), 10)
}

// endSession is ending one session: one's own; someone else's only as an
// administrator with a fresh second factor, and to anyone else it does not
// exist.
func endSession(a tm.ActorKey, s tm.Slot) tm.Outcome {
	switch {
	case s == tm.SlotOwn:
		return tm.Allow
	case s == tm.SlotOther && tm.IsAdmin(a):
		return tm.StepUp
	}
	return tm.Hidden
}

// pendingEnrolment is the QR code of an enrolment started and not
// confirmed: the users without a second factor started one just before
// (POST /account/mfa/totp runs first); the administrator has none pending.
func pendingEnrolment(w *tm.World) func(tm.ActorKey, tm.Slot) tm.Outcome {
	return func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
		if w.Enrolled(a) {
			return tm.Hidden
		}
		return tm.Allow
	}
}

// privacySpecs classifies the privacy pages: the register and what is done
// about a person (privacy officers and administrators, for anyone), and
// consents on contacts and leads (as changing the record, and for privacy
// officers any).
func privacySpecs(w *tm.World, specs map[string][]webSpec) {
	rep1Contact := strconv.FormatInt(w.Base(tm.SlotRep1, tm.Live).ID(crm.ObjContact), 10)
	request := func(kind, suffix string, form url.Values) func(*tm.Target) webReq {
		return func(x *tm.Target) webReq {
			return webReq{path: "/privacy/requests/" + w.PrivacyRequestID(x.S, kind) + suffix, form: form}
		}
	}
	specs["GET /privacy"] = []webSpec{{Want: tm.PrivacyOutcome, Req: get("/privacy?status=open")}}
	specs["POST /privacy/requests"] = []webSpec{{Want: tm.PrivacyOutcome,
		Req: post("/privacy/requests", values("object", "contact", "record_id", rep1Contact, "kind", "access"))}}
	specs["GET /privacy/requests/{id}"] = []webSpec{{Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.Allow), Req: request("", "", nil)}}
	specs["POST /privacy/requests/{id}/complete"] = []webSpec{
		{Name: "access", Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.Allow), Req: request(crm.RequestAccess, "/complete", values("status", "done"))},
		// Erasing needs a fresh second factor, which no matrix session has.
		{Name: "erasure", Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.StepUp), Req: request(crm.RequestErasure, "/complete", values("status", "done"))},
	}
	specs["GET /privacy/retention"] = []webSpec{{Want: tm.PrivacyOutcome, Req: get("/privacy/retention")}}
	specs["POST /privacy/retention/{object}"] = []webSpec{{Want: tm.PrivacyStepUp,
		Req: post("/privacy/retention/contact", values("archive_months", "0", "destroy_years", "0"))}}
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		person := "/privacy/people/" + string(o) + "/"
		add := func(key string, sp webSpec) {
			sp.Name, sp.Object = string(o), o
			specs[key] = append(specs[key], sp)
		}
		add("GET /privacy/people/{object}/{id}", webSpec{Want: tm.PersonOutcome(tm.Allow), Req: page(o, person, "", nil)})
		add("GET /privacy/people/{object}/{id}/export", webSpec{Want: tm.PersonOutcome(tm.Allow), Req: page(o, person, "/export?format=csv", nil)})
		add("POST /privacy/people/{object}/{id}/hold", webSpec{Want: tm.PersonOutcome(tm.Allow),
			Req: page(o, person, "/hold", func(*tm.Target) url.Values { return values("reason", "诉讼保全") })})
		add("POST /privacy/people/{object}/{id}/hold/clear", webSpec{Want: tm.PersonOutcome(tm.Allow), Req: func(x *tm.Target) webReq {
			w.Hold(o, x.F, x.S)
			return page(o, person, "/hold/clear", func(*tm.Target) url.Values { return url.Values{} })(x)
		}})
		// The records are not archived: unarchiving one is refused on its merits.
		add("POST /privacy/people/{object}/{id}/unarchive", webSpec{Want: tm.PersonOutcome(tm.Conflict),
			Req: page(o, person, "/unarchive", func(*tm.Target) url.Values { return url.Values{} })})
		base := "/" + string(o) + "s/"
		consent := func(*tm.Target) url.Values {
			return values("purpose", "newsletter", "channel", "email", "source", "matrix")
		}
		specs["POST "+base+"{id}/consents"] = []webSpec{{Object: o, Want: tm.ConsentOutcome(o, true), Req: page(o, base, "/consents", consent)}}
		specs["POST "+base+"{id}/consents/withdraw"] = []webSpec{{Object: o, Want: tm.ConsentOutcome(o, true), Req: page(o, base, "/consents/withdraw", consent)}}
	}
}

// importSpecs classifies the import wizard: uploading and the templates
// need the right to create the object's records; an import is its
// creator's (an administrator sees it and may undo it, but previews or
// commits only their own).
func importSpecs(w *tm.World, specs map[string][]webSpec) {
	imp := func(suffix string, done bool, form url.Values) func(*tm.Target) webReq {
		return func(x *tm.Target) webReq {
			return webReq{path: "/imports/" + strconv.FormatInt(w.FreshImport(x.S, done), 10) + suffix, form: form}
		}
	}
	// Exports: a list's export for whoever reads the object and may export
	// it (the API matrix checks the file holds what the list holds); the
	// log for everyone (their own); a missing export is not found; tracing
	// a file is for administrators.
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead, crm.ObjOpportunity, crm.ObjTask} {
		sp, _ := crm.Spec(o)
		specs["GET /export/{collection}"] = append(specs["GET /export/{collection}"], webSpec{Name: sp.Path,
			Want: tm.ExportOutcome(o, tm.Allow), Req: get("/export/" + sp.Path + "?format=csv")})
	}
	specs["GET /export/{collection}"] = append(specs["GET /export/{collection}"], webSpec{Name: "follow-ups",
		Want: tm.ExportOutcome(crm.ObjFollowUp, tm.Hidden), Req: get("/export/follow-ups?customer_id=" + strconv.FormatInt(tm.MissingID, 10))})
	specs["GET /exports"] = []webSpec{{Want: tm.Anyone, Req: get("/exports")}}
	specs["GET /exports/{id}/download"] = []webSpec{{Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.Hidden },
		Req: get("/exports/" + strconv.FormatInt(tm.MissingID, 10) + "/download")}}
	specs["POST /exports/trace"] = []webSpec{{Want: tm.Admins, Req: func(*tm.Target) webReq {
		return webReq{path: "/exports/trace", form: url.Values{}, file: "name,phone\nAcme Trading Co,13800000000\n"}
	}}}
	specs["GET /imports"] = []webSpec{{Want: tm.Anyone, Req: get("/imports")}}
	specs["POST /imports"] = []webSpec{{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate), Req: func(*tm.Target) webReq {
		return webReq{path: "/imports", form: values("object", "customer"), file: "名称\n" + w.ImportedName() + "\n"}
	}}}
	specs["GET /imports/template"] = []webSpec{{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate), Req: get("/imports/template?object=customer&lang=en")}}
	specs["GET /imports/{id}"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("", false, nil)}}
	specs["GET /imports/{id}/progress"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("/progress", false, nil)}}
	specs["GET /imports/{id}/errors"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("/errors?format=csv", false, nil)}}
	specs["GET /imports/{id}/undo"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("/undo", true, nil)}}
	specs["POST /imports/{id}/preview"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Forbidden),
		Req: imp("/preview", false, values("map", "name", "owner_rule", "importer"))}}
	specs["POST /imports/{id}/commit"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Forbidden), Req: imp("/commit", false, url.Values{})}}
	specs["POST /imports/{id}/undo"] = []webSpec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("/undo", true, values("confirm", "0"))}}
}

// multipartForm is a form as multipart/form-data with a file: the CSRF
// field first, as the pages put it.
func multipartForm(form url.Values, field, name, file string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if v := form.Get(httpx.CSRFField); v != "" {
		mw.WriteField(httpx.CSRFField, v)
	}
	for k, vs := range form {
		for _, v := range vs {
			if k != httpx.CSRFField {
				mw.WriteField(k, v)
			}
		}
	}
	fw, _ := mw.CreateFormFile(field, name)
	io.WriteString(fw, file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// duplicateSpecs classifies the duplicate review: its first page for
// whoever reads an object the finder scans; per object, the pairs and the
// merge history to readers, the scan to administrators, and comparing,
// merging, dismissing and undoing with the rights a merge needs
// (tm.MergeOutcome).
func duplicateSpecs(w *tm.World, specs map[string][]webSpec) {
	specs["GET /duplicates"] = []webSpec{{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
		for _, o := range service.DuplicateObjects {
			if tm.Can(a, o, crm.ActRead) {
				return tm.Allow
			}
		}
		return tm.Forbidden
	}, Req: get("/duplicates")}}
	for _, o := range service.DuplicateObjects {
		key := collectionPath(o)
		base := "/duplicates/" + key
		add := func(route string, sp webSpec) {
			sp.Name = key
			specs[route] = append(specs[route], sp)
		}
		add("GET /duplicates/{object}", webSpec{Want: tm.CanDo(o, crm.ActRead), Req: get(base)})
		add("GET /duplicates/{object}/merges", webSpec{Want: tm.CanDo(o, crm.ActRead), Req: get(base + "/merges")})
		add("POST /duplicates/{object}/scan", webSpec{Want: tm.Admins, Req: post(base+"/scan", nil)})
		// A record compared with itself: seen as a merge would see it.
		add("GET /duplicates/{object}/compare", webSpec{Object: o, Want: tm.MergeOutcome(o, tm.BadRef), Req: func(x *tm.Target) webReq {
			ref := id(x.F.ID(o))
			return webReq{path: base + "/compare?survivor=" + ref + "&merged=" + ref}
		}})
		add("POST /duplicates/{object}/dismiss", webSpec{Object: o, Want: tm.DismissOutcome(o), Req: func(x *tm.Target) webReq {
			return webReq{path: base + "/dismiss", form: values("id_a", id(x.F.ID(o)), "id_b", id(tm.MissingID))}
		}})
		// The missing record would be merged into itself: refused as such.
		add("POST /duplicates/{object}/merge", webSpec{Object: o, Want: tm.MergeOutcome(o, tm.Invalid), Req: func(x *tm.Target) webReq {
			survivor, merged := w.MergePair(x, o)
			return webReq{path: base + "/merge", form: values("survivor_id", id(survivor), "merged_id", id(merged),
				"survivor_version", id(w.Version(o, survivor)), "merged_version", id(w.Version(o, merged)))}
		}, Mutates: true})
		add("POST /duplicates/{object}/merges/{id}/undo", webSpec{Object: o, Want: tm.UndoMergeOutcome(o), Req: func(x *tm.Target) webReq {
			return webReq{path: base + "/merges/" + id(w.FreshMerge(x, o)) + "/undo"}
		}, Mutates: true})
	}
}
