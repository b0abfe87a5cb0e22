package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// followUpKey reads the data key a follow-up's content is sealed under.
func followUpKey(t *testing.T, db *store.DB, id int64) (key string, contactID int64) {
	t.Helper()
	err := db.ReadTx(context.Background(), func(tx *store.Tx) error {
		p, err := tx.AnyRecord(context.Background(), crm.ObjFollowUp, id)
		if err == nil {
			f := p.(*crm.FollowUp)
			key, contactID = f.DataKey, f.ContactID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return key, contactID
}

// TestMergeContacts: a merge moves the merged contact's follow-ups and
// consents to the survivor, re-seals them under the survivor's key, takes
// the chosen and the blank-filling fields through the normal edit, puts the
// merged contact in the recycle bin, and an undo puts it all back — except
// a field edited since, which keeps its newer value. Scope, stale versions
// and a second undo are refused; erasing the survivor destroys the merged
// person's key too.
func TestMergeContacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "青岛海岸设备"})
		a, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "孙丽", Mobile: "13500002221"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "孙 丽", Mobile: "13500002222",
			Email: "sun.li@haian.cn", WeChat: "sunli88"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "谈了报价", ContactID: b.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GrantConsent(ctx, o.Rep1, crm.ObjContact, b.ID, crm.ConsentInput{Purpose: "marketing", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}
		req := crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID, SurvivorVersion: a.Version, MergedVersion: b.Version,
			Fields: map[string]string{"mobile": crm.KeepMerged}}

		// Refusals first: nothing may change.
		_, err = o.Svc.MergeRecords(ctx, o.Rep2, crm.ObjContact, req) // not theirs: as if it did not exist
		wantCode(t, err, crm.Invalid)
		stale := req
		stale.MergedVersion++
		_, err = o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, stale)
		wantCode(t, err, crm.Conflict)
		bad := req
		bad.Fields = map[string]string{"owner_id": crm.KeepMerged, "mobile": "both"}
		_, err = o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, bad)
		wantCode(t, err, crm.Invalid)
		self := req
		self.MergedID = a.ID
		_, err = o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, self)
		wantCode(t, err, crm.Invalid)

		m, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, req)
		if err != nil {
			t.Fatalf("merge: %v", err)
		}
		if !slices.Equal(m.Fields, []string{"mobile", "email", "wechat"}) || m.Moved < 2 {
			t.Errorf("merge: fields %v, moved %d", m.Fields, m.Moved)
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, a.ID)
		if err != nil || got.Mobile != "+8613500002222" || got.Email != "sun.li@haian.cn" || got.Name != "孙丽" || got.Version != a.Version+1 {
			t.Fatalf("survivor after merge: %v %+v v%d", err, got.ContactFields, got.Version)
		}
		if _, err := o.Svc.GetContact(ctx, o.Rep1, b.ID); !crm.IsCode(err, crm.NotFound) {
			t.Errorf("merged contact still live: %v", err)
		}
		if bin, _ := o.Svc.RecycleBin(ctx, o.Rep1, crm.ObjContact, 10); len(bin) != 1 || bin[0].ID != b.ID {
			t.Errorf("recycle bin after merge: %+v", bin)
		}
		key, on := followUpKey(t, db, fu.ID)
		if on != a.ID || key != got.DataKey {
			t.Errorf("follow-up after merge: on contact %d under %q, want %d under the survivor's key", on, key, a.ID)
		}
		if f, err := o.Svc.GetFollowUp(ctx, o.Rep1, fu.ID); err != nil || f.Content != "谈了报价" {
			t.Errorf("follow-up content after merge: %v %q", err, f.Content)
		}
		if cs, err := o.Svc.Consents(ctx, o.Rep1, crm.ObjContact, a.ID); err != nil || len(cs) != 1 || !cs[0].Live() {
			t.Errorf("survivor's consents after merge: %v %+v", err, cs)
		}
		if ms, err := o.Svc.Merges(ctx, o.Rep1, crm.ObjContact, 10); err != nil || len(ms) != 1 || ms[0].SurvivorTitle != "孙丽" {
			t.Errorf("merges: %v %+v", err, ms)
		}
		if ms, _ := o.Svc.Merges(ctx, o.Rep2, crm.ObjContact, 10); len(ms) != 0 {
			t.Errorf("rep2 sees rep1's merges: %+v", ms)
		}

		// Someone corrects the e-mail after the merge: the undo keeps it.
		email := "sunli@haian.cn"
		if _, err := o.Svc.UpdateContact(ctx, o.Rep1, a.ID, crm.ContactUpdate{Version: got.Version, Email: &email}); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.UndoMerge(ctx, o.Rep2, m.ID)
		wantCode(t, err, crm.NotFound)
		u, err := o.Svc.UndoMerge(ctx, o.Rep1, m.ID)
		if err != nil || !slices.Equal(u.Kept, []string{"email"}) {
			t.Fatalf("undo: %v kept %v", err, u.Kept)
		}
		back, err := o.Svc.GetContact(ctx, o.Rep1, b.ID)
		if err != nil || back.Mobile != "+8613500002222" || back.WeChat != "sunli88" {
			t.Fatalf("merged contact after undo: %v %+v", err, back.ContactFields)
		}
		got, _ = o.Svc.GetContact(ctx, o.Rep1, a.ID)
		if got.Mobile != "+8613500002221" || got.WeChat != "" || got.Email != email {
			t.Errorf("survivor after undo: %+v", got.ContactFields)
		}
		if key, on := followUpKey(t, db, fu.ID); on != b.ID || key != back.DataKey || key == got.DataKey {
			t.Errorf("follow-up after undo: on %d under %q", on, key)
		}
		if f, err := o.Svc.GetFollowUp(ctx, o.Rep1, fu.ID); err != nil || f.Content != "谈了报价" {
			t.Errorf("follow-up content after undo: %v %q", err, f.Content)
		}
		if cs, err := o.Svc.Consents(ctx, o.Rep1, crm.ObjContact, b.ID); err != nil || len(cs) != 1 || !cs[0].Live() {
			t.Errorf("merged contact's consents after undo: %v %+v", err, cs)
		}
		_, err = o.Svc.UndoMerge(ctx, o.Rep1, m.ID)
		wantCode(t, err, crm.Conflict)

		// Merged again, then the survivor is erased: the merged person's
		// key goes too, so no backup from before the merge can bring them back.
		back, _ = o.Svc.GetContact(ctx, o.Rep1, b.ID)
		if _, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID,
			SurvivorVersion: got.Version, MergedVersion: back.Version}); err != nil {
			t.Fatalf("second merge: %v", err)
		}
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.ErasePerson(ctx, o.Admin, crm.ObjContact, a.ID); err != nil {
			t.Fatalf("erase the survivor: %v", err)
		}
		erased, err := o.Vault.Erased(ctx, []string{got.DataKey, back.DataKey})
		if err != nil || !erased[got.DataKey] || !erased[back.DataKey] {
			t.Errorf("keys erased with the survivor: %v %v", erased, err)
		}
	})
}

