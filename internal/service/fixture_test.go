package service_test

import (
	"errors"
	"testing"

	"custos/internal/crm"
)

func wantCode(t *testing.T, err error, code crm.Code) {
	t.Helper()
	if !crm.IsCode(err, code) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
