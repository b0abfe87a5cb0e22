package service_test

import (
	"context"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestTasks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "厦门鹭岛食品"})
		soon := time.Now().Add(2 * time.Hour)
		k, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "寄送样品", DueAt: &soon, CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		// A manager assigns within the subtree; a rep cannot assign to others.
		if _, err := o.Svc.CreateTask(ctx, o.MgrEast, crm.TaskFields{Title: "回访", AssigneeID: o.Rep1.UserID}); err != nil {
			t.Fatalf("manager assigns: %v", err)
		}
		_, err = o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "x", AssigneeID: o.Rep3.UserID})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "assignee_id" {
			t.Fatalf("rep assigns to another: %v", err)
		}
		_, err = o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: " "})
		wantCode(t, err, crm.Invalid)

		mine, err := o.Svc.ListTasks(ctx, o.Rep1, service.TaskFilter{})
		if err != nil || len(mine) != 2 || mine[0].ID != k.ID {
			t.Fatalf("my tasks (due first): %+v %v", mine, err)
		}
		later := time.Now().Add(time.Hour)
		if due, _ := o.Svc.ListTasks(ctx, o.Rep1, service.TaskFilter{DueBefore: &later}); len(due) != 0 {
			t.Fatalf("nothing due within the hour: %+v", due)
		}
		wantCode(t, o.Svc.SetTaskDone(ctx, o.Rep2, k.ID, true), crm.NotFound)
		if err := o.Svc.SetTaskDone(ctx, o.Rep1, k.ID, true); err != nil {
			t.Fatal(err)
		}
		if open, _ := o.Svc.ListTasks(ctx, o.Rep1, service.TaskFilter{}); len(open) != 1 {
			t.Fatalf("open after done: %+v", open)
		}
		// The customer's tasks are visible to the manager through the customer.
		if tasks, err := o.Svc.ListTasks(ctx, o.MgrEast, service.TaskFilter{CustomerID: c.ID, All: true}); err != nil || len(tasks) != 1 || !tasks[0].Done {
			t.Fatalf("customer tasks for manager: %+v %v", tasks, err)
		}
		if tasks, _ := o.Svc.ListTasks(ctx, o.Rep3, service.TaskFilter{CustomerID: c.ID, All: true}); len(tasks) != 0 {
			t.Fatalf("rep3 sees rep1's customer tasks: %+v", tasks)
		}
	})
}

// TestUpdateTask edits a task's fields, its customer and its assignee:
// the same checks as at creation, a stale version refused, the audit
// trail naming what changed.
func TestUpdateTask(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "任务客户一"})
		c2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "任务客户二"})
		stranger := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "别人的客户"})
		k, err := o.Svc.CreateTask(ctx, o.MgrEast, crm.TaskFields{Title: "回访", AssigneeID: o.Rep1.UserID, CustomerID: c1.ID})
		if err != nil {
			t.Fatal(err)
		}
		due := time.Date(2030, 5, 6, 7, 8, 0, 0, time.UTC)
		title := "回访并报价"
		k2, err := o.Svc.UpdateTask(ctx, o.Rep1, k.ID, crm.TaskUpdate{Version: k.Version, Title: &title, DueAt: &due, CustomerID: ptr(c2.ID)})
		if err != nil || k2.Title != title || !k2.DueAt.Equal(due) || k2.CustomerID != c2.ID || k2.OwnerID != o.Rep1.UserID || k2.Version != 2 {
			t.Fatalf("edit: %+v %v", k2, err)
		}
		// A rep hands tasks to nobody else and links no stranger's customer.
		var ce *crm.Error
		_, err = o.Svc.UpdateTask(ctx, o.Rep1, k.ID, crm.TaskUpdate{Version: 2, AssigneeID: ptr(o.Rep2.UserID)})
		if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "assignee_id" {
			t.Fatalf("rep reassigns: %v", err)
		}
		_, err = o.Svc.UpdateTask(ctx, o.Rep1, k.ID, crm.TaskUpdate{Version: 2, CustomerID: ptr(stranger.ID)})
		if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "customer_id" {
			t.Fatalf("link a stranger's customer: %v", err)
		}
		// The manager reassigns within the subtree, not beyond it.
		_, err = o.Svc.UpdateTask(ctx, o.MgrEast, k.ID, crm.TaskUpdate{Version: 2, AssigneeID: ptr(o.Rep3.UserID)})
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "assignee_id" {
			t.Fatalf("manager reassigns outside the subtree: %v", err)
		}
		k3, err := o.Svc.UpdateTask(ctx, o.MgrEast, k.ID, crm.TaskUpdate{Version: 2, AssigneeID: ptr(o.Rep2.UserID), CustomerID: ptr(int64(0)), ClearDueAt: true})
		if err != nil || k3.OwnerID != o.Rep2.UserID || k3.CustomerID != 0 || k3.DueAt != nil || k3.Version != 3 {
			t.Fatalf("manager reassigns and unlinks: %+v %v", k3, err)
		}
		got, err := o.Svc.GetTask(ctx, o.Rep2, k.ID)
		if err != nil || got.OwnerID != o.Rep2.UserID || got.AssigneeID != o.Rep2.UserID || got.Title != title {
			t.Fatalf("the new assignee's task: %+v %v", got, err)
		}
		// rep1 no longer sees it: neither assignee nor the customer's owner.
		_, err = o.Svc.GetTask(ctx, o.Rep1, k.ID)
		wantCode(t, err, crm.NotFound)
		// A stale version changes nothing.
		_, err = o.Svc.UpdateTask(ctx, o.Rep2, k.ID, crm.TaskUpdate{Version: 2, Title: ptr("旧版本的修改")})
		wantCode(t, err, crm.Conflict)
		if got, _ := o.Svc.GetTask(ctx, o.Rep2, k.ID); got.Title != title || got.Version != 3 {
			t.Fatalf("after a stale edit: %+v", got)
		}
	})
}
