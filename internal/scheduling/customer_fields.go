package scheduling

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// CustomerFieldFields define one customer custom field.
type CustomerFieldFields struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	Required bool     `json:"required"`
}

// CustomerField is a stored customer field definition.
type CustomerField = Record[CustomerFieldFields]

var fieldTypes = []string{"string", "number", "boolean", "date", "select"}

func (f *CustomerFieldFields) checkValue(v any) error {
	name := "custom_fields." + f.Key
	switch f.Type {
	case "string":
		s, ok := v.(string)
		if !ok {
			return unprocessable("%s must be a string", name)
		}
		if len(s) > maxText {
			return unprocessable("%s is longer than %d bytes", name, maxText)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return unprocessable("%s must be a number", name)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return unprocessable("%s must be true or false", name)
		}
	case "date":
		s, ok := v.(string)
		if _, err := time.Parse(time.DateOnly, s); !ok || err != nil {
			return unprocessable("%s must be a date as YYYY-MM-DD", name)
		}
	case "select":
		s, ok := v.(string)
		if !ok || !contains(f.Options, s) {
			return unprocessable("%s must be one of %s", name, strings.Join(f.Options, ", "))
		}
	}
	return nil
}

func customerFieldCollection(s *Service) *Collection[CustomerFieldFields] {
	return &Collection[CustomerFieldFields]{
		s: s, name: "customer_field", label: "customer field", path: "customer-fields", prefix: PrefixCustomerField,
		table: "sched_customer_fields",
		cols:  []string{"field_key", "label", "field_type", "options", "required"},
		ptrs: func(f *CustomerFieldFields) []any {
			return []any{&f.Key, &f.Label, &f.Type, jsonCol{&f.Options}, &f.Required}
		},
		check: func(t *txn, f *CustomerFieldFields, old *CustomerField) error {
			if f.Key == "" {
				return invalid("key is required")
			}
			if !keyRE.MatchString(f.Key) {
				return invalid("key %q must start with a-z and hold only a-z, 0-9 and _ (at most 64)", f.Key)
			}
			if old != nil && old.Fields.Key != f.Key {
				return unprocessable("key cannot be changed; create a new field instead")
			}
			if err := requireText("label", &f.Label, maxName); err != nil {
				return err
			}
			if f.Type == "" {
				return invalid("type is required: one of %s", strings.Join(fieldTypes, ", "))
			}
			if err := checkEnum("type", f.Type, fieldTypes...); err != nil {
				return err
			}
			if f.Options == nil {
				f.Options = []string{}
			}
			if f.Type == "select" {
				if len(f.Options) == 0 {
					return invalid("options are required for type select")
				}
				if err := checkIDs("options", f.Options); err != nil {
					return err
				}
			} else if len(f.Options) > 0 {
				return invalid("options are only for type select")
			}
			if old == nil {
				taken, err := t.exists(`SELECT 1 FROM sched_customer_fields WHERE tenant_id = ? AND field_key = ?`, t.tenant, f.Key)
				if err != nil {
					return err
				}
				if taken {
					return conflict("customer field %q already exists", f.Key)
				}
			}
			return checkExistingValues(t, s, f)
		},
		beforeDelete: func(t *txn, r *CustomerField) error { return stripCustomerValues(t, s, r.Fields.Key) },
	}
}

// checkExistingValues refuses (409) a definition that a stored customer
// would violate: a value of another type, or a missing required value.
func checkExistingValues(t *txn, s *Service, f *CustomerFieldFields) error {
	customers, err := s.Customers.where(t, "1 = 1")
	if err != nil {
		return err
	}
	for _, c := range customers {
		v, ok := c.Fields.CustomFields[f.Key]
		if !ok {
			if f.Required {
				return conflict("customer %s has no %s; set it on every customer before making the field required", c.ID, f.Key)
			}
			continue
		}
		if err := f.checkValue(v); err != nil {
			return conflict("customer %s: %s", c.ID, strings.TrimPrefix(err.Error(), "unprocessable: "))
		}
	}
	return nil
}

// stripCustomerValues removes a deleted field's values from every customer,
// each change emitting customer.updated.
func stripCustomerValues(t *txn, s *Service, key string) error {
	customers, err := s.Customers.where(t, "custom_fields LIKE ?", "%"+quoteJSON(key)+"%")
	if err != nil {
		return err
	}
	for _, c := range customers {
		if _, ok := c.Fields.CustomFields[key]; !ok {
			continue
		}
		f := c.Fields
		f.CustomFields = maps.Clone(f.CustomFields)
		delete(f.CustomFields, key)
		if _, err := s.Customers.updateUnchecked(t, c, f); err != nil {
			return fmt.Errorf("scheduling: strip %s: %w", key, err)
		}
	}
	return nil
}
