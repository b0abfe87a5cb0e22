package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"custos/internal/api"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	tm "custos/internal/testmatrix"
)

// TestAuthorisationMatrix sends every route of the API, as every actor
// (administrator, managers of the subtree and of another department, a
// sales owner, a colleague in the same department, sales elsewhere, the
// auditor, a token with limited scopes), about records in every relation to
// them, and compares each answer with the outcome the oracle of
// internal/testmatrix computes from the permission model. A route without
// a classification fails the test, so every new route must be classified
// here. Every denial must look exactly like the answer about a missing
// record.
func TestAuthorisationMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := tm.New(t, db)
		a := api.New(w.Svc, httpx.Config{}, nil)
		mux := http.NewServeMux()
		a.Register(mux)
		m := &apiMatrix{w: w, handler: httpx.Middleware(http.NewCrossOriginProtection().Handler(mux))}
		tm.Run(w, tm.NewReport(t), tm.Surface[apiReq]{Name: "API", Actors: tm.APIActors, Routes: a.Routes(), Specs: apiSpecs(w), Do: m.do})
	})
}

type spec = tm.Spec[apiReq]

type apiReq struct {
	path string
	body any // nil: no body
	// upload is a multipart body (with its content type) instead of JSON.
	upload      []byte
	contentType string
}

func id(x *tm.Target, o crm.Object) string { return strconv.FormatInt(x.F.ID(o), 10) }

func version(x *tm.Target, o crm.Object) int64 { return x.W.Version(o, x.F.ID(o)) }

type apiMatrix struct {
	w       *tm.World
	handler http.Handler
}

func (m *apiMatrix) do(a tm.ActorKey, method string, r apiReq) tm.Answer {
	var rd io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	if r.upload != nil {
		rd = bytes.NewReader(r.upload)
	}
	req := httptest.NewRequest(method, r.path, rd)
	switch {
	case r.upload != nil:
		req.Header.Set("Content-Type", r.contentType)
	case r.body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if a == tm.Token {
		req.Header.Set("Authorization", "Bearer "+m.w.TokenSecret)
	} else {
		s := m.w.Sessions[a]
		req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: s.Token})
		req.Header.Set(httpx.CSRFHeader, s.CSRF)
	}
	rec := httptest.NewRecorder()
	m.handler.ServeHTTP(rec, req)
	return answer(rec.Code, rec.Body.Bytes())
}

// answer reads a response as the matrix needs it.
func answer(status int, body []byte) tm.Answer {
	var p struct {
		Code   string `json:"code"`
		Errors []struct {
			Rule string `json:"rule"`
		} `json:"errors"`
	}
	json.Unmarshal(body, &p)
	refError := slices.ContainsFunc(p.Errors, func(e struct {
		Rule string `json:"rule"`
	}) bool {
		return e.Rule == "not_found"
	})
	var out tm.Outcome
	switch {
	case status >= 200 && status < 300:
		out = tm.Allow
	case status == http.StatusNotFound:
		out = tm.Hidden
	case status == http.StatusForbidden && p.Code == string(crm.StepUpRequired):
		out = tm.StepUp
	case status == http.StatusForbidden:
		out = tm.Forbidden
	case status == http.StatusConflict:
		out = tm.Conflict
	case status == http.StatusUnprocessableEntity && refError:
		out = tm.BadRef
	case status == http.StatusUnprocessableEntity:
		out = tm.Invalid
	default:
		out = tm.Outcome(fmt.Sprintf("status %d", status))
	}
	// What differs between two requests: the request id.
	normal := fmt.Sprintf("%d %s", status, body)
	var v map[string]any
	if json.Unmarshal(body, &v) == nil {
		delete(v, "request_id")
		b, _ := json.Marshal(v)
		normal = fmt.Sprintf("%d %s", status, b)
	}
	if csvIDs, ok := exportedIDs(body); ok {
		return tm.Answer{Outcome: out, Detail: string(body), Normal: normal, Shows: func(_ tm.Listing, r tm.Record) bool { return csvIDs[r.ID] }}
	}
	return tm.Answer{Outcome: out, Detail: string(body), Normal: normal, Shows: func(l tm.Listing, r tm.Record) bool {
		var v map[string]json.RawMessage
		json.Unmarshal(body, &v)
		var items []struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(v[l.Key], &items)
		return slices.ContainsFunc(items, func(it struct {
			ID int64 `json:"id"`
		}) bool {
			return it.ID == r.ID
		})
	}}
}

func path(p string) func(*tm.Target) apiReq {
	return func(*tm.Target) apiReq { return apiReq{path: p} }
}

// recordPath is a request about the slot's record of o at prefix/{id}suffix.
func recordPath(o crm.Object, prefix, suffix string, body func(x *tm.Target) any) func(*tm.Target) apiReq {
	return func(x *tm.Target) apiReq {
		r := apiReq{path: prefix + id(x, o) + suffix}
		if body != nil {
			r.body = body(x)
		}
		return r
	}
}

func withVersion(o crm.Object, fields map[string]any) func(x *tm.Target) any {
	return func(x *tm.Target) any {
		b := map[string]any{"version": version(x, o)}
		for k, v := range fields {
			b[k] = v
		}
		return b
	}
}

func ids(o crm.Object) func(x *tm.Target) any {
	return func(x *tm.Target) any { return map[string]any{"ids": []int64{x.F.ID(o)}} }
}

// collection is the API's path segment of an object, as the registry says.
var collection = func() map[crm.Object]string {
	out := map[crm.Object]string{}
	for _, s := range crm.Specs() {
		out[s.Name] = s.Path
	}
	return out
}()

// revealField is a field of each object that takes field rules.
var revealField = map[crm.Object]string{crm.ObjCustomer: "phone", crm.ObjContact: "mobile", crm.ObjLead: "mobile", crm.ObjOpportunity: "name",
	crm.ObjContract: "name", crm.ObjFollowUp: "content"}

