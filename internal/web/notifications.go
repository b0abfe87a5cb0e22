package web

import (
	"net/http"
	"net/url"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
)

// The notification centre (issue 17 §4): the signed-in user's own
// notifications, newest first, with links to their records — plain record
// URLs, so following one checks the user's access again like any other
// visit — and their e-mail and bot deliveries' state.

// NotificationsView is the /notifications page.
type NotificationsView struct {
	Page
	Items  []NotificationRow
	Unread int
	Next   string // the URL of the next (older) page, if any
}

// NotificationRow is one notification as shown: its text in the page's
// language and the link to what it is about.
type NotificationRow struct {
	crm.Notification
	Text string
	URL  string
}

// notificationURL is where a notification leads: its record, its approval
// request, the list of the records handed over, or the Today page.
func notificationURL(n crm.Notification) string {
	id := strconv.FormatInt(n.RecordID, 10)
	switch {
	case n.Object == "approval":
		return "/approvals/" + id
	case n.Object != "" && n.RecordID != 0:
		return "/" + collectionPath(n.Object) + "/" + id
	case n.Object != "":
		return "/" + collectionPath(n.Object)
	}
	return "/"
}

func (s *Server) notifications(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	page, err := s.svc.ListNotifications(r.Context(), a, r.URL.Query().Get("cursor"), 50)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := NotificationsView{Page: s.page(r, a, "notifications.title", "notifications"), Unread: page.Unread}
	v.Page.Unread = page.Unread
	for _, n := range page.Items {
		v.Items = append(v.Items, NotificationRow{Notification: n, Text: i18n.NotificationTitle(v.Lang, n), URL: notificationURL(n)})
	}
	if page.Next != "" {
		v.Next = "/notifications?cursor=" + url.QueryEscape(page.Next)
	}
	s.render(w, r, http.StatusOK, "notifications", v)
}

// readNotification serves POST /notifications/{id}/read.
func (s *Server) readNotification(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.MarkNotificationRead(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/notifications")
}

// readAllNotifications serves POST /notifications/read-all.
func (s *Server) readAllNotifications(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if _, err := s.svc.MarkAllNotificationsRead(r.Context(), a); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/notifications")
}

// NotifyPrefRow is one event's switches on the account page, a cell per
// channel in crm.NotificationChannels' order.
type NotifyPrefRow struct {
	Kind  crm.NotificationKind
	Cells []crm.NotificationPref
}

// notifyPrefRows arranges the preferences by event.
func notifyPrefRows(prefs []crm.NotificationPref) []NotifyPrefRow {
	var out []NotifyPrefRow
	for _, p := range prefs {
		if len(out) == 0 || out[len(out)-1].Kind != p.Kind {
			out = append(out, NotifyPrefRow{Kind: p.Kind})
		}
		out[len(out)-1].Cells = append(out[len(out)-1].Cells, p)
	}
	return out
}

// NotifyChannels are the channel columns of the preferences.
func (Page) NotifyChannels() []string { return crm.NotificationChannels }

// saveNotificationPrefs serves POST /account/notifications: each event ×
// set-up channel is on when its box ("<kind>:<channel>") is checked.
func (s *Server) saveNotificationPrefs(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	current, err := s.svc.NotificationPrefs(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, a, err)
		return
	}
	checked := map[string]bool{}
	for _, v := range r.PostForm["pref"] {
		checked[v] = true
	}
	var set []crm.NotificationPref
	for _, p := range current {
		if p.Available {
			set = append(set, crm.NotificationPref{Kind: p.Kind, Channel: p.Channel, Enabled: checked[string(p.Kind)+":"+p.Channel]})
		}
	}
	if _, err := s.svc.SaveNotificationPrefs(r.Context(), a, set); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/account#notifications")
}
