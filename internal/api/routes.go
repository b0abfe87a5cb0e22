package api

import (
	"net/http"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// Register adds every API route to mux, and a JSON 404 for the rest of /api/.
func (api *API) Register(mux *http.ServeMux) {
	doc, err := buildOpenAPI(api.Routes())
	if err != nil {
		// Only a broken embedded example file gets here; the tests catch it.
		panic(err)
	}
	api.openapi = doc
	httpx.Register(mux, api.Routes())
	// Anything else under /api/ is a JSON 404, not the web UI's HTML page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.problem(w, r, nil, errNoRoute)
	})
}

// Routes lists every API route: the ones written out here and the standard
// routes of each record the registry describes (recordRoutes). This is the
// API's whole surface; the authorisation matrix test (matrix_test.go)
// classifies each one and the OpenAPI document describes each one.
func (api *API) Routes() []httpx.Route {
	return append([]httpx.Route{
		{Method: "GET", Pattern: OpenAPIPath, Handler: api.serveOpenAPI, Doc: httpx.Doc{Summary: "This document (OpenAPI 3.1)", Auth: httpx.AuthNone}},
		{Method: "GET", Pattern: "/api/v1/me", Handler: api.authed(api.me), Doc: httpx.Doc{Response: crm.User{}}},
		{Method: "GET", Pattern: "/api/v1/directory", Handler: api.authed(api.directory), Doc: httpx.Doc{Response: service.Directory{}}},
		{Method: "GET", Pattern: "/api/v1/search", Handler: api.authed(api.search()), Doc: httpx.Doc{Response: service.SearchResults{}}},
		{Method: "GET", Pattern: "/api/v1/notifications", Handler: api.authed(api.listNotifications), Doc: httpx.Doc{Summary: "Your notifications, newest first (?cursor=&limit=), with the unread count", Response: service.NotificationPage{}}},
		{Method: "POST", Pattern: "/api/v1/notifications/{id}/read", Handler: api.authed(api.readNotification), Doc: httpx.Doc{Summary: "Mark one of your notifications read", Status: http.StatusNoContent}},
		{Method: "POST", Pattern: "/api/v1/notifications/read-all", Handler: api.authed(api.readAllNotifications), Doc: httpx.Doc{Summary: "Mark all your notifications read", Response: markedRead{}, Status: http.StatusOK}},
		{Method: "GET", Pattern: "/api/v1/notification-preferences", Handler: api.authed(api.notificationPrefs), Doc: httpx.Doc{Summary: "Your notification switches per event and channel", Response: itemsOf[crm.NotificationPref]{}}},
		{Method: "PUT", Pattern: "/api/v1/notification-preferences", Handler: api.authed(api.saveNotificationPrefs), Doc: httpx.Doc{Summary: "Set some of your notification switches", Request: itemsOf[crm.NotificationPref]{}, Response: itemsOf[crm.NotificationPref]{}}},
		{Method: "GET", Pattern: "/api/v1/approvals", Handler: api.authed(api.listApprovals), Doc: httpx.Doc{Response: service.Approvals{}}},
		{Method: "GET", Pattern: "/api/v1/approvals/{id}", Handler: api.authed(api.getApproval), Doc: httpx.Doc{Response: crm.ApprovalRequest{}}},
		{Method: "POST", Pattern: "/api/v1/approvals/{id}/decision", Handler: api.authed(api.decideApproval), Doc: httpx.Doc{StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/approval-policies", Handler: api.authed(api.listPolicies), Doc: httpx.Doc{Response: itemsOf[crm.ApprovalPolicy]{}}},
		{Method: "PUT", Pattern: "/api/v1/approval-policies/{kind}", Handler: api.authed(api.savePolicy), Doc: httpx.Doc{StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/audit-events", Handler: api.authed(api.auditTrail), Doc: httpx.Doc{Response: service.AuditPage{}}},
		{Method: "GET", Pattern: "/api/v1/exposure", Handler: api.authed(api.exposure), Doc: httpx.Doc{Response: service.ExposureReport{}}},
		{Method: "GET", Pattern: "/api/v1/reports/funnel", Handler: api.authed(report(api, api.svc.FunnelReport)), Doc: reportDoc(service.FunnelReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/pipeline", Handler: api.authed(report(api, api.svc.PipelineReport)), Doc: reportDoc(service.PipelineReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/forecast", Handler: api.authed(report(api, api.svc.ForecastReport)), Doc: reportDoc(service.ForecastReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/win-rate", Handler: api.authed(report(api, api.svc.WinRateReport)), Doc: reportDoc(service.WinRateReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/cycle", Handler: api.authed(report(api, api.svc.CycleReport)), Doc: reportDoc(service.CycleReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/leaderboard", Handler: api.authed(report(api, api.svc.LeaderboardReport)), Doc: reportDoc(service.LeaderboardReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/trends", Handler: api.authed(report(api, api.svc.TrendsReport)), Doc: reportDoc(service.TrendsReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/activity", Handler: api.authed(report(api, api.svc.AdoptionReport)), Doc: reportDoc(service.AdoptionReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/pool", Handler: api.authed(report(api, api.svc.PoolReport)), Doc: reportDoc(service.PoolReport{})},
		{Method: "GET", Pattern: "/api/v1/reports/{name}/export", Handler: api.authed(api.exportReport), Doc: httpx.Doc{
			Summary: "A report as a CSV or XLSX file (format=csv|xlsx, the report's filters), watermarked and in the export log", Query: crm.ReportFilter{}, File: true}},
		{Method: "GET", Pattern: "/api/v1/quality", Handler: api.authed(api.quality), Doc: httpx.Doc{Response: service.QualityReport{}}},
		{Method: "GET", Pattern: "/api/v1/quality/records", Handler: api.authed(api.qualityRecords), Doc: httpx.Doc{Response: service.QualityRecords{}}},
		{Method: "GET", Pattern: "/api/v1/quality/settings", Handler: api.authed(api.qualitySettings), Doc: httpx.Doc{Response: crm.QualitySettings{}}},
		{Method: "PUT", Pattern: "/api/v1/quality/settings", Handler: api.authed(api.saveQualitySettings), Doc: httpx.Doc{Request: crm.QualitySettings{}, Response: crm.QualitySettings{}}},
		{Method: "POST", Pattern: "/api/v1/quality/fixups", Handler: api.authed(api.pushFixups), Doc: httpx.Doc{Response: service.FixupRun{}, Status: http.StatusOK}},
		{Method: "GET", Pattern: "/api/v1/quality/campaigns", Handler: api.authed(api.campaigns), Doc: httpx.Doc{Response: itemsOf[service.CampaignReport]{}}},
		{Method: "POST", Pattern: "/api/v1/quality/campaigns", Handler: api.authed(api.startCampaign), Doc: httpx.Doc{Request: crm.CampaignStart{}, Response: crm.Campaign{}, Status: http.StatusCreated}},
		{Method: "GET", Pattern: "/api/v1/quality/campaigns/{id}", Handler: api.authed(api.campaign), Doc: httpx.Doc{Response: service.CampaignReport{}}},
		{Method: "GET", Pattern: "/api/v1/quality/campaigns/{id}/records", Handler: api.authed(api.campaignRecords), Doc: httpx.Doc{Response: service.CampaignRecords{}}},
		{Method: "POST", Pattern: "/api/v1/quality/campaigns/{id}/confirm", Handler: api.authed(api.confirmCampaignReview), Doc: httpx.Doc{Request: ConfirmInput{}, Response: ConfirmResult{}, Status: http.StatusOK}},
		{Method: "GET", Pattern: "/api/v1/duplicates/{object}", Handler: api.authed(api.duplicates), Doc: httpx.Doc{Summary: "The latest scan's open candidate pairs within your scope, with clusters", Response: DuplicatesPage{}}},
		{Method: "POST", Pattern: "/api/v1/duplicates/{object}/scan", Handler: api.authed(api.scanDuplicates), Doc: httpx.Doc{Summary: "Ask for a duplicate scan of the object (administrators): the background job starts it within a minute", Response: map[string]string{}, Status: http.StatusAccepted}},
		{Method: "POST", Pattern: "/api/v1/duplicates/{object}/dismiss", Handler: api.authed(api.dismissDuplicate), Doc: httpx.Doc{Summary: "Mark a candidate pair as not a duplicate", Request: DismissRequest{}, Status: http.StatusNoContent}},
		{Method: "GET", Pattern: "/api/v1/duplicates/{object}/compare", Handler: api.authed(api.compareDuplicates), Doc: httpx.Doc{Summary: "Compare two records before merging them (?survivor=&merged=)", Response: service.MergePreview{}}},
		{Method: "GET", Pattern: "/api/v1/merges/{object}", Handler: api.authed(api.merges), Doc: httpx.Doc{Summary: "The object's merges, newest first", Response: itemsOf[crm.Merge]{}}},
		{Method: "POST", Pattern: "/api/v1/merges/{id}/undo", Handler: api.authed(api.undoMerge), Doc: httpx.Doc{Summary: "Undo a merge", Response: service.MergeUndo{}, Status: http.StatusOK}},
		{Method: "GET", Pattern: "/api/v1/incidents", Handler: api.authed(api.incidents), Doc: httpx.Doc{Response: itemsOf[crm.Incident]{}}},
		{Method: "POST", Pattern: "/api/v1/incidents", Handler: api.authed(api.createIncident()), Doc: httpx.Doc{Status: http.StatusCreated}},
		{Method: "GET", Pattern: "/api/v1/incidents/{id}", Handler: api.authed(api.getIncident()), Doc: httpx.Doc{Response: crm.Incident{}}},
		{Method: "PATCH", Pattern: "/api/v1/incidents/{id}", Handler: api.authed(api.updateIncident())},
		{Method: "POST", Pattern: "/api/v1/incidents/{id}/timeline", Handler: api.authed(api.addIncidentEntry), Doc: httpx.Doc{Status: http.StatusCreated}},
		{Method: "PUT", Pattern: "/api/v1/incidents/{id}/exposure-query", Handler: api.authed(api.linkIncidentExposure())},
		{Method: "GET", Pattern: "/api/v1/incidents/{id}/exposure", Handler: api.authed(api.incidentExposure), Doc: httpx.Doc{Response: service.ExposureReport{}}},
		{Method: "GET", Pattern: "/api/v1/security-alerts", Handler: api.authed(api.securityAlerts), Doc: httpx.Doc{Response: itemsOf[crm.SecurityAlert]{}}},
		{Method: "POST", Pattern: "/api/v1/security-alerts/{id}/review", Handler: api.authed(api.reviewAlert), Doc: httpx.Doc{Status: http.StatusNoContent}},
		{Method: "GET", Pattern: "/api/v1/alert-rules", Handler: api.authed(api.alertRules), Doc: httpx.Doc{Response: itemsOf[service.AlertRule]{}}},
		{Method: "PUT", Pattern: "/api/v1/alert-rules/{key}", Handler: api.authed(api.saveAlertRule), Doc: httpx.Doc{Status: http.StatusNoContent, StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/shares", Handler: api.authed(api.myGrants), Doc: httpx.Doc{Response: itemsOf[crm.RecordShare]{}}},
		{Method: "POST", Pattern: "/api/v1/shares/revoke", Handler: api.authed(api.revokeShares), Doc: httpx.Doc{Status: http.StatusNoContent}},
		{Method: "POST", Pattern: "/api/v1/access-requests", Handler: api.authed(api.requestAccess), Doc: httpx.Doc{Request: service.AccessRequest{}, Status: http.StatusAccepted, Approval: true}},
		{Method: "GET", Pattern: "/api/v1/customers/{id}/shares", Handler: api.authed(api.listShares(crm.ObjCustomer)), Doc: httpx.Doc{Response: itemsOf[crm.RecordShare]{}}},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/shares", Handler: api.authed(api.createShare(crm.ObjCustomer)), Doc: httpx.Doc{Request: service.ShareInput{}, Status: http.StatusCreated}},
		{Method: "GET", Pattern: "/api/v1/leads/{id}/shares", Handler: api.authed(api.listShares(crm.ObjLead)), Doc: httpx.Doc{Response: itemsOf[crm.RecordShare]{}}},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/shares", Handler: api.authed(api.createShare(crm.ObjLead)), Doc: httpx.Doc{Request: service.ShareInput{}, Status: http.StatusCreated}},
		{Method: "POST", Pattern: "/api/v1/users/{id}/job-preview", Handler: api.authed(api.jobPreview), Doc: httpx.Doc{Response: service.JobChangePreview{}}},
		{Method: "POST", Pattern: "/api/v1/users/{id}/job-change", Handler: api.authed(api.jobChange), Doc: httpx.Doc{StepUp: httpx.StepUpSometimes}},
		{Method: "DELETE", Pattern: "/api/v1/users/{id}/tokens/{token}", Handler: api.authed(api.revokeUserToken)},
		{Method: "GET", Pattern: "/api/v1/access-review", Handler: api.authed(api.accessReview), Doc: httpx.Doc{Response: service.AccessReview{}}},
		{Method: "POST", Pattern: "/api/v1/access-review/confirm", Handler: api.authed(api.confirmReview), Doc: httpx.Doc{Status: http.StatusNoContent}},
		{Method: "GET", Pattern: "/api/v1/users/{id}/handover", Handler: api.authed(api.handover)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/offboard", Handler: api.authed(api.offboard), Doc: httpx.Doc{StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/users/{id}/activity", Handler: api.authed(api.activity), Doc: httpx.Doc{Response: service.ActivityReport{}}},

		{Method: "GET", Pattern: "/api/v1/privacy/requests", Handler: api.authed(api.privacyRequests), Doc: httpx.Doc{Response: service.PrivacyRequestPage{}}},
		{Method: "POST", Pattern: "/api/v1/privacy/requests", Handler: api.authed(api.filePrivacyRequest), Doc: httpx.Doc{Status: http.StatusCreated}},
		{Method: "GET", Pattern: "/api/v1/privacy/requests/{id}", Handler: api.authed(api.privacyRequest), Doc: httpx.Doc{Response: crm.PrivacyRequest{}}},
		{Method: "POST", Pattern: "/api/v1/privacy/requests/{id}/complete", Handler: api.authed(api.completePrivacyRequest), Doc: httpx.Doc{StepUp: httpx.StepUpSometimes}},
		{Method: "GET", Pattern: "/api/v1/privacy/people/{object}/{id}/export", Handler: api.authed(api.exportPerson)},
		{Method: "PUT", Pattern: "/api/v1/privacy/people/{object}/{id}/legal-hold", Handler: api.authed(api.setLegalHold), Doc: httpx.Doc{Status: http.StatusNoContent}},
		{Method: "DELETE", Pattern: "/api/v1/privacy/people/{object}/{id}/legal-hold", Handler: api.authed(api.clearLegalHold)},
		{Method: "POST", Pattern: "/api/v1/privacy/people/{object}/{id}/unarchive", Handler: api.authed(api.unarchive), Doc: httpx.Doc{Status: http.StatusNoContent}},
		{Method: "GET", Pattern: "/api/v1/privacy/retention", Handler: api.authed(api.retentionPolicies), Doc: httpx.Doc{Response: itemsOf[crm.RetentionPolicy]{}}},
		{Method: "PUT", Pattern: "/api/v1/privacy/retention/{object}", Handler: api.authed(api.saveRetentionPolicy), Doc: httpx.Doc{Status: http.StatusNoContent, StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}/consents", Handler: api.authed(api.consents(crm.ObjContact)), Doc: httpx.Doc{Response: itemsOf[crm.Consent]{}}},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/consents", Handler: api.authed(api.grantConsent(crm.ObjContact)), Doc: httpx.Doc{Status: http.StatusOK}},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/consents/withdraw", Handler: api.authed(api.withdrawConsent(crm.ObjContact))},
		{Method: "GET", Pattern: "/api/v1/leads/{id}/consents", Handler: api.authed(api.consents(crm.ObjLead)), Doc: httpx.Doc{Response: itemsOf[crm.Consent]{}}},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/consents", Handler: api.authed(api.grantConsent(crm.ObjLead)), Doc: httpx.Doc{Status: http.StatusOK}},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/consents/withdraw", Handler: api.authed(api.withdrawConsent(crm.ObjLead))},

		{Method: "GET", Pattern: "/api/v1/tokens", Handler: api.authed(api.listTokens), Doc: httpx.Doc{Response: itemsOf[crm.APIToken]{}, Auth: httpx.AuthSession}},
		{Method: "POST", Pattern: "/api/v1/tokens", Handler: api.authed(api.createToken), Doc: httpx.Doc{Request: service.TokenInput{}, Status: http.StatusCreated, Auth: httpx.AuthSession}},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Handler: api.authed(api.revokeToken), Doc: httpx.Doc{Auth: httpx.AuthSession}},

		{Method: "GET", Pattern: "/api/v1/sessions", Handler: api.authed(api.listSessions), Doc: httpx.Doc{Response: itemsOf[service.SessionInfo]{}, Auth: httpx.AuthSession}},
		{Method: "DELETE", Pattern: "/api/v1/sessions/{id}", Handler: api.authed(api.action(api.svc.EndSession)), Doc: httpx.Doc{Auth: httpx.AuthSession, StepUp: httpx.StepUpSometimes}},
		{Method: "DELETE", Pattern: "/api/v1/users/{id}/sessions", Handler: api.authed(api.endUserSessions), Doc: httpx.Doc{Response: map[string]int{}, Status: http.StatusOK, Auth: httpx.AuthSession, StepUp: httpx.StepUpSometimes}},
		{Method: "POST", Pattern: "/api/v1/users/{id}/mfa/reset", Handler: api.authed(api.action(api.svc.ResetUserMFA)), Doc: httpx.Doc{Status: http.StatusNoContent, StepUp: httpx.StepUpAlways}},
		{Method: "GET", Pattern: "/api/v1/account/mfa", Handler: api.enrolling(api.mfaStatus), Doc: httpx.Doc{Response: service.MFAStatus{}, Auth: httpx.AuthSession}},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp", Handler: api.enrolling(api.beginTOTP), Doc: httpx.Doc{Status: http.StatusCreated, Auth: httpx.AuthSession}},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp/confirm", Handler: api.enrolling(api.confirmTOTP()), Doc: httpx.Doc{Request: codeRequest{}, Auth: httpx.AuthSession, StepUp: httpx.StepUpSometimes}},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp/disable", Handler: api.authed(api.disableTOTP()), Doc: httpx.Doc{Request: codeRequest{}, Status: http.StatusNoContent, Auth: httpx.AuthSession}},
		{Method: "POST", Pattern: "/api/v1/account/mfa/recovery-codes", Handler: api.authed(api.regenerateRecoveryCodes()), Doc: httpx.Doc{Request: codeRequest{}, Auth: httpx.AuthSession}},
		{Method: "POST", Pattern: "/api/v1/account/step-up", Handler: api.authed(api.stepUp()), Doc: httpx.Doc{Request: codeRequest{}, Status: http.StatusNoContent, Auth: httpx.AuthSession}},

		{Method: "GET", Pattern: "/api/v1/customers", Handler: api.authed(api.listCustomers)},
		{Method: "POST", Pattern: "/api/v1/customers", Handler: api.authed(api.createCustomer), Doc: httpx.Doc{Request: service.CustomerInput{}}},
		{Method: "GET", Pattern: "/api/v1/customers/{id}", Handler: api.authed(api.getCustomer)},
		{Method: "PATCH", Pattern: "/api/v1/customers/{id}", Handler: api.authed(api.updateCustomer), Doc: httpx.Doc{Request: crm.CustomerUpdate{}, Approval: true}},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/claim", Handler: api.authed(api.action(api.svc.ClaimCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/release", Handler: api.authed(api.action(api.svc.ReleaseCustomer))},
		{Method: "GET", Pattern: "/api/v1/pool", Handler: api.authed(api.listPool), Doc: httpx.Doc{Response: service.CustomerPage{}}},
		{Method: "GET", Pattern: "/api/v1/recycle-bin/customers", Handler: api.authed(api.listRecycled), Doc: httpx.Doc{Response: service.CustomerPage{}}},
		{Method: "GET", Pattern: "/api/v1/recycle-bin/{collection}", Handler: api.authed(api.recycleBin), Doc: httpx.Doc{Response: itemsOf[crm.DeletedRecord]{}}},

		{Method: "GET", Pattern: "/api/v1/contacts", Handler: api.authed(api.listContacts)},
		{Method: "POST", Pattern: "/api/v1/contacts", Handler: api.authed(api.createContact), Doc: httpx.Doc{Request: crm.ContactFields{}}},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}", Handler: api.authed(api.getContact)},
		{Method: "PATCH", Pattern: "/api/v1/contacts/{id}", Handler: api.authed(api.updateContact), Doc: httpx.Doc{Request: crm.ContactUpdate{}, Approval: true}},

		{Method: "GET", Pattern: "/api/v1/customers/{id}/follow-ups", Handler: api.authed(api.listFollowUps), Doc: httpx.Doc{Response: itemsOf[crm.FollowUp]{}}},
		{Method: "GET", Pattern: "/api/v1/follow-ups", Handler: api.authed(api.listRecordFollowUps)},
		{Method: "POST", Pattern: "/api/v1/follow-ups", Handler: api.authed(api.createFollowUp), Doc: httpx.Doc{Request: crm.FollowUpInput{}}},
		{Method: "GET", Pattern: "/api/v1/follow-ups/{id}", Handler: api.authed(api.getFollowUp())},
		{Method: "PATCH", Pattern: "/api/v1/follow-ups/{id}", Handler: api.authed(api.updateFollowUp()), Doc: httpx.Doc{Request: crm.FollowUpUpdate{}}},

		{Method: "GET", Pattern: "/api/v1/leads", Handler: api.authed(api.listLeads())},
		{Method: "POST", Pattern: "/api/v1/leads", Handler: api.authed(api.createLead()), Doc: httpx.Doc{Request: crm.LeadFields{}}},
		{Method: "GET", Pattern: "/api/v1/leads/{id}", Handler: api.authed(api.getLead())},
		{Method: "PATCH", Pattern: "/api/v1/leads/{id}", Handler: api.authed(api.updateLead()), Doc: httpx.Doc{Request: crm.LeadUpdate{}, Approval: true}},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/convert", Handler: api.authed(api.convertLead()), Doc: httpx.Doc{Request: crm.LeadConversion{}, Record: true}},
		{Method: "GET", Pattern: "/api/v1/stages", Handler: api.authed(api.listStages()), Doc: httpx.Doc{Response: itemsOf[crm.Stage]{}}},
		{Method: "POST", Pattern: "/api/v1/stages", Handler: api.authed(api.createStage()), Doc: httpx.Doc{Request: crm.Stage{}, Status: http.StatusCreated}},
		{Method: "PUT", Pattern: "/api/v1/stages/{id}", Handler: api.authed(api.updateStage()), Doc: httpx.Doc{Request: crm.Stage{}}},
		{Method: "GET", Pattern: "/api/v1/stages/{id}/criteria", Handler: api.authed(api.stageCriteria()), Doc: httpx.Doc{Summary: "What an opportunity needs before it moves past this stage (an open one) or into it (a won one)", Response: crm.StageCriteria{}}},
		{Method: "PUT", Pattern: "/api/v1/stages/{id}/criteria", Handler: api.authed(api.saveStageCriteria()), Doc: httpx.Doc{Summary: "Replace the stage's criteria (administrators)", Request: crm.StageCriteria{}, Response: crm.StageCriteria{}}},
		{Method: "GET", Pattern: "/api/v1/contracts", Handler: api.authed(api.listContracts())},
		{Method: "POST", Pattern: "/api/v1/contracts", Handler: api.authed(api.createContract()), Doc: httpx.Doc{Request: crm.ContractFields{}}},
		{Method: "GET", Pattern: "/api/v1/contracts/{id}", Handler: api.authed(api.getContract())},
		{Method: "PATCH", Pattern: "/api/v1/contracts/{id}", Handler: api.authed(api.updateContract()), Doc: httpx.Doc{Request: crm.ContractUpdate{}}},

		{Method: "GET", Pattern: "/api/v1/opportunities", Handler: api.authed(api.listOpportunities())},
		{Method: "POST", Pattern: "/api/v1/opportunities", Handler: api.authed(api.createOpportunity()), Doc: httpx.Doc{Request: crm.OpportunityFields{}}},
		{Method: "GET", Pattern: "/api/v1/opportunities/totals", Handler: api.authed(api.opportunityTotals), Doc: httpx.Doc{Summary: "Count, total and weighted total per stage and currency (the list's filters apply; no sums when amounts are hidden from you)", Response: service.BoardTotals{}}},
		{Method: "GET", Pattern: "/api/v1/team", Handler: api.authed(api.team), Doc: httpx.Doc{Summary: "Per rep in your scope: overdue and due-today follow-ups, overdue tasks, stalled opportunities (owner_id=, department_id=)", Response: service.TeamSummary{}}},
		{Method: "GET", Pattern: "/api/v1/opportunities/{id}", Handler: api.authed(api.getOpportunity()), Doc: httpx.Doc{Response: opportunityDetail{}}},
		{Method: "PATCH", Pattern: "/api/v1/opportunities/{id}", Handler: api.authed(api.updateOpportunity()), Doc: httpx.Doc{Request: crm.OpportunityUpdate{}, Approval: true}},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/stage", Handler: api.authed(api.moveOpportunity()), Doc: httpx.Doc{Request: crm.StageMove{}, Record: true, Approval: true}},
		{Method: "GET", Pattern: "/api/v1/tasks", Handler: api.authed(api.listTasks())},
		{Method: "POST", Pattern: "/api/v1/tasks", Handler: api.authed(api.createTask()), Doc: httpx.Doc{Request: crm.TaskFields{}}},
		{Method: "GET", Pattern: "/api/v1/tasks/{id}", Handler: api.authed(api.getTask())},
		{Method: "PATCH", Pattern: "/api/v1/tasks/{id}", Handler: api.authed(api.updateTask()), Doc: httpx.Doc{Request: crm.TaskUpdate{}}},
		{Method: "POST", Pattern: "/api/v1/tasks/{id}/done", Handler: api.authed(api.completeTask())},
		{Method: "POST", Pattern: "/api/v1/tasks/{id}/reopen", Handler: api.authed(api.reopenTask())},

		{Method: "GET", Pattern: "/api/v1/imports", Handler: api.authed(api.listImports), Doc: httpx.Doc{Summary: "List your imports (everyone's for an administrator)", Response: itemsOf[crm.Import]{}}},
		{Method: "POST", Pattern: "/api/v1/imports", Handler: api.authed(api.uploadImport), Doc: httpx.Doc{Summary: "Upload a file to import: a dry run (preview)",
			Request: ImportUpload{}, Multipart: true, Response: service.ImportPreview{}, Status: http.StatusCreated}},
		{Method: "GET", Pattern: "/api/v1/imports/template", Handler: api.authed(api.importTemplate), Doc: httpx.Doc{Summary: "Download an object's import template (CSV or XLSX)", File: true}},
		{Method: "GET", Pattern: "/api/v1/imports/{id}", Handler: api.authed(api.getImport), Doc: httpx.Doc{Summary: "An import's status, counts and progress", Response: ImportStatus{}}},
		{Method: "POST", Pattern: "/api/v1/imports/{id}/preview", Handler: api.authed(withID(api, api.repreviewImport)), Doc: httpx.Doc{Summary: "Preview the import again with other choices",
			Request: crm.ImportOptions{}, Response: service.ImportPreview{}}},
		{Method: "POST", Pattern: "/api/v1/imports/{id}/commit", Handler: api.authed(api.commitImport), Doc: httpx.Doc{Summary: "Commit the import as a job (or file it for approval)",
			Response: crm.Import{}, Status: http.StatusAccepted}},
		{Method: "GET", Pattern: "/api/v1/imports/{id}/errors", Handler: api.authed(api.importErrors), Doc: httpx.Doc{Summary: "The import's problem rows (JSON, or ?format=csv|xlsx as a file)", Response: ImportErrors{}}},
		{Method: "POST", Pattern: "/api/v1/imports/{id}/undo", Handler: api.authed(withID(api, api.undoImport)), Doc: httpx.Doc{Summary: "Undo the import: its records to the recycle bin",
			Request: undoRequest{}, Response: service.ImportUndo{}}},

		{Method: "GET", Pattern: "/api/v1/exports", Handler: api.authed(api.listExports), Doc: httpx.Doc{Summary: "The export log (everyone's for administrators and auditors)", Response: itemsOf[crm.Export]{}}},
		{Method: "GET", Pattern: "/api/v1/exports/{id}/download", Handler: api.authed(api.downloadExport), Doc: httpx.Doc{Summary: "Download an approved export's file (its requester, once)", File: true}},
		{Method: "POST", Pattern: "/api/v1/exports/trace", Handler: api.authed(api.traceFile), Doc: httpx.Doc{Summary: "Trace a file back to the export that made it (administrators)",
			Request: traceUpload{}, Multipart: true, Response: crm.TraceResult{}, Status: http.StatusOK}},

		{Method: "GET", Pattern: "/api/v1/custom-fields", Handler: api.authed(api.listCustomFields()), Doc: httpx.Doc{Response: itemsOf[crm.CustomField]{}}},
		{Method: "POST", Pattern: "/api/v1/custom-fields", Handler: api.authed(api.createCustomField()), Doc: httpx.Doc{Request: crm.CustomField{}, Status: http.StatusCreated}},
		{Method: "PUT", Pattern: "/api/v1/custom-fields/{id}", Handler: api.authed(api.updateCustomField()), Doc: httpx.Doc{Request: crm.CustomField{}}},
	}, api.standardRoutes()...)
}

// standardRoutes are the routes every record of the registry's objects has
// (recordRoutes).
func (api *API) standardRoutes() []httpx.Route {
	var out []httpx.Route
	for _, o := range crm.Objects {
		out = append(out, api.recordRoutes(o)...)
	}
	return out
}
