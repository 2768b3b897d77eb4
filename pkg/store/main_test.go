package store_test

import (
	"os"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
)

var stopPostgres func()

// startSharedPostgres starts the package's PostgreSQL server once, on a
// testing.T that lives until TestMain stops it.
func startSharedPostgres(t *testing.T) string {
	t.Helper()
	dsn, stop := testenv.StartPostgresShared(t)
	stopPostgres = stop
	return dsn
}

func TestMain(m *testing.M) {
	code := m.Run()
	if stopPostgres != nil {
		stopPostgres()
	}
	os.Exit(code)
}