// TestMergeCustomers: merging customers moves their contacts,
// opportunities and follow-ups (with the follow-ups' key) to the survivor
// and closes the candidate pair; the undo moves them back.
func TestMergeCustomers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		a := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "华信物流"})
		b := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都华信物流有限公司", Industry: "制造业"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: b.ID, Name: "钱进"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: b.ID, Name: "服务器采购"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "visit", Content: "上门拜访", CustomerID: b.ID})
		if err != nil {
			t.Fatal(err)
		}
		oldKey, _ := followUpKey(t, db, fu.ID)
		m, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjCustomer, crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID,
			SurvivorVersion: a.Version, MergedVersion: b.Version})
		if err != nil {
			t.Fatalf("merge: %v", err)
		}
		if !slices.Equal(m.Fields, []string{"industry"}) {
			t.Errorf("fields taken: %v", m.Fields)
		}
		if got, _ := o.Svc.GetContact(ctx, o.Rep1, ct.ID); got.CustomerID != a.ID {
			t.Errorf("contact's customer after merge: %d", got.CustomerID)
		}
		if got, _, _ := o.Svc.GetOpportunity(ctx, o.Rep1, opp.ID); got.CustomerID != a.ID {
			t.Errorf("opportunity's customer after merge: %d", got.CustomerID)
		}
		f, err := o.Svc.GetFollowUp(ctx, o.Rep1, fu.ID)
		if err != nil || f.CustomerID != a.ID || f.Content != "上门拜访" {
			t.Errorf("follow-up after merge: %v %+v", err, f)
		}
		if key, _ := followUpKey(t, db, fu.ID); key == oldKey {
			t.Errorf("the follow-up stayed under the merged customer's key")
		}
		if _, err := o.Svc.UndoMerge(ctx, o.Rep1, m.ID); err != nil {
			t.Fatalf("undo: %v", err)
		}
		if got, err := o.Svc.GetCustomer(ctx, o.Rep1, b.ID); err != nil || got.Industry != "制造业" {
			t.Errorf("merged customer after undo: %v %+v", err, got.CustomerFields)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, a.ID); got.Industry != "" {
			t.Errorf("survivor's industry after undo: %q", got.Industry)
		}
		if got, _ := o.Svc.GetContact(ctx, o.Rep1, ct.ID); got.CustomerID != b.ID {
			t.Errorf("contact's customer after undo: %d", got.CustomerID)
		}
		if key, _ := followUpKey(t, db, fu.ID); key != oldKey {
			t.Errorf("follow-up key after undo: %q want %q", key, oldKey)
		}
	})
}