// recordRoutes classifies the routes every business object has, unless
// classified already: its list, detail, update, delete and restore,
// reveal, transfer and bulk delete.
func recordRoutes(o crm.Object, specs map[string][]spec, w *tm.World, update map[string]any) {
	base := "/api/v1/" + collection[o]
	set := func(key string, sp spec) {
		if _, ok := specs[key]; !ok {
			specs[key] = []spec{sp}
		}
	}
	set("GET "+base, spec{Want: tm.CanDo(o, crm.ActRead), Req: path(base + "?limit=200"), Lists: []tm.Listing{{Key: "items", O: o, In: tm.InList}}})
	if s, _ := crm.Spec(o); s.TeamFiltered && len(specs["GET "+base]) == 1 {
		// The rep and department filters narrow the scope, never widen it:
		// the whole organisation's department shows no more than the list.
		specs["GET "+base] = append(specs["GET "+base], spec{Want: tm.CanDo(o, crm.ActRead),
			Req:   path(base + "?limit=200&department_id=" + strconv.FormatInt(w.Org.HQ.ID, 10)),
			Lists: []tm.Listing{{Key: "items", O: o, In: tm.InTeamList}}})
	}
	set("GET "+base+"/{id}", spec{Object: o, Want: tm.On(o, tm.ReadOutcome), Req: recordPath(o, base+"/", "", nil)})
	set("PATCH "+base+"/{id}", spec{Object: o, Want: tm.On(o, tm.EditOutcome), Req: recordPath(o, base+"/", "", withVersion(o, update))})
	set("DELETE "+base+"/{id}", spec{Object: o, Want: tm.On(o, tm.DeleteOutcome), Req: recordPath(o, base+"/", "", nil), Mutates: true})
	restoreFrom := tm.Deleted
	if o == crm.ObjCustomer {
		restoreFrom = tm.CustomerDeleted
	}
	set("POST "+base+"/{id}/restore", spec{Object: o, Variant: restoreFrom, Want: tm.On(o, tm.DeleteOutcome),
		Req: recordPath(o, base+"/", "/restore", nil), Mutates: true})
	if field, ok := revealField[o]; ok {
		set("POST "+base+"/{id}/reveal", spec{Object: o, Want: tm.On(o, tm.RevealOutcome),
			Req: recordPath(o, base+"/", "/reveal", func(*tm.Target) any { return map[string]string{"field": field} })})
	}
	if _, ok := revealField[o]; ok && o != crm.ObjFollowUp { // a follow-up is itself history
		set("GET "+base+"/{id}/history", spec{Object: o, Want: tm.On(o, tm.HistoryOutcome), Req: recordPath(o, base+"/", "/history", nil)})
	}
	if _, ok := revealField[o]; ok {
		set("GET "+base+"/{id}/versions", spec{Object: o, Want: tm.On(o, tm.ReadOutcome), Req: recordPath(o, base+"/", "/versions", nil)})
		// Restoring the first version is an edit (to the fields the record has).
		set("POST "+base+"/{id}/versions/{version}/restore", spec{Object: o, Want: tm.On(o, tm.EditOutcome),
			Req: recordPath(o, base+"/", "/versions/1/restore", func(x *tm.Target) any { return map[string]int64{"current": version(x, o)} })})
	}
	if o != crm.ObjFollowUp && o != crm.ObjTask {
		rep2 := w.UserID(tm.Rep2)
		set("POST "+base+"/{id}/transfer", spec{Object: o,
			Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.TransferOutcome(a, o, s, tm.Rep2) },
			Req:  recordPath(o, base+"/", "/transfer", func(*tm.Target) any { return map[string]int64{"to": rep2} }), Mutates: true})
		set("POST "+base+"/bulk-delete", spec{Object: o,
			Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome { return tm.BulkDeleteOutcome(a, o) },
			Req:  func(x *tm.Target) apiReq { return apiReq{path: base + "/bulk-delete", body: ids(o)(x)} }, Mutates: true})
	}
}

// attach is a request creating a record of o on the slot's customer.
func attach(o crm.Object, p string, body func(x *tm.Target) map[string]any) spec {
	return spec{Object: crm.ObjCustomer, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.AttachOutcome(a, o, s) },
		Req: func(x *tm.Target) apiReq {
			b := body(x)
			b["customer_id"] = x.F.ID(crm.ObjCustomer)
			return apiReq{path: p, body: b}
		}}
}

// adminOnUser is an administration function about a user, who must exist.
func adminOnUser(a tm.ActorKey, s tm.Slot) tm.Outcome {
	if tm.IsAdmin(a) && s == tm.SlotMissing {
		return tm.Hidden
	}
	return tm.AdminOutcome(a, false)
}

// missingIncident is an incident no test creates.
var missingIncident = "/api/v1/incidents/" + strconv.FormatInt(tm.MissingID, 10)

