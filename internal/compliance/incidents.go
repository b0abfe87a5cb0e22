package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Incidents (issue 5, incident response): administrators record what
// happened, how bad it is and where it stands, keep its timeline and link
// it to an exposure report's query, which anyone who reads the incident
// can make again. The trail's readers (auditors too) read incidents; every
// change is audited in its own transaction. Titles, descriptions and notes
// are free text and may name people, so their events record only that
// they changed.

// IncidentDetail is an incident with its timeline.
type IncidentDetail struct {
	crm.Incident
	Timeline []crm.IncidentEntry `json:"timeline"`
}

// incidentsFreeText are the fields an incident's events record by reference.
var incidentsFreeText = []string{"title", "description"}

// requireAuditReader lets the trail's readers through, recording a refusal.
func (s *Service) requireAuditReader(ctx context.Context, a *access.Actor, action string) error {
	if !a.CanAudit() {
		s.k.AuditDenied(ctx, a, action, "", 0)
		return crm.ErrForbidden()
	}
	return nil
}

// Incidents lists incidents, the latest detected first (status "" for all).
func (s *Service) Incidents(ctx context.Context, a *access.Actor, status string) ([]crm.Incident, error) {
	if err := s.requireAuditReader(ctx, a, "incident.list"); err != nil {
		return nil, err
	}
	var p crm.Problems
	status = p.Enum("status", status, false, crm.IncidentStatuses)
	if err := p.Err(); err != nil {
		return nil, err
	}
	var out []crm.Incident
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { out, err = tx.ListIncidents(ctx, status, 500); return err })
	if out == nil {
		out = []crm.Incident{}
	}
	return out, err
}

// Incident returns one incident with its timeline.
func (s *Service) Incident(ctx context.Context, a *access.Actor, id int64) (IncidentDetail, error) {
	if err := s.requireAuditReader(ctx, a, "incident.view"); err != nil {
		return IncidentDetail{}, err
	}
	var d IncidentDetail
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if d.Incident, err = tx.GetIncident(ctx, id); err != nil {
			return err
		}
		d.Timeline, err = tx.ListIncidentEntries(ctx, id)
		return err
	})
	return d, err
}

// CreateIncident records a new incident (administrators).
func (s *Service) CreateIncident(ctx context.Context, a *access.Actor, f crm.IncidentFields) (crm.Incident, error) {
	if err := s.k.RequireAdmin(ctx, a, "incident.create"); err != nil {
		return crm.Incident{}, err
	}
	now := s.k.Clock()
	if err := f.Validate(now).Err(); err != nil {
		return crm.Incident{}, err
	}
	in := crm.Incident{IncidentFields: f, CreatedBy: a.UserID, CreatedByName: a.Name, CreatedAt: now, UpdatedAt: now}
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "incident.create", "", in.ID, kernel.Diff(crm.IncidentFields{}, f, incidentsFreeText...))
	})
	return in, err
}

// UpdateIncident changes an incident at the version the caller saw
// (administrators); a change of status is also written on the timeline.
func (s *Service) UpdateIncident(ctx context.Context, a *access.Actor, id int64, up crm.IncidentUpdate) (crm.Incident, error) {
	return s.changeIncident(ctx, a, "incident.update", id, func(tx *store.Tx, in *crm.Incident, now time.Time) (any, error) {
		if err := kernel.CheckVersion(up.Version, in.Version); err != nil {
			return nil, err
		}
		before := in.IncidentFields
		in.IncidentFields = up.Apply(before)
		if err := in.Validate(now).Err(); err != nil {
			return nil, err
		}
		if in.Status != before.Status {
			e := crm.IncidentEntry{IncidentID: in.ID, At: now, Note: fmt.Sprintf("status: %s → %s", before.Status, in.Status),
				AuthorID: a.UserID, AuthorName: a.Name, CreatedAt: now}
			if err := tx.InsertIncidentEntry(ctx, &e); err != nil {
				return nil, err
			}
		}
		return kernel.Diff(before, in.IncidentFields, incidentsFreeText...), nil
	})
}