// TestMergeLeadsAndPreview: the comparison shows both leads field by field
// with the default choice and the rows that would move; merging leads moves
// their follow-ups; a dismissed pair leaves the review list.
func TestMergeLeadsAndPreview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		a, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周杰", Company: "杭州云帆", Mobile: "13600001111"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周杰", Email: "zhoujie@yunfan.cn"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "约了演示", LeadID: b.ID})
		if err != nil {
			t.Fatal(err)
		}
		p, err := o.Svc.PreviewMerge(ctx, o.Rep1, crm.ObjLead, a.ID, b.ID)
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		byName := map[string]service.MergeField{}
		for _, f := range p.Fields {
			byName[f.Name] = f
		}
		if f := byName["email"]; !f.Differs || f.Default != crm.KeepMerged || string(f.Merged) != `"zhoujie@yunfan.cn"` {
			t.Errorf("email in the comparison: %+v", f)
		}
		if f := byName["name"]; f.Differs || f.Default != crm.KeepSurvivor {
			t.Errorf("name in the comparison: %+v", f)
		}
		if p.Moves["follow_ups"] != 1 {
			t.Errorf("moves in the comparison: %v", p.Moves)
		}
		if _, err := o.Svc.PreviewMerge(ctx, o.Rep2, crm.ObjLead, a.ID, b.ID); err == nil {
			t.Error("rep2 compared rep1's leads")
		}
		if _, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjLead, crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID,
			SurvivorVersion: a.Version, MergedVersion: b.Version}); err != nil {
			t.Fatalf("merge: %v", err)
		}
		f, err := o.Svc.GetFollowUp(ctx, o.Rep1, fu.ID)
		if err != nil || f.LeadID != a.ID || f.Content != "约了演示" {
			t.Errorf("follow-up after the lead merge: %v %+v", err, f)
		}
		got, _ := o.Svc.GetLead(ctx, o.Rep1, a.ID)
		if got.Email != "zhoujie@yunfan.cn" || got.Mobile == "" {
			t.Errorf("survivor lead: %+v", got.LeadFields)
		}
	})
}

// TestMergePurge: when the survivor is purged from the recycle bin, the
// key of the person merged into it is destroyed with theirs; the merged
// record purged first does not take the survivor's key with it.
func TestMergePurge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		a, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "韩梅", Mobile: "13900001111"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "韩梅", Email: "hanmei@example.cn"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjContact, crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID,
			SurvivorVersion: a.Version, MergedVersion: b.Version}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(service.DefaultRecycleRetention + 24*time.Hour)
		if rep, err := o.Svc.PurgeRecycleBin(ctx); err != nil || rep.Purged[crm.ObjContact] != 1 {
			t.Fatalf("purge of the merged contact: %+v %v", rep, err)
		}
		if erased, _ := o.Vault.Erased(ctx, []string{a.DataKey}); erased[a.DataKey] {
			t.Fatal("purging the merged contact destroyed the survivor's key")
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep1, a.ID); err != nil || got.Email != "hanmei@example.cn" {
			t.Fatalf("survivor after the merged contact's purge: %v %+v", err, got.ContactFields)
		}
		if err := o.Svc.DeleteContact(ctx, o.Rep1, a.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(service.DefaultRecycleRetention + 24*time.Hour)
		if rep, err := o.Svc.PurgeRecycleBin(ctx); err != nil || rep.Purged[crm.ObjContact] != 1 {
			t.Fatalf("purge of the survivor: %+v %v", rep, err)
		}
		erased, err := o.Vault.Erased(ctx, []string{a.DataKey, b.DataKey})
		if err != nil || !erased[a.DataKey] || !erased[b.DataKey] {
			t.Errorf("keys after the survivor's purge: %v %v", erased, err)
		}
	})
}