// apiSpecs classifies every route of the API.
func apiSpecs(w *tm.World) map[string][]spec {
	ctx := context.Background()
	stages, err := w.Svc.Stages(ctx, w.System())
	if err != nil || len(stages) < 2 {
		panic(fmt.Sprintf("stages: %v", err))
	}
	field, err := w.Svc.SaveCustomField(ctx, w.System(), crm.CustomField{Object: crm.ObjCustomer, Key: "matrix_note", Label: "备注", Type: "text"})
	if err != nil {
		panic(err)
	}
	var campaignID int64
	campaign := func() int64 { // one campaign for the reads, started when first asked
		if campaignID == 0 {
			campaignID = w.FreshCampaign()
		}
		return campaignID
	}
	rep2, bystander := w.UserID(tm.Rep2), w.Bystander.UserID
	user := func(p, suffix string, body any) func(*tm.Target) apiReq {
		return func(x *tm.Target) apiReq {
			return apiReq{path: p + strconv.FormatInt(w.UserOf(x.A, x.S), 10) + suffix, body: body}
		}
	}
	specs := map[string][]spec{
		"GET /api/v1/openapi.json": {{Want: tm.Anyone, Req: path("/api/v1/openapi.json")}}, // served without credentials too (openapi_test.go)
		"GET /api/v1/me":           {{Want: tm.Anyone, Req: path("/api/v1/me")}},
		"GET /api/v1/directory":    {{Want: tm.Anyone, Req: path("/api/v1/directory")}},
		"GET /api/v1/search": {{Want: tm.Anyone, Req: path("/api/v1/search?limit=50&q=" + "%E6%A3%B1%E9%95%9C"), // 棱镜, in every record's name
			Lists: []tm.Listing{{Key: "customers", O: crm.ObjCustomer, In: tm.InList}, {Key: "contacts", O: crm.ObjContact, In: tm.InList}, {Key: "leads", O: crm.ObjLead, In: tm.InList}}}},

		"GET /api/v1/approvals": {{Want: tm.Anyone, Req: path("/api/v1/approvals")}},
		// Notifications are each user's own: anyone lists and marks theirs,
		// and another's id (here a missing one) is not found for anyone.
		"GET /api/v1/notifications":            {{Want: tm.Anyone, Req: path("/api/v1/notifications")}},
		"POST /api/v1/notifications/read-all":  {{Want: tm.Anyone, Req: path("/api/v1/notifications/read-all")}},
		"GET /api/v1/notification-preferences": {{Want: tm.Anyone, Req: path("/api/v1/notification-preferences")}},
		"POST /api/v1/notifications/{id}/read": {{Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.Hidden },
			Req: path("/api/v1/notifications/" + strconv.FormatInt(tm.MissingID, 10) + "/read")}},
		"PUT /api/v1/notification-preferences": {{Want: tm.Anyone, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/notification-preferences", body: map[string]any{"items": []map[string]any{{"kind": "digest", "channel": "inapp", "enabled": false}}}}
		}}},
		"GET /api/v1/approvals/{id}": {{Object: tm.ObjApproval,
			Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ApprovalOutcome(a, tm.Requester(s)) },
			Req:  func(x *tm.Target) apiReq { return apiReq{path: "/api/v1/approvals/" + w.ApprovalID(x.S)} }}},
		"POST /api/v1/approvals/{id}/decision": {{Object: tm.ObjApproval,
			Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.StepUp }, // deciding needs a fresh second factor, first of all
			Req: func(x *tm.Target) apiReq {
				return apiReq{path: "/api/v1/approvals/" + w.ApprovalID(x.S) + "/decision", body: map[string]any{"approve": true}}
			}}},
		"GET /api/v1/approval-policies": {{Want: tm.Admins, Req: path("/api/v1/approval-policies")}},
		"PUT /api/v1/approval-policies/{kind}": {{Want: tm.StepUps, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/approval-policies/transfer", body: map[string]any{"enabled": false, "steps": []map[string]string{{"type": "manager"}}}}
		}}},

		"GET /api/v1/shares": {{Want: tm.Anyone, Req: path("/api/v1/shares")}},
		"POST /api/v1/shares/revoke": {{Object: tm.ObjShare, Want: tm.RevokeOutcome, Req: func(x *tm.Target) apiReq {
			id := tm.MissingID
			if x.S != tm.SlotMissing {
				id = w.FreshShare(x.S)
			}
			return apiReq{path: "/api/v1/shares/revoke", body: map[string][]int64{"ids": {id}}}
		}}},

		"GET /api/v1/users/{id}/handover": {{Object: tm.ObjUser, Want: tm.Admins, Req: user("/api/v1/users/", "/handover", nil)}},
		"POST /api/v1/users/{id}/offboard": {{Object: tm.ObjUser, Want: tm.StepUps,
			Req: user("/api/v1/users/", "/offboard", map[string]int64{"customers_to": 0, "others_to": rep2})}},
		"GET /api/v1/users/{id}/activity": {{Object: tm.ObjUser, Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if tm.IsAdmin(a) || tm.CanAudit(a) {
				return tm.Allow
			}
			return tm.Forbidden
		}, Req: user("/api/v1/users/", "/activity", nil)}},

		// Reports: aggregates within each reader's scopes, for the roles
		// with the reports permission.
		"GET /api/v1/reports/funnel":      {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/funnel?from=2020-01-01&to=2022-12-31")}},
		"GET /api/v1/reports/pipeline":    {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/pipeline")}},
		"GET /api/v1/reports/forecast":    {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/forecast")}},
		"GET /api/v1/reports/win-rate":    {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/win-rate?currency=CNY")}},
		"GET /api/v1/reports/cycle":       {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/cycle")}},
		"GET /api/v1/reports/leaderboard": {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/leaderboard")}},
		"GET /api/v1/reports/trends":      {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/trends?interval=week")}},
		"GET /api/v1/reports/activity":    {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/activity?idle_days=7")}},
		"GET /api/v1/reports/pool":        {{Want: tm.ReportOutcome, Req: path("/api/v1/reports/pool")}},
		"GET /api/v1/audit-events":        {{Want: tm.AuditOutcome, Req: path("/api/v1/audit-events")}},
		"GET /api/v1/exposure":            {{Want: tm.AuditOutcome, Req: path("/api/v1/exposure?since=2020-01-01T00:00:00Z")}},
		// Data quality: figures and drill-downs within each reader's own
		// scope; settings and the fix-up push for administrators.
		"GET /api/v1/quality":          {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: path("/api/v1/quality")}},
		"GET /api/v1/quality/records":  {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: path("/api/v1/quality/records?object=customer&issue=all")}},
		"GET /api/v1/quality/settings": {{Want: tm.Admins, Req: path("/api/v1/quality/settings")}},
		"PUT /api/v1/quality/settings": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/quality/settings", body: map[string]any{"stale_days": 30, "weights": map[string]any{}}}
		}}},
		"POST /api/v1/quality/fixups": {{Want: tm.Admins, Req: path("/api/v1/quality/fixups"), Mutates: true}},
		// Review campaigns: read like the quality page; started by
		// administrators and managers; a record confirmed by whoever owns it
		// within their own scope (a fresh campaign each time, over every
		// owned record).
		"GET /api/v1/quality/campaigns": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: path("/api/v1/quality/campaigns")}},
		"POST /api/v1/quality/campaigns": {{Want: tm.StartCampaignOutcome, Mutates: true, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/quality/campaigns", body: map[string]any{"name": "matrix", "objects": []string{"customer"},
				"selection": "stale", "due_at": w.Clock.Now().Add(30 * 24 * time.Hour)}}
		}}},
		"GET /api/v1/quality/campaigns/{id}": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/quality/campaigns/" + strconv.FormatInt(campaign(), 10)}
		}}},
		"GET /api/v1/quality/campaigns/{id}/records": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/quality/campaigns/" + strconv.FormatInt(campaign(), 10) + "/records?object=customer"}
		}}},
		"POST /api/v1/quality/campaigns/{id}/confirm": {{Object: crm.ObjCustomer, Want: tm.CampaignConfirmOutcome, Mutates: true, Req: func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/quality/campaigns/" + strconv.FormatInt(w.FreshCampaign(), 10) + "/confirm",
				body: map[string]any{"object": "customer", "ids": []int64{x.F.ID(crm.ObjCustomer)}}}
		}}},
		// Incidents: read by the trail's readers, kept by administrators; the
		// one asked for does not exist.
		"GET /api/v1/incidents": {{Want: tm.AuditOutcome, Req: path("/api/v1/incidents")}},
		"POST /api/v1/incidents": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/incidents", body: map[string]any{"title": "matrix", "severity": "low", "detected_at": "2020-01-01T00:00:00Z"}}
		}}},
		"GET /api/v1/incidents/{id}": {{Want: tm.AuditFindsNothing, Req: path(missingIncident)}},
		"PATCH /api/v1/incidents/{id}": {{Want: tm.AdminFindsNothing, Req: func(*tm.Target) apiReq {
			return apiReq{path: missingIncident, body: map[string]any{"version": 1, "status": "closed"}}
		}}},
		"POST /api/v1/incidents/{id}/timeline": {{Want: tm.AdminFindsNothing, Req: func(*tm.Target) apiReq {
			return apiReq{path: missingIncident + "/timeline", body: map[string]any{"note": "matrix"}}
		}}},
		"PUT /api/v1/incidents/{id}/exposure-query": {{Want: tm.AdminFindsNothing, Req: func(*tm.Target) apiReq {
			return apiReq{path: missingIncident + "/exposure-query", body: map[string]any{"since": "2020-01-01T00:00:00Z"}}
		}}},
		"GET /api/v1/incidents/{id}/exposure": {{Want: tm.AuditFindsNothing, Req: path(missingIncident + "/exposure")}},
		// Security alerts: read by the trail's readers; reviewed and tuned by
		// administrators (tuning with step-up). No alert exists here, so an
		// administrator's review finds nothing.
		"GET /api/v1/security-alerts":              {{Want: tm.AuditOutcome, Req: path("/api/v1/security-alerts")}},
		"POST /api/v1/security-alerts/{id}/review": {{Want: tm.AdminFindsNothing, Req: path("/api/v1/security-alerts/" + strconv.FormatInt(tm.MissingID, 10) + "/review")}},
		"GET /api/v1/alert-rules":                  {{Want: tm.Admins, Req: path("/api/v1/alert-rules")}},
		"PUT /api/v1/alert-rules/{key}": {{Want: tm.StepUps, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/alert-rules/mass_view", body: map[string]any{"enabled": true, "threshold": 200}}
		}}},
		"POST /api/v1/users/{id}/job-preview": {{Object: tm.ObjUser, Want: adminOnUser,
			Req: user("/api/v1/users/", "/job-preview", map[string]int64{"department_id": w.Org.West.ID})}},
		"POST /api/v1/users/{id}/job-change": {{Object: tm.ObjUser, Want: adminOnUser, // to the department they are in: nothing moves
			Req: user("/api/v1/users/", "/job-change", map[string]int64{"department_id": w.Org.HQ.ID}), Slots: []tm.Slot{tm.SlotOwn, tm.SlotOther, tm.SlotMissing}}},
		"DELETE /api/v1/users/{id}/tokens/{token}": {{Object: tm.ObjReview, Want: tm.ReviewTokenOutcome, Req: func(x *tm.Target) apiReq {
			tok := tm.MissingID
			if x.S != tm.SlotMissing {
				tok = w.FreshToken(x.A, x.S)
			}
			return apiReq{path: "/api/v1/users/" + strconv.FormatInt(w.UserOf(x.A, x.S), 10) + "/tokens/" + strconv.FormatInt(tok, 10)}
		}}},
		"GET /api/v1/access-review":          {{Want: tm.ReviewOutcome, Req: path("/api/v1/access-review")}},
		"POST /api/v1/access-review/confirm": {{Want: tm.ReviewConfirmOutcome, Req: path("/api/v1/access-review/confirm")}},

		"GET /api/v1/tokens": {{Want: tm.Account(tm.Anyone), Req: path("/api/v1/tokens")}},
		"POST /api/v1/tokens": {{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if a == tm.Token {
				return tm.Forbidden // a token cannot make tokens
			}
			return tm.Allow
		}, Req: func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/tokens", body: map[string]any{"name": "matrix", "scopes": []string{tm.OwnTokenScope(x.A)}}}
		}}},
		"DELETE /api/v1/tokens/{id}": {{Object: tm.ObjToken, Want: tm.Account(tm.OwnOnly), Req: func(x *tm.Target) apiReq {
			id := tm.MissingID
			if x.S != tm.SlotMissing {
				id = w.FreshToken(x.A, x.S)
			}
			return apiReq{path: "/api/v1/tokens/" + strconv.FormatInt(id, 10)}
		}}},

		"GET /api/v1/sessions": {{Object: tm.ObjUser, Want: tm.Account(func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			switch {
			case s == tm.SlotOwn:
				return tm.Allow
			case !tm.IsAdmin(a):
				return tm.Forbidden
			case s == tm.SlotMissing:
				return tm.Hidden
			}
			return tm.Allow
		}), Req: user("/api/v1/sessions?user_id=", "", nil)}},
		"DELETE /api/v1/sessions/{id}": {{Object: tm.ObjSession, Want: tm.Account(func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			switch {
			case s == tm.SlotOwn:
				return tm.Allow
			case s == tm.SlotOther && tm.IsAdmin(a):
				return tm.StepUp // ending someone else's session
			}
			return tm.Hidden // someone else's session looks like none at all
		}), Req: func(x *tm.Target) apiReq {
			id := tm.MissingID
			if x.S != tm.SlotMissing {
				id = w.FreshSession(x.A, x.S)
			}
			return apiReq{path: "/api/v1/sessions/" + strconv.FormatInt(id, 10)}
		}, Account: true}},
		"DELETE /api/v1/users/{id}/sessions": {{Object: tm.ObjUser, Want: tm.Account(func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if s == tm.SlotOwn {
				return tm.Allow // signing out everywhere else
			}
			return tm.AdminOutcome(a, true)
		}), Req: user("/api/v1/users/", "/sessions", nil), Ends: true, Account: true}},
		"POST /api/v1/users/{id}/mfa/reset": {{Object: tm.ObjUser, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome {
			if s == tm.SlotOwn && tm.IsAdmin(a) {
				return tm.Invalid // one's own second factor is managed on the account page
			}
			return tm.AdminOutcome(a, true)
		}, Req: user("/api/v1/users/", "/mfa/reset", nil)}},

		"GET /api/v1/account/mfa":                 {{Want: tm.Account(tm.Anyone), Req: path("/api/v1/account/mfa"), Account: true}},
		"POST /api/v1/account/mfa/totp":           {{Want: tm.SessionOnly, Req: path("/api/v1/account/mfa/totp"), Account: true}},
		"POST /api/v1/account/mfa/totp/confirm":   {{Want: tm.AddFactor(w.Enrolled), Req: code("/api/v1/account/mfa/totp/confirm"), Account: true}},
		"POST /api/v1/account/mfa/totp/disable":   {{Want: tm.SessionOnly, Req: code("/api/v1/account/mfa/totp/disable"), Account: true}},
		"POST /api/v1/account/mfa/recovery-codes": {{Want: tm.SessionOnly, Req: code("/api/v1/account/mfa/recovery-codes"), Account: true}},
		"POST /api/v1/account/step-up": {{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if a == tm.Token || !w.Enrolled(a) {
				return tm.StepUp // tokens never step up; without a second factor, set one up first
			}
			return tm.Reached
		}, Req: code("/api/v1/account/step-up"), Account: true}},

		// Values nobody holds: there is no owner to ask.
		"POST /api/v1/access-requests": {{Want: func(a tm.ActorKey, _ tm.Slot) tm.Outcome {
			if tm.Can(a, crm.ObjCustomer, crm.ActCreate) {
				return tm.Hidden
			}
			return tm.Forbidden
		}, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/access-requests", body: map[string]any{"object": "customer", "access": "share",
				"fields": map[string]string{"name": "无人持有的名称", "status": "prospect"}}}
		}}},
		"POST /api/v1/customers": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate),
			Req: func(*tm.Target) apiReq {
				return apiReq{path: "/api/v1/customers", body: map[string]string{"name": w.Name("新客户")}}
			}}},
		"POST /api/v1/customers/{id}/claim": {{Object: crm.ObjCustomer,
			Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ClaimOutcome(a, s) },
			Req:  recordPath(crm.ObjCustomer, "/api/v1/customers/", "/claim", nil), Mutates: true}},
		"POST /api/v1/customers/{id}/release": {{Object: crm.ObjCustomer,
			Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ReleaseOutcome(a, s) },
			Req:  recordPath(crm.ObjCustomer, "/api/v1/customers/", "/release", nil), Mutates: true}},
		"GET /api/v1/pool": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActRead), Req: path("/api/v1/pool?limit=200"),
			Lists: []tm.Listing{{Key: "items", O: crm.ObjCustomer, In: tm.InPool}}}},
		"GET /api/v1/recycle-bin/customers": {{Want: tm.CanDo(crm.ObjCustomer, crm.ActDelete), Req: path("/api/v1/recycle-bin/customers?limit=200"),
			Lists: []tm.Listing{{Key: "items", O: crm.ObjCustomer, In: tm.InBin}}}},
		"GET /api/v1/customers/{id}/shares": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.ShareOutcome),
			Req: recordPath(crm.ObjCustomer, "/api/v1/customers/", "/shares", nil)}},
		"POST /api/v1/customers/{id}/shares": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.ShareOutcome),
			Req: recordPath(crm.ObjCustomer, "/api/v1/customers/", "/shares", shareBody(bystander))}},
		"GET /api/v1/leads/{id}/shares": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ShareOutcome),
			Req: recordPath(crm.ObjLead, "/api/v1/leads/", "/shares", nil)}},
		"POST /api/v1/leads/{id}/shares": {{Object: crm.ObjLead, Want: tm.On(crm.ObjLead, tm.ShareOutcome),
			Req: recordPath(crm.ObjLead, "/api/v1/leads/", "/shares", shareBody(bystander))}},

		"POST /api/v1/contacts": {attach(crm.ObjContact, "/api/v1/contacts", func(*tm.Target) map[string]any {
			return map[string]any{"name": w.Name("新联系人")}
		})},

		"GET /api/v1/customers/{id}/follow-ups": {{Object: crm.ObjCustomer, Want: tm.On(crm.ObjCustomer, tm.TimelineOutcome),
			Req: recordPath(crm.ObjCustomer, "/api/v1/customers/", "/follow-ups", nil)}},
		"GET /api/v1/follow-ups": {{Object: crm.ObjContact, Want: tm.On(crm.ObjContact, tm.TimelineOutcome),
			Req: recordPath(crm.ObjContact, "/api/v1/follow-ups?contact_id=", "", nil)},
			// Without a record: every follow-up in scope (a report's drill-down),
			// and the department filter narrows it, never widens it.
			{Want: tm.CanDo(crm.ObjFollowUp, crm.ActRead), Req: path("/api/v1/follow-ups?limit=200"),
				Lists: []tm.Listing{{Key: "items", O: crm.ObjFollowUp, In: tm.InList}}},
			{Want: tm.CanDo(crm.ObjFollowUp, crm.ActRead), Req: path("/api/v1/follow-ups?limit=200&department_id=" + strconv.FormatInt(w.Org.HQ.ID, 10)),
				Lists: []tm.Listing{{Key: "items", O: crm.ObjFollowUp, In: tm.InTeamList}}}},
		"POST /api/v1/follow-ups": {attach(crm.ObjFollowUp, "/api/v1/follow-ups", func(*tm.Target) map[string]any {
			return map[string]any{"kind": "visit", "content": "拜访"}
		})},

		"POST /api/v1/leads": {{Want: tm.CanDo(crm.ObjLead, crm.ActCreate), Req: func(*tm.Target) apiReq {
			n := w.Name("新线索")
			return apiReq{path: "/api/v1/leads", body: map[string]string{"name": n, "company": n + "公司"}}
		}}},
		"POST /api/v1/leads/{id}/convert": {{Object: crm.ObjLead, Want: func(a tm.ActorKey, s tm.Slot) tm.Outcome { return tm.ConvertOutcome(a, s) },
			Req: recordPath(crm.ObjLead, "/api/v1/leads/", "/convert", withVersion(crm.ObjLead, nil)), Mutates: true}},

		"GET /api/v1/stages": {{Want: tm.Anyone, Req: path("/api/v1/stages")}},
		"GET /api/v1/team":   {{Want: tm.TeamOutcome, Req: path("/api/v1/team")}},
		"GET /api/v1/opportunities/totals": {{Want: tm.CanDo(crm.ObjOpportunity, crm.ActRead),
			Req: path("/api/v1/opportunities/totals?department_id=" + strconv.FormatInt(w.Org.HQ.ID, 10))}},
		"POST /api/v1/stages": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/stages", body: map[string]any{"name": w.Name("阶段"), "kind": "open", "probability": 30, "position": 50, "active": false}}
		}}},
		"PUT /api/v1/stages/{id}": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			st := stages[0]
			return apiReq{path: "/api/v1/stages/" + strconv.FormatInt(st.ID, 10), body: map[string]any{"name": st.Name, "name_en": st.NameEn,
				"kind": st.Kind, "probability": st.Probability, "position": st.Position, "active": st.Active}}
		}}},
		"GET /api/v1/stages/{id}/criteria": {{Want: tm.Anyone, Req: path("/api/v1/stages/" + strconv.FormatInt(stages[1].ID, 10) + "/criteria")}},
		// Criteria that ask for nothing, so the moves the matrix makes
		// stay allowed.
		"PUT /api/v1/stages/{id}/criteria": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/stages/" + strconv.FormatInt(stages[1].ID, 10) + "/criteria", body: map[string]any{"fields": []string{}}}
		}}},
		"POST /api/v1/opportunities": {attach(crm.ObjOpportunity, "/api/v1/opportunities", func(*tm.Target) map[string]any {
			return map[string]any{"name": w.Name("新商机"), "amount": 500}
		})},
		"POST /api/v1/contracts": {attach(crm.ObjContract, "/api/v1/contracts", func(*tm.Target) map[string]any {
			return map[string]any{"number": w.Name("HT"), "name": w.Name("新合同"), "amount": 500}
		})},
		"POST /api/v1/opportunities/{id}/stage": {{Object: crm.ObjOpportunity, Want: tm.On(crm.ObjOpportunity, tm.EditOutcome),
			Req: recordPath(crm.ObjOpportunity, "/api/v1/opportunities/", "/stage", withVersion(crm.ObjOpportunity, map[string]any{"stage_id": stages[1].ID}))}},

		"GET /api/v1/tasks": {{Want: tm.CanDo(crm.ObjTask, crm.ActRead), Req: path("/api/v1/tasks?limit=200"),
			Lists: []tm.Listing{{Key: "items", O: crm.ObjTask, In: tm.MyTasks}}}},
		"POST /api/v1/tasks": {attach(crm.ObjTask, "/api/v1/tasks", func(*tm.Target) map[string]any {
			return map[string]any{"title": w.Name("新任务")}
		})},
		"POST /api/v1/tasks/{id}/done": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.EditOutcome),
			Req: recordPath(crm.ObjTask, "/api/v1/tasks/", "/done", nil)}},
		"POST /api/v1/tasks/{id}/reopen": {{Object: crm.ObjTask, Want: tm.On(crm.ObjTask, tm.EditOutcome),
			Req: recordPath(crm.ObjTask, "/api/v1/tasks/", "/reopen", nil)}},

		"GET /api/v1/custom-fields": {{Want: tm.Anyone, Req: path("/api/v1/custom-fields")}},
		"POST /api/v1/custom-fields": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/custom-fields", body: map[string]any{"object": "lead", "key": fmt.Sprintf("matrix_%d", w.Serial()),
				"label": "标签", "type": "text"}}
		}}},
		"PUT /api/v1/custom-fields/{id}": {{Want: tm.Admins, Req: func(*tm.Target) apiReq {
			return apiReq{path: "/api/v1/custom-fields/" + strconv.FormatInt(field.ID, 10), body: map[string]any{"object": field.Object,
				"key": field.Key, "label": "备注", "type": field.Type, "active": true}}
		}}},
	}
	privacySpecs(w, specs)
	importSpecs(w, specs)
	exportSpecs(specs)
	duplicateSpecs(w, specs)
	recordRoutes(crm.ObjCustomer, specs, w, map[string]any{"industry": "制造"})
	recordRoutes(crm.ObjContact, specs, w, map[string]any{"title": "经理"})
	recordRoutes(crm.ObjLead, specs, w, map[string]any{"title": "总监"})
	recordRoutes(crm.ObjOpportunity, specs, w, map[string]any{"amount": 900})
	recordRoutes(crm.ObjContract, specs, w, map[string]any{"status": "signed"})
	recordRoutes(crm.ObjFollowUp, specs, w, map[string]any{"content": "更正"})
	recordRoutes(crm.ObjTask, specs, w, map[string]any{"notes": "备忘"})
	for _, o := range crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Recyclable && s.Name != crm.ObjCustomer }) {
		specs["GET /api/v1/recycle-bin/{collection}"] = append(specs["GET /api/v1/recycle-bin/{collection}"], spec{Name: collection[o],
			Want: tm.CanDo(o, crm.ActDelete), Req: path("/api/v1/recycle-bin/" + collection[o] + "?limit=200"), Lists: []tm.Listing{{Key: "items", O: o, In: tm.InBin}}})
	}
	return specs
}

