package api

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// listNotifications serves GET /notifications?cursor=&limit=: the caller's
// own, newest first.
func (api *API) listNotifications(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var page service.NotificationPage
	limit, err := queryInt(r, "limit")
	if err == nil {
		page, err = api.svc.ListNotifications(r.Context(), a, r.URL.Query().Get("cursor"), limit)
	}
	api.respond(w, r, a, http.StatusOK, page, err)
}

// readNotification serves POST /notifications/{id}/read; another user's
// notification is not found.
func (api *API) readNotification(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	if err == nil {
		err = api.svc.MarkNotificationRead(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// readAllNotifications serves POST /notifications/read-all.
func (api *API) readAllNotifications(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	n, err := api.svc.MarkAllNotificationsRead(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, markedRead{Marked: n}, err)
}

// markedRead says how many notifications were unread and are read now.
type markedRead struct {
	Marked int `json:"marked"`
}

// notificationPrefs serves GET /notification-preferences.
func (api *API) notificationPrefs(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	prefs, err := api.svc.NotificationPrefs(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, itemsOf[crm.NotificationPref]{Items: prefs}, err)
}

// saveNotificationPrefs serves PUT /notification-preferences with the
// switches to set ({"items":[{"kind","channel","enabled"}]}); the others
// keep theirs.
func (api *API) saveNotificationPrefs(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in itemsOf[crm.NotificationPref]
	err := decode(r, &in)
	if err == nil {
		in.Items, err = api.svc.SaveNotificationPrefs(r.Context(), a, in.Items)
	}
	api.respond(w, r, a, http.StatusOK, in, err)
}
