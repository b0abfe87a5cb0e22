package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// Privacy rights: the register of requests, a person's export, legal
// holds, unarchiving and retention policies (privacy officers and
// administrators), and consents on contacts and leads.

// privacyRequests serves GET /privacy/requests?status=&before=&limit=.
func (api *API) privacyRequests(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := service.PrivacyQuery{Status: r.URL.Query().Get("status")}
	limit, err := queryInt(r, "limit")
	var before int
	if err == nil {
		before, err = queryInt(r, "before")
	}
	var page service.PrivacyRequestPage
	if err == nil {
		q.Limit, q.Before = limit, int64(before)
		page, err = api.svc.PrivacyRequests(r.Context(), a, q)
	}
	api.respond(w, r, a, http.StatusOK, page, err)
}

// filePrivacyRequest serves POST /privacy/requests.
func (api *API) filePrivacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in crm.PrivacyRequestInput
	err := decode(r, &in)
	var req crm.PrivacyRequest
	if err == nil {
		req, err = api.svc.FilePrivacyRequest(r.Context(), a, in)
	}
	if err == nil {
		w.Header().Set("Location", "/api/v1/privacy/requests/"+strconv.FormatInt(req.ID, 10))
	}
	api.respond(w, r, a, http.StatusCreated, req, err)
}

// privacyRequest serves GET /privacy/requests/{id}.
func (api *API) privacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, err := pathID(r)
	var req crm.PrivacyRequest
	if err == nil {
		req, err = api.svc.PrivacyRequest(r.Context(), a, id)
	}
	api.respond(w, r, a, http.StatusOK, req, err)
}

// completePrivacyRequest serves POST /privacy/requests/{id}/complete.
func (api *API) completePrivacyRequest(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in service.PrivacyCompletion
	id, err := pathID(r)
	if err == nil {
		err = decode(r, &in)
	}
	var req crm.PrivacyRequest
	if err == nil {
		req, err = api.svc.CompletePrivacyRequest(r.Context(), a, id, in)
	}
	api.respond(w, r, a, http.StatusOK, req, err)
}

// personPath reads /privacy/people/{object}/{id}.
func personPath(r *http.Request) (crm.Object, int64, error) {
	id, err := pathID(r)
	return crm.Object(r.PathValue("object")), id, err
}

// exportPerson serves GET /privacy/people/{object}/{id}/export?format=json
// (the default) or csv (a zip of one CSV file per section).
func (api *API) exportPerson(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, err := personPath(r)
	format := r.URL.Query().Get("format")
	if format == "" {
		format = service.ExportJSON
	}
	var e service.PersonExport
	if err == nil {
		e, err = api.svc.ExportPerson(r.Context(), a, o, id, format)
	}
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	name := fmt.Sprintf("person-%s-%d", o, id)
	if format == service.ExportJSON {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		writeJSON(w, http.StatusOK, e)
		return
	}
	var buf bytes.Buffer
	if err := e.WriteCSVZip(&buf); err != nil {
		api.problem(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, name+".zip", "application/zip", buf.Bytes())
}

type holdRequest struct {
	Reason string `json:"reason"`
}

// setLegalHold serves PUT /privacy/people/{object}/{id}/legal-hold.
func (api *API) setLegalHold(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var in holdRequest
	o, id, err := personPath(r)
	if err == nil {
		err = decode(r, &in)
	}
	if err == nil {
		err = api.svc.SetLegalHold(r.Context(), a, o, id, in.Reason)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// clearLegalHold serves DELETE /privacy/people/{object}/{id}/legal-hold.
func (api *API) clearLegalHold(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, err := personPath(r)
	if err == nil {
		err = api.svc.ClearLegalHold(r.Context(), a, o, id)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// unarchive serves POST /privacy/people/{object}/{id}/unarchive.
func (api *API) unarchive(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o, id, err := personPath(r)
	if err == nil {
		err = api.svc.UnarchiveRecord(r.Context(), a, o, id)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// retentionPolicies serves GET /privacy/retention.
func (api *API) retentionPolicies(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	items, err := api.svc.RetentionPolicies(r.Context(), a)
	api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
}

// saveRetentionPolicy serves PUT /privacy/retention/{object}.
func (api *API) saveRetentionPolicy(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var p crm.RetentionPolicy
	err := decode(r, &p)
	if err == nil {
		p.Object = crm.Object(r.PathValue("object"))
		err = api.svc.SaveRetentionPolicy(r.Context(), a, p)
	}
	api.respond(w, r, a, http.StatusNoContent, nil, err)
}

// consents serves GET /{contacts,leads}/{id}/consents.
func (api *API) consents(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		var items []crm.Consent
		if err == nil {
			items, err = api.svc.Consents(r.Context(), a, o, id)
		}
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": items}, err)
	}
}

// grantConsent serves POST /{contacts,leads}/{id}/consents.
func (api *API) grantConsent(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in crm.ConsentInput
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		var c crm.Consent
		if err == nil {
			c, err = api.svc.GrantConsent(r.Context(), a, o, id, in)
		}
		api.respond(w, r, a, http.StatusOK, c, err)
	}
}

// withdrawConsent serves POST /{contacts,leads}/{id}/consents/withdraw.
func (api *API) withdrawConsent(o crm.Object) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in crm.ConsentInput
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		var withdrawn []crm.Consent
		if err == nil {
			withdrawn, err = api.svc.WithdrawConsent(r.Context(), a, o, id, in)
		}
		api.respond(w, r, a, http.StatusOK, map[string]any{"withdrawn": withdrawn}, err)
	}
}
