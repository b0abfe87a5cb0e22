package service

import (
	"time"
	_ "time/tzdata" // the IANA zones travel inside the binary: Custos runs air-gapped and in minimal containers

	"custos/internal/access"
	"custos/internal/identity"
)

// LoadTimeZone reads the organisation's default time zone from its IANA
// name ("Asia/Shanghai"); "" is the server's own zone.
func LoadTimeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	return identity.LoadZone(name)
}

// Location is the time zone the actor's pages show and read times in: the
// user's own choice, else the organisation's default.
func (s *Service) Location(a *access.Actor) *time.Location {
	if a == nil || a.TimeZone == "" {
		return s.zone
	}
	if loc, ok := s.zones.Load(a.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := identity.LoadZone(a.TimeZone)
	if err != nil {
		return s.zone // a stored name this build no longer knows
	}
	s.zones.Store(a.TimeZone, loc)
	return loc
}

// DefaultLocation is the organisation's default time zone.
func (s *Service) DefaultLocation() *time.Location { return s.zone }
