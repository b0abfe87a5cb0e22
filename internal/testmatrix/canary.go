package testmatrix

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

// The field-rule canary: records whose every sensitive field holds a value
// found nowhere else (a canary), and two users whose roles hide, or mask,
// all those fields. A test requests every page and every API read as each
// of them; no canary may appear in any answer (the masked form may).

// The canary's users, by role: one that hides every sensitive field, one
// that masks them, and the auditor, who reads the audit trail and may see
// no record at all.
const (
	CanaryHidden  = "canary_hidden"
	CanaryMasked  = "canary_masked"
	CanaryAuditor = "auditor"
)

// CanaryUsers are the keys of Canary.Users.
var CanaryUsers = []string{CanaryHidden, CanaryMasked, CanaryAuditor}

// CanaryFields are the sensitive fields the roles rule, per object;
// "custom.canary" is a custom field of each object.
// The customer's name, level and status and the opportunity's amount are
// ruled too, so lists can be asked to filter and sort by ruled fields
// (FilterProbe).
var CanaryFields = map[crm.Object][]string{
	crm.ObjCustomer:    {"phone", "email", "credit_code", "address", "custom.canary", "name", "level", "status"},
	crm.ObjContact:     {"name", "mobile", "phone", "email", "wechat", "custom.canary"},
	crm.ObjLead:        {"name", "mobile", "email", "wechat", "custom.canary"},
	crm.ObjOpportunity: {"amount"},
	crm.ObjContract:    {"amount", "notes"},
}

// FilterProbe is a list request that filters or sorts by a field the
// canary roles hide or mask. An answer to it — even an empty page — would
// tell what the field holds one guess at a time, so it must be refused
// with a 422 naming the field (Field: "level", "custom.canary", or "sort").
type FilterProbe struct{ Path, Field string }

// CheckFilters requests every probe as user through get and fails the test
// unless it answers 422 with want(probe) in the body.
func (c *Canary) CheckFilters(user string, get func(string) (int, string), probes []FilterProbe, want func(FilterProbe) string) {
	c.t.Helper()
	for _, pr := range probes {
		code, body := get(pr.Path)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, want(pr)) {
			from := max(0, strings.Index(body, "<main")) // pages: skip the head
			c.t.Errorf("%s: %s filters or sorts by a ruled field: %d, want 422 with %q: %.300s", user, pr.Path, code, want(pr), body[from:])
		}
	}
}

// Canary is the world of the canary test.
type Canary struct {
	t   *testing.T
	Org *testorg.Org
	// Users are the users by role: hidden (also the manager of East-1, so
	// the first approver of rep1's requests), masked (the second approver,
	// by role) and the auditor.
	Users map[string]*access.Actor
	// IDs of the records, by name: customer, contact, lead, opportunity,
	// followup, task, pool_customer, deleted_customer, deleted_contact,
	// deleted_lead, approval_customer, approval_contact, approval_lead,
	// privacy_request.
	IDs map[string]int64
	// Queries are texts to search with: every canary value, and names.
	Queries  []string
	values   []canaryValue
	serial   int
	reported map[string]bool
}

// canaryValue is one canary: the value stored and what must never appear
// (the value and the part a mask hides).
type canaryValue struct {
	field  string
	value  string
	never  []string
	masked string // what the masked role is shown
}