func shareBody(to int64) func(*tm.Target) any {
	return func(*tm.Target) any { return map[string]any{"user_id": to, "level": "read"} }
}

// code is an account request carrying a second-factor code no app made.
func code(p string) func(*tm.Target) apiReq {
	return func(*tm.Target) apiReq { return apiReq{path: p, body: map[string]string{"code": "000000"}} }
}

// privacySpecs classifies the privacy routes: the register and what is
// done about a person (privacy officers and administrators, for anyone),
// and consents on contacts and leads (as reading or changing the record,
// and for privacy officers any).
func privacySpecs(w *tm.World, specs map[string][]spec) {
	rep1Contact := w.Base(tm.SlotRep1, tm.Live).ID(crm.ObjContact)
	request := func(kind, suffix string, body any) func(*tm.Target) apiReq {
		return func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/privacy/requests/" + w.PrivacyRequestID(x.S, kind) + suffix, body: body}
		}
	}
	specs["GET /api/v1/privacy/requests"] = []spec{{Want: tm.PrivacyOutcome, Req: path("/api/v1/privacy/requests?status=open")}}
	specs["POST /api/v1/privacy/requests"] = []spec{{Want: tm.PrivacyOutcome, Req: func(*tm.Target) apiReq {
		return apiReq{path: "/api/v1/privacy/requests", body: map[string]any{"object": "contact", "record_id": rep1Contact, "kind": "access"}}
	}}}
	specs["GET /api/v1/privacy/requests/{id}"] = []spec{{Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.Allow), Req: request("", "", nil)}}
	specs["POST /api/v1/privacy/requests/{id}/complete"] = []spec{
		{Name: "access", Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.Allow),
			Req: request(crm.RequestAccess, "/complete", map[string]string{"status": "done"})},
		// Erasing needs a fresh second factor, which no matrix session has.
		{Name: "erasure", Object: tm.ObjPrivacy, Want: tm.PersonOutcome(tm.StepUp),
			Req: request(crm.RequestErasure, "/complete", map[string]string{"status": "done"})},
	}
	specs["GET /api/v1/privacy/retention"] = []spec{{Want: tm.PrivacyOutcome, Req: path("/api/v1/privacy/retention")}}
	specs["PUT /api/v1/privacy/retention/{object}"] = []spec{{Want: tm.PrivacyStepUp, Req: func(*tm.Target) apiReq {
		return apiReq{path: "/api/v1/privacy/retention/contact", body: map[string]int{"archive_months": 0, "destroy_years": 0}}
	}}}
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		person := "/api/v1/privacy/people/" + string(o) + "/"
		specs["GET /api/v1/privacy/people/{object}/{id}/export"] = append(specs["GET /api/v1/privacy/people/{object}/{id}/export"],
			spec{Name: string(o), Object: o, Want: tm.PersonOutcome(tm.Allow), Req: recordPath(o, person, "/export", nil)},
			spec{Name: string(o) + " csv", Object: o, Want: tm.PersonOutcome(tm.Allow), Req: recordPath(o, person, "/export?format=csv", nil)})
		specs["PUT /api/v1/privacy/people/{object}/{id}/legal-hold"] = append(specs["PUT /api/v1/privacy/people/{object}/{id}/legal-hold"],
			spec{Name: string(o), Object: o, Want: tm.PersonOutcome(tm.Allow),
				Req: recordPath(o, person, "/legal-hold", func(*tm.Target) any { return map[string]string{"reason": "诉讼保全"} })})
		specs["DELETE /api/v1/privacy/people/{object}/{id}/legal-hold"] = append(specs["DELETE /api/v1/privacy/people/{object}/{id}/legal-hold"],
			spec{Name: string(o), Object: o, Want: tm.PersonOutcome(tm.Allow), Req: func(x *tm.Target) apiReq {
				w.Hold(o, x.F, x.S)
				return recordPath(o, person, "/legal-hold", nil)(x)
			}})
		// The records are not archived: unarchiving one is refused on its merits.
		specs["POST /api/v1/privacy/people/{object}/{id}/unarchive"] = append(specs["POST /api/v1/privacy/people/{object}/{id}/unarchive"],
			spec{Name: string(o), Object: o, Want: tm.PersonOutcome(tm.Conflict), Req: recordPath(o, person, "/unarchive", nil)})
		base := "/api/v1/" + collection[o] + "/"
		consent := func(*tm.Target) any {
			return map[string]string{"purpose": "newsletter", "channel": "email", "source": "matrix"}
		}
		specs["GET "+base+"{id}/consents"] = []spec{{Object: o, Want: tm.ConsentOutcome(o, false), Req: recordPath(o, base, "/consents", nil)}}
		specs["POST "+base+"{id}/consents"] = []spec{{Object: o, Want: tm.ConsentOutcome(o, true), Req: recordPath(o, base, "/consents", consent)}}
		specs["POST "+base+"{id}/consents/withdraw"] = []spec{{Object: o, Want: tm.ConsentOutcome(o, true),
			Req: recordPath(o, base, "/consents/withdraw", consent)}}
	}
}

