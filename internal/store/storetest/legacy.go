package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/slotwire/slotwire/internal/store"
)

// Legacy is what LegacyUpgrade needs of a driver: a way to run raw SQL on
// an empty database, the SQL of the releases before module migrations in
// their order (init, scheduling tables, send slots — the old versions 1, 2
// and 3), and a way to open the database with the scheduling module.
type Legacy struct {
	Exec  func(query string) error
	Files []string
	Open  func(migrate bool) (store.Store, error)
}

// LegacyUpgrade checks that a database made by a release before module
// migrations (one version counter in schema_migrations) is refused until
// migrated, then opens with its data, its versions carried over per module
// and nothing applied twice.
func LegacyUpgrade(t *testing.T, l Legacy) {
	for _, q := range l.Files {
		must(t, l.Exec(q))
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 1), (2, 2), (3, 3)`,
		`INSERT INTO tenants (id, name, plan, created_at) VALUES ('ten_old', 'Old', 'basic', 0)`,
	} {
		must(t, l.Exec(q))
	}
	_, err := l.Open(false)
	var se *store.SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("open without migrating: %v, want a schema error telling to migrate", err)
	}
	s, err := l.Open(true)
	must(t, err)
	defer s.Close()
	have, err := s.(interface {
		Applied(context.Context) (map[string]int, error)
	}).Applied(ctx())
	// Converted to core 2 and scheduling 1, then migrated to the newest of both.
	if err != nil || have[store.CoreModule] != 26 || have["scheduling"] != 3 {
		t.Fatalf("versions = %v, %v", have, err)
	}
	if ten, err := s.GetTenant(ctx(), "ten_old"); err != nil || ten.Name != "Old" {
		t.Fatalf("old tenant = %+v, %v", ten, err)
	}
}
