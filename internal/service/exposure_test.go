package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// exposureWorld is a small history of reads: what a report must find.
type exposureWorld struct {
	o                      *testorg.Org
	clock                  *testorg.Clock
	start                  time.Time
	c1, c2                 crm.Customer
	k1, k2, k3             crm.Contact
	lead                   crm.Lead
	token                  *access.Actor
	exportID, notExportID  int64
	auditor                *access.Actor
	mgr                    *access.Actor
	afterMorning, tokenDay time.Time
}

func newExposureWorld(t *testing.T, db *store.DB) *exposureWorld {
	t.Helper()
	ctx := context.Background()
	w := &exposureWorld{clock: testorg.NewClock(), start: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	w.clock.Set(w.start.Add(-time.Hour))
	w.o = testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: w.clock.Now, TimeZone: time.UTC})
	o := w.o
	w.auditor = o.User(t, "auditor1", o.HQ.ID, "auditor")
	w.c1 = o.Customer(t, o.Rep1, crm.CustomerFields{Name: "绍兴黄酒"})
	w.c2 = o.Customer(t, o.Rep1, crm.CustomerFields{Name: "=HYPERLINK(1)"})
	contact := func(c crm.Customer, name, mobile string) crm.Contact {
		k, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: name, Mobile: mobile})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	w.k1, w.k2, w.k3 = contact(w.c1, "黄一", "13800000001"), contact(w.c1, "黄二", "13800000002"), contact(w.c2, "黄三", "13800000003")
	var err error
	if w.lead, err = o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "线索黄", Mobile: "13900000009"}); err != nil {
		t.Fatal(err)
	}
	w.mgr = setFieldRules(t, o, "manager", crm.ObjContact, true, map[string]crm.FieldAccess{"mobile": crm.FieldMasked}, o.MgrEast)[0]

	// The morning: rep1 opens a customer and lists contacts; the manager
	// reveals one mobile; rep1 searches the lead by name.
	w.clock.Set(w.start)
	if _, err := o.Svc.GetCustomer(ctx, o.Rep1, w.c1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	if _, err := o.Svc.RevealField(ctx, w.mgr, crm.ObjContact, w.k1.ID, "mobile"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Svc.Search(ctx, o.Rep1, "线索黄", 10); err != nil {
		t.Fatal(err)
	}
	w.afterMorning = w.start.Add(time.Hour)

	// The next day: rep1's token lists the customers, and rep2 exports one
	// (written as the coming export will: an event whose action is an export).
	w.tokenDay = w.start.Add(24 * time.Hour)
	w.clock.Set(w.tokenDay)
	if w.token, err = o.Svc.AuthenticateToken(ctx, o.Token(t, o.Rep1), testorg.ClientForTest()); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Svc.ListCustomers(ctx, w.token, crm.CustomerFilter{}); err != nil {
		t.Fatal(err)
	}
	export := crm.AuditEvent{At: w.tokenDay.Add(time.Minute), ActorKind: "user", ActorID: o.Rep2.UserID, ActorName: o.Rep2.Name,
		Action: "customer.export", Object: "customer", RecordIDs: []int64{w.c2.ID}, Fields: []byte(`{"fields":["name","phone"]}`), Outcome: "ok"}
	other := crm.AuditEvent{At: w.tokenDay.Add(time.Minute), ActorKind: "user", ActorID: o.Rep2.UserID, ActorName: o.Rep2.Name,
		Action: "customer.create", Object: "customer", RecordID: w.c2.ID, Outcome: "ok"}
	replay(t, db, []crm.AuditEvent{export, other})
	evs, _ := listEvents(db, "customer.export")
	creates, _ := listEvents(db, "customer.create")
	w.exportID, w.notExportID = evs[0].ID, creates[0].ID
	w.clock.Set(w.tokenDay.Add(time.Hour))
	return w
}

func rowOf(rep service.ExposureReport, o crm.Object, id int64) *service.ExposureRow {
	for i := range rep.Rows {
		if rep.Rows[i].Object == o && rep.Rows[i].RecordID == id {
			return &rep.Rows[i]
		}
	}
	return nil
}

func TestExposureReport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newExposureWorld(t, db)
		o := w.o
		all := service.ExposureQuery{Since: w.start}

		rep, err := o.Svc.ExposureReport(ctx, w.auditor, all)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Named || rep.Query.Until.IsZero() {
			t.Fatalf("the auditor's report: named %v, until %v", rep.Named, rep.Query.Until)
		}
		c1 := rowOf(rep, crm.ObjCustomer, w.c1.ID)
		if c1 == nil || !slices.Equal(c1.Kinds, []string{"listed", "viewed"}) || c1.Count != 2 || c1.Name != "" ||
			!c1.FirstAt.Equal(w.start) || !c1.LastAt.Equal(w.tokenDay) || !slices.Contains(c1.Fields, "phone") {
			t.Fatalf("customer 1: %+v", c1)
		}
		if len(c1.People) != 2 || c1.People[0] != (service.PersonRef{Object: crm.ObjContact, ID: w.k1.ID}) ||
			c1.People[1] != (service.PersonRef{Object: crm.ObjContact, ID: w.k2.ID}) {
			t.Fatalf("customer 1's people: %+v", c1.People)
		}
		var viaToken bool
		for _, x := range c1.Actors {
			viaToken = viaToken || x.TokenID == w.token.TokenID && x.Kind == "token" && x.ID == o.Rep1.UserID
		}
		if !viaToken || len(c1.Actors) != 2 {
			t.Fatalf("customer 1's readers: %+v", c1.Actors)
		}
		k1 := rowOf(rep, crm.ObjContact, w.k1.ID)
		if k1 == nil || !slices.Equal(k1.Kinds, []string{"listed", "revealed"}) || !slices.Contains(k1.Fields, "mobile") ||
			len(k1.People) != 1 || k1.People[0].ID != w.k1.ID {
			t.Fatalf("contact 1: %+v", k1)
		}
		if lead := rowOf(rep, crm.ObjLead, w.lead.ID); lead == nil || !slices.Equal(lead.Kinds, []string{"searched"}) {
			t.Fatalf("the searched lead: %+v", lead)
		}
		c2 := rowOf(rep, crm.ObjCustomer, w.c2.ID)
		if c2 == nil || !slices.Contains(c2.Kinds, "exported") || !slices.Contains(c2.Fields, "phone") {
			t.Fatalf("the exported customer: %+v", c2)
		}
		if rep.People != 4 { // three contacts and the lead
			t.Fatalf("people: %d", rep.People)
		}

		// The manager saw contact 2's mobile only masked — in the morning list
		// rep1 saw it in clear; a report of the manager alone says masked.
		mgrRep, err := o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{Since: w.start, ActorID: w.mgr.UserID})
		if err != nil || len(mgrRep.Rows) != 1 || mgrRep.Rows[0].RecordID != w.k1.ID {
			t.Fatalf("the manager's report: %v %+v", err, mgrRep.Rows)
		}

		// One token: only what it read.
		tokRep, err := o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{Since: w.start, TokenID: w.token.TokenID})
		if err != nil || len(tokRep.Rows) != 2 || tokRep.Rows[0].Object != crm.ObjCustomer || !slices.Equal(tokRep.Rows[0].Kinds, []string{"listed"}) {
			t.Fatalf("the token's report: %v %+v", err, tokRep.Rows)
		}

		// One export, by its event alone.
		exp, err := o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{EventID: w.exportID})
		if err != nil || len(exp.Rows) != 1 || exp.Rows[0].RecordID != w.c2.ID || exp.People != 1 ||
			exp.Rows[0].People[0].ID != w.k3.ID || !slices.Equal(exp.Rows[0].Fields, []string{"name", "phone"}) {
			t.Fatalf("the export's report: %v %+v", err, exp)
		}

		// A window: the morning alone has no token.
		morning, err := o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{Since: w.start, Until: w.afterMorning})
		if err != nil || rowOf(morning, crm.ObjCustomer, w.c2.ID) != nil || rowOf(morning, crm.ObjCustomer, w.c1.ID).Count != 1 {
			t.Fatalf("the morning: %v %+v", err, morning.Rows)
		}

		// Refusals.
		_, err = o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{EventID: w.notExportID})
		wantField(t, err, "event_id", "not_export")
		_, err = o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{ActorID: o.Rep1.UserID})
		wantField(t, err, "since", "required")
		_, err = o.Svc.ExposureReport(ctx, w.auditor, service.ExposureQuery{Since: w.tokenDay, Until: w.start})
		wantField(t, err, "until", "after_since")
		if _, err := o.Svc.ExposureReport(ctx, o.Rep1, all); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep's report: %v", err)
		}

		// Administrators get names, under their field rules.
		named, err := o.Svc.ExposureReport(ctx, o.Admin, all)
		if err != nil || !named.Named {
			t.Fatal(err)
		}
		if r := rowOf(named, crm.ObjCustomer, w.c1.ID); r.Name != "绍兴黄酒" || r.People[0].Name != "黄一" {
			t.Fatalf("named row: %+v", r)
		}

		// Each report is audited with its query, never a name; the rep's
		// refusal as denied.
		byOutcome := func(outcome string) []crm.AuditEvent {
			var got []crm.AuditEvent
			db.ReadTx(ctx, func(tx *store.Tx) (err error) {
				got, err = tx.ListAuditEvents(ctx, store.AuditFilter{Action: "exposure.report", Outcome: outcome, Limit: 50})
				return err
			})
			return got
		}
		reports := byOutcome("ok")
		if len(reports) != 6 {
			t.Fatalf("%d report events", len(reports))
		}
		for _, e := range reports {
			if strings.Contains(string(e.Fields), "黄") || !strings.Contains(string(e.Fields), `"query"`) {
				t.Fatalf("report event: %s", e.Fields)
			}
		}
		if denied := byOutcome("denied"); len(denied) != 1 || denied[0].ActorID != o.Rep1.UserID {
			t.Fatalf("denied report: %+v", denied)
		}

		// CSV: names only for administrators, formulas defused.
		var buf bytes.Buffer
		if err := named.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		lines, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(lines) != len(named.Rows)+1 || lines[0][2] != "name" {
			t.Fatalf("csv: %v %q", err, lines)
		}
		if !slices.ContainsFunc(lines, func(l []string) bool { return l[2] == "'=HYPERLINK(1)" }) {
			t.Fatalf("a formula name was not defused: %q", lines)
		}
		buf.Reset()
		if err := rep.WriteCSV(&buf); err != nil || strings.Contains(buf.String(), "黄") || strings.Contains(buf.String(), "HYPERLINK") {
			t.Fatalf("the auditor's csv names records: %v\n%s", err, buf.String())
		}
	})
}