// NewCanary builds the canary world on db.
func NewCanary(t *testing.T, db *store.DB) *Canary {
	t.Helper()
	ctx := context.Background()
	o := testorg.New(t, db)
	c := &Canary{t: t, Org: o, Users: map[string]*access.Actor{}, IDs: map[string]int64{}, reported: map[string]bool{}}
	sys := access.System("canary")
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("canary fixture: %s: %v", what, err)
		}
	}
	for _, obj := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead} {
		_, err := o.Svc.SaveCustomField(ctx, sys, crm.CustomField{Object: obj, Key: "canary", Label: "机密", Type: "text"})
		must(err, "custom field")
	}
	east1 := o.East1
	for _, rule := range []struct {
		key    string
		access crm.FieldAccess
	}{{CanaryHidden, crm.FieldHidden}, {CanaryMasked, crm.FieldMasked}} {
		r := o.Roles["manager"]
		r.ID, r.Key, r.Name = 0, rule.key, rule.key
		grants := map[crm.Object]crm.ObjectGrant{}
		for obj, g := range r.Grants {
			g.Fields = map[string]crm.FieldAccess{}
			for _, f := range CanaryFields[obj] {
				g.Fields[f] = rule.access
			}
			grants[obj] = g
		}
		r.Grants = grants
		saved, err := o.Svc.SaveRole(ctx, sys, r)
		must(err, "role "+rule.key)
		o.Roles[rule.key] = saved
		c.Users[rule.key] = o.User(t, strings.ReplaceAll(rule.key, "_", "."), o.East.ID, rule.key)
	}
	c.Users[CanaryAuditor] = o.User(t, "canary.auditor", o.East1.ID, "auditor")
	east1.ManagerID = c.Users[CanaryHidden].UserID
	_, err := o.Svc.UpdateDepartment(ctx, sys, east1)
	must(err, "manager of East-1")

	rep1 := o.Rep1
	customer := func(key string) {
		cu, err := o.Svc.CreateCustomer(ctx, rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{
			Name: "金丝雀" + key, Phone: c.phone("customer.phone"), Email: c.email("customer.email"),
			CreditCode: c.creditCode(), Address: c.text("customer.address", "金丝雀路秘密大楼"),
			Custom: map[string]any{"canary": c.text("customer.custom", "CUSTOMERSECRET")}}})
		must(err, "customer "+key)
		c.IDs[key] = cu.ID
	}
	contact := func(key string) {
		ct, err := o.Svc.CreateContact(ctx, rep1, crm.ContactFields{CustomerID: c.IDs["customer"], Name: c.name("contact.name"),
			Mobile: c.phone("contact.mobile"), Phone: c.phone("contact.phone"), Email: c.email("contact.email"),
			WeChat: c.text("contact.wechat", "wxcanary"), Custom: map[string]any{"canary": c.text("contact.custom", "CONTACTSECRET")}})
		must(err, "contact "+key)
		c.IDs[key] = ct.ID
	}
	lead := func(key string) {
		l, err := o.Svc.CreateLead(ctx, rep1, crm.LeadFields{Name: c.name("lead.name"), Company: "金丝雀线索公司" + key,
			Mobile: c.phone("lead.mobile"), Email: c.email("lead.email"), WeChat: c.text("lead.wechat", "wxlead"),
			Custom: map[string]any{"canary": c.text("lead.custom", "LEADSECRET")}})
		must(err, "lead "+key)
		c.IDs[key] = l.ID
	}
	customer("customer")
	contact("contact")
	lead("lead")
	op, err := o.Svc.CreateOpportunity(ctx, rep1, crm.OpportunityFields{CustomerID: c.IDs["customer"], Name: "金丝雀商机", Amount: 1000})
	must(err, "opportunity")
	c.IDs["opportunity"] = op.ID
	ct, err := o.Svc.CreateContract(ctx, rep1, crm.ContractFields{CustomerID: c.IDs["customer"], OpportunityID: op.ID, Number: "CANARY-1",
		Name: "金丝雀合同", Amount: 2000, Notes: c.text("contract.notes", "CONTRACTSECRET")})
	must(err, "contract")
	c.IDs["contract"] = ct.ID
	fu, err := o.Svc.CreateFollowUp(ctx, rep1, crm.FollowUpInput{CustomerID: c.IDs["customer"], ContactID: c.IDs["contact"], Kind: "call", Content: "电话沟通"})
	must(err, "follow-up")
	c.IDs["followup"] = fu.ID
	k, err := o.Svc.CreateTask(ctx, rep1, crm.TaskFields{CustomerID: c.IDs["customer"], Title: "金丝雀任务"})
	must(err, "task")
	c.IDs["task"] = k.ID
	// A privacy request and a consent about the contact's person: only the
	// privacy officer's pages show the person's data.
	pr, err := o.Svc.FilePrivacyRequest(ctx, sys, crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: c.IDs["contact"], Kind: crm.RequestAccess})
	must(err, "privacy request")
	c.IDs["privacy_request"] = pr.ID
	_, err = o.Svc.GrantConsent(ctx, rep1, crm.ObjContact, c.IDs["contact"], crm.ConsentInput{Purpose: "newsletter", Channel: "email"})
	must(err, "consent")

	customer("pool_customer")
	must(o.Svc.ReleaseCustomer(ctx, rep1, c.IDs["pool_customer"]), "release")
	customer("deleted_customer")
	must(o.Svc.DeleteCustomer(ctx, rep1, c.IDs["deleted_customer"]), "delete customer")
	contact("deleted_contact")
	must(o.Svc.DeleteRecord(ctx, rep1, crm.ObjContact, c.IDs["deleted_contact"]), "delete contact")
	lead("deleted_lead")
	must(o.Svc.DeleteRecord(ctx, rep1, crm.ObjLead, c.IDs["deleted_lead"]), "delete lead")

	// Changes of key fields wait for approval, by East-1's manager and then
	// anyone with the masked role; the requests carry new canary values.
	_, err = o.Svc.SaveApprovalPolicy(ctx, sys, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Enabled: true,
		Fields: map[crm.Object][]string{crm.ObjCustomer: {"phone", "custom.canary"}, crm.ObjContact: {"mobile"}, crm.ObjLead: {"mobile"}},
		Steps:  []crm.ApprovalStep{{Type: "manager"}, {Type: "role", RoleKey: CanaryMasked}}})
	must(err, "approval policy")
	pending := func(key string, err error) {
		t.Helper()
		var ce *crm.Error
		if !errors.As(err, &ce) || ce.Code != crm.Pending {
			t.Fatalf("canary fixture: %s request: %v", key, err)
		}
		c.IDs[key] = ce.Ref
	}
	phone, secret := c.phone("customer.phone (requested)"), c.text("customer.custom (requested)", "REQUESTEDSECRET")
	_, err = o.Svc.UpdateCustomer(ctx, rep1, c.IDs["customer"], crm.CustomerUpdate{Version: 1, Phone: &phone, Custom: map[string]any{"canary": secret}})
	pending("approval_customer", err)
	mobile := c.phone("contact.mobile (requested)")
	_, err = o.Svc.UpdateContact(ctx, rep1, c.IDs["contact"], crm.ContactUpdate{Version: 1, Mobile: &mobile})
	pending("approval_contact", err)
	mobile = c.phone("lead.mobile (requested)")
	_, err = o.Svc.UpdateLead(ctx, rep1, c.IDs["lead"], crm.LeadUpdate{Version: 1, Mobile: &mobile})
	pending("approval_lead", err)

	// An incident whose exposure report covers the reads of these records:
	// its pages and files show ids, fields and times, never values.
	start := time.Now().Add(-time.Minute)
	_, err = o.Svc.GetCustomer(ctx, rep1, c.IDs["customer"])
	must(err, "view customer")
	_, err = o.Svc.GetContact(ctx, rep1, c.IDs["contact"])
	must(err, "view contact")
	_, err = o.Svc.Search(ctx, rep1, "金丝雀", 10)
	must(err, "search")
	in, err := o.Svc.CreateIncident(ctx, o.Admin, crm.IncidentFields{Title: "金丝雀事件", Severity: "high", DetectedAt: start})
	must(err, "incident")
	_, err = o.Svc.LinkIncidentExposure(ctx, o.Admin, in.ID, service.ExposureQuery{Since: start})
	must(err, "link exposure")
	c.IDs["incident"] = in.ID

	// An import of rep1's whose file holds a canary value: the import and
	// its problem rows are rep1's, so the canary users find neither.
	file := "名称,电话\n金丝雀导入客户," + c.phone("import.file (phone)") + "\n"
	im, err := o.Svc.PreviewImport(ctx, rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: "canary.csv",
		File: strings.NewReader(file), Size: int64(len(file))})
	must(err, "import")
	c.IDs["import"] = im.Import.ID

	// A review campaign over rep1's records: its pages name them as each
	// reader's field rules allow.
	cp, err := o.Svc.StartCampaign(ctx, o.Admin, crm.CampaignStart{Name: "金丝雀复核", Objects: crm.CampaignObjects(),
		Selection: crm.SelectAll, DueAt: time.Now().Add(24 * time.Hour)})
	must(err, "campaign")
	c.IDs["campaign"] = cp.ID

	for _, v := range c.values {
		c.Queries = append(c.Queries, v.value)
	}
	c.Queries = append(c.Queries, "金丝雀", "金丝雀客户")
	return c
}