// changeIncident loads an incident in one transaction, lets change edit it
// (answering the fields of the audit event), stores it at the version it
// was read at and audits the change (administrators).
func (s *Service) changeIncident(ctx context.Context, a *access.Actor, action string, id int64,
	change func(tx *store.Tx, in *crm.Incident, now time.Time) (any, error)) (crm.Incident, error) {
	if err := s.k.RequireAdmin(ctx, a, action); err != nil {
		return crm.Incident{}, err
	}
	now := s.k.Clock()
	var in crm.Incident
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		if in, err = tx.GetIncident(ctx, id); err != nil {
			return err
		}
		read := in.Version
		fields, err := change(tx, &in, now)
		if err != nil {
			return err
		}
		in.UpdatedAt = now
		if err := tx.UpdateIncident(ctx, &in, read); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, action, "", id, fields)
	})
	return in, err
}

// AddIncidentEntry writes a line on an incident's timeline (administrators);
// its time defaults to now.
func (s *Service) AddIncidentEntry(ctx context.Context, a *access.Actor, id int64, e crm.IncidentEntry) (crm.IncidentEntry, error) {
	if err := s.k.RequireAdmin(ctx, a, "incident.note"); err != nil {
		return crm.IncidentEntry{}, err
	}
	now := s.k.Clock()
	if err := e.Validate(now).Err(); err != nil {
		return crm.IncidentEntry{}, err
	}
	e.IncidentID, e.AuthorID, e.AuthorName, e.CreatedAt = id, a.UserID, a.Name, now
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetIncident(ctx, id); err != nil {
			return err
		}
		if err := tx.InsertIncidentEntry(ctx, &e); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "incident.note", "", id, map[string]any{"entry": e.ID, "at": e.At, "note": kernel.Change{Changed: true}})
	})
	return e, err
}

// LinkIncidentExposure links an incident to an exposure report's query
// (administrators). The query is checked as a report would check it and
// kept with its window filled in, so the report made again later covers
// the same events.
func (s *Service) LinkIncidentExposure(ctx context.Context, a *access.Actor, id int64, q ExposureQuery) (crm.Incident, error) {
	return s.changeIncident(ctx, a, "incident.link", id, func(tx *store.Tx, in *crm.Incident, now time.Time) (any, error) {
		q, err := s.checkExposureQuery(ctx, tx, q, now)
		if err != nil {
			return nil, err
		}
		before := in.ExposureQuery
		in.ExposureQuery = kernel.MustJSON(q)
		return map[string]kernel.Change{"exposure_query": {From: before, To: in.ExposureQuery}}, nil
	})
}

// LinkedExposure reads an incident's linked query; ok is false when none.
func LinkedExposure(in crm.Incident) (q ExposureQuery, ok bool) {
	if len(in.ExposureQuery) == 0 || json.Unmarshal(in.ExposureQuery, &q) != nil {
		return ExposureQuery{}, false
	}
	return q, true
}

// IncidentExposure makes the linked exposure report of an incident again,
// for the trail's readers (names for administrators, as always); it is
// audited as a report, naming the incident.
func (s *Service) IncidentExposure(ctx context.Context, a *access.Actor, id int64) (ExposureReport, error) {
	if err := s.MayReportExposure(ctx, a); err != nil {
		return ExposureReport{}, err
	}
	var in crm.Incident
	if err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { in, err = tx.GetIncident(ctx, id); return err }); err != nil {
		return ExposureReport{}, err
	}
	q, ok := LinkedExposure(in)
	if !ok {
		return ExposureReport{}, &crm.Error{Code: crm.Invalid, Message: "the incident has no exposure report linked",
			Fields: []crm.FieldError{{Field: "exposure_query", Rule: "required"}}}
	}
	rep, err := s.exposure(ctx, a, q)
	if err != nil {
		return ExposureReport{}, err
	}
	return rep, s.auditExposure(ctx, a, id, rep)
}
