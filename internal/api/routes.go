package api

import (
	"net/http"

	"custos/internal/crm"
	"custos/internal/httpx"
)

// Register adds every API route to mux, and a JSON 404 for the rest of /api/.
func (api *API) Register(mux *http.ServeMux) {
	httpx.Register(mux, api.Routes())
	// Anything else under /api/ is a JSON 404, not the web UI's HTML page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.problem(w, r, nil, errNoRoute)
	})
}

// Routes lists every API route. This list is the API's whole surface; the
// authorisation matrix test (matrix_test.go) classifies each one.
func (api *API) Routes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/me", Handler: api.authed(api.me)},
		{Method: "GET", Pattern: "/api/v1/directory", Handler: api.authed(api.directory)},
		{Method: "GET", Pattern: "/api/v1/search", Handler: api.authed(api.search())},
		{Method: "GET", Pattern: "/api/v1/approvals", Handler: api.authed(api.listApprovals)},
		{Method: "GET", Pattern: "/api/v1/approvals/{id}", Handler: api.authed(api.getApproval)},
		{Method: "POST", Pattern: "/api/v1/approvals/{id}/decision", Handler: api.authed(api.decideApproval)},
		{Method: "GET", Pattern: "/api/v1/approval-policies", Handler: api.authed(api.listPolicies)},
		{Method: "PUT", Pattern: "/api/v1/approval-policies/{kind}", Handler: api.authed(api.savePolicy)},
		{Method: "GET", Pattern: "/api/v1/audit-events", Handler: api.authed(api.auditTrail)},
		{Method: "GET", Pattern: "/api/v1/exposure", Handler: api.authed(api.exposure)},
		{Method: "GET", Pattern: "/api/v1/incidents", Handler: api.authed(api.incidents)},
		{Method: "POST", Pattern: "/api/v1/incidents", Handler: api.authed(api.createIncident())},
		{Method: "GET", Pattern: "/api/v1/incidents/{id}", Handler: api.authed(api.getIncident())},
		{Method: "PATCH", Pattern: "/api/v1/incidents/{id}", Handler: api.authed(api.updateIncident())},
		{Method: "POST", Pattern: "/api/v1/incidents/{id}/timeline", Handler: api.authed(api.addIncidentEntry)},
		{Method: "PUT", Pattern: "/api/v1/incidents/{id}/exposure-query", Handler: api.authed(api.linkIncidentExposure())},
		{Method: "GET", Pattern: "/api/v1/incidents/{id}/exposure", Handler: api.authed(api.incidentExposure)},
		{Method: "GET", Pattern: "/api/v1/security-alerts", Handler: api.authed(api.securityAlerts)},
		{Method: "POST", Pattern: "/api/v1/security-alerts/{id}/review", Handler: api.authed(api.reviewAlert)},
		{Method: "GET", Pattern: "/api/v1/alert-rules", Handler: api.authed(api.alertRules)},
		{Method: "PUT", Pattern: "/api/v1/alert-rules/{key}", Handler: api.authed(api.saveAlertRule)},
		{Method: "GET", Pattern: "/api/v1/shares", Handler: api.authed(api.myGrants)},
		{Method: "POST", Pattern: "/api/v1/shares/revoke", Handler: api.authed(api.revokeShares)},
		{Method: "GET", Pattern: "/api/v1/customers/{id}/shares", Handler: api.authed(api.listShares(crm.ObjCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/shares", Handler: api.authed(api.createShare(crm.ObjCustomer))},
		{Method: "GET", Pattern: "/api/v1/leads/{id}/shares", Handler: api.authed(api.listShares(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/shares", Handler: api.authed(api.createShare(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/users/{id}/job-preview", Handler: api.authed(api.jobPreview)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/job-change", Handler: api.authed(api.jobChange)},
		{Method: "DELETE", Pattern: "/api/v1/users/{id}/tokens/{token}", Handler: api.authed(api.revokeUserToken)},
		{Method: "GET", Pattern: "/api/v1/access-review", Handler: api.authed(api.accessReview)},
		{Method: "POST", Pattern: "/api/v1/access-review/confirm", Handler: api.authed(api.confirmReview)},
		{Method: "GET", Pattern: "/api/v1/users/{id}/handover", Handler: api.authed(api.handover)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/offboard", Handler: api.authed(api.offboard)},
		{Method: "GET", Pattern: "/api/v1/users/{id}/activity", Handler: api.authed(api.activity)},

		{Method: "GET", Pattern: "/api/v1/tokens", Handler: api.authed(api.listTokens)},
		{Method: "POST", Pattern: "/api/v1/tokens", Handler: api.authed(api.createToken)},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Handler: api.authed(api.revokeToken)},

		{Method: "GET", Pattern: "/api/v1/sessions", Handler: api.authed(api.listSessions)},
		{Method: "DELETE", Pattern: "/api/v1/sessions/{id}", Handler: api.authed(api.action(api.svc.EndSession))},
		{Method: "DELETE", Pattern: "/api/v1/users/{id}/sessions", Handler: api.authed(api.endUserSessions)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/mfa/reset", Handler: api.authed(api.action(api.svc.ResetUserMFA))},
		{Method: "GET", Pattern: "/api/v1/account/mfa", Handler: api.enrolling(api.mfaStatus)},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp", Handler: api.enrolling(api.beginTOTP)},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp/confirm", Handler: api.enrolling(api.confirmTOTP())},
		{Method: "POST", Pattern: "/api/v1/account/mfa/totp/disable", Handler: api.authed(api.disableTOTP())},
		{Method: "POST", Pattern: "/api/v1/account/mfa/recovery-codes", Handler: api.authed(api.regenerateRecoveryCodes())},
		{Method: "POST", Pattern: "/api/v1/account/step-up", Handler: api.authed(api.stepUp())},

		{Method: "GET", Pattern: "/api/v1/customers", Handler: api.authed(api.listCustomers)},
		{Method: "POST", Pattern: "/api/v1/customers", Handler: api.authed(api.createCustomer)},
		{Method: "GET", Pattern: "/api/v1/customers/{id}", Handler: api.authed(api.getCustomer)},
		{Method: "PATCH", Pattern: "/api/v1/customers/{id}", Handler: api.authed(api.updateCustomer)},
		{Method: "DELETE", Pattern: "/api/v1/customers/{id}", Handler: api.authed(api.action(api.svc.DeleteCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/restore", Handler: api.authed(api.action(api.svc.RestoreCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/claim", Handler: api.authed(api.action(api.svc.ClaimCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/release", Handler: api.authed(api.action(api.svc.ReleaseCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/reveal", Handler: api.authed(api.reveal(crm.ObjCustomer))},
		{Method: "GET", Pattern: "/api/v1/customers/{id}/history", Handler: api.authed(api.history(crm.ObjCustomer))},
		{Method: "GET", Pattern: "/api/v1/customers/{id}/versions", Handler: api.authed(api.versions(crm.ObjCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/versions/{version}/restore", Handler: api.authed(api.restoreVersion(crm.ObjCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/{id}/transfer", Handler: api.authed(api.transfer(crm.ObjCustomer))},
		{Method: "POST", Pattern: "/api/v1/customers/bulk-delete", Handler: api.authed(api.bulkDelete(crm.ObjCustomer))},
		{Method: "GET", Pattern: "/api/v1/pool", Handler: api.authed(api.listPool)},
		{Method: "GET", Pattern: "/api/v1/recycle-bin/customers", Handler: api.authed(api.listRecycled)},
		{Method: "GET", Pattern: "/api/v1/recycle-bin/{collection}", Handler: api.authed(api.recycleBin)},

		{Method: "GET", Pattern: "/api/v1/contacts", Handler: api.authed(api.listContacts)},
		{Method: "POST", Pattern: "/api/v1/contacts", Handler: api.authed(api.createContact)},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}", Handler: api.authed(api.getContact)},
		{Method: "PATCH", Pattern: "/api/v1/contacts/{id}", Handler: api.authed(api.updateContact)},
		{Method: "DELETE", Pattern: "/api/v1/contacts/{id}", Handler: api.authed(api.deleteRecord(crm.ObjContact))},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/restore", Handler: api.authed(api.restoreRecord(crm.ObjContact))},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/reveal", Handler: api.authed(api.reveal(crm.ObjContact))},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}/history", Handler: api.authed(api.history(crm.ObjContact))},
		{Method: "GET", Pattern: "/api/v1/contacts/{id}/versions", Handler: api.authed(api.versions(crm.ObjContact))},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/versions/{version}/restore", Handler: api.authed(api.restoreVersion(crm.ObjContact))},
		{Method: "POST", Pattern: "/api/v1/contacts/{id}/transfer", Handler: api.authed(api.transfer(crm.ObjContact))},
		{Method: "POST", Pattern: "/api/v1/contacts/bulk-delete", Handler: api.authed(api.bulkDelete(crm.ObjContact))},

		{Method: "GET", Pattern: "/api/v1/customers/{id}/follow-ups", Handler: api.authed(api.listFollowUps)},
		{Method: "GET", Pattern: "/api/v1/follow-ups", Handler: api.authed(api.listRecordFollowUps)},
		{Method: "POST", Pattern: "/api/v1/follow-ups", Handler: api.authed(api.createFollowUp)},
		{Method: "GET", Pattern: "/api/v1/follow-ups/{id}", Handler: api.authed(api.getFollowUp())},
		{Method: "PATCH", Pattern: "/api/v1/follow-ups/{id}", Handler: api.authed(api.updateFollowUp())},
		{Method: "DELETE", Pattern: "/api/v1/follow-ups/{id}", Handler: api.authed(api.deleteRecord(crm.ObjFollowUp))},
		{Method: "POST", Pattern: "/api/v1/follow-ups/{id}/restore", Handler: api.authed(api.restoreRecord(crm.ObjFollowUp))},

		{Method: "GET", Pattern: "/api/v1/leads", Handler: api.authed(api.listLeads())},
		{Method: "POST", Pattern: "/api/v1/leads", Handler: api.authed(api.createLead())},
		{Method: "GET", Pattern: "/api/v1/leads/{id}", Handler: api.authed(api.getLead())},
		{Method: "PATCH", Pattern: "/api/v1/leads/{id}", Handler: api.authed(api.updateLead())},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/convert", Handler: api.authed(api.convertLead())},
		{Method: "DELETE", Pattern: "/api/v1/leads/{id}", Handler: api.authed(api.deleteRecord(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/restore", Handler: api.authed(api.restoreRecord(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/reveal", Handler: api.authed(api.reveal(crm.ObjLead))},
		{Method: "GET", Pattern: "/api/v1/leads/{id}/history", Handler: api.authed(api.history(crm.ObjLead))},
		{Method: "GET", Pattern: "/api/v1/leads/{id}/versions", Handler: api.authed(api.versions(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/versions/{version}/restore", Handler: api.authed(api.restoreVersion(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/{id}/transfer", Handler: api.authed(api.transfer(crm.ObjLead))},
		{Method: "POST", Pattern: "/api/v1/leads/bulk-delete", Handler: api.authed(api.bulkDelete(crm.ObjLead))},
		{Method: "GET", Pattern: "/api/v1/stages", Handler: api.authed(api.listStages())},
		{Method: "POST", Pattern: "/api/v1/stages", Handler: api.authed(api.createStage())},
		{Method: "PUT", Pattern: "/api/v1/stages/{id}", Handler: api.authed(api.updateStage())},
		{Method: "GET", Pattern: "/api/v1/opportunities", Handler: api.authed(api.listOpportunities())},
		{Method: "POST", Pattern: "/api/v1/opportunities", Handler: api.authed(api.createOpportunity())},
		{Method: "GET", Pattern: "/api/v1/opportunities/{id}", Handler: api.authed(api.getOpportunity())},
		{Method: "PATCH", Pattern: "/api/v1/opportunities/{id}", Handler: api.authed(api.updateOpportunity())},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/stage", Handler: api.authed(api.moveOpportunity())},
		{Method: "DELETE", Pattern: "/api/v1/opportunities/{id}", Handler: api.authed(api.deleteRecord(crm.ObjOpportunity))},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/restore", Handler: api.authed(api.restoreRecord(crm.ObjOpportunity))},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/reveal", Handler: api.authed(api.reveal(crm.ObjOpportunity))},
		{Method: "GET", Pattern: "/api/v1/opportunities/{id}/history", Handler: api.authed(api.history(crm.ObjOpportunity))},
		{Method: "GET", Pattern: "/api/v1/opportunities/{id}/versions", Handler: api.authed(api.versions(crm.ObjOpportunity))},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/versions/{version}/restore", Handler: api.authed(api.restoreVersion(crm.ObjOpportunity))},
		{Method: "POST", Pattern: "/api/v1/opportunities/{id}/transfer", Handler: api.authed(api.transfer(crm.ObjOpportunity))},
		{Method: "POST", Pattern: "/api/v1/opportunities/bulk-delete", Handler: api.authed(api.bulkDelete(crm.ObjOpportunity))},
		{Method: "GET", Pattern: "/api/v1/tasks", Handler: api.authed(api.listTasks())},
		{Method: "POST", Pattern: "/api/v1/tasks", Handler: api.authed(api.createTask())},
		{Method: "GET", Pattern: "/api/v1/tasks/{id}", Handler: api.authed(api.getTask())},
		{Method: "PATCH", Pattern: "/api/v1/tasks/{id}", Handler: api.authed(api.updateTask())},
		{Method: "DELETE", Pattern: "/api/v1/tasks/{id}", Handler: api.authed(api.deleteRecord(crm.ObjTask))},
		{Method: "POST", Pattern: "/api/v1/tasks/{id}/restore", Handler: api.authed(api.restoreRecord(crm.ObjTask))},
		{Method: "POST", Pattern: "/api/v1/tasks/{id}/done", Handler: api.authed(api.completeTask())},
		{Method: "POST", Pattern: "/api/v1/tasks/{id}/reopen", Handler: api.authed(api.reopenTask())},

		{Method: "GET", Pattern: "/api/v1/custom-fields", Handler: api.authed(api.listCustomFields())},
		{Method: "POST", Pattern: "/api/v1/custom-fields", Handler: api.authed(api.createCustomField())},
		{Method: "PUT", Pattern: "/api/v1/custom-fields/{id}", Handler: api.authed(api.updateCustomField())},
	}
}