// importSpecs classifies the import routes: uploading and the template
// need the right to create the object's records; an import is its
// creator's (an administrator sees it and may undo it, but commits or
// previews only their own).
func importSpecs(w *tm.World, specs map[string][]spec) {
	imp := func(suffix string, done bool, body any) func(*tm.Target) apiReq {
		return func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/imports/" + strconv.FormatInt(w.FreshImport(x.S, done), 10) + suffix, body: body}
		}
	}
	specs["GET /api/v1/imports"] = []spec{{Want: tm.Anyone, Req: path("/api/v1/imports")}}
	specs["GET /api/v1/imports/template"] = []spec{{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate), Req: path("/api/v1/imports/template?object=customer&format=xlsx")}}
	specs["POST /api/v1/imports"] = []spec{{Want: tm.CanDo(crm.ObjCustomer, crm.ActCreate), Req: func(*tm.Target) apiReq {
		body, ct := importUpload(`{"object":"customer"}`, "客户.csv", "名称\n"+w.ImportedName()+"\n")
		return apiReq{path: "/api/v1/imports", upload: body, contentType: ct}
	}}}
	specs["GET /api/v1/imports/{id}"] = []spec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("", false, nil)}}
	specs["GET /api/v1/imports/{id}/errors"] = []spec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow), Req: imp("/errors?format=csv", false, nil)}}
	specs["POST /api/v1/imports/{id}/preview"] = []spec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Forbidden),
		Req: imp("/preview", false, map[string]any{"owner_rule": "importer"})}}
	specs["POST /api/v1/imports/{id}/commit"] = []spec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Forbidden), Req: imp("/commit", false, nil)}}
	specs["POST /api/v1/imports/{id}/undo"] = []spec{{Object: tm.ObjImport, Want: tm.ImportOutcome(tm.Allow),
		Req: imp("/undo", true, map[string]any{"confirm": false})}}
}

