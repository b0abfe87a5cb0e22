package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Anomaly alerts (issue 5): rules over the audit trail, evaluated every
// minute by serve, raise at most one alert per rule, user and clock hour on
// the security page; a rule can suspend the user pending review.

// AlertRule is one rule's settings.
type AlertRule struct {
	Key       string `json:"key"`
	Enabled   bool   `json:"enabled"`
	Threshold int    `json:"threshold"`
	Suspend   bool   `json:"suspend"`
}

// The alert rules, with their default thresholds.
var defaultAlertRules = []AlertRule{
	{Key: "mass_view", Enabled: true, Threshold: 200},       // distinct customers viewed in an hour
	{Key: "sensitive_search", Enabled: true, Threshold: 30}, // searches by phone, e-mail or credit code in an hour
	{Key: "failed_signin", Enabled: true, Threshold: 10},    // failed sign-ins of one account in an hour
	{Key: "new_network", Enabled: true, Threshold: 0},       // a sign-in from a network unseen for 90 days
	{Key: "after_hours", Enabled: true, Threshold: 100},     // record events outside 08:00–20:00 in an hour
	{Key: "api_burst", Enabled: true, Threshold: 500},       // token reads in an hour, and 5× the user's own average
}

// AlertRules returns the rules as configured (administrators).
func (s *Service) AlertRules(ctx context.Context, a *access.Actor) ([]AlertRule, error) {
	if err := s.k.RequireAdmin(ctx, a, "alert_rules.view"); err != nil {
		return nil, err
	}
	var rules []AlertRule
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { rules, err = loadAlertRules(ctx, tx); return err })
	return rules, err
}

func loadAlertRules(ctx context.Context, tx *store.Tx) ([]AlertRule, error) {
	rules := slices.Clone(defaultAlertRules)
	v, err := tx.GetSetting(ctx, "alert_rules")
	if err != nil || v == "" {
		return rules, err
	}
	var saved []AlertRule
	if err := json.Unmarshal([]byte(v), &saved); err != nil {
		return nil, fmt.Errorf("service: alert rules setting: %w", err)
	}
	for i, r := range rules {
		if j := slices.IndexFunc(saved, func(x AlertRule) bool { return x.Key == r.Key }); j >= 0 {
			rules[i] = saved[j]
		}
	}
	return rules, nil
}

// SaveAlertRule changes one rule (administrators, with a fresh second factor).
func (s *Service) SaveAlertRule(ctx context.Context, a *access.Actor, r AlertRule) error {
	if err := s.k.RequireAdmin(ctx, a, "alert_rules.save"); err != nil {
		return err
	}
	if err := s.k.RequireStepUp(ctx, a, "alert_rules.save"); err != nil {
		return err
	}
	var p crm.Problems
	if !slices.ContainsFunc(defaultAlertRules, func(x AlertRule) bool { return x.Key == r.Key }) {
		p.Add("key", "enum", "mass_view, sensitive_search, failed_signin, new_network, after_hours, api_burst")
	}
	if r.Threshold < 0 || r.Threshold > 1_000_000 {
		p.Add("threshold", "range", "0-1000000")
	}
	if err := p.Err(); err != nil {
		return err
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		rules, err := loadAlertRules(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rules, func(x AlertRule) bool { return x.Key == r.Key })
		before := rules[i]
		rules[i] = r
		if err := tx.PutSetting(ctx, "alert_rules", string(kernel.MustJSON(rules))); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "alert_rules.save", "", 0, kernel.Diff(before, r))
	})
}

// hourWindow is what one evaluation looks at.
type hourWindow struct {
	start, end time.Time
	events     []crm.AuditEvent
}

// maxWindowEvents bounds one evaluation's read of the trail.
const maxWindowEvents = 200_000