func (c *Canary) add(field, value string, never ...string) string {
	c.values = append(c.values, canaryValue{field: field, value: value, never: append([]string{value}, never...)})
	return value
}

// phone is a mobile number found nowhere else; the national number, its
// usual spellings and the part a mask hides must never appear.
func (c *Canary) phone(field string) string {
	c.serial++
	n := fmt.Sprintf("1390077%04d", c.serial)
	c.add(field, n, n[:3]+" "+n[3:7]+" "+n[7:], n[:3]+"-"+n[3:7]+"-"+n[7:], n[3:])
	c.values[len(c.values)-1].masked = n[:3] + "****" + n[7:]
	return n
}

func (c *Canary) email(field string) string {
	c.serial++
	local := fmt.Sprintf("canarymail%04d", c.serial)
	v := c.add(field, local+"@canary-mail.example", local)
	c.values[len(c.values)-1].masked = local[:1] + "***@canary-mail.example"
	return v
}

// text is a text value; its middle (what a mask hides) must never appear.
func (c *Canary) text(field, prefix string) string {
	c.serial++
	v := []rune(fmt.Sprintf("%s%04dX", prefix, c.serial))
	return c.add(field, string(v), string(v[1:len(v)-1]))
}

// name is a person's name; all but its first character must never appear.
func (c *Canary) name(field string) string {
	c.serial++
	v := []rune("雀" + strings.NewReplacer("0", "零", "1", "壹", "2", "贰", "3", "叁", "4", "肆", "5", "伍", "6", "陆", "7", "柒", "8", "捌", "9", "玖").
		Replace(fmt.Sprintf("秘名%04d", c.serial)))
	return c.add(field, string(v), string(v[1:]))
}