// importUpload is a multipart upload body: the options part and the file.
func importUpload(options, name, file string) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("options", options)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, file)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// exportSpecs classifies the export routes: a list's export is for whoever
// reads the object and may export it, and holds exactly the records the
// list holds (the file's first column is the id); the log is everyone's
// own; a missing export is not found; tracing is for administrators.
func exportSpecs(specs map[string][]spec) {
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead, crm.ObjOpportunity} {
		p := "/api/v1/" + collection[o] + "/export"
		specs["GET "+p] = []spec{{Want: tm.ExportOutcome(o, tm.Allow), Req: path(p + "?format=csv"),
			Lists: []tm.Listing{{Key: "items", O: o, In: tm.InList}}}}
	}
	specs["GET /api/v1/follow-ups/export"] = []spec{{Want: tm.ExportOutcome(crm.ObjFollowUp, tm.Hidden),
		Req: path("/api/v1/follow-ups/export?customer_id=" + strconv.FormatInt(tm.MissingID, 10))}}
	specs["GET /api/v1/tasks/export"] = []spec{{Want: tm.ExportOutcome(crm.ObjTask, tm.Allow), Req: path("/api/v1/tasks/export?format=xlsx")}}
	// A report's file: the reports permission and the export right on
	// the object the report is about.
	specs["GET /api/v1/reports/{name}/export"] = []spec{
		{Name: "pipeline", Want: tm.ReportExportOutcome(crm.ObjOpportunity), Req: path("/api/v1/reports/pipeline/export?format=xlsx")},
		{Name: "activity", Want: tm.ReportExportOutcome(crm.ObjFollowUp), Req: path("/api/v1/reports/activity/export")},
		{Name: "pool", Want: tm.ReportExportOutcome(crm.ObjCustomer), Req: path("/api/v1/reports/pool/export")},
	}
	specs["GET /api/v1/exports"] = []spec{{Want: tm.Anyone, Req: path("/api/v1/exports")}}
	specs["GET /api/v1/exports/{id}/download"] = []spec{{Want: func(tm.ActorKey, tm.Slot) tm.Outcome { return tm.Hidden },
		Req: path("/api/v1/exports/" + strconv.FormatInt(tm.MissingID, 10) + "/download")}}
	specs["POST /api/v1/exports/trace"] = []spec{{Want: tm.Admins, Req: func(*tm.Target) apiReq {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "leaked.csv")
		io.WriteString(fw, "name,phone\nAcme Trading Co,13800000000\n")
		mw.Close()
		return apiReq{path: "/api/v1/exports/trace", upload: buf.Bytes(), contentType: mw.FormDataContentType()}
	}}}
}