// TestMergeRace: two people merge the same pair at once, in opposite
// directions: one merge wins, the other is refused, and exactly one record
// stays live with every follow-up on it.
func TestMergeRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		a, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "林涛", Mobile: "13700005555"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "林涛", Email: "lintao@example.cn"})
		if err != nil {
			t.Fatal(err)
		}
		var fus []int64
		for _, id := range []int64{a.ID, b.ID} {
			fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "回访", ContactID: id})
			if err != nil {
				t.Fatal(err)
			}
			fus = append(fus, fu.ID)
		}
		errs := make(chan error, 2)
		for _, r := range []crm.MergeRequest{
			{SurvivorID: a.ID, MergedID: b.ID, SurvivorVersion: a.Version, MergedVersion: b.Version},
			{SurvivorID: b.ID, MergedID: a.ID, SurvivorVersion: b.Version, MergedVersion: a.Version},
		} {
			go func() {
				_, err := o.Svc.MergeRecords(ctx, o.MgrEast, crm.ObjContact, r)
				errs <- err
			}()
		}
		var ok int
		for range 2 {
			if err := <-errs; err == nil {
				ok++
			} else if !crm.IsCode(err, crm.Invalid) && !crm.IsCode(err, crm.Conflict) {
				t.Errorf("the losing merge: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d merges succeeded, want 1", ok)
		}
		var live []int64
		for _, id := range []int64{a.ID, b.ID} {
			if _, err := o.Svc.GetContact(ctx, o.Rep1, id); err == nil {
				live = append(live, id)
			}
		}
		if len(live) != 1 {
			t.Fatalf("live contacts after the race: %v", live)
		}
		for _, id := range fus {
			if f, err := o.Svc.GetFollowUp(ctx, o.Rep1, id); err != nil || f.ContactID != live[0] || f.Content != "回访" {
				t.Errorf("follow-up %d after the race: %v %+v", id, err, f)
			}
		}
	})
}

// TestDataSteward: a data steward is a role an administrator makes —
// customers, contacts and leads with scope "all", nothing else — who
// reviews every pair and merges records of different owners, without
// being an administrator.
func TestDataSteward(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.StepUp(t, o.Admin)
		all := crm.ObjectGrant{Read: true, Edit: true, Delete: true, Scope: crm.ScopeAll}
		role, err := o.Svc.SaveRole(ctx, o.Admin, crm.Role{Key: "steward", Name: "Data steward",
			Grants: map[crm.Object]crm.ObjectGrant{crm.ObjCustomer: all, crm.ObjContact: all, crm.ObjLead: all}})
		if err != nil {
			t.Fatal(err)
		}
		o.Roles["steward"] = role
		steward := o.User(t, "steward", o.HQ.ID, "steward")
		for _, f := range []crm.CustomField{
			{Object: crm.ObjContact, Key: "dob", Label: "生日", Type: "date", Active: true},
			{Object: crm.ObjContact, Key: "id_no", Label: "证件号", Type: "text", Sensitive: true, Active: true},
		} {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, f); err != nil {
				t.Fatal(err)
			}
		}
		same := map[string]any{"dob": "1980-03-12", "id_no": "7364009"}
		a, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "Ann Lee", Email: "ann.lee@example.com", Custom: same})
		if err != nil {
			t.Fatal(err)
		}
		b, err := o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "Ann Lee", Mobile: "13800007777", Custom: same})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules()); err != nil {
			t.Fatal(err)
		}
		page, err := o.Svc.DuplicatePairs(ctx, steward, crm.ObjContact, service.DuplicateFilter{})
		if err != nil || len(page.Pairs) != 1 {
			t.Fatalf("steward's pairs: %v %+v", err, page.Pairs)
		}
		if page, _ := o.Svc.DuplicatePairs(ctx, o.Rep1, crm.ObjContact, service.DuplicateFilter{}); len(page.Pairs) != 0 {
			t.Errorf("rep1 sees a pair with rep3's contact: %+v", page.Pairs)
		}
		if _, err := o.Svc.MergeRecords(ctx, steward, crm.ObjContact, crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID,
			SurvivorVersion: a.Version, MergedVersion: b.Version}); err != nil {
			t.Fatalf("steward's merge: %v", err)
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep1, a.ID); err != nil || got.Mobile != "+8613800007777" {
			t.Errorf("rep1's contact after the steward's merge: %v %+v", err, got.ContactFields)
		}
	})
}

