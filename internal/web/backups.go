package web

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
)

// The backup history (administrators): every backup and restore drill,
// scheduled or from the command line, newest first.

// BackupsView is the backup history page.
type BackupsView struct {
	Page
	Runs []crm.BackupRun
}

func (s *Server) adminBackups(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	runs, err := s.svc.BackupHistory(r.Context(), a, 200)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_backups", BackupsView{Page: s.adminPage(r, a, "backups.title", "backups"), Runs: runs})
}
