package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestIncidents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now})
		auditor := o.User(t, "auditor1", o.HQ.ID, "auditor")
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "舟山海鲜"})
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		detected := clock.Now().Add(-time.Hour)
		clock.Advance(time.Minute)

		_, err := o.Svc.CreateIncident(ctx, o.Admin, crm.IncidentFields{Severity: "grave", DetectedAt: clock.Now().Add(time.Hour)})
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 3 {
			t.Fatalf("an incident without title, with a bad severity, detected in the future: %v", err)
		}
		if _, err := o.Svc.CreateIncident(ctx, auditor, crm.IncidentFields{Title: "x", Severity: "low", DetectedAt: detected}); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("an auditor records an incident: %v", err)
		}
		in, err := o.Svc.CreateIncident(ctx, o.Admin, crm.IncidentFields{Title: "rep1 的笔记本丢失", Severity: "high", DetectedAt: detected,
			Description: "笔记本在地铁上丢失"})
		if err != nil || in.Status != "open" || in.Version != 1 {
			t.Fatalf("create: %v %+v", err, in)
		}

		// A stale edit is refused; a status change goes on the timeline.
		if _, err := o.Svc.UpdateIncident(ctx, o.Admin, in.ID, crm.IncidentUpdate{Version: 2, Status: new("contained")}); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("stale update: %v", err)
		}
		if _, err := o.Svc.UpdateIncident(ctx, auditor, in.ID, crm.IncidentUpdate{Version: 1, Status: new("closed")}); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("an auditor edits: %v", err)
		}
		if in, err = o.Svc.UpdateIncident(ctx, o.Admin, in.ID, crm.IncidentUpdate{Version: 1, Status: new("contained")}); err != nil || in.Version != 2 {
			t.Fatalf("update: %v %+v", err, in)
		}
		if _, err := o.Svc.AddIncidentEntry(ctx, o.Admin, in.ID, crm.IncidentEntry{At: detected.Add(time.Minute), Note: "远程锁定了笔记本"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.AddIncidentEntry(ctx, auditor, in.ID, crm.IncidentEntry{Note: "x"}); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("an auditor writes the timeline: %v", err)
		}
		if _, err := o.Svc.AddIncidentEntry(ctx, o.Admin, tmMissing, crm.IncidentEntry{Note: "x"}); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a note on no incident: %v", err)
		}

		// The linked query is checked and kept with its window closed.
		if _, err := o.Svc.LinkIncidentExposure(ctx, o.Admin, in.ID, service.ExposureQuery{ActorID: o.Rep1.UserID}); err == nil {
			t.Fatal("a query without a window was linked")
		}
		if in, err = o.Svc.LinkIncidentExposure(ctx, o.Admin, in.ID, service.ExposureQuery{Since: detected, ActorID: o.Rep1.UserID}); err != nil {
			t.Fatal(err)
		}
		q, ok := service.LinkedExposure(in)
		if !ok || q.Until.IsZero() || q.ActorID != o.Rep1.UserID {
			t.Fatalf("linked query: %s", in.ExposureQuery)
		}

		// The auditor reads it all and makes the report again.
		d, err := o.Svc.Incident(ctx, auditor, in.ID)
		if err != nil || d.Status != "contained" || len(d.Timeline) != 2 || d.Timeline[0].Note != "远程锁定了笔记本" ||
			!strings.Contains(d.Timeline[1].Note, "open → contained") || d.Timeline[1].AuthorID != o.Admin.UserID {
			t.Fatalf("the auditor's view: %v %+v", err, d)
		}
		rep, err := o.Svc.IncidentExposure(ctx, auditor, in.ID)
		if err != nil || len(rep.Rows) != 1 || rep.Rows[0].RecordID != c.ID || rep.Named {
			t.Fatalf("the incident's report: %v %+v", err, rep.Rows)
		}
		if list, err := o.Svc.Incidents(ctx, auditor, "contained"); err != nil || len(list) != 1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		if _, err := o.Svc.Incidents(ctx, o.Rep1, ""); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep reads incidents: %v", err)
		}
		if _, err := o.Svc.Incident(ctx, o.Admin, tmMissing); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("no such incident: %v", err)
		}

		// Every change is audited; free text only by reference.
		for action, n := range map[string]int{"incident.create": 1, "incident.update": 1, "incident.note": 1, "incident.link": 1} {
			events, _ := listEvents(db, action)
			var ok []crm.AuditEvent
			for _, e := range events {
				if e.Outcome == "ok" {
					ok = append(ok, e)
				}
			}
			if len(ok) != n {
				t.Fatalf("%s: %d events", action, len(ok))
			}
			if f := string(ok[0].Fields); strings.Contains(f, "笔记本") || ok[0].RecordID != in.ID {
				t.Fatalf("%s records %s", action, f)
			}
		}
		reports, _ := listEvents(db, "exposure.report")
		if len(reports) != 1 || !strings.Contains(string(reports[0].Fields), `"incident":`) {
			t.Fatalf("the incident's report event: %+v", reports)
		}
	})
}

// tmMissing is an id no test record has.
const tmMissing = 999_999