// TestMergeKeyFieldPolicy: a merge that would change a field the key-field
// approval policy holds is refused with a plain message, files nothing and
// changes nothing; keeping the survivor's value merges at once.
func TestMergeKeyFieldPolicy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		a := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "常州龙城化工", Phone: "13800001111"})
		b := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "龙城化工（常州）销售部", Phone: "13800002222"})
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveApprovalPolicy(ctx, o.Admin, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Enabled: true,
			Steps: []crm.ApprovalStep{{Type: "manager"}}, Fields: map[crm.Object][]string{crm.ObjCustomer: {"phone"}}}); err != nil {
			t.Fatal(err)
		}
		req := crm.MergeRequest{SurvivorID: a.ID, MergedID: b.ID, SurvivorVersion: a.Version, MergedVersion: b.Version,
			Fields: map[string]string{"phone": crm.KeepMerged}}
		_, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjCustomer, req)
		if ce := (*crm.Error)(nil); !errorsAs(err, &ce) || ce.Key != "merge_needs_approval" {
			t.Fatalf("merge changing a held field: %v", err)
		}
		if reqs, err := o.Svc.ListApprovals(ctx, o.Rep1); err != nil || len(reqs.Requested) != 0 {
			t.Errorf("requests filed by a refused merge: %v %+v", err, reqs.Requested)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, b.ID); err != nil {
			t.Errorf("the merged customer after a refused merge: %v", err)
		}
		req.Fields = nil
		if _, err := o.Svc.MergeRecords(ctx, o.Rep1, crm.ObjCustomer, req); err != nil {
			t.Fatalf("merge keeping the survivor's phone: %v", err)
		}
	})
}

// TestDuplicateScanJob: the background finder scans an object an
// administrator asked for, and one whose period has passed; with two
// instances on one database a request is scanned once.
func TestDuplicateScanJob(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "Ann Lee"}); err != nil {
			t.Fatal(err)
		}
		if scans, err := o.Svc.RunDueDuplicateScans(ctx, 0); err != nil || len(scans) != 0 {
			t.Fatalf("scans nobody asked for: %v %+v", err, scans)
		}
		wantCode(t, o.Svc.RequestDuplicateScan(ctx, o.Rep1, crm.ObjContact), crm.Forbidden)
		o.StepUp(t, o.Admin)
		if err := o.Svc.RequestDuplicateScan(ctx, o.Admin, crm.ObjContact); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		other := service.New(db, service.Options{Vault: o.Vault, Argon2: testorg.CheapArgon, Now: clock.Now})
		first, err := o.Svc.RunDueDuplicateScans(ctx, 0)
		if err != nil || len(first) != 1 || first[0].Object != crm.ObjContact || first[0].Records != 1 {
			t.Fatalf("scan on request: %v %+v", err, first)
		}
		if again, err := other.RunDueDuplicateScans(ctx, 0); err != nil || len(again) != 0 {
			t.Fatalf("the second instance scanned again: %v %+v", err, again)
		}
		clock.Advance(8 * 24 * time.Hour)
		due, err := other.RunDueDuplicateScans(ctx, 7*24*time.Hour)
		if err != nil || len(due) != len(service.DuplicateObjects) {
			t.Fatalf("scans after the period: %v %+v", err, due)
		}
	})
}