// EvaluateAlerts runs every enabled rule over the last hour of the trail
// and raises new alerts; it returns the alerts raised now. Serve calls it
// every minute as a system job.
//
// An evaluation that finds the same newest event and the same rules as the
// last one that completed stops there: no new event, no new alert (what the
// window held has been judged), so an idle server reads one page a minute,
// not the hour's events again (issue 18 §6).
func (s *Service) EvaluateAlerts(ctx context.Context) ([]crm.SecurityAlert, error) {
	now := s.k.Clock()
	w := hourWindow{start: now.Add(-time.Hour), end: now}
	var rules []AlertRule
	var judged alertsJudged
	unchanged := false
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if rules, err = loadAlertRules(ctx, tx); err != nil {
			return err
		}
		// No upper bound: an event stamped at this very instant (or by
		// another instance's clock a little ahead) is judged now, so the
		// newest event seen is the trail's newest.
		f := store.AuditFilter{Since: w.start, Limit: 500}
		for len(w.events) < maxWindowEvents {
			page, err := tx.ListAuditEvents(ctx, f)
			if err != nil || len(page) == 0 {
				return err
			}
			if len(w.events) == 0 {
				judged = alertsJudged{newest: page[0].ID, rules: fmt.Sprint(rules)}
				if unchanged = s.judged.Load() != nil && *s.judged.Load() == judged; unchanged {
					return nil
				}
			}
			w.events = append(w.events, page...)
			f.BeforeID = page[len(page)-1].ID
		}
		return nil
	})
	if err != nil || unchanged {
		return nil, err
	}
	var raised []crm.SecurityAlert
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		found, err := s.runRule(ctx, r, w)
		if err != nil {
			return raised, err
		}
		for _, al := range found {
			ok, err := s.raise(ctx, r, &al, now)
			if err != nil {
				return raised, err
			}
			if ok {
				raised = append(raised, al)
			}
		}
	}
	s.judged.Store(&judged) // judged in full: the next run may skip it
	return raised, nil
}

// alertsJudged is what an evaluation of the alert rules looked at: the
// newest event of its window and the rules as configured.
type alertsJudged struct {
	newest int64
	rules  string
}

// runRule finds the users a rule fires for in the window.
func (s *Service) runRule(ctx context.Context, r AlertRule, w hourWindow) ([]crm.SecurityAlert, error) {
	switch r.Key {
	case "mass_view":
		return countPerUser(w, r.Threshold, "distinct customers viewed", customersSeen), nil
	case "sensitive_search":
		return countPerUser(w, r.Threshold, "searches by phone, e-mail or credit code", func(e crm.AuditEvent) []int64 {
			if kernel.IsSensitiveSearch(e.Action) {
				return []int64{e.ID}
			}
			return nil
		}), nil
	case "failed_signin":
		return failedSignins(w, r.Threshold), nil
	case "after_hours":
		return countPerUser(w, r.Threshold, "record events outside working hours", func(e crm.AuditEvent) []int64 {
			h := e.At.In(s.zone).Hour()
			if e.RecordID != 0 && (h < 8 || h >= 20) {
				return []int64{e.ID}
			}
			return nil
		}), nil
	case "new_network":
		return s.newNetworks(ctx, w)
	case "api_burst":
		return s.apiBursts(ctx, w, r.Threshold)
	}
	return nil, nil
}

// customersSeen lists the customers an event showed.
func customersSeen(e crm.AuditEvent) []int64 {
	if e.Object != string(crm.ObjCustomer) || e.Outcome != "ok" {
		return nil
	}
	if e.RecordID != 0 && strings.HasSuffix(e.Action, ".view") {
		return []int64{e.RecordID}
	}
	return e.RecordIDs
}

