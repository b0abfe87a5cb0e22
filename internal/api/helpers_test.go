package api_test

import "custos/internal/service"

func serviceUserDisabled(d bool) service.UserUpdate { return service.UserUpdate{Disabled: &d} }
