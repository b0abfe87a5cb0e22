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
