package web

import "net/http"

// Register adds every web route to mux. This list is the web surface's
// whole extent; /api/ and /healthz belong to others. Every route but the
// sign-in page and static files requires a session, and every POST a CSRF
// token (checked in s.guard before the handler runs).
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/{path...}", s.serveStatic)

	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.guard(gatePassword, s.logout))

	mux.HandleFunc("GET /{$}", s.authed(s.home))

	mux.HandleFunc("GET /customers", s.authed(s.listCustomers))
	mux.HandleFunc("GET /customers/new", s.authed(s.newCustomer))
	mux.HandleFunc("POST /customers", s.authed(s.createCustomer))
	mux.HandleFunc("GET /customers/{id}", s.authed(s.showCustomer))
	mux.HandleFunc("GET /customers/{id}/edit", s.authed(s.editCustomer))
	mux.HandleFunc("POST /customers/{id}", s.authed(s.updateCustomer))
	mux.HandleFunc("POST /customers/{id}/delete", s.authed(s.deleteCustomer))
	mux.HandleFunc("POST /customers/{id}/release", s.authed(s.releaseCustomer))
	mux.HandleFunc("POST /customers/{id}/claim", s.authed(s.claimCustomer))
	mux.HandleFunc("POST /customers/{id}/restore", s.authed(s.restoreCustomer))
	mux.HandleFunc("POST /customers/{id}/follow-ups", s.authed(s.createFollowUp))
	mux.HandleFunc("GET /customers/options", s.authed(s.customerPickerOptions))
	mux.HandleFunc("GET /pool", s.authed(s.pool))
	mux.HandleFunc("GET /recycle-bin", s.authed(s.recycleBin))
	mux.HandleFunc("GET /recycle-bin/{object}", s.authed(s.recycleRecords))
	mux.HandleFunc("POST /recycle-bin/{object}/{id}/restore", s.authed(s.restoreRecord))

	mux.HandleFunc("GET /contacts", s.authed(s.listContacts))
	mux.HandleFunc("GET /contacts/new", s.authed(s.newContact))
	mux.HandleFunc("POST /contacts", s.authed(s.createContact))
	mux.HandleFunc("POST /reveal/{object}/{id}", s.authed(s.reveal))
	mux.HandleFunc("GET /approvals", s.authed(s.approvals))
	mux.HandleFunc("GET /approvals/{id}", s.authed(s.approval))
	mux.HandleFunc("POST /approvals/{id}/decision", s.authed(s.decideApproval))
	mux.HandleFunc("POST /customers/{id}/transfer", s.authed(s.transferRecord("customer")))
	mux.HandleFunc("GET /contacts/{id}", s.authed(s.showContact))
	mux.HandleFunc("GET /contacts/{id}/edit", s.authed(s.editContact))
	mux.HandleFunc("POST /contacts/{id}", s.authed(s.updateContact))
	mux.HandleFunc("POST /contacts/{id}/delete", s.authed(s.deleteContact))

	mux.HandleFunc("GET /leads", s.authed(s.listLeads))
	mux.HandleFunc("GET /leads/new", s.authed(s.newLead))
	mux.HandleFunc("POST /leads", s.authed(s.createLead))
	mux.HandleFunc("GET /leads/{id}", s.authed(s.showLead))
	mux.HandleFunc("GET /leads/{id}/edit", s.authed(s.editLead))
	mux.HandleFunc("POST /leads/{id}", s.authed(s.updateLead))
	mux.HandleFunc("GET /leads/{id}/convert", s.authed(s.convertLeadForm))
	mux.HandleFunc("POST /leads/{id}/convert", s.authed(s.convertLead))

	mux.HandleFunc("GET /opportunities", s.authed(s.listOpportunities))
	mux.HandleFunc("GET /opportunities/board", s.authed(s.board))
	mux.HandleFunc("GET /opportunities/new", s.authed(s.newOpportunity))
	mux.HandleFunc("POST /opportunities", s.authed(s.createOpportunity))
	mux.HandleFunc("GET /opportunities/{id}", s.authed(s.showOpportunity))
	mux.HandleFunc("GET /opportunities/{id}/edit", s.authed(s.editOpportunity))
	mux.HandleFunc("POST /opportunities/{id}", s.authed(s.updateOpportunity))
	mux.HandleFunc("POST /opportunities/{id}/stage", s.authed(s.moveOpportunity))
	mux.HandleFunc("POST /opportunities/{id}/delete", s.authed(s.deleteOpportunity))

	mux.HandleFunc("GET /tasks", s.authed(s.listTasks))
	mux.HandleFunc("GET /tasks/new", s.authed(s.newTask))
	mux.HandleFunc("POST /tasks", s.authed(s.createTask))
	mux.HandleFunc("POST /tasks/{id}/done", s.authed(s.setTaskDone(true)))
	mux.HandleFunc("POST /tasks/{id}/reopen", s.authed(s.setTaskDone(false)))

	mux.HandleFunc("GET /search", s.authed(s.search))

	mux.HandleFunc("GET /account", s.authed(s.account))
	mux.HandleFunc("POST /account/language", s.authed(s.setLanguage))
	mux.HandleFunc("GET /account/password", s.guard(gatePassword, s.passwordPage))
	mux.HandleFunc("POST /account/password", s.guard(gatePassword, s.changePassword))
	mux.HandleFunc("POST /account/tokens", s.authed(s.createToken))
	mux.HandleFunc("POST /account/tokens/{id}/revoke", s.authed(s.revokeToken))

	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) { redirect(w, r, "/admin/users") })
	mux.HandleFunc("GET /admin/users", s.admin(s.adminUsers))
	mux.HandleFunc("POST /admin/users", s.admin(s.createUser))
	mux.HandleFunc("GET /admin/users/{id}", s.admin(s.adminUser))
	mux.HandleFunc("POST /admin/users/{id}", s.admin(s.updateUser))
	mux.HandleFunc("POST /admin/users/{id}/password", s.admin(s.setUserPassword))
	mux.HandleFunc("GET /admin/approvals", s.admin(s.adminApprovals))
	mux.HandleFunc("POST /admin/approvals/{kind}", s.admin(s.saveApprovalPolicy))
	mux.HandleFunc("GET /admin/users/{id}/offboard", s.admin(s.offboardPage))
	mux.HandleFunc("POST /admin/users/{id}/offboard", s.admin(s.offboard))
	mux.HandleFunc("GET /admin/departments", s.admin(s.adminDepartments))
	mux.HandleFunc("POST /admin/departments", s.admin(s.createDepartment))
	mux.HandleFunc("GET /admin/departments/{id}", s.admin(s.adminDepartment))
	mux.HandleFunc("POST /admin/departments/{id}", s.admin(s.updateDepartment))
	mux.HandleFunc("GET /admin/roles", s.admin(s.adminRoles))
	mux.HandleFunc("GET /admin/roles/new", s.admin(s.newRole))
	mux.HandleFunc("POST /admin/roles", s.admin(s.saveRole))
	mux.HandleFunc("GET /admin/roles/{id}", s.admin(s.adminRole))
	mux.HandleFunc("POST /admin/roles/{id}", s.admin(s.saveRole))
	mux.HandleFunc("GET /admin/stages", s.admin(s.adminStages))
	mux.HandleFunc("POST /admin/stages", s.admin(s.createStage))
	mux.HandleFunc("GET /admin/stages/{id}", s.admin(s.adminStage))
	mux.HandleFunc("POST /admin/stages/{id}", s.admin(s.updateStage))
	mux.HandleFunc("GET /admin/custom-fields", s.admin(s.adminCustomFields))
	mux.HandleFunc("POST /admin/custom-fields", s.admin(s.createCustomField))
	mux.HandleFunc("GET /admin/custom-fields/{id}", s.admin(s.adminCustomField))
	mux.HandleFunc("POST /admin/custom-fields/{id}", s.admin(s.updateCustomField))

	// Anything else is the web UI's own "not found" page, in the user's
	// language; it needs no session and reveals nothing.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, nil) })
}