// TestExposureReportCap: a window with more records than a report holds
// stops, says so and says where.
func TestExposureReportCap(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		ids := func(from, n int) []int64 {
			out := make([]int64, n)
			for i := range out {
				out[i] = int64(from + i)
			}
			return out
		}
		first := as(o.Rep1, "user", at, "task.list")
		first.Object, first.RecordIDs = "task", ids(1, service.MaxExposureRecords-1)
		second := as(o.Rep1, "user", at.Add(time.Second), "task.list")
		second.Object, second.RecordIDs = "task", ids(service.MaxExposureRecords-10, 20)
		replay(t, db, []crm.AuditEvent{first, second})
		rep, err := o.Svc.ExposureReport(ctx, o.Admin, service.ExposureQuery{Since: at})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Capped || !rep.CompleteUntil.Equal(second.At) || len(rep.Rows) != service.MaxExposureRecords-1 || rep.Events != 1 {
			t.Fatalf("capped: %v until %v, %d rows, %d events", rep.Capped, rep.CompleteUntil, len(rep.Rows), rep.Events)
		}
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil || !strings.Contains(buf.String(), "incomplete: the report stops at "+strconv.Itoa(service.MaxExposureRecords)) {
			t.Fatalf("the csv does not say it is incomplete: %v", err)
		}
	})
}
