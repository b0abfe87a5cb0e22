package web

import (
	"net/http"

	"custos/internal/httpx"
)

// Register adds every web route to mux, and the "not found" page for
// everything else.
func (s *Server) Register(mux *http.ServeMux) {
	httpx.Register(mux, s.Routes())
	// Anything else is the web UI's own "not found" page, in the user's
	// language; it needs no session and reveals nothing.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, nil) })
}

// Routes lists every web route. This list is the web surface's whole
// extent; /api/ and /healthz belong to others. Every route but the sign-in
// page and static files requires a session, and every POST a CSRF token
// (checked in s.guard before the handler runs). The authorisation matrix
// test (matrix_test.go) classifies each one.
func (s *Server) Routes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/static/{path...}", Handler: s.serveStatic},

		{Method: "GET", Pattern: "/login", Handler: s.loginPage},
		{Method: "POST", Pattern: "/login", Handler: s.login},
		{Method: "POST", Pattern: "/logout", Handler: s.guard(gateSecondFactor, s.logout)},
		{Method: "GET", Pattern: "/login/mfa", Handler: s.guard(gateSecondFactor, s.secondFactorPage)},
		{Method: "POST", Pattern: "/login/mfa", Handler: s.guard(gateSecondFactor, s.secondFactor)},
		{Method: "POST", Pattern: "/passkeys/challenge", Handler: s.guard(gateSecondFactor, s.passkeyCheckOptions)},
		{Method: "GET", Pattern: "/step-up", Handler: s.authed(s.stepUpForm)},
		{Method: "POST", Pattern: "/step-up", Handler: s.authed(s.stepUpDone)},

		{Method: "GET", Pattern: "/{$}", Handler: s.authed(s.home)},

		{Method: "GET", Pattern: "/customers", Handler: s.authed(s.listCustomers)},
		{Method: "GET", Pattern: "/customers/new", Handler: s.authed(s.newCustomer)},
		{Method: "POST", Pattern: "/customers", Handler: s.authed(s.createCustomer)},
		{Method: "GET", Pattern: "/customers/{id}", Handler: s.authed(s.showCustomer)},
		{Method: "GET", Pattern: "/customers/{id}/edit", Handler: s.authed(s.editCustomer)},
		{Method: "POST", Pattern: "/customers/{id}", Handler: s.authed(s.updateCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/delete", Handler: s.authed(s.deleteCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/release", Handler: s.authed(s.releaseCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/claim", Handler: s.authed(s.claimCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/restore", Handler: s.authed(s.restoreCustomer)},
		{Method: "POST", Pattern: "/customers/{id}/follow-ups", Handler: s.authed(s.createFollowUp)},
		{Method: "GET", Pattern: "/customers/options", Handler: s.authed(s.customerPickerOptions)},
		{Method: "GET", Pattern: "/pool", Handler: s.authed(s.pool)},
		{Method: "GET", Pattern: "/recycle-bin", Handler: s.authed(s.recycleBin)},
		{Method: "GET", Pattern: "/recycle-bin/{object}", Handler: s.authed(s.recycleRecords)},
		{Method: "POST", Pattern: "/recycle-bin/{object}/{id}/restore", Handler: s.authed(s.restoreRecord)},

		{Method: "GET", Pattern: "/contacts", Handler: s.authed(s.listContacts)},
		{Method: "GET", Pattern: "/contacts/new", Handler: s.authed(s.newContact)},
		{Method: "POST", Pattern: "/contacts", Handler: s.authed(s.createContact)},
		{Method: "POST", Pattern: "/reveal/{object}/{id}", Handler: s.authed(s.reveal)},
		{Method: "GET", Pattern: "/approvals", Handler: s.authed(s.approvals)},
		{Method: "GET", Pattern: "/approvals/{id}", Handler: s.authed(s.approval)},
		{Method: "POST", Pattern: "/approvals/{id}/decision", Handler: s.authed(s.decideApproval)},
		{Method: "POST", Pattern: "/customers/{id}/transfer", Handler: s.authed(s.transferRecord("customer"))},
		{Method: "POST", Pattern: "/customers/{id}/shares", Handler: s.authed(s.shareRecord("customer"))},
		{Method: "POST", Pattern: "/leads/{id}/shares", Handler: s.authed(s.shareRecord("lead"))},
		{Method: "GET", Pattern: "/shares", Handler: s.authed(s.myShares)},
		{Method: "GET", Pattern: "/review", Handler: s.authed(s.accessReview)},
		{Method: "GET", Pattern: "/audit", Handler: s.authed(s.auditTrail)},
		{Method: "GET", Pattern: "/alerts", Handler: s.authed(s.securityAlerts)},
		{Method: "GET", Pattern: "/exposure", Handler: s.authed(s.exposure)},
		{Method: "GET", Pattern: "/exposure/download", Handler: s.authed(s.exposureDownload)},
		{Method: "GET", Pattern: "/incidents", Handler: s.authed(s.incidents)},
		{Method: "POST", Pattern: "/incidents", Handler: s.authed(s.createIncident)},
		{Method: "GET", Pattern: "/incidents/{id}", Handler: s.authed(s.incident)},
		{Method: "POST", Pattern: "/incidents/{id}", Handler: s.authed(s.updateIncident)},
		{Method: "POST", Pattern: "/incidents/{id}/timeline", Handler: s.authed(s.addIncidentEntry)},
		{Method: "POST", Pattern: "/incidents/{id}/exposure", Handler: s.authed(s.linkIncidentExposure)},
		{Method: "GET", Pattern: "/incidents/{id}/exposure", Handler: s.authed(s.incidentExposure)},
		{Method: "POST", Pattern: "/alerts/{id}/review", Handler: s.authed(s.reviewAlert)},
		{Method: "POST", Pattern: "/alert-rules/{key}", Handler: s.authed(s.saveAlertRule)},
		{Method: "GET", Pattern: "/history/{object}/{id}", Handler: s.authed(s.recordHistory)},
		{Method: "GET", Pattern: "/versions/{object}/{id}", Handler: s.authed(s.versionsPage)},
		{Method: "POST", Pattern: "/versions/{object}/{id}/{version}", Handler: s.authed(s.restoreVersion)},
		{Method: "POST", Pattern: "/review/confirm", Handler: s.authed(s.confirmReview)},
		{Method: "POST", Pattern: "/review/tokens", Handler: s.authed(s.revokeUserToken)},
		{Method: "POST", Pattern: "/shares/revoke", Handler: s.authed(s.revokeShares)},
		{Method: "GET", Pattern: "/contacts/{id}", Handler: s.authed(s.showContact)},
		{Method: "GET", Pattern: "/contacts/{id}/edit", Handler: s.authed(s.editContact)},
		{Method: "POST", Pattern: "/contacts/{id}", Handler: s.authed(s.updateContact)},
		{Method: "POST", Pattern: "/contacts/{id}/delete", Handler: s.authed(s.deleteContact)},

		{Method: "GET", Pattern: "/leads", Handler: s.authed(s.listLeads)},
		{Method: "GET", Pattern: "/leads/new", Handler: s.authed(s.newLead)},
		{Method: "POST", Pattern: "/leads", Handler: s.authed(s.createLead)},
		{Method: "GET", Pattern: "/leads/{id}", Handler: s.authed(s.showLead)},
		{Method: "GET", Pattern: "/leads/{id}/edit", Handler: s.authed(s.editLead)},
		{Method: "POST", Pattern: "/leads/{id}", Handler: s.authed(s.updateLead)},
		{Method: "GET", Pattern: "/leads/{id}/convert", Handler: s.authed(s.convertLeadForm)},
		{Method: "POST", Pattern: "/leads/{id}/convert", Handler: s.authed(s.convertLead)},

		{Method: "GET", Pattern: "/opportunities", Handler: s.authed(s.listOpportunities)},
		{Method: "GET", Pattern: "/opportunities/board", Handler: s.authed(s.board)},
		{Method: "GET", Pattern: "/opportunities/new", Handler: s.authed(s.newOpportunity)},
		{Method: "POST", Pattern: "/opportunities", Handler: s.authed(s.createOpportunity)},
		{Method: "GET", Pattern: "/opportunities/{id}", Handler: s.authed(s.showOpportunity)},
		{Method: "GET", Pattern: "/opportunities/{id}/edit", Handler: s.authed(s.editOpportunity)},
		{Method: "POST", Pattern: "/opportunities/{id}", Handler: s.authed(s.updateOpportunity)},
		{Method: "POST", Pattern: "/opportunities/{id}/stage", Handler: s.authed(s.moveOpportunity)},
		{Method: "POST", Pattern: "/opportunities/{id}/delete", Handler: s.authed(s.deleteOpportunity)},

		{Method: "GET", Pattern: "/tasks", Handler: s.authed(s.listTasks)},
		{Method: "GET", Pattern: "/tasks/new", Handler: s.authed(s.newTask)},
		{Method: "POST", Pattern: "/tasks", Handler: s.authed(s.createTask)},
		{Method: "GET", Pattern: "/tasks/{id}/edit", Handler: s.authed(s.editTask)},
		{Method: "POST", Pattern: "/tasks/{id}", Handler: s.authed(s.updateTask)},
		{Method: "POST", Pattern: "/tasks/{id}/done", Handler: s.authed(s.setTaskDone(true))},
		{Method: "POST", Pattern: "/tasks/{id}/reopen", Handler: s.authed(s.setTaskDone(false))},

		{Method: "GET", Pattern: "/search", Handler: s.authed(s.search)},

		{Method: "GET", Pattern: "/account", Handler: s.authed(s.account)},
		{Method: "POST", Pattern: "/account/language", Handler: s.authed(s.setLanguage)},
		{Method: "POST", Pattern: "/account/time-zone", Handler: s.authed(s.setTimeZone)},
		{Method: "GET", Pattern: "/account/password", Handler: s.guard(gatePassword, s.passwordPage)},
		{Method: "POST", Pattern: "/account/password", Handler: s.guard(gatePassword, s.changePassword)},
		{Method: "POST", Pattern: "/account/tokens", Handler: s.authed(s.createToken)},
		{Method: "POST", Pattern: "/account/tokens/{id}/revoke", Handler: s.authed(s.revokeToken)},
		{Method: "POST", Pattern: "/account/sessions/{id}/end", Handler: s.authed(s.endSession)},
		{Method: "POST", Pattern: "/account/sessions/end-others", Handler: s.authed(s.endOtherSessions)},
		{Method: "GET", Pattern: "/account/mfa", Handler: s.guard(gateEnrol, s.mfaPage)},
		{Method: "POST", Pattern: "/account/mfa/totp", Handler: s.guard(gateEnrol, s.beginTOTP)},
		{Method: "GET", Pattern: "/account/mfa/totp", Handler: s.guard(gateEnrol, s.pendingTOTP)},
		{Method: "GET", Pattern: "/account/mfa/totp/qr.png", Handler: s.guard(gateEnrol, s.totpQRCode)},
		{Method: "POST", Pattern: "/account/mfa/totp/confirm", Handler: s.guard(gateEnrol, s.confirmTOTP)},
		{Method: "POST", Pattern: "/account/mfa/totp/disable", Handler: s.authed(s.disableTOTP)},
		{Method: "POST", Pattern: "/account/mfa/recovery-codes", Handler: s.authed(s.regenerateRecoveryCodes)},
		{Method: "POST", Pattern: "/account/passkeys/challenge", Handler: s.guard(gateEnrol, s.passkeyRegistrationOptions)},
		{Method: "POST", Pattern: "/account/passkeys", Handler: s.guard(gateEnrol, s.registerPasskey)},
		{Method: "POST", Pattern: "/account/passkeys/{id}", Handler: s.authed(s.renamePasskey)},
		{Method: "POST", Pattern: "/account/passkeys/{id}/remove", Handler: s.authed(s.removePasskey)},

		{Method: "GET", Pattern: "/admin", Handler: func(w http.ResponseWriter, r *http.Request) { redirect(w, r, "/admin/users") }},
		{Method: "GET", Pattern: "/admin/users", Handler: s.admin(s.adminUsers)},
		{Method: "POST", Pattern: "/admin/users", Handler: s.admin(s.createUser)},
		{Method: "GET", Pattern: "/admin/users/{id}", Handler: s.admin(s.adminUser)},
		{Method: "POST", Pattern: "/admin/users/{id}", Handler: s.admin(s.updateUser)},
		{Method: "POST", Pattern: "/admin/users/{id}/password", Handler: s.admin(s.setUserPassword)},
		{Method: "GET", Pattern: "/admin/approvals", Handler: s.admin(s.adminApprovals)},
		{Method: "POST", Pattern: "/admin/approvals/{kind}", Handler: s.admin(s.saveApprovalPolicy)},
		{Method: "GET", Pattern: "/admin/users/{id}/offboard", Handler: s.admin(s.offboardPage)},
		{Method: "GET", Pattern: "/admin/users/{id}/job", Handler: s.admin(s.jobPage)},
		{Method: "POST", Pattern: "/admin/users/{id}/job", Handler: s.admin(s.changeJob)},
		{Method: "POST", Pattern: "/admin/users/{id}/offboard", Handler: s.admin(s.offboard)},
		{Method: "GET", Pattern: "/admin/users/{id}/security", Handler: s.admin(s.adminUserSecurity)},
		{Method: "POST", Pattern: "/admin/users/{id}/sessions/end", Handler: s.admin(s.adminUserAction(s.endUserSessions))},
		{Method: "POST", Pattern: "/admin/users/{id}/sessions/{sid}/end", Handler: s.admin(s.adminEndSession)},
		{Method: "POST", Pattern: "/admin/users/{id}/mfa/reset", Handler: s.admin(s.adminUserAction(s.svc.ResetUserMFA))},
		{Method: "GET", Pattern: "/admin/departments", Handler: s.admin(s.adminDepartments)},
		{Method: "POST", Pattern: "/admin/departments", Handler: s.admin(s.createDepartment)},
		{Method: "GET", Pattern: "/admin/departments/{id}", Handler: s.admin(s.adminDepartment)},
		{Method: "POST", Pattern: "/admin/departments/{id}", Handler: s.admin(s.updateDepartment)},
		{Method: "GET", Pattern: "/admin/roles", Handler: s.admin(s.adminRoles)},
		{Method: "GET", Pattern: "/admin/roles/new", Handler: s.admin(s.newRole)},
		{Method: "POST", Pattern: "/admin/roles", Handler: s.admin(s.saveRole)},
		{Method: "GET", Pattern: "/admin/roles/{id}", Handler: s.admin(s.adminRole)},
		{Method: "POST", Pattern: "/admin/roles/{id}", Handler: s.admin(s.saveRole)},
		{Method: "GET", Pattern: "/admin/stages", Handler: s.admin(s.adminStages)},
		{Method: "POST", Pattern: "/admin/stages", Handler: s.admin(s.createStage)},
		{Method: "GET", Pattern: "/admin/stages/{id}", Handler: s.admin(s.adminStage)},
		{Method: "POST", Pattern: "/admin/stages/{id}", Handler: s.admin(s.updateStage)},
		{Method: "GET", Pattern: "/admin/custom-fields", Handler: s.admin(s.adminCustomFields)},
		{Method: "POST", Pattern: "/admin/custom-fields", Handler: s.admin(s.createCustomField)},
		{Method: "GET", Pattern: "/admin/custom-fields/{id}", Handler: s.admin(s.adminCustomField)},
		{Method: "POST", Pattern: "/admin/custom-fields/{id}", Handler: s.admin(s.updateCustomField)},
	}
}