// creditCode is a valid unified social credit code found nowhere else.
func (c *Canary) creditCode() string {
	c.serial++
	base := fmt.Sprintf("91350100M%08d", c.serial)
	for _, r := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
		if v, err := quality.CreditCode(base + string(r)); err == nil {
			return c.add("customer.credit_code", v, v[4:14])
		}
	}
	c.t.Fatalf("canary fixture: no check character for %s", base)
	return ""
}

// Check fails the test for every canary in body (once per user, route and
// field): who asked, which route answered (path is the request), which
// field, and where.
func (c *Canary) Check(who, route, path, body string) {
	c.t.Helper()
	// What the user typed comes back in the search box and the paging
	// links; that is no leak.
	if u, err := url.Parse(path); err == nil {
		if q := u.Query().Get("q"); q != "" {
			body = strings.NewReplacer(`value="`+html.EscapeString(q)+`"`, "", "q="+url.QueryEscape(q), "").Replace(body)
		}
	}
	// An export marks its cells with characters NFKC folds (its
	// fingerprint): a value is found in its folded form too.
	body = norm.NFKC.String(body)
	for _, v := range c.values {
		for _, never := range v.never {
			i := strings.Index(body, never)
			if i < 0 {
				continue
			}
			if key := who + " " + route + " " + v.field; !c.reported[key] {
				c.reported[key] = true
				from, to := max(0, i-80), min(len(body), i+len(never)+80)
				c.t.Errorf("canary %s (%q) leaked to %s by %s (%s): …%s…", v.field, never, who, route, path, body[from:to])
			}
			break
		}
	}
}

// MaskedForms are the masked phones and e-mails the masked role is shown,
// to check that the test sees the records at all.
func (c *Canary) MaskedForms() []string {
	var out []string
	for _, v := range c.values {
		if v.masked != "" {
			out = append(out, v.masked)
		}
	}
	return out
}

