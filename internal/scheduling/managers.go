package scheduling

// ManagerFields are the writable fields of a manager: a staff member who
// administers the tenant's scheduling.
type ManagerFields struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Manager is a stored manager.
type Manager = Record[ManagerFields]

var managerRoles = []string{"owner", "admin", "staff"}

func managerCollection(s *Service) *Collection[ManagerFields] {
	return &Collection[ManagerFields]{
		s: s, name: "manager", label: "manager", path: "managers", prefix: PrefixManager,
		table: "sched_managers",
		cols:  []string{"name", "email", "role"},
		ptrs: func(f *ManagerFields) []any {
			return []any{&f.Name, &f.Email, &f.Role}
		},
		check: func(t *txn, f *ManagerFields, old *Manager) error {
			if err := requireText("name", &f.Name, maxName); err != nil {
				return err
			}
			if err := checkEmail("email", &f.Email, true); err != nil {
				return err
			}
			if f.Role == "" {
				return invalid("role is required: one of owner, admin, staff")
			}
			if err := checkEnum("role", f.Role, managerRoles...); err != nil {
				return err
			}
			self := ""
			if old != nil {
				self = old.ID
			}
			taken, err := t.exists(`SELECT 1 FROM sched_managers WHERE tenant_id = ? AND email = ? AND id <> ?`, t.tenant, f.Email, self)
			if err != nil {
				return err
			}
			if taken {
				return conflict("a manager with email %s already exists", f.Email)
			}
			return nil
		},
	}
}