// exportedIDs reads an exported CSV (it starts with a byte-order mark):
// the ids of its first column.
func exportedIDs(body []byte) (map[int64]bool, bool) {
	rest, ok := bytes.CutPrefix(body, []byte("\xEF\xBB\xBF"))
	if !ok {
		return nil, false
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, false
	}
	out := map[int64]bool{}
	for _, row := range rows {
		if id, err := strconv.ParseInt(row[0], 10, 64); err == nil {
			out[id] = true
		}
	}
	return out, true
}

// duplicateSpecs classifies the duplicate review per object it scans:
// pairs and merges are listed to readers (within their scope: an empty
// list is still an answer); a scan is for administrators; comparing,
// merging, dismissing and undoing need the rights a merge needs
// (tm.MergeOutcome).
func duplicateSpecs(w *tm.World, specs map[string][]spec) {
	for _, o := range service.DuplicateObjects {
		c := collection[o]
		add := func(key string, sp spec) {
			sp.Name = c
			specs[key] = append(specs[key], sp)
		}
		add("GET /api/v1/duplicates/{object}", spec{Want: tm.CanDo(o, crm.ActRead), Req: path("/api/v1/duplicates/" + c + "?min_score=0.5&limit=50")})
		add("GET /api/v1/merges/{object}", spec{Want: tm.CanDo(o, crm.ActRead), Req: path("/api/v1/merges/" + c)})
		add("POST /api/v1/duplicates/{object}/scan", spec{Want: tm.Admins, Req: path("/api/v1/duplicates/" + c + "/scan")})
		// A record compared with itself: seen as a merge would see it.
		add("GET /api/v1/duplicates/{object}/compare", spec{Object: o, Want: tm.MergeOutcome(o, tm.BadRef), Req: func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/duplicates/" + c + "/compare?survivor=" + id(x, o) + "&merged=" + id(x, o)}
		}})
		add("POST /api/v1/duplicates/{object}/dismiss", spec{Object: o, Want: tm.DismissOutcome(o), Req: func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/duplicates/" + c + "/dismiss", body: map[string]int64{"id_a": x.F.ID(o), "id_b": tm.MissingID}}
		}})
		// The missing record would be merged into itself: refused as such.
		specs["POST /api/v1/"+c+"/merge"] = []spec{{Object: o, Want: tm.MergeOutcome(o, tm.Invalid), Req: func(x *tm.Target) apiReq {
			survivor, merged := w.MergePair(x, o)
			return apiReq{path: "/api/v1/" + c + "/merge", body: map[string]any{"survivor_id": survivor, "merged_id": merged,
				"survivor_version": version(x, o), "merged_version": w.Version(o, merged)}}
		}, Mutates: true}}
		add("POST /api/v1/merges/{id}/undo", spec{Object: o, Want: tm.UndoMergeOutcome(o), Req: func(x *tm.Target) apiReq {
			return apiReq{path: "/api/v1/merges/" + strconv.FormatInt(w.FreshMerge(x, o), 10) + "/undo"}
		}, Mutates: true})
	}
}