// Paths fills a route pattern with the canary records' ids: every record
// the route can name, and for a route without a record each search text
// as ?q= as well. extra gives values of other placeholders ("{path...}").
// A placeholder it cannot fill is an error: the test must learn the route.
func (c *Canary) Paths(pattern string, extra map[string][]string) ([]string, error) {
	ids := func(keys ...string) []string {
		var out []string
		for _, k := range keys {
			out = append(out, fmt.Sprint(c.IDs[k]))
		}
		return out
	}
	byCollection := map[string][]string{
		"customers": ids("customer", "pool_customer", "deleted_customer"), "contacts": ids("contact", "deleted_contact"),
		"leads": ids("lead", "deleted_lead"), "opportunities": ids("opportunity"), "contracts": ids("contract"), "follow-ups": ids("followup"),
		"tasks": ids("task"), "approvals": ids("approval_customer", "approval_contact", "approval_lead"),
		"users":  {fmt.Sprint(c.Org.Rep1.UserID), fmt.Sprint(c.Users[CanaryHidden].UserID)},
		"reveal": nil, // POST only
		"stages": {"1"}, "roles": {fmt.Sprint(c.Org.Roles[CanaryHidden].ID)}, "departments": {fmt.Sprint(c.Org.East1.ID)},
		"custom-fields": {"1"}, "incidents": ids("incident"), "requests": ids("privacy_request"), "imports": ids("import"), "exports": {fmt.Sprint(MissingID)},
		"campaigns": ids("campaign"),
	}
	var objects []string
	singular := map[string]string{}
	for _, s := range crm.Specs() {
		objects = append(objects, s.Path)
		singular[string(s.Name)] = s.Path
	}
	paths := []string{""}
	segments := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	for i, seg := range segments {
		var values []string
		switch {
		case seg == "{$}":
			values = []string{""}
		case seg == "{id}" && i > 0 && (segments[i-1] == "{object}" || segments[i-1] == "{collection}"):
			continue // filled with the object before it
		case seg == "{id}" && i > 0:
			values = byCollection[segments[i-1]]
		case (seg == "{collection}" || seg == "{object}") && i+1 < len(segments) && segments[i+1] == "{id}":
			// An object and one of its records, named either way.
			for _, plural := range objects {
				for _, id := range byCollection[plural] {
					values = append(values, plural+"/"+id)
				}
			}
			for one, plural := range singular {
				for _, id := range byCollection[plural] {
					values = append(values, one+"/"+id)
				}
			}
		case seg == "{collection}" || seg == "{object}":
			values = objects
		case seg == "{kind}":
			values = []string{string(crm.ApproveKeyField)}
		case seg == "{sid}":
			values = []string{"1"}
		case strings.HasPrefix(seg, "{"):
			values = extra[seg]
		default:
			values = []string{seg}
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("canary: no value for %s in %s", seg, pattern)
		}
		var next []string
		for _, p := range paths {
			for _, v := range values {
				next = append(next, p+"/"+v)
			}
		}
		paths = next
	}
	if strings.Contains(pattern, "{") {
		return paths, nil
	}
	// Lists and searches: by each text, and about each record a query can
	// name (a timeline, a customer's tasks).
	out := paths
	for _, q := range c.Queries {
		out = append(out, paths[0]+"?limit=200&q="+url.QueryEscape(q))
	}
	for param, key := range map[string]string{"customer_id": "customer", "contact_id": "contact", "opportunity_id": "opportunity",
		"lead_id": "lead", "user_id": "user"} {
		id := c.IDs[key]
		if key == "user" {
			id = c.Org.Rep1.UserID
		}
		out = append(out, fmt.Sprintf("%s?all=true&%s=%d", paths[0], param, id))
	}
	for _, key := range []string{"customer", "contact", "lead"} { // the audit trail of each record
		out = append(out, fmt.Sprintf("%s?object=%s&record_id=%d", paths[0], key, c.IDs[key]))
	}
	return out, nil
}

// Sweep signs the user in and requests every GET route of a surface with
// every path Paths fills it with, checking each answer. It returns how many
// requests it sent and get, to request more as the user.
func (c *Canary) Sweep(user string, h http.Handler, routes []httpx.Route, extra map[string][]string) (int, func(path string) (int, string)) {
	c.t.Helper()
	me, err := c.Org.Svc.Me(context.Background(), c.Users[user])
	if err != nil {
		c.t.Fatal(err)
	}
	sess, err := c.Org.Svc.Login(context.Background(), me.Username, testorg.Password, testorg.ClientForTest())
	if err != nil {
		c.t.Fatal(err)
	}
	get := func(path string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: sess.Token})
		req.Header.Set("Accept-Language", "en")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	n := 0
	for _, rt := range routes {
		if rt.Method != http.MethodGet {
			continue
		}
		paths, err := c.Paths(rt.Pattern, extra)
		if err != nil {
			c.t.Error(err)
			continue
		}
		for _, p := range paths {
			_, body := get(p)
			c.Check(user, rt.Pattern, p, body)
			n++
		}
	}
	return n, get
}

// CheckComparisons requests, as the user, the comparison before a merge
// of the canary customer, contact and lead each with itself
// (prefix + "<collection>/compare?survivor=&merged="): a query the sweep
// cannot build. The comparison must answer, show no canary, and show the
// masked role the masked form.
func (c *Canary) CheckComparisons(user string, get func(string) (int, string), prefix string) {
	c.t.Helper()
	for _, key := range []string{"customer", "contact", "lead"} {
		s, _ := crm.Spec(crm.Object(key))
		id := fmt.Sprint(c.IDs[key])
		path := prefix + s.Path + "/compare?survivor=" + id + "&merged=" + id
		code, body := get(path)
		if code != http.StatusOK {
			c.t.Errorf("%s: %s answers %d: %s", user, path, code, body)
		}
		c.Check(user, prefix+"{object}/compare", path, body)
		// The masked role sees the customer's phone masked: the test sees
		// the records at all.
		if user == CanaryMasked && key == "customer" && !strings.Contains(body, c.MaskedForms()[0]) {
			c.t.Errorf("%s: %s does not show the customer's phone masked: %s", user, path, body)
		}
	}
}
