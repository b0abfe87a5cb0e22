package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/compliance"
	"custos/internal/crm"
	"custos/internal/store"
)

// Compliance — anomaly alerts and their delivery, the exposure report and
// incidents — lives in internal/compliance; Service embeds it. These names
// keep the surfaces' service.X spelling of its types and constants.
type (
	// AlertRule is compliance.AlertRule.
	AlertRule = compliance.AlertRule
	// AlertDelivery is compliance.AlertDelivery.
	AlertDelivery = compliance.AlertDelivery
	// IncidentDetail is compliance.IncidentDetail.
	IncidentDetail = compliance.IncidentDetail
	// ExposureQuery is compliance.ExposureQuery.
	ExposureQuery = compliance.ExposureQuery
	// ExposureReport is compliance.ExposureReport.
	ExposureReport = compliance.ExposureReport
	// ExposureRow is compliance.ExposureRow.
	ExposureRow = compliance.ExposureRow
	// ExposureActor is compliance.ExposureActor.
	ExposureActor = compliance.ExposureActor
	// PersonRef is compliance.PersonRef.
	PersonRef = compliance.PersonRef
)

// The exposure report's bounds, under their old names.
const (
	MaxExposureRecords = compliance.MaxExposureRecords
	MaxExposureEvents  = compliance.MaxExposureEvents
)

// LinkedExposure is compliance.LinkedExposure.
func LinkedExposure(in crm.Incident) (q ExposureQuery, ok bool) { return compliance.LinkedExposure(in) }

// complianceService names the embedded compliance service: embedded as
// compliance.Service its field would be called Service, like identity's.
type complianceService = compliance.Service

// recordNames is compliance.RecordNames for the exposure report: the names
// of the records in the actor's scope (a child record by its own scope or
// its customer's), opened and shaped by the actor's rule for "name".
func (s *Service) recordNames(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, ids []int64) (map[int64]string, error) {
	return s.namesOf(ctx, tx, a, o, ids, false)
}

// namesOf is recordNames; with titles, records without a name (tasks) are
// named by their title.
func (s *Service) namesOf(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, ids []int64, titles bool) (map[int64]string, error) {
	found, err := tx.RecordNames(ctx, o, ids, store.NameScope{Scope: a.SharedScope(o, false),
		Child: childScope(a, o, false), PoolVisible: a.Can(crm.ObjCustomer, crm.ActRead), Titles: titles})
	if err != nil {
		return nil, err
	}
	if err := s.openNames(ctx, o, len(found), func(i int) (int64, *string, string) {
		return found[i].ID, &found[i].Name, found[i].DataKey
	}); err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(found))
	for _, n := range found {
		names[n.ID] = s.shapeName(a, o, n.Name)
	}
	return names, nil
}
