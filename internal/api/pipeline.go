package api

import (
	"maps"
	"net/http"
	"slices"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// respond writes v with status, or the problem for err.
func (api *API) respond(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v any, err error) {
	if err != nil {
		api.problem(w, r, a, err)
		return
	}
	writeJSON(w, status, v)
}

// withID decodes the body into in and calls do with the path id.
func withID[In any, Out any](api *API, do func(r *http.Request, a *access.Actor, id int64, in In) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in In
		id, err := pathID(r)
		if err == nil {
			err = decode(r, &in)
		}
		var out Out
		if err == nil {
			out, err = do(r, a, id, in)
		}
		api.respond(w, r, a, http.StatusOK, out, err)
	}
}

// create decodes the body into in, calls do and answers 201.
func create[In any, Out any](api *API, do func(r *http.Request, a *access.Actor, in In) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		var in In
		err := decode(r, &in)
		var out Out
		if err == nil {
			out, err = do(r, a, in)
		}
		api.respond(w, r, a, http.StatusCreated, out, err)
	}
}

// list reads the list filter and calls do.
func list[Out any](api *API, do func(r *http.Request, a *access.Actor, f crm.ListFilter) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		f, err := listFilter(r)
		var out Out
		if err == nil {
			out, err = do(r, a, f)
		}
		api.respond(w, r, a, http.StatusOK, out, err)
	}
}

// get calls do with the path id.
func get[Out any](api *API, do func(r *http.Request, a *access.Actor, id int64) (Out, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, err := pathID(r)
		var out Out
		if err == nil {
			out, err = do(r, a, id)
		}
		api.respond(w, r, a, http.StatusOK, out, err)
	}
}

// opportunityDetail is an opportunity with its stage history.
type opportunityDetail struct {
	crm.Opportunity
	StageHistory any `json:"stage_history"`
}

func (api *API) listLeads() handlerFunc {
	s := api.svc
	return list(api, func(r *http.Request, a *access.Actor, f crm.ListFilter) (service.LeadPage, error) {
		return s.ListLeads(r.Context(), a, f)
	})
}

func (api *API) createLead() handlerFunc {
	s := api.svc
	return create(api, func(r *http.Request, a *access.Actor, in crm.LeadFields) (crm.Lead, error) {
		return s.CreateLead(r.Context(), a, in)
	})
}

func (api *API) getLead() handlerFunc {
	s := api.svc
	return get(api, func(r *http.Request, a *access.Actor, id int64) (crm.Lead, error) {
		return s.GetLead(r.Context(), a, id)
	})
}

func (api *API) updateLead() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.LeadUpdate) (crm.Lead, error) {
		return s.UpdateLead(r.Context(), a, id, in)
	})
}

func (api *API) convertLead() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.LeadConversion) (crm.Lead, error) {
		return s.ConvertLead(r.Context(), a, id, in)
	})
}

func (api *API) listStages() handlerFunc {
	s := api.svc
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		stages, err := s.Stages(r.Context(), a)
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": stages}, err)
	}
}

func (api *API) createStage() handlerFunc {
	s := api.svc
	return create(api, func(r *http.Request, a *access.Actor, in crm.Stage) (crm.Stage, error) {
		in.ID = 0
		return s.SaveStage(r.Context(), a, in)
	})
}

func (api *API) updateStage() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.Stage) (crm.Stage, error) {
		in.ID = id
		return s.SaveStage(r.Context(), a, in)
	})
}

func (api *API) stageCriteria() handlerFunc {
	s := api.svc
	return get(api, func(r *http.Request, a *access.Actor, id int64) (crm.StageCriteria, error) {
		return s.StageCriteria(r.Context(), a, id)
	})
}

func (api *API) saveStageCriteria() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.StageCriteria) (crm.StageCriteria, error) {
		in.StageID = id
		return s.SaveStageCriteria(r.Context(), a, in)
	})
}

func (api *API) listOpportunities() handlerFunc {
	s := api.svc
	return list(api, func(r *http.Request, a *access.Actor, f crm.ListFilter) (service.OpportunityPage, error) {
		return s.ListOpportunities(r.Context(), a, f)
	})
}

func (api *API) createOpportunity() handlerFunc {
	s := api.svc
	return create(api, func(r *http.Request, a *access.Actor, in crm.OpportunityFields) (crm.Opportunity, error) {
		return s.CreateOpportunity(r.Context(), a, in)
	})
}