// countPerUser fires for each user whose events yield more than threshold
// distinct ids.
func countPerUser(w hourWindow, threshold int, what string, ids func(crm.AuditEvent) []int64) []crm.SecurityAlert {
	seen := map[int64]map[int64]bool{}
	names := map[int64]string{}
	for _, e := range w.events {
		if e.ActorID == 0 {
			continue
		}
		for _, id := range ids(e) {
			if seen[e.ActorID] == nil {
				seen[e.ActorID] = map[int64]bool{}
			}
			seen[e.ActorID][id] = true
			names[e.ActorID] = e.ActorName
		}
	}
	var out []crm.SecurityAlert
	for user, set := range seen {
		if len(set) > threshold {
			out = append(out, crm.SecurityAlert{UserID: user, UserName: names[user],
				Detail: fmt.Sprintf("%d %s in an hour (threshold %d)", len(set), what, threshold)})
		}
	}
	slices.SortFunc(out, func(a, b crm.SecurityAlert) int { return int(a.UserID - b.UserID) })
	return out
}

// failedSignins fires for each account name with more failed sign-ins than
// the threshold (unknown names included: guessing is guessing).
func failedSignins(w hourWindow, threshold int) []crm.SecurityAlert {
	counts := map[string]int{}
	ids := map[string]int64{}
	for _, e := range w.events {
		if e.Action == "login.failed" || e.Action == "login.locked" {
			counts[e.ActorName]++
			ids[e.ActorName] = e.ActorID
		}
	}
	var out []crm.SecurityAlert
	for name, n := range counts {
		if n > threshold {
			out = append(out, crm.SecurityAlert{UserID: ids[name], UserName: name,
				Detail: fmt.Sprintf("%d failed sign-ins in an hour (threshold %d)", n, threshold)})
		}
	}
	slices.SortFunc(out, func(a, b crm.SecurityAlert) int { return strings.Compare(a.UserName, b.UserName) })
	return out
}

// network reduces an address to its network: /24 for IPv4, /48 for IPv6.
func network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	bits := 48
	if a.Is4() || a.Is4In6() {
		a, bits = a.Unmap(), 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// newNetworks fires for a sign-in from a network the user has not signed in
// from in the previous 90 days (a user's first sign-ins ever do not count).
func (s *Service) newNetworks(ctx context.Context, w hourWindow) ([]crm.SecurityAlert, error) {
	var out []crm.SecurityAlert
	done := map[int64]bool{}
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		for _, e := range w.events {
			if e.Action != "login" || e.ActorID == 0 || done[e.ActorID] || e.IP == "" {
				continue
			}
			before, err := tx.LoginNetworks(ctx, e.ActorID, w.start.AddDate(0, 0, -90), w.start)
			if err != nil {
				return err
			}
			if len(before) == 0 || slices.ContainsFunc(before, func(ip string) bool { return network(ip) == network(e.IP) }) {
				continue
			}
			done[e.ActorID] = true
			out = append(out, crm.SecurityAlert{UserID: e.ActorID, UserName: e.ActorName,
				Detail: "signed in from " + network(e.IP) + ", a network not used in the last 90 days"})
		}
		return nil
	})
	return out, err
}

// apiBursts fires when a user's token reads in the hour exceed both the
// threshold and five times their own hourly average of the previous week.
func (s *Service) apiBursts(ctx context.Context, w hourWindow, threshold int) ([]crm.SecurityAlert, error) {
	counts := map[int64]int{}
	names := map[int64]string{}
	for _, e := range w.events {
		if e.ActorKind == string(access.KindToken) && (strings.HasSuffix(e.Action, ".view") || strings.HasSuffix(e.Action, ".list") || strings.Contains(e.Action, ".search")) {
			counts[e.ActorID]++
			names[e.ActorID] = e.ActorName
		}
	}
	var out []crm.SecurityAlert
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		for user, n := range counts {
			if n <= threshold {
				continue
			}
			week, err := tx.CountTokenReads(ctx, user, w.start.AddDate(0, 0, -7), w.start)
			if err != nil {
				return err
			}
			if avg := float64(week) / (7 * 24); float64(n) > 5*avg {
				out = append(out, crm.SecurityAlert{UserID: user, UserName: names[user],
					Detail: fmt.Sprintf("%d API reads in an hour; the previous week averaged %.0f an hour (threshold %d)", n, avg, threshold)})
			}
		}
		return nil
	})
	return out, err
}

