package api

import (
	"net/http"

	"custos/internal/crm"
)

// Register adds every API route to mux. This list is the API's whole surface.
func (api *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/me", api.authed(api.me))
	mux.HandleFunc("GET /api/v1/directory", api.authed(api.directory))
	mux.HandleFunc("GET /api/v1/search", api.authed(api.search()))
	mux.HandleFunc("GET /api/v1/users/{id}/handover", api.authed(api.handover))
	mux.HandleFunc("POST /api/v1/users/{id}/offboard", api.authed(api.offboard))
	mux.HandleFunc("GET /api/v1/users/{id}/activity", api.authed(api.activity))

	mux.HandleFunc("GET /api/v1/tokens", api.authed(api.listTokens))
	mux.HandleFunc("POST /api/v1/tokens", api.authed(api.createToken))
	mux.HandleFunc("DELETE /api/v1/tokens/{id}", api.authed(api.revokeToken))

	mux.HandleFunc("GET /api/v1/customers", api.authed(api.listCustomers))
	mux.HandleFunc("POST /api/v1/customers", api.authed(api.createCustomer))
	mux.HandleFunc("GET /api/v1/customers/{id}", api.authed(api.getCustomer))
	mux.HandleFunc("PATCH /api/v1/customers/{id}", api.authed(api.updateCustomer))
	mux.HandleFunc("DELETE /api/v1/customers/{id}", api.authed(api.action(api.svc.DeleteCustomer)))
	mux.HandleFunc("POST /api/v1/customers/{id}/restore", api.authed(api.action(api.svc.RestoreCustomer)))
	mux.HandleFunc("POST /api/v1/customers/{id}/claim", api.authed(api.action(api.svc.ClaimCustomer)))
	mux.HandleFunc("POST /api/v1/customers/{id}/release", api.authed(api.action(api.svc.ReleaseCustomer)))
	mux.HandleFunc("POST /api/v1/customers/{id}/reveal", api.authed(api.reveal(crm.ObjCustomer)))
	mux.HandleFunc("GET /api/v1/pool", api.authed(api.listPool))
	mux.HandleFunc("GET /api/v1/recycle-bin/customers", api.authed(api.listRecycled))
	mux.HandleFunc("GET /api/v1/recycle-bin/{collection}", api.authed(api.recycleBin))

	mux.HandleFunc("GET /api/v1/contacts", api.authed(api.listContacts))
	mux.HandleFunc("POST /api/v1/contacts", api.authed(api.createContact))
	mux.HandleFunc("GET /api/v1/contacts/{id}", api.authed(api.getContact))
	mux.HandleFunc("PATCH /api/v1/contacts/{id}", api.authed(api.updateContact))
	mux.HandleFunc("DELETE /api/v1/contacts/{id}", api.authed(api.deleteRecord(crm.ObjContact)))
	mux.HandleFunc("POST /api/v1/contacts/{id}/restore", api.authed(api.restoreRecord(crm.ObjContact)))
	mux.HandleFunc("POST /api/v1/contacts/{id}/reveal", api.authed(api.reveal(crm.ObjContact)))

	mux.HandleFunc("GET /api/v1/customers/{id}/follow-ups", api.authed(api.listFollowUps))
	mux.HandleFunc("GET /api/v1/follow-ups", api.authed(api.listRecordFollowUps))
	mux.HandleFunc("POST /api/v1/follow-ups", api.authed(api.createFollowUp))
	mux.HandleFunc("GET /api/v1/follow-ups/{id}", api.authed(api.getFollowUp()))
	mux.HandleFunc("PATCH /api/v1/follow-ups/{id}", api.authed(api.updateFollowUp()))
	mux.HandleFunc("DELETE /api/v1/follow-ups/{id}", api.authed(api.deleteRecord(crm.ObjFollowUp)))
	mux.HandleFunc("POST /api/v1/follow-ups/{id}/restore", api.authed(api.restoreRecord(crm.ObjFollowUp)))

	mux.HandleFunc("GET /api/v1/leads", api.authed(api.listLeads()))
	mux.HandleFunc("POST /api/v1/leads", api.authed(api.createLead()))
	mux.HandleFunc("GET /api/v1/leads/{id}", api.authed(api.getLead()))
	mux.HandleFunc("PATCH /api/v1/leads/{id}", api.authed(api.updateLead()))
	mux.HandleFunc("POST /api/v1/leads/{id}/convert", api.authed(api.convertLead()))
	mux.HandleFunc("DELETE /api/v1/leads/{id}", api.authed(api.deleteRecord(crm.ObjLead)))
	mux.HandleFunc("POST /api/v1/leads/{id}/restore", api.authed(api.restoreRecord(crm.ObjLead)))
	mux.HandleFunc("POST /api/v1/leads/{id}/reveal", api.authed(api.reveal(crm.ObjLead)))
	mux.HandleFunc("GET /api/v1/stages", api.authed(api.listStages()))
	mux.HandleFunc("POST /api/v1/stages", api.authed(api.createStage()))
	mux.HandleFunc("PUT /api/v1/stages/{id}", api.authed(api.updateStage()))
	mux.HandleFunc("GET /api/v1/opportunities", api.authed(api.listOpportunities()))
	mux.HandleFunc("POST /api/v1/opportunities", api.authed(api.createOpportunity()))
	mux.HandleFunc("GET /api/v1/opportunities/{id}", api.authed(api.getOpportunity()))
	mux.HandleFunc("PATCH /api/v1/opportunities/{id}", api.authed(api.updateOpportunity()))
	mux.HandleFunc("POST /api/v1/opportunities/{id}/stage", api.authed(api.moveOpportunity()))
	mux.HandleFunc("DELETE /api/v1/opportunities/{id}", api.authed(api.deleteRecord(crm.ObjOpportunity)))
	mux.HandleFunc("POST /api/v1/opportunities/{id}/restore", api.authed(api.restoreRecord(crm.ObjOpportunity)))
	mux.HandleFunc("POST /api/v1/opportunities/{id}/reveal", api.authed(api.reveal(crm.ObjOpportunity)))
	mux.HandleFunc("GET /api/v1/tasks", api.authed(api.listTasks()))
	mux.HandleFunc("POST /api/v1/tasks", api.authed(api.createTask()))
	mux.HandleFunc("GET /api/v1/tasks/{id}", api.authed(api.getTask()))
	mux.HandleFunc("PATCH /api/v1/tasks/{id}", api.authed(api.updateTask()))
	mux.HandleFunc("DELETE /api/v1/tasks/{id}", api.authed(api.deleteRecord(crm.ObjTask)))
	mux.HandleFunc("POST /api/v1/tasks/{id}/restore", api.authed(api.restoreRecord(crm.ObjTask)))
	mux.HandleFunc("POST /api/v1/tasks/{id}/done", api.authed(api.completeTask()))
	mux.HandleFunc("POST /api/v1/tasks/{id}/reopen", api.authed(api.reopenTask()))

	mux.HandleFunc("GET /api/v1/custom-fields", api.authed(api.listCustomFields()))
	mux.HandleFunc("POST /api/v1/custom-fields", api.authed(api.createCustomField()))
	mux.HandleFunc("PUT /api/v1/custom-fields/{id}", api.authed(api.updateCustomField()))

	// Anything else under /api/ is a JSON 404, not the web UI's HTML page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.problem(w, r, nil, errNoRoute)
	})
}