func (api *API) getOpportunity() handlerFunc {
	s := api.svc
	return get(api, func(r *http.Request, a *access.Actor, id int64) (opportunityDetail, error) {
		o, hist, err := s.GetOpportunity(r.Context(), a, id)
		return opportunityDetail{Opportunity: o, StageHistory: hist}, err
	})
}

func (api *API) updateOpportunity() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.OpportunityUpdate) (crm.Opportunity, error) {
		return s.UpdateOpportunity(r.Context(), a, id, in)
	})
}

func (api *API) moveOpportunity() handlerFunc {
	s := api.svc
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.StageMove) (crm.Opportunity, error) {
		return s.MoveOpportunity(r.Context(), a, id, in)
	})
}

func (api *API) listTasks() handlerFunc {
	s := api.svc
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		f, err := listFilter(r)
		var tasks []crm.Task
		if err == nil && len(f.Custom) > 0 {
			err = noCustomFields(f.Custom)
		}
		if err == nil {
			tf := service.TaskFilter{CustomerID: f.CustomerID, OpportunityID: f.OpportunityID, OwnerID: f.OwnerID, DeptID: f.DeptID,
				All: r.URL.Query().Get("all") == "true", Limit: f.Limit}
			switch due := r.URL.Query().Get("due"); due {
			case "":
			case crm.DueOverdue:
				tf.Overdue = true
			default:
				err = &crm.Error{Code: crm.Invalid, Message: "due must be overdue", Fields: []crm.FieldError{{Field: "due", Rule: "enum", Param: crm.DueOverdue}}}
			}
			if d := r.URL.Query().Get("due_before"); d != "" {
				t, perr := time.Parse(time.RFC3339, d)
				if perr != nil {
					err = &crm.Error{Code: crm.Invalid, Message: "due_before must be RFC 3339", Fields: []crm.FieldError{{Field: "due_before", Rule: "format"}}}
				}
				tf.DueBefore = &t
			}
			if err == nil {
				tasks, err = s.ListTasks(r.Context(), a, tf)
			}
		}
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": tasks}, err)
	}
}

func (api *API) createTask() handlerFunc {
	s := api.svc
	return create(api, func(r *http.Request, a *access.Actor, in crm.TaskFields) (crm.Task, error) {
		return s.CreateTask(r.Context(), a, in)
	})
}

func (api *API) completeTask() handlerFunc {
	s := api.svc
	return api.action(func(ctx contextT, a *access.Actor, id int64) error { return s.SetTaskDone(ctx, a, id, true) })
}

func (api *API) reopenTask() handlerFunc {
	s := api.svc
	return api.action(func(ctx contextT, a *access.Actor, id int64) error { return s.SetTaskDone(ctx, a, id, false) })
}

func (api *API) listCustomFields() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		defs, err := api.svc.CustomFields(r.Context(), a, crm.Object(r.URL.Query().Get("object")))
		api.respond(w, r, a, http.StatusOK, map[string]any{"items": defs}, err)
	}
}

func (api *API) createCustomField() handlerFunc {
	return create(api, func(r *http.Request, a *access.Actor, in crm.CustomField) (crm.CustomField, error) {
		in.ID = 0
		return api.svc.SaveCustomField(r.Context(), a, in)
	})
}

func (api *API) updateCustomField() handlerFunc {
	return withID(api, func(r *http.Request, a *access.Actor, id int64, in crm.CustomField) (crm.CustomField, error) {
		in.ID = id
		return api.svc.SaveCustomField(r.Context(), a, in)
	})
}

func (api *API) search() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		limit, err := queryInt(r, "limit")
		var res service.SearchResults
		if err == nil {
			res, err = api.svc.Search(r.Context(), a, r.URL.Query().Get("q"), limit)
		}
		api.respond(w, r, a, http.StatusOK, res, err)
	}
}

// noCustomFields refuses custom field filters on a list of an object that
// has no custom fields, rather than ignoring them and answering everything.
func noCustomFields(filters map[string]string) error {
	var p crm.Problems
	for _, k := range slices.Sorted(maps.Keys(filters)) {
		p.Add("custom."+k, "unknown")
	}
	return p.Err()
}
