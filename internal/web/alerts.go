package web

import (
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The security page: anomaly alerts to review and, for administrators, the
// rules' thresholds.

// AlertsView is the security page.
type AlertsView struct {
	Page
	Alerts []crm.SecurityAlert
	Rules  []service.AlertRule
}

func (s *Server) securityAlerts(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	alerts, err := s.svc.SecurityAlerts(r.Context(), a, "")
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := AlertsView{Page: s.page(r, a, "alerts.title", "alerts"), Alerts: alerts}
	if a.IsAdmin() {
		if v.Rules, err = s.svc.AlertRules(r.Context(), a); err != nil {
			s.fail(w, r, a, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "alerts", v)
}

func (s *Server) reviewAlert(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.ReviewAlert(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/alerts")
}

// saveAlertRule serves POST /alert-rules/{key} (administrators, step-up).
func (s *Server) saveAlertRule(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	threshold, _ := strconv.Atoi(r.PostFormValue("threshold"))
	rule := service.AlertRule{Key: r.PathValue("key"), Enabled: r.PostFormValue("enabled") == "on",
		Threshold: threshold, Suspend: r.PostFormValue("suspend") == "on"}
	if err := s.svc.SaveAlertRule(r.Context(), a, rule); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/alerts")
}