// raise stores an alert once per rule, user and hour, suspending the user
// when the rule says so; raising and suspending are audited as the job.
func (s *Service) raise(ctx context.Context, r AlertRule, al *crm.SecurityAlert, now time.Time) (bool, error) {
	job := access.System("alerts")
	al.Rule, al.CreatedAt, al.WindowStart = r.Key, now, now.Truncate(time.Hour)
	al.Suspended = r.Suspend && al.UserID != 0
	var raised bool
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		if raised, err = tx.InsertAlert(ctx, al); err != nil || !raised {
			return err
		}
		if err := s.queueDeliveries(ctx, tx, al.ID, now); err != nil {
			return err
		}
		if al.Suspended {
			if err := s.suspend(ctx, tx, job, al.UserID, now); err != nil {
				return err
			}
		}
		return s.k.Audit(ctx, tx, job, "alert.raise", "", al.ID, map[string]any{"rule": r.Key, "user_id": al.UserID, "suspended": al.Suspended})
	})
	return raised, err
}

// suspend disables a user pending review and ends their sessions.
func (s *Service) suspend(ctx context.Context, tx *store.Tx, job *access.Actor, userID int64, now time.Time) error {
	u, err := tx.GetUser(ctx, userID)
	if err != nil || u.Disabled {
		return err
	}
	before := u
	u.Disabled, u.UpdatedAt = true, now
	if err := tx.UpdateUser(ctx, &u); err != nil {
		return err
	}
	if _, err := tx.DeleteUserSessions(ctx, u.ID, 0); err != nil {
		return err
	}
	return s.k.Audit(ctx, tx, job, "user.suspend", "", u.ID, kernel.Diff(before, u))
}

// SecurityAlerts lists alerts for administrators (status "" for all).
func (s *Service) SecurityAlerts(ctx context.Context, a *access.Actor, status string) ([]crm.SecurityAlert, error) {
	if !a.IsAdmin() && !a.CanAudit() {
		s.k.AuditDenied(ctx, a, "alert.list", "", 0)
		return nil, crm.ErrForbidden()
	}
	var out []crm.SecurityAlert
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.ListAlerts(ctx, status, 200); err != nil {
			return err
		}
		ids := make([]int64, len(out))
		for i, al := range out {
			ids[i] = al.ID
		}
		deliveries, err := tx.Deliveries(ctx, store.AlertOutbox, ids)
		for i := range out {
			out[i].Deliveries = deliveries[out[i].ID]
		}
		return err
	})
	if out == nil {
		out = []crm.SecurityAlert{}
	}
	return out, err
}

// ReviewAlert closes an alert (administrators); re-enabling a suspended
// user is a separate, deliberate user change.
func (s *Service) ReviewAlert(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.k.RequireAdmin(ctx, a, "alert.review"); err != nil {
		return err
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.ReviewAlert(ctx, id, a.UserID, s.k.Clock()); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "alert.review", "", id, nil)
	})
}

// Operational alerts: raised by Custos's own jobs rather than by a rule
// over the trail (a failed or late backup, a failed restore drill). They
// name no user, go out through the same channels and are raised at most
// once per rule and hour.
const (
	AlertBackupFailed = "backup_failed"
	AlertBackupLate   = "backup_late"
	AlertDrillFailed  = "drill_failed"
)

// RaiseOperationalAlert raises an operational alert with its detail
// (never a secret or personal data); false when it was raised this hour.
func (s *Service) RaiseOperationalAlert(ctx context.Context, rule, detail string) (bool, error) {
	al := crm.SecurityAlert{Detail: detail}
	return s.raise(ctx, AlertRule{Key: rule}, &al, s.k.Clock())
}
