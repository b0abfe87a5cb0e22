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
	mux.HandleFunc("GET /pool", s.authed(s.pool))
	mux.HandleFunc("GET /recycle-bin", s.authed(s.recycleBin))

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
	mux.HandleFunc("GET /admin/departments", s.admin(s.adminDepartments))
	mux.HandleFunc("POST /admin/departments", s.admin(s.createDepartment))
	mux.HandleFunc("GET /admin/departments/{id}", s.admin(s.adminDepartment))
	mux.HandleFunc("POST /admin/departments/{id}", s.admin(s.updateDepartment))
	mux.HandleFunc("GET /admin/roles", s.admin(s.adminRoles))
	mux.HandleFunc("GET /admin/roles/new", s.admin(s.newRole))
	mux.HandleFunc("POST /admin/roles", s.admin(s.saveRole))
	mux.HandleFunc("GET /admin/roles/{id}", s.admin(s.adminRole))
	mux.HandleFunc("POST /admin/roles/{id}", s.admin(s.saveRole))

	// Anything else is the web UI's own "not found" page, in the user's
	// language; it needs no session and reveals nothing.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, nil) })
}
