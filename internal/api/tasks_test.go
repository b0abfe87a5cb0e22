package api_test

import (
	"context"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestTaskPatchAPI moves a task to another customer and assignee through
// PATCH, with the same checks as at creation.
func TestTaskPatchAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, mgr := token(t, o, o.Rep1), token(t, o, o.MgrEast)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "API任务客户一"})
		c2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "API任务客户二"})
		k, err := o.Svc.CreateTask(context.Background(), o.Rep1, crm.TaskFields{Title: "电话回访", CustomerID: c1.ID})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/tasks/" + strconv.FormatInt(k.ID, 10)
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		for _, sc := range []scenario{
			{name: "move to another customer", token: rep1, method: "PATCH", path: path, body: `{"version":1,"customer_id":` + n(c2.ID) + `}`,
				wantStatus: 200, wantContains: []string{`"customer_id":` + n(c2.ID), `"version":2`}},
			{name: "a rep assigns to nobody else", token: rep1, method: "PATCH", path: path, body: `{"version":2,"assignee_id":` + n(o.Rep2.UserID) + `}`,
				wantStatus: 422, wantContains: []string{`"field":"assignee_id"`, `"rule":"not_assignable"`}},
			{name: "the manager reassigns and unlinks", token: mgr, method: "PATCH", path: path, body: `{"version":2,"assignee_id":` + n(o.Rep2.UserID) + `,"customer_id":0}`,
				wantStatus: 200, wantContains: []string{`"owner_id":` + n(o.Rep2.UserID), `"assignee_id":` + n(o.Rep2.UserID), `"version":3`},
				wantNotContains: []string{`"customer_id"`}},
			{name: "the old assignee lost it", token: rep1, method: "GET", path: path, wantStatus: 404},
		} {
			sc.run(t, srv)
		}
	})
}
