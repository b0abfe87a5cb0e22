package web

import (
	"context"
	"net/url"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

func TestRecycleBinSections(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "回收测试客户"})
		ct, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: c.ID, Name: "回收联系人"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.svc.DeleteContact(ctx, o.rep1, ct.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.svc.DeleteCustomer(ctx, o.rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		bin, err := o.svc.RecycleBin(ctx, o.rep1, crm.ObjContact, 10)
		if err != nil || len(bin) != 1 {
			t.Fatalf("bin: %+v %v", bin, err)
		}
		purgeAt := `datetime="` + bin[0].PurgeAt.UTC().Format(time.RFC3339) + `"`
		customers, err := o.svc.ListRecycledCustomers(ctx, o.rep1, crm.CustomerFilter{})
		if err != nil || len(customers.Items) != 1 || customers.Items[0].PurgeAt == nil {
			t.Fatalf("customer bin: %+v %v", customers, err)
		}
		customerPurgeAt := `datetime="` + customers.Items[0].PurgeAt.UTC().Format(time.RFC3339) + `"`
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword)}
		restore := "/recycle-bin/contacts/" + id(ct.ID) + "/restore"
		runScenarios(t, s, browsers, []scenario{
			{name: "tabs on the customer bin", actor: "rep1", method: "GET", path: "/recycle-bin", wantStatus: 200,
				wantContains: []string{`href="/recycle-bin/contacts"`, `href="/recycle-bin/follow-ups"`}},
			{name: "own recycled contact, with when it is purged", actor: "rep1", method: "GET", path: "/recycle-bin/contacts", wantStatus: 200,
				wantContains: []string{"回收联系人", restore, purgeAt}},
			{name: "the customer, with when it is purged", actor: "rep1", method: "GET", path: "/recycle-bin", wantStatus: 200,
				wantContains: []string{"回收测试客户", customerPurgeAt}},
			{name: "not another rep's", actor: "rep2", method: "GET", path: "/recycle-bin/contacts", wantStatus: 200,
				wantNotContains: []string{"回收联系人"}},
			{name: "unknown section", actor: "rep1", method: "GET", path: "/recycle-bin/nope", wantStatus: 303, wantLocation: "/recycle-bin"},
			{name: "restore needs csrf", actor: "rep1", method: "POST", path: restore, noCSRF: true, body: url.Values{}, wantStatus: 403},
			{name: "other rep cannot restore", actor: "rep2", method: "POST", path: restore, body: url.Values{}, wantStatus: 404},
			{name: "restore", actor: "rep1", method: "POST", path: restore, body: url.Values{}, wantStatus: 303, wantLocation: "/recycle-bin/contacts"},
			{name: "back in place", actor: "rep1", method: "GET", path: "/contacts/" + id(ct.ID), wantStatus: 200, wantContains: []string{"回收联系人"}},
		})
	})
}
